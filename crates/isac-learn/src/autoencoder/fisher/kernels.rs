//! The cubecl kernels of [`AngleFim`] and [`AngleFimGradient`] (cargo feature `wgpu`): the same
//! sums as the host loops of the parent module, in f32, one unit per row forward and one per
//! (row, column of `X = [F, V]`) backward, so that the angle FIM of a batch is one launch each
//! way instead of the composed path's tens of small kernels.
//!
//! Layouts (row-major, made contiguous first): transmit and receive factors `[BN, Nt, 3]` and
//! `[BN, Nr, 3]` (`[a, a_t, a_p]`, `[b, b_t, b_p]`), `F` `[BN, Nt, K]`, `V` `[BN, Nt, J]`, the
//! entries and their upstream gradients `[BN, 3]` (`J_tt`, `J_pp`, `J_tp`).

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{AngleFim, AngleFimGradient};
use crate::cube::{
    Cx, add, conj_mul, contiguous, cx, elementwise, empty_like_rows, mul, put, re_conj_mul, scale,
};

/// A row's receive Gram entries: `P_tt`, `P_pp` (real), `P_tp = b_t^H b_p`, `q_a = b_a^H b` and
/// `r = b^H b`.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct Gram {
    ptt: f32,
    ppp: f32,
    ptp: Cx,
    qt: Cx,
    qp: Cx,
    r: f32,
}

#[cube]
fn gram(rr: &Tensor<f32>, ri: &Tensor<f32>, row: usize, nr: usize) -> Gram {
    let mut ptt = 0.0f32;
    let mut ppp = 0.0f32;
    let mut r = 0.0f32;
    let mut ptp_re = 0.0f32;
    let mut ptp_im = 0.0f32;
    let mut qt_re = 0.0f32;
    let mut qt_im = 0.0f32;
    let mut qp_re = 0.0f32;
    let mut qp_im = 0.0f32;
    for i in 0..nr {
        let at = (row * nr + i) * 3;
        let b = cx(rr[at], ri[at]);
        let bt = cx(rr[at + 1], ri[at + 1]);
        let bp = cx(rr[at + 2], ri[at + 2]);
        ptt += re_conj_mul(bt, bt);
        ppp += re_conj_mul(bp, bp);
        r += re_conj_mul(b, b);
        let tp = conj_mul(bt, bp);
        ptp_re += tp.re;
        ptp_im += tp.im;
        let t = conj_mul(bt, b);
        qt_re += t.re;
        qt_im += t.im;
        let p = conj_mul(bp, b);
        qp_re += p.re;
        qp_im += p.im;
    }
    Gram {
        ptt,
        ppp,
        ptp: cx(ptp_re, ptp_im),
        qt: cx(qt_re, qt_im),
        qp: cx(qp_re, qp_im),
        r,
    }
}

/// One column's products `u = a^H x`, `w_t = a_t^H x`, `w_p = a_p^H x`, and from them
/// `D_ab = b_a^H y_b` and `S_b = b^H y_b` (`y_b = D_b x`, the sensing operators' echoes).
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct Echoes {
    u: Cx,
    wt: Cx,
    wp: Cx,
}

/// Column `col` of the `[BN, Nt, width]` block `x` in row `row`.
#[cube]
fn echoes(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    xr: &Tensor<f32>,
    xi: &Tensor<f32>,
    row: usize,
    nt: usize,
    width: usize,
    col: usize,
) -> Echoes {
    let mut u_re = 0.0f32;
    let mut u_im = 0.0f32;
    let mut wt_re = 0.0f32;
    let mut wt_im = 0.0f32;
    let mut wp_re = 0.0f32;
    let mut wp_im = 0.0f32;
    for n in 0..nt {
        let a = (row * nt + n) * 3;
        let x = cx(
            xr[(row * nt + n) * width + col],
            xi[(row * nt + n) * width + col],
        );
        let u = conj_mul(cx(tr[a], ti[a]), x);
        u_re += u.re;
        u_im += u.im;
        let wt = conj_mul(cx(tr[a + 1], ti[a + 1]), x);
        wt_re += wt.re;
        wt_im += wt.im;
        let wp = conj_mul(cx(tr[a + 2], ti[a + 2]), x);
        wp_re += wp.re;
        wp_im += wp.im;
    }
    Echoes {
        u: cx(u_re, u_im),
        wt: cx(wt_re, wt_im),
        wp: cx(wp_re, wp_im),
    }
}

/// `D_ab = P_ab u + q_a w_b` for `(a, b)` = `(t, t)`, `(p, p)`, `(t, p)`, `(p, t)`, and
/// `S_b = conj(q_b) u + r w_b` for `b` = `t`, `p`.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct Products {
    dtt: Cx,
    dpp: Cx,
    dtp: Cx,
    dpt: Cx,
    st: Cx,
    sp: Cx,
}

#[cube]
fn products(g: Gram, e: Echoes) -> Products {
    let ptp_conj = cx(g.ptp.re, -g.ptp.im);
    Products {
        dtt: add(scale(e.u, g.ptt), mul(g.qt, e.wt)),
        dpp: add(scale(e.u, g.ppp), mul(g.qp, e.wp)),
        dtp: add(mul(g.ptp, e.u), mul(g.qt, e.wp)),
        dpt: add(mul(ptp_conj, e.u), mul(g.qp, e.wt)),
        st: add(conj_mul(g.qt, e.u), scale(e.wt, g.r)),
        sp: add(conj_mul(g.qp, e.u), scale(e.wp, g.r)),
    }
}

/// The column's share `[J_tt, J_pp, J_tp]` of the row's entries: `Re y_a^H y_b = Re(conj(u)
/// D_ab + conj(w_a) S_b)`.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct Entries {
    tt: f32,
    pp: f32,
    tp: f32,
}

#[cube]
fn entries(g: Gram, e: Echoes) -> Entries {
    let p = products(g, e);
    Entries {
        tt: re_conj_mul(e.u, p.dtt) + re_conj_mul(e.wt, p.st),
        pp: re_conj_mul(e.u, p.dpp) + re_conj_mul(e.wp, p.sp),
        tp: re_conj_mul(e.u, p.dtp) + re_conj_mul(e.wt, p.sp),
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn angle_fim_kernel(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    out: &mut Tensor<f32>,
    nr: u32,
    nt: u32,
    k: u32,
    j: u32,
) {
    let row = ABSOLUTE_POS;
    if row >= out.shape(0) {
        terminate!();
    }
    fim_row(tr, ti, rr, ri, fr, fi, vr, vi, out, row, nr, nt, k, j);
}

/// Row `row`'s entries `J_tt`, `J_pp`, `J_tp` into `out` (`[BN, 3]`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fim_row(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    out: &mut Tensor<f32>,
    row: usize,
    nr: u32,
    nt: u32,
    k: u32,
    j: u32,
) {
    let nt = nt as usize;
    let g = gram(rr, ri, row, nr as usize);
    let mut tt = 0.0f32;
    let mut pp = 0.0f32;
    let mut tp = 0.0f32;
    for c in 0..k as usize {
        let s = entries(g, echoes(tr, ti, fr, fi, row, nt, k as usize, c));
        tt += s.tt;
        pp += s.pp;
        tp += s.tp;
    }
    for c in 0..j as usize {
        let s = entries(g, echoes(tr, ti, vr, vi, row, nt, j as usize, c));
        tt += s.tt;
        pp += s.pp;
        tp += s.tp;
    }
    out[row * 3] = tt;
    out[row * 3 + 1] = pp;
    out[row * 3 + 2] = tp;
}

/// `G_x = a c_0 + a_t c_1 + a_p c_2` for upstream gradients `g_tt`, `g_pp`, `g_tp`, with `s_t =
/// 2 g_tt y_t + g_tp y_p`, `s_p = 2 g_pp y_p + g_tp y_t`: `c_0 = b_t^H s_t + b_p^H s_p`, `c_1 =
/// b^H s_t`, `c_2 = b^H s_p`; written into column `col` of the `[BN, Nt, width]` planes (added
/// to what they hold where `accumulate`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn write_gradient(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    g: Gram,
    e: Echoes,
    upstream: &Tensor<f32>,
    out_re: &mut Tensor<f32>,
    out_im: &mut Tensor<f32>,
    row: usize,
    nt: usize,
    width: usize,
    col: usize,
    #[comptime] accumulate: bool,
) {
    let tt2 = upstream[row * 3] * 2.0f32;
    let pp2 = upstream[row * 3 + 1] * 2.0f32;
    let tp = upstream[row * 3 + 2];
    let p = products(g, e);
    let c0 = add(
        add(scale(p.dtt, tt2), scale(add(p.dtp, p.dpt), tp)),
        scale(p.dpp, pp2),
    );
    let c1 = add(scale(p.st, tt2), scale(p.sp, tp));
    let c2 = add(scale(p.st, tp), scale(p.sp, pp2));
    for n in 0..nt {
        let a = (row * nt + n) * 3;
        let gx = add(
            add(mul(cx(tr[a], ti[a]), c0), mul(cx(tr[a + 1], ti[a + 1]), c1)),
            mul(cx(tr[a + 2], ti[a + 2]), c2),
        );
        let at = (row * nt + n) * width + col;
        put(out_re, at, gx.re, accumulate);
        put(out_im, at, gx.im, accumulate);
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn angle_fim_gradient_kernel(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    nr: u32,
    nt: u32,
    k: u32,
    j: u32,
) {
    let columns = (k + j) as usize;
    if ABSOLUTE_POS >= upstream.shape(0) * columns {
        terminate!();
    }
    let row = ABSOLUTE_POS / columns;
    let c = ABSOLUTE_POS % columns;
    fim_column(
        tr, ti, rr, ri, fr, fi, vr, vi, upstream, gfr, gfi, gvr, gvi, row, c, nr, nt, k, j, false,
    );
}

/// Column `c` of row `row`'s gradients (kernel above) into `G_F` or `G_V`, added to what they
/// hold where `accumulate`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fim_column(
    tr: &Tensor<f32>,
    ti: &Tensor<f32>,
    rr: &Tensor<f32>,
    ri: &Tensor<f32>,
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    vr: &Tensor<f32>,
    vi: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gvr: &mut Tensor<f32>,
    gvi: &mut Tensor<f32>,
    row: usize,
    c: usize,
    nr: u32,
    nt: u32,
    k: u32,
    j: u32,
    #[comptime] accumulate: bool,
) {
    let (nt, k, j) = (nt as usize, k as usize, j as usize);
    let g = gram(rr, ri, row, nr as usize);
    if c < k {
        let e = echoes(tr, ti, fr, fi, row, nt, k, c);
        write_gradient(tr, ti, g, e, upstream, gfr, gfi, row, nt, k, c, accumulate);
    } else {
        let e = echoes(tr, ti, vr, vi, row, nt, j, c - k);
        write_gradient(
            tr,
            ti,
            g,
            e,
            upstream,
            gvr,
            gvi,
            row,
            nt,
            j,
            c - k,
            accumulate,
        );
    }
}

/// `[BN, Nr, Nt, K, J]` of the contiguous operands.
fn dims(t: &[CubeTensor; 8]) -> [usize; 5] {
    let s = |i: usize| TensorMetadata::shape(&t[i]);
    [s(0)[0], s(2)[1], s(0)[1], s(4)[2], s(6)[2]]
}

impl AngleFim for CubeBackend {
    fn angle_fim(
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let t = [
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
            beams_re,
            beams_im,
            jamming_re,
            jamming_im,
        ]
        .map(contiguous);
        let [rows, nr, nt, k, j] = dims(&t);
        let out = empty_like_rows(&t[4], Shape::new([rows, 3]));
        let (count, dim) = elementwise(&out, rows);
        let [tr, ti, rr, ri, fr, fi, vr, vi] = t.map(CubeTensor::into_tensor_arg);
        angle_fim_kernel::launch(
            &out.client,
            count,
            dim,
            tr,
            ti,
            rr,
            ri,
            fr,
            fi,
            vr,
            vi,
            out.clone().into_tensor_arg(),
            nr as u32,
            nt as u32,
            k as u32,
            j as u32,
        );
        out
    }
}

impl AngleFimGradient for CubeBackend {
    fn angle_fim_gradient(
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let t = [
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
            beams_re,
            beams_im,
            jamming_re,
            jamming_im,
        ]
        .map(contiguous);
        let upstream = contiguous(upstream);
        let [rows, nr, nt, k, j] = dims(&t);
        let [gfr, gfi] = [0, 1].map(|_| empty_like_rows(&t[4], Shape::new([rows, nt, k])));
        let [gvr, gvi] = [0, 1].map(|_| empty_like_rows(&t[6], Shape::new([rows, nt, j])));
        let (count, dim) = elementwise(&upstream, rows * (k + j));
        let client = upstream.client.clone();
        let [tr, ti, rr, ri, fr, fi, vr, vi] = t.map(CubeTensor::into_tensor_arg);
        angle_fim_gradient_kernel::launch(
            &client,
            count,
            dim,
            tr,
            ti,
            rr,
            ri,
            fr,
            fi,
            vr,
            vi,
            upstream.into_tensor_arg(),
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gvr.clone().into_tensor_arg(),
            gvi.clone().into_tensor_arg(),
            nr as u32,
            nt as u32,
            k as u32,
            j as u32,
        );
        (gfr, gfi, gvr, gvi)
    }
}
