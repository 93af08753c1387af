//! The kernels of [`Readouts`] and [`ReadoutsGradient`], in f32: forward, the units of the
//! secrecy kernel (one per sample), the received-signal kernel (one per sample and user) and the
//! angle-FIM kernel (one per row) side by side in one launch; backward, one unit per (row,
//! column of `[F, V]`), which sums the three operations' gradients of its column (the column's
//! entries are its own). Eve's antennas `Ne`, the users `K` and which readouts have a gradient
//! are compile-time choices. Layouts as the three operations' kernels.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::fisher::kernels::{fim_column, fim_row};
use super::{Noises, Present, Readouts, ReadoutsGradient};
use crate::complex::received::kernels::{dims, received_column, received_entry};
use crate::complex::secrecy::kernels::{Noise, secrecy_column, secrecy_sample};
use crate::cube::{contiguous, elementwise, empty_like_rows};

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn readouts_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    rates: &mut Tensor<f32>,
    received: &mut Tensor<f32>,
    fim: &mut Tensor<f32>,
    receivers: u32,
    nt: u32,
    j: u32,
    noise_user: f32,
    noise_eve: f32,
    noise_received: f32,
    #[comptime] k: usize,
    #[comptime] ne: usize,
) {
    let batch = rates.shape(0);
    let at = ABSOLUTE_POS;
    if at < batch {
        let noise = Noise {
            user: noise_user,
            eve: noise_eve,
        };
        secrecy_sample(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            rates,
            at,
            nt as usize,
            j as usize,
            noise,
            k,
            ne,
        );
    } else if at < batch * (k + 1) {
        let d = dims(k as u32, nt, j, noise_received);
        received_entry(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            sr,
            si,
            nr,
            ni,
            received,
            at - batch,
            d,
        );
    } else if at < batch * (k + 2) {
        let row = at - batch * (k + 1);
        fim_row(
            tr, ti, rr, ri, fr, fi, vr, vi, fim, row, receivers, nt, k as u32, j,
        );
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn readouts_gradient_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    g_rates: &Tensor<f32>,
    g_received: &Tensor<f32>,
    g_fim: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    receivers: u32,
    nt: u32,
    j: u32,
    noise_user: f32,
    noise_eve: f32,
    noise_received: f32,
    #[comptime] k: usize,
    #[comptime] ne: usize,
    #[comptime] present: Present,
) {
    let columns = k + j as usize;
    if ABSOLUTE_POS >= ur.shape(0) * columns {
        terminate!();
    }
    let (b, c) = (ABSOLUTE_POS / columns, ABSOLUTE_POS % columns);
    if comptime!(present.rates) {
        let noise = Noise {
            user: noise_user,
            eve: noise_eve,
        };
        secrecy_column(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            g_rates,
            gfr,
            gfi,
            gvr,
            gvi,
            b,
            c,
            nt as usize,
            j as usize,
            noise,
            k,
            ne,
            false,
        );
    }
    if comptime!(present.received) {
        let d = dims(k as u32, nt, j, noise_received);
        received_column(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            sr,
            si,
            nr,
            ni,
            g_received,
            gfr,
            gfi,
            gvr,
            gvi,
            b,
            c,
            d,
            k,
            comptime!(present.rates),
        );
    }
    if comptime!(present.fim) {
        fim_column(
            tr,
            ti,
            rr,
            ri,
            fr,
            fi,
            vr,
            vi,
            g_fim,
            gfr,
            gfi,
            gvr,
            gvi,
            b,
            c,
            receivers,
            nt,
            k as u32,
            j,
            comptime!(present.rates || present.received),
        );
    }
}

/// `[B, K, Nt, J, Ne, Nr]` of the contiguous operands.
fn shape(t: &[CubeTensor; 16]) -> [usize; 6] {
    let s = |i: usize| TensorMetadata::shape(&t[i]);
    [s(0)[0], s(0)[1], s(0)[2], s(4)[2], s(6)[2], s(14)[1]]
}

impl Readouts for CubeBackend {
    fn readouts(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        noises: Noises,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let t = [
            users_re,
            users_im,
            beams_re,
            beams_im,
            jamming_re,
            jamming_im,
            eve_re,
            eve_im,
            symbols_re,
            symbols_im,
            noise_re,
            noise_im,
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
        ]
        .map(contiguous);
        let [batch, k, nt, j, ne, receivers] = shape(&t);
        let rates = empty_like_rows(&t[0], Shape::new([batch, 2, k]));
        let received = empty_like_rows(&t[0], Shape::new([batch, k, 2]));
        let fim = empty_like_rows(&t[0], Shape::new([batch, 3]));
        let (count, dim) = elementwise(&rates, batch * (k + 2));
        let client = rates.client.clone();
        let [
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            sr,
            si,
            nr,
            ni,
            tr,
            ti,
            rr,
            ri,
        ] = t.map(CubeTensor::into_tensor_arg);
        readouts_kernel::launch(
            &client,
            count,
            dim,
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            sr,
            si,
            nr,
            ni,
            tr,
            ti,
            rr,
            ri,
            rates.clone().into_tensor_arg(),
            received.clone().into_tensor_arg(),
            fim.clone().into_tensor_arg(),
            receivers as u32,
            nt as u32,
            j as u32,
            noises.user,
            noises.eve,
            noises.received,
            k,
            ne,
        );
        (rates, received, fim)
    }
}

impl ReadoutsGradient for CubeBackend {
    fn readouts_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        upstream_rates: FloatTensor<Self>,
        upstream_received: FloatTensor<Self>,
        upstream_fim: FloatTensor<Self>,
        noises: Noises,
        present: Present,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let t = [
            users_re,
            users_im,
            beams_re,
            beams_im,
            jamming_re,
            jamming_im,
            eve_re,
            eve_im,
            symbols_re,
            symbols_im,
            noise_re,
            noise_im,
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
        ]
        .map(contiguous);
        let upstream = [upstream_rates, upstream_received, upstream_fim].map(contiguous);
        let [batch, k, nt, j, ne, receivers] = shape(&t);
        let [gfr, gfi] = [0, 1].map(|_| empty_like_rows(&t[2], Shape::new([batch, nt, k])));
        let [gvr, gvi] = [0, 1].map(|_| empty_like_rows(&t[4], Shape::new([batch, nt, j])));
        let (count, dim) = elementwise(&gfr, batch * (k + j));
        let client = gfr.client.clone();
        let [
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            sr,
            si,
            nr,
            ni,
            tr,
            ti,
            rr,
            ri,
        ] = t.map(CubeTensor::into_tensor_arg);
        let [gr, gy, gj] = upstream.map(CubeTensor::into_tensor_arg);
        readouts_gradient_kernel::launch(
            &client,
            count,
            dim,
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            er,
            ei,
            sr,
            si,
            nr,
            ni,
            tr,
            ti,
            rr,
            ri,
            gr,
            gy,
            gj,
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gvr.clone().into_tensor_arg(),
            gvi.clone().into_tensor_arg(),
            receivers as u32,
            nt as u32,
            j as u32,
            noises.user,
            noises.eve,
            noises.received,
            k,
            ne,
            present,
        );
        (gfr, gfi, gvr, gvi)
    }
}
