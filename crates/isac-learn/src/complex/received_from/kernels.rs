//! The kernels of [`ReceivedFrom`] and [`ReceivedFromGradient`]: one unit per (sample, user)
//! forward and one per (sample, column of `[F, V, x]`) backward, in f32. Layouts as
//! `received/kernels.rs`, plus `x` `[B, Nt, 1]`. The users `K` are a compile-time size of the
//! backward kernel (each unit keeps its column's entry for every user).

use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{ReceivedFrom, ReceivedFromGradient};
use crate::cube::{
    Cx, add, contiguous, cx, elementwise, empty_like_rows, gains, re_conj_mul, received_shape,
    scale, user_dot, users_adjoint,
};

/// User `i`'s `z_i = u_i x + n_i`, `r_i = sqrt(T_i + sigma^2)` and the entry of `[A_i, B_i]`
/// in column `keep` (zero past the beams and jamming columns).
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct User {
    z: Cx,
    r: f32,
    kept: Cx,
}

#[cube]
#[allow(clippy::too_many_arguments)]
fn user(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    xr: &Tensor<f32>,
    xi: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    b: usize,
    i: usize,
    k: usize,
    nt: usize,
    j: usize,
    noise_power: f32,
    keep: usize,
) -> User {
    let g = gains(ur, ui, fr, fi, vr, vi, b, i, k, nt, j, keep);
    let z = add(
        user_dot(ur, ui, xr, xi, b, i, k, nt, 1, 0),
        cx(nr[b * k + i], ni[b * k + i]),
    );
    User {
        z,
        r: f32::sqrt(g.total + noise_power),
        kept: g.kept,
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn received_from_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    xr: &Tensor<f32>,
    xi: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    j: u32,
    noise_power: f32,
) {
    let (k, nt, j) = (k as usize, nt as usize, j as usize);
    if ABSOLUTE_POS >= out.shape(0) * k {
        terminate!();
    }
    let (b, i) = (ABSOLUTE_POS / k, ABSOLUTE_POS % k);
    let u = user(
        ur,
        ui,
        fr,
        fi,
        vr,
        vi,
        xr,
        xi,
        nr,
        ni,
        b,
        i,
        k,
        nt,
        j,
        noise_power,
        k + j,
    );
    out[ABSOLUTE_POS * 2] = u.z.re / u.r;
    out[ABSOLUTE_POS * 2 + 1] = u.z.im / u.r;
}

/// Column `c` of `G_F = U^H (t2 A)` (`c < K`), `G_V = U^H (t2 B)` (`c < K + J`) or `G_x = U^H
/// G_z` (`c = K + J`).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn received_from_gradient_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    xr: &Tensor<f32>,
    xi: &Tensor<f32>,
    nr: &Tensor<f32>,
    ni: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    gxr: &mut Tensor<f32>,
    gxi: &mut Tensor<f32>,
    nt: u32,
    j: u32,
    noise_power: f32,
    #[comptime] k: usize,
) {
    let (nt, j) = (nt as usize, j as usize);
    let columns = k + j + 1;
    if ABSOLUTE_POS >= upstream.shape(0) * columns {
        terminate!();
    }
    let (b, c) = (ABSOLUTE_POS / columns, ABSOLUTE_POS % columns);
    // This column's entry of `G_A`, `G_B` or `G_z` for every user.
    let mut entries = Array::<f32>::new(2 * k);
    for i in 0..k {
        let u = user(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            xr,
            xi,
            nr,
            ni,
            b,
            i,
            k,
            nt,
            j,
            noise_power,
            c,
        );
        let g = cx(upstream[(b * k + i) * 2], upstream[(b * k + i) * 2 + 1]);
        let t2 = -re_conj_mul(g, u.z) / (u.r * u.r * u.r);
        let e = scale(u.kept, t2);
        let gz = scale(g, 1.0f32 / u.r);
        entries[2 * i] = select(c == k + j, gz.re, e.re);
        entries[2 * i + 1] = select(c == k + j, gz.im, e.im);
    }
    for n in 0..nt {
        let g = users_adjoint(ur, ui, &entries, b, n, nt, k);
        if c < k {
            gfr[(b * nt + n) * k + c] = g.re;
            gfi[(b * nt + n) * k + c] = g.im;
        } else if c < k + j {
            gvr[(b * nt + n) * j + c - k] = g.re;
            gvi[(b * nt + n) * j + c - k] = g.im;
        } else {
            gxr[b * nt + n] = g.re;
            gxi[b * nt + n] = g.im;
        }
    }
}

impl ReceivedFrom for CubeBackend {
    fn received_from(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        sent_re: FloatTensor<Self>,
        sent_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self> {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, sent_re, sent_im,
            noise_re, noise_im,
        ]
        .map(contiguous);
        let [batch, k, nt, j] = received_shape(&t);
        let out = empty_like_rows(&t[0], Shape::new([batch, k, 2]));
        let (count, dim) = elementwise(&out, batch * k);
        let [ur, ui, fr, fi, vr, vi, xr, xi, nr, ni] = t.map(CubeTensor::into_tensor_arg);
        received_from_kernel::launch(
            &out.client,
            count,
            dim,
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            xr,
            xi,
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

impl ReceivedFromGradient for CubeBackend {
    fn received_from_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        sent_re: FloatTensor<Self>,
        sent_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_power: f64,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, sent_re, sent_im,
            noise_re, noise_im,
        ]
        .map(contiguous);
        let upstream = contiguous(upstream);
        let [batch, k, nt, j] = received_shape(&t);
        let planes = |like: &CubeTensor, width: usize| {
            [0, 1].map(|_| empty_like_rows(like, Shape::new([batch, nt, width])))
        };
        let ([gfr, gfi], [gvr, gvi], [gxr, gxi]) =
            (planes(&t[2], k), planes(&t[4], j), planes(&t[6], 1));
        let (count, dim) = elementwise(&upstream, batch * (k + j + 1));
        let client = upstream.client.clone();
        let [ur, ui, fr, fi, vr, vi, xr, xi, nr, ni] = t.map(CubeTensor::into_tensor_arg);
        received_from_gradient_kernel::launch(
            &client,
            count,
            dim,
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            xr,
            xi,
            nr,
            ni,
            upstream.into_tensor_arg(),
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gvr.clone().into_tensor_arg(),
            gvi.clone().into_tensor_arg(),
            gxr.clone().into_tensor_arg(),
            gxi.clone().into_tensor_arg(),
            nt as u32,
            j as u32,
            noise_power as f32,
            k,
        );
        (gfr, gfi, gvr, gvi, gxr, gxi)
    }
}
