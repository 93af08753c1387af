//! The cubecl kernels of [`ReceivedSignal`] and [`ReceivedSignalGradient`] (cargo feature
//! `wgpu`): the sums of the host loops of the parent module in f32, one unit per (sample, user)
//! forward and one per (sample, column of `[F, V]`) backward.
//!
//! Layouts (row-major, made contiguous first): `U` `[B, K, Nt]`, `F` `[B, Nt, K]`, `V` `[B, Nt,
//! J]`, `s` `[B, J, 1]`, `n` `[B, K, 1]`, the signals and their upstream gradients `[B, K, 2]`.

use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{ReceivedSignal, ReceivedSignalGradient};
use crate::cube::{
    Cx, add, conj_mul, contiguous, cx, elementwise, empty_like_rows, gains, mul, put, re_conj_mul,
    received_shape, scale, user_dot, users_adjoint,
};

/// Users `K`, antennas `Nt`, jamming columns `J`, and the noise power.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
pub(crate) struct Dims {
    k: usize,
    nt: usize,
    j: usize,
    noise_power: f32,
}

#[cube]
pub(crate) fn dims(k: u32, nt: u32, j: u32, noise_power: f32) -> Dims {
    Dims {
        k: k as usize,
        nt: nt as usize,
        j: j as usize,
        noise_power,
    }
}

/// User `i`'s sums in sample `b`: `z_i = sum_c A_ic + sum_c B_ic s_c + n_i`, `T_i = sum_c
/// |A_ic|^2 + sum_c |B_ic|^2`, and the entry of `[A_i, B_i]` in column `keep` (zero if `keep`
/// is `K + J` or more).
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct UserRow {
    z: Cx,
    total: f32,
    kept: Cx,
}

#[cube]
#[allow(clippy::too_many_arguments)]
fn user_row(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    b: usize,
    i: usize,
    d: Dims,
    keep: usize,
) -> UserRow {
    let g = gains(ur, ui, fr, fi, vr, vi, b, i, d.k, d.nt, d.j, keep);
    let mut z_re = nr[b * d.k + i];
    let mut z_im = ni[b * d.k + i];
    for c in 0..d.k {
        let a = user_dot(ur, ui, fr, fi, b, i, d.k, d.nt, d.k, c);
        z_re += a.re;
        z_im += a.im;
    }
    for c in 0..d.j {
        let bs = mul(
            user_dot(ur, ui, vr, vi, b, i, d.k, d.nt, d.j, c),
            cx(sr[b * d.j + c], si[b * d.j + c]),
        );
        z_re += bs.re;
        z_im += bs.im;
    }
    UserRow {
        z: cx(z_re, z_im),
        total: g.total,
        kept: g.kept,
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn received_signal_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    j: u32,
    noise_power: f32,
) {
    let d = dims(k, nt, j, noise_power);
    if ABSOLUTE_POS >= out.shape(0) * d.k {
        terminate!();
    }
    received_entry(ur, ui, fr, fi, vr, vi, sr, si, nr, ni, out, ABSOLUTE_POS, d);
}

/// User `at % K`'s signal in sample `at / K` into `out` (`[B, K, 2]`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn received_entry(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    out: &mut Tensor<f32>,
    at: usize,
    d: Dims,
) {
    let b = at / d.k;
    let i = at % d.k;
    let row = user_row(ur, ui, fr, fi, vr, vi, sr, si, nr, ni, b, i, d, d.k + d.j);
    let gain = 1.0f32 / f32::sqrt(row.total + d.noise_power);
    out[at * 2] = row.z.re * gain;
    out[at * 2 + 1] = row.z.im * gain;
}

/// Column `c` of `G_F = U^H G_A` (`c < K`) or of `G_V = U^H G_B`: `G_A[i, c] = g_i / r_i +
/// t2_i A_ic`, `G_B[i, c] = conj(s_c) g_i / r_i + t2_i B_ic`, `t2_i = -Re(conj(g_i) z_i) /
/// r_i^3`. The users `K` are a compile-time size (each unit keeps its column's entry for every
/// user).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn received_signal_gradient_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    nt: u32,
    j: u32,
    noise_power: f32,
    #[comptime] k: usize,
) {
    let d = dims(k as u32, nt, j, noise_power);
    let columns = d.k + d.j;
    if ABSOLUTE_POS >= upstream.shape(0) * columns {
        terminate!();
    }
    let b = ABSOLUTE_POS / columns;
    let c = ABSOLUTE_POS % columns;
    received_column(
        ur, ui, fr, fi, vr, vi, sr, si, nr, ni, upstream, gfr, gfi, gvr, gvi, b, c, d, k, false,
    );
}

/// Column `c` of sample `b`'s gradients (kernel above) into `G_F` or `G_V`, added to what they
/// hold where `accumulate`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn received_column(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    sr: &Tensor<f32>,
    si: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    b: usize,
    c: usize,
    d: Dims,
    #[comptime] k: usize,
    #[comptime] accumulate: bool,
) {
    // `conj(s_c)` weights a jamming column's `g_i / r_i`; a beam's weight is 1.
    let mut s_re = 1.0f32;
    let mut s_im = 0.0f32;
    if c >= d.k {
        s_re = sr[b * d.j + c - d.k];
        s_im = si[b * d.j + c - d.k];
    }
    let mut entries = Array::<f32>::new(2 * k);
    for i in 0..k {
        let row = user_row(ur, ui, fr, fi, vr, vi, sr, si, nr, ni, b, i, d, c);
        let g = cx(upstream[(b * d.k + i) * 2], upstream[(b * d.k + i) * 2 + 1]);
        let r = f32::sqrt(row.total + d.noise_power);
        let t2 = -re_conj_mul(g, row.z) / (r * r * r);
        let e = add(
            conj_mul(cx(s_re, s_im), scale(g, 1.0f32 / r)),
            scale(row.kept, t2),
        );
        entries[2 * i] = e.re;
        entries[2 * i + 1] = e.im;
    }
    for n in 0..d.nt {
        let g = users_adjoint(ur, ui, &entries, b, n, d.nt, k);
        if c < d.k {
            put(gfr, (b * d.nt + n) * d.k + c, g.re, accumulate);
            put(gfi, (b * d.nt + n) * d.k + c, g.im, accumulate);
        } else {
            put(gvr, (b * d.nt + n) * d.j + c - d.k, g.re, accumulate);
            put(gvi, (b * d.nt + n) * d.j + c - d.k, g.im, accumulate);
        }
    }
}

impl ReceivedSignal for CubeBackend {
    fn received_signal(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self> {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, symbols_re, symbols_im,
            noise_re, noise_im,
        ]
        .map(contiguous);
        let [batch, k, nt, j] = received_shape(&t);
        let out = empty_like_rows(&t[0], Shape::new([batch, k, 2]));
        let (count, dim) = elementwise(&out, batch * k);
        let [ur, ui, fr, fi, vr, vi, sr, si, nr, ni] = t.map(CubeTensor::into_tensor_arg);
        received_signal_kernel::launch(
            &out.client,
            count,
            dim,
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
            out.clone().into_tensor_arg(),
            k as u32,
            nt as u32,
            j as u32,
            noise_power as f32,
        );
        out
    }
}

impl ReceivedSignalGradient for CubeBackend {
    fn received_signal_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_power: f64,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, symbols_re, symbols_im,
            noise_re, noise_im,
        ]
        .map(contiguous);
        let upstream = contiguous(upstream);
        let [batch, k, nt, j] = received_shape(&t);
        let [gfr, gfi] = [0, 1].map(|_| empty_like_rows(&t[2], Shape::new([batch, nt, k])));
        let [gvr, gvi] = [0, 1].map(|_| empty_like_rows(&t[4], Shape::new([batch, nt, j])));
        let (count, dim) = elementwise(&upstream, batch * (k + j));
        let client = upstream.client.clone();
        let [ur, ui, fr, fi, vr, vi, sr, si, nr, ni] = t.map(CubeTensor::into_tensor_arg);
        received_signal_gradient_kernel::launch(
            &client,
            count,
            dim,
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
            upstream.into_tensor_arg(),
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gvr.clone().into_tensor_arg(),
            gvi.clone().into_tensor_arg(),
            nt as u32,
            j as u32,
            noise_power as f32,
            k,
        );
        (gfr, gfi, gvr, gvi)
    }
}
