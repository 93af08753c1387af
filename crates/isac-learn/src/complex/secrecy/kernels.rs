//! The cubecl kernels of [`SecrecyRates`] and [`SecrecyRatesGradient`] (cargo feature `wgpu`):
//! the host loops of the parent module in f32, one unit per sample forward and one per (sample,
//! column of `[F, V]`) backward. Eve's `M = s_E I + W W^H` (`W = E V`, `E = H_E^H`) is factored
//! `L L^H` in each unit, in a local array: the users `K` and Eve's antennas `Ne` are
//! compile-time sizes of both kernels.
//!
//! Layouts (row-major, made contiguous first): `U` `[B, K, Nt]`, `F` `[B, Nt, K]`, `V` `[B, Nt,
//! J]`, `H_E` `[B, Nt, Ne]`, the rates and their upstream gradients `[B, 2, K]` (users, Eve).

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{SecrecyRates, SecrecyRatesGradient};
use crate::cube::{
    Cx, conj_mul, contiguous, cx, elementwise, empty_like_rows, gains, mul, put, re_conj_mul,
    scale, users_adjoint,
};

/// `(E X)[l, col] = sum_n conj(H_E[b, n, l]) X[b, n, col]` for the `[B, Nt, width]` block `X`.
#[cube]
#[allow(clippy::too_many_arguments)]
fn eve_dot(
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    xr: &Tensor<f32>,
    xi: &Tensor<f32>,
    b: usize,
    l: usize,
    nt: usize,
    width: usize,
    col: usize,
    #[comptime] ne: usize,
) -> Cx {
    let mut re = 0.0f32;
    let mut im = 0.0f32;
    for n in 0..nt {
        let h = cx(er[(b * nt + n) * ne + l], ei[(b * nt + n) * ne + l]);
        let x = cx(
            xr[(b * nt + n) * width + col],
            xi[(b * nt + n) * width + col],
        );
        let p = conj_mul(h, x);
        re += p.re;
        im += p.im;
    }
    cx(re, im)
}

/// `L` (lower, interleaved real and imaginary parts, `Ne x Ne`) with `L L^H = s_E I + W W^H`;
/// a pivot is at least `sqrt(1e-12 s_E)`, as on the host.
#[cube]
#[allow(clippy::too_many_arguments)]
fn cholesky(
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    b: usize,
    nt: usize,
    j: usize,
    noise_eve: f32,
    chol: &mut Array<f32>,
    #[comptime] ne: usize,
) {
    for r in 0..ne {
        for c in 0..r + 1 {
            // `M[r, c] = sum_t W[r, t] conj(W[c, t])`.
            let mut m_re = 0.0f32;
            let mut m_im = 0.0f32;
            for t in 0..j {
                let wr = eve_dot(er, ei, vr, vi, b, r, nt, j, t, ne);
                let wc = eve_dot(er, ei, vr, vi, b, c, nt, j, t, ne);
                let p = conj_mul(wc, wr);
                m_re += p.re;
                m_im += p.im;
            }
            if r == c {
                m_re += noise_eve;
            }
            for t in 0..c {
                let lc = cx(chol[2 * (c * ne + t)], chol[2 * (c * ne + t) + 1]);
                let lr = cx(chol[2 * (r * ne + t)], chol[2 * (r * ne + t) + 1]);
                let p = conj_mul(lc, lr);
                m_re -= p.re;
                m_im -= p.im;
            }
            if r == c {
                chol[2 * (r * ne + c)] = f32::sqrt(f32::max(m_re, noise_eve * 1e-12f32));
                chol[2 * (r * ne + c) + 1] = 0.0f32;
            } else {
                let pivot = chol[2 * (c * ne + c)];
                chol[2 * (r * ne + c)] = m_re / pivot;
                chol[2 * (r * ne + c) + 1] = m_im / pivot;
            }
        }
    }
}

/// `x = M^-1 g_kk` (`g_kk = E f_kk`, column `kk` of `G = E F`) by forward and backward
/// substitution with `L`, into `x` (interleaved, `Ne`); returns `q = g^H x` (at least 0).
#[cube]
#[allow(clippy::too_many_arguments)]
fn solve(
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    b: usize,
    nt: usize,
    kk: usize,
    chol: &Array<f32>,
    x: &mut Array<f32>,
    #[comptime] k: usize,
    #[comptime] ne: usize,
) -> f32 {
    // `L y = g`, with `g` kept in `x` until overwritten.
    for r in 0..ne {
        let g = eve_dot(er, ei, fr, fi, b, r, nt, k, kk, ne);
        let mut re = g.re;
        let mut im = g.im;
        for t in 0..r {
            let p = mul(
                cx(chol[2 * (r * ne + t)], chol[2 * (r * ne + t) + 1]),
                cx(x[2 * t], x[2 * t + 1]),
            );
            re -= p.re;
            im -= p.im;
        }
        let pivot = chol[2 * (r * ne + r)];
        x[2 * r] = re / pivot;
        x[2 * r + 1] = im / pivot;
    }
    // `L^H x = y`.
    for step in 0..ne {
        let r = ne - 1 - step;
        let mut re = x[2 * r];
        let mut im = x[2 * r + 1];
        for t in r + 1..ne {
            let p = conj_mul(
                cx(chol[2 * (t * ne + r)], chol[2 * (t * ne + r) + 1]),
                cx(x[2 * t], x[2 * t + 1]),
            );
            re -= p.re;
            im -= p.im;
        }
        let pivot = chol[2 * (r * ne + r)];
        x[2 * r] = re / pivot;
        x[2 * r + 1] = im / pivot;
    }
    let mut q = 0.0f32;
    for r in 0..ne {
        let g = eve_dot(er, ei, fr, fi, b, r, nt, k, kk, ne);
        q += re_conj_mul(g, cx(x[2 * r], x[2 * r + 1]));
    }
    f32::max(q, 0.0f32)
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn secrecy_rates_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    out: &mut Tensor<f32>,
    nt: u32,
    j: u32,
    noise_user: f32,
    noise_eve: f32,
    #[comptime] k: usize,
    #[comptime] ne: usize,
) {
    let b = ABSOLUTE_POS;
    if b >= out.shape(0) {
        terminate!();
    }
    let n = Noise {
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
        out,
        b,
        nt as usize,
        j as usize,
        n,
        k,
        ne,
    );
}

/// The noise powers of the users and Eve.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
pub(crate) struct Noise {
    pub(crate) user: f32,
    pub(crate) eve: f32,
}

/// Sample `b`'s stacked rates (users', then Eve's) into `out` (`[B, 2, K]`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn secrecy_sample(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    out: &mut Tensor<f32>,
    b: usize,
    nt: usize,
    j: usize,
    noise: Noise,
    #[comptime] k: usize,
    #[comptime] ne: usize,
) {
    let noise_user = noise.user;
    let noise_eve = noise.eve;
    for i in 0..k {
        let g = gains(ur, ui, fr, fi, vr, vi, b, i, k, nt, j, i);
        out[(b * 2) * k + i] =
            f32::ln(g.total + noise_user) - f32::ln(g.total - g.own + noise_user);
    }
    let mut chol = Array::<f32>::new(2 * ne * ne);
    cholesky(er, ei, vr, vi, b, nt, j, noise_eve, &mut chol, ne);
    let mut x = Array::<f32>::new(2 * ne);
    for kk in 0..k {
        let q = solve(er, ei, fr, fi, b, nt, kk, &chol, &mut x, k, ne);
        out[(b * 2 + 1) * k + kk] = f32::ln(1.0f32 + q);
    }
}

/// Column `c` of `G_F = U^H G_A + H_E G_G` (`c < K`) or of `G_V = U^H G_B + H_E G_W`, with
/// `G_A[i, c] = 2 (c1_i - [c != i] c2_i) A_ic`, `G_B[i, c] = 2 (c1_i - c2_i) B_ic`, `G_G[:, c] =
/// 2 w_c x_c` and `G_W[:, c] = -2 sum_k w_k x_k conj(y_kc)`, `conj(y_kc) = sum_m W[m, c]
/// conj(x_k[m])` (see the parent module).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn secrecy_rates_gradient_kernel(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    nt: u32,
    j: u32,
    noise_user: f32,
    noise_eve: f32,
    #[comptime] k: usize,
    #[comptime] ne: usize,
) {
    let (nt, j) = (nt as usize, j as usize);
    let columns = k + j;
    if ABSOLUTE_POS >= upstream.shape(0) * columns {
        terminate!();
    }
    let (b, c) = (ABSOLUTE_POS / columns, ABSOLUTE_POS % columns);
    let noise = Noise {
        user: noise_user,
        eve: noise_eve,
    };
    secrecy_column(
        ur, ui, fr, fi, vr, vi, er, ei, upstream, gfr, gfi, gvr, gvi, b, c, nt, j, noise, k, ne,
        false,
    );
}

/// Column `c` of sample `b`'s gradients (kernel above) into `G_F` or `G_V`, added to what they
/// hold where `accumulate`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn secrecy_column(
    ur: &Tensor<f32>,
    ui: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    er: &Tensor<f32>,
    ei: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    b: usize,
    c: usize,
    nt: usize,
    j: usize,
    noise: Noise,
    #[comptime] k: usize,
    #[comptime] ne: usize,
    #[comptime] accumulate: bool,
) {
    let noise_user = noise.user;
    let noise_eve = noise.eve;
    // The users' entries `G_A[i, c]` or `G_B[i, c]`.
    let mut users = Array::<f32>::new(2 * k);
    for i in 0..k {
        let g = gains(ur, ui, fr, fi, vr, vi, b, i, k, nt, j, c);
        let d = upstream[(b * 2) * k + i];
        let c1 = d / (g.total + noise_user);
        let c2 = d / (g.total - g.own + noise_user);
        let e = scale(g.kept, 2.0f32 * select(c == i, c1, c1 - c2));
        users[2 * i] = e.re;
        users[2 * i + 1] = e.im;
    }
    // Eve's entries `G_G[l, c]` or `G_W[l, c - K]`.
    let mut chol = Array::<f32>::new(2 * ne * ne);
    cholesky(er, ei, vr, vi, b, nt, j, noise_eve, &mut chol, ne);
    let mut eve = Array::<f32>::new(2 * ne);
    for l in 0..ne {
        eve[2 * l] = 0.0f32;
        eve[2 * l + 1] = 0.0f32;
    }
    let mut x = Array::<f32>::new(2 * ne);
    for kk in 0..k {
        let q = solve(er, ei, fr, fi, b, nt, kk, &chol, &mut x, k, ne);
        let w = 2.0f32 * upstream[(b * 2 + 1) * k + kk] / (1.0f32 + q);
        // The factor of `x_kk` in this column: `w` for the beam `c = kk`, none for the other
        // beams, `-w conj(y_kc)` for a jamming column.
        let mut f_re = select(c == kk, w, 0.0f32);
        let mut f_im = 0.0f32;
        if c >= k {
            let mut y_re = 0.0f32;
            let mut y_im = 0.0f32;
            for m in 0..ne {
                let wm = eve_dot(er, ei, vr, vi, b, m, nt, j, c - k, ne);
                let p = mul(wm, cx(x[2 * m], -x[2 * m + 1]));
                y_re += p.re;
                y_im += p.im;
            }
            f_re = -w * y_re;
            f_im = -w * y_im;
        }
        for l in 0..ne {
            let p = mul(cx(x[2 * l], x[2 * l + 1]), cx(f_re, f_im));
            eve[2 * l] += p.re;
            eve[2 * l + 1] += p.im;
        }
    }
    for n in 0..nt {
        let g = users_adjoint(ur, ui, &users, b, n, nt, k);
        let mut re = g.re;
        let mut im = g.im;
        for l in 0..ne {
            let h = cx(er[(b * nt + n) * ne + l], ei[(b * nt + n) * ne + l]);
            let p = mul(h, cx(eve[2 * l], eve[2 * l + 1]));
            re += p.re;
            im += p.im;
        }
        if c < k {
            put(gfr, (b * nt + n) * k + c, re, accumulate);
            put(gfi, (b * nt + n) * k + c, im, accumulate);
        } else {
            put(gvr, (b * nt + n) * j + c - k, re, accumulate);
            put(gvi, (b * nt + n) * j + c - k, im, accumulate);
        }
    }
}

/// `[B, K, Nt, J, Ne]` of the contiguous operands.
fn shape(t: &[CubeTensor; 8]) -> [usize; 5] {
    let s = |i: usize| TensorMetadata::shape(&t[i]);
    [s(0)[0], s(0)[1], s(0)[2], s(4)[2], s(6)[2]]
}

impl SecrecyRates for CubeBackend {
    fn secrecy_rates(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        noise_user: f64,
        noise_eve: f64,
    ) -> FloatTensor<Self> {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, eve_re, eve_im,
        ]
        .map(contiguous);
        let [batch, k, nt, j, ne] = shape(&t);
        let out = empty_like_rows(&t[0], Shape::new([batch, 2, k]));
        let (count, dim) = elementwise(&out, batch);
        let [ur, ui, fr, fi, vr, vi, er, ei] = t.map(CubeTensor::into_tensor_arg);
        secrecy_rates_kernel::launch(
            &out.client,
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
            out.clone().into_tensor_arg(),
            nt as u32,
            j as u32,
            noise_user as f32,
            noise_eve as f32,
            k,
            ne,
        );
        out
    }
}

impl SecrecyRatesGradient for CubeBackend {
    fn secrecy_rates_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_user: f64,
        noise_eve: f64,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let t = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, eve_re, eve_im,
        ]
        .map(contiguous);
        let upstream = contiguous(upstream);
        let [batch, k, nt, j, ne] = shape(&t);
        let [gfr, gfi] = [0, 1].map(|_| empty_like_rows(&t[2], Shape::new([batch, nt, k])));
        let [gvr, gvi] = [0, 1].map(|_| empty_like_rows(&t[4], Shape::new([batch, nt, j])));
        let (count, dim) = elementwise(&upstream, batch * (k + j));
        let client = upstream.client.clone();
        let [ur, ui, fr, fi, vr, vi, er, ei] = t.map(CubeTensor::into_tensor_arg);
        secrecy_rates_gradient_kernel::launch(
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
            upstream.into_tensor_arg(),
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gvr.clone().into_tensor_arg(),
            gvi.clone().into_tensor_arg(),
            nt as u32,
            j as u32,
            noise_user as f32,
            noise_eve as f32,
            k,
            ne,
        );
        (gfr, gfi, gvr, gvi)
    }
}
