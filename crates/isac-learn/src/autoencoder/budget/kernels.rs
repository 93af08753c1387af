//! The kernels of [`FrameBudget`] and [`FrameBudgetGradient`], in f32, one unit per row both
//! ways (each sums its sample's rows). The beam structure, whether the budget covers the FJ
//! column and which masks exist are compile-time choices. Layouts (row-major, made contiguous
//! first): the encoder's output `[BN, W]` (each row `[Re, Im] x [u_1 .. u_K, c] x Nt` first),
//! the ZF directions `[BN, Nt, K]`, the projectors `[BN, Nt, Nt]`, the budgets `[B, 1]`, the
//! masks `[BN, 1, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::FLOOR;
use super::{Budget, FrameBudget, FrameBudgetGradient};
use crate::cube::{Cx, conj_mul, contiguous, cx, elementwise, empty_like_rows, mul, re_conj_mul};

/// Compile-time choices of [`Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Flags {
    zero_forcing: bool,
    column: bool,
    comm_mask: bool,
    sense_mask: bool,
}

/// `g_k = sum_m u_k[m] / sqrt(Nt)` of row `row`.
#[cube]
fn gain(e: &Tensor<f32>, row: usize, col: usize, k: usize, nt: usize) -> Cx {
    let base = row * e.shape(1);
    let mut re = 0.0f32;
    let mut im = 0.0f32;
    for m in 0..nt {
        re += e[base + col * nt + m];
        im += e[base + (k + 1 + col) * nt + m];
    }
    let scale = 1.0f32 / f32::sqrt(nt as f32);
    cx(re * scale, im * scale)
}

/// `|z_k|^2` of row `row`.
#[cube]
fn direction_norm(
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    row: usize,
    col: usize,
    k: usize,
    nt: usize,
) -> f32 {
    let mut total = 0.0f32;
    for n in 0..nt {
        let at = (row * nt + n) * k + col;
        total += zr[at] * zr[at] + zi[at] * zi[at];
    }
    total
}

/// `(P c)[n]` of row `row`.
#[cube]
fn projected(
    e: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    row: usize,
    n: usize,
    k: usize,
    nt: usize,
) -> Cx {
    let base = row * e.shape(1);
    let mut re = 0.0f32;
    let mut im = 0.0f32;
    for m in 0..nt {
        let at = (row * nt + n) * nt + m;
        let p = mul(
            cx(pr[at], pi[at]),
            cx(e[base + k * nt + m], e[base + (2 * k + 1) * nt + m]),
        );
        re += p.re;
        im += p.im;
    }
    cx(re, im)
}

/// The squares of row `row`'s masks `(comm, sense)` (1 without).
#[cube]
fn mask_squares(
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    row: usize,
    #[comptime] flags: Flags,
) -> (f32, f32) {
    let mut comm_sq = 1.0f32;
    let mut sense_sq = 1.0f32;
    if comptime!(flags.comm_mask) {
        comm_sq = comm[row] * comm[row];
    }
    if comptime!(flags.sense_mask) {
        sense_sq = sense[row] * sense[row];
    }
    (comm_sq, sense_sq)
}

/// The power `p_n` of row `row`: the beams' and, with `flags.column`, the FJ column's, each
/// times its mask squared.
#[cube]
#[allow(clippy::too_many_arguments)]
fn row_power(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    row: usize,
    k: usize,
    nt: usize,
    #[comptime] flags: Flags,
) -> f32 {
    let base = row * e.shape(1);
    let (comm, sense) = mask_squares(comm, sense, row, flags);
    let mut beams = 0.0f32;
    for col in 0..k {
        if comptime!(flags.zero_forcing) {
            let g = gain(e, row, col, k, nt);
            beams += direction_norm(zr, zi, row, col, k, nt) * re_conj_mul(g, g);
        } else {
            for m in 0..nt {
                let re = e[base + col * nt + m];
                let im = e[base + (k + 1 + col) * nt + m];
                beams += re * re + im * im;
            }
        }
    }
    let mut total = comm * beams;
    if comptime!(flags.column) {
        let mut column = 0.0f32;
        for n in 0..nt {
            let y = projected(e, pr, pi, row, n, k, nt);
            column += re_conj_mul(y, y);
        }
        total += sense * column;
    }
    total
}

/// `(f_b, s_b)`: the mean row power of sample `b` and its scale `sqrt(P_b / max(f_b, FLOOR))`.
#[cube]
#[allow(clippy::too_many_arguments)]
fn frame(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    budget: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    b: usize,
    subcarriers: usize,
    k: usize,
    nt: usize,
    #[comptime] flags: Flags,
) -> (f32, f32) {
    let mut total = 0.0f32;
    for n in 0..subcarriers {
        total += row_power(
            e,
            zr,
            zi,
            pr,
            pi,
            comm,
            sense,
            b * subcarriers + n,
            k,
            nt,
            flags,
        );
    }
    let f = total / subcarriers as f32;
    (f, f32::sqrt(budget[b] / f32::max(f, FLOOR)))
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn frame_budget_kernel(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    budget: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    subcarriers: u32,
    #[comptime] flags: Flags,
) {
    if ABSOLUTE_POS >= e.shape(0) {
        terminate!();
    }
    let (k, nt, subcarriers) = (k as usize, nt as usize, subcarriers as usize);
    let (_, s) = frame(
        e,
        zr,
        zi,
        pr,
        pi,
        budget,
        comm,
        sense,
        ABSOLUTE_POS / subcarriers,
        subcarriers,
        k,
        nt,
        flags,
    );
    let entries = e.shape(1);
    let scaled = 2 * (k + 1) * nt;
    for i in 0..entries {
        let at = ABSOLUTE_POS * entries + i;
        out[at] = select(i < scaled, s * e[at], e[at]);
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn frame_budget_gradient_kernel(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    budget: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    upstream: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    subcarriers: u32,
    #[comptime] flags: Flags,
) {
    if ABSOLUTE_POS >= e.shape(0) {
        terminate!();
    }
    let (k, nt, subcarriers) = (k as usize, nt as usize, subcarriers as usize);
    let row = ABSOLUTE_POS;
    let b = row / subcarriers;
    let (f, s) = frame(
        e,
        zr,
        zi,
        pr,
        pi,
        budget,
        comm,
        sense,
        b,
        subcarriers,
        k,
        nt,
        flags,
    );
    let entries = e.shape(1);
    let scaled = 2 * (k + 1) * nt;
    // `D_b`, the sum of `G e` over the sample's scaled entries.
    let mut d = 0.0f32;
    for n in 0..subcarriers {
        let base = (b * subcarriers + n) * entries;
        for i in 0..scaled {
            d += upstream[base + i] * e[base + i];
        }
    }
    // `-(s D / (2 N f))`, the factor of `dp_n / de`.
    let factor = select(
        f > FLOOR,
        -s * d / (2.0f32 * subcarriers as f32 * f),
        0.0f32,
    );
    let base = row * entries;
    for i in 0..entries {
        let at = base + i;
        out[at] = select(i < scaled, s * upstream[at], upstream[at]);
    }
    let (comm_sq, sense_sq) = mask_squares(comm, sense, row, flags);
    let beam_factor = 2.0f32 * factor * comm_sq;
    for col in 0..k {
        if comptime!(flags.zero_forcing) {
            let g = gain(e, row, col, k, nt);
            let w = beam_factor * direction_norm(zr, zi, row, col, k, nt) / f32::sqrt(nt as f32);
            for m in 0..nt {
                out[base + col * nt + m] += w * g.re;
                out[base + (k + 1 + col) * nt + m] += w * g.im;
            }
        } else {
            for m in 0..nt {
                let (re, im) = (base + col * nt + m, base + (k + 1 + col) * nt + m);
                out[re] += beam_factor * e[re];
                out[im] += beam_factor * e[im];
            }
        }
    }
    if comptime!(flags.column) {
        // `2 P^H P c`, entry `m`.
        let column_factor = 2.0f32 * factor * sense_sq;
        for m in 0..nt {
            let mut re = 0.0f32;
            let mut im = 0.0f32;
            for n in 0..nt {
                let at = (row * nt + n) * nt + m;
                let p = conj_mul(cx(pr[at], pi[at]), projected(e, pr, pi, row, n, k, nt));
                re += p.re;
                im += p.im;
            }
            out[base + k * nt + m] += column_factor * re;
            out[base + (2 * k + 1) * nt + m] += column_factor * im;
        }
    }
}

impl Budget {
    fn flags(self) -> Flags {
        Flags {
            zero_forcing: self.zero_forcing,
            column: self.column,
            comm_mask: self.comm_mask,
            sense_mask: self.sense_mask,
        }
    }
}

impl FrameBudget for CubeBackend {
    fn frame_budget(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        comm: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        settings: Budget,
    ) -> FloatTensor<Self> {
        let inputs = [encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense].map(contiguous);
        let out = empty_like_rows(&inputs[0], TensorMetadata::shape(&inputs[0]));
        let rows = TensorMetadata::shape(&out)[0];
        let (count, dim) = elementwise(&out, rows);
        let [e, zr, zi, pr, pi, p, c, s] = inputs.map(CubeTensor::into_tensor_arg);
        frame_budget_kernel::launch(
            &out.client,
            count,
            dim,
            e,
            zr,
            zi,
            pr,
            pi,
            p,
            c,
            s,
            out.clone().into_tensor_arg(),
            settings.users as u32,
            settings.antennas as u32,
            settings.subcarriers as u32,
            settings.flags(),
        );
        out
    }
}

impl FrameBudgetGradient for CubeBackend {
    fn frame_budget_gradient(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        comm: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        settings: Budget,
    ) -> FloatTensor<Self> {
        let inputs = [
            encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense, upstream,
        ]
        .map(contiguous);
        let out = empty_like_rows(&inputs[0], TensorMetadata::shape(&inputs[0]));
        let rows = TensorMetadata::shape(&out)[0];
        let (count, dim) = elementwise(&out, rows);
        let [e, zr, zi, pr, pi, p, c, s, g] = inputs.map(CubeTensor::into_tensor_arg);
        frame_budget_gradient_kernel::launch(
            &out.client,
            count,
            dim,
            e,
            zr,
            zi,
            pr,
            pi,
            p,
            c,
            s,
            g,
            out.clone().into_tensor_arg(),
            settings.users as u32,
            settings.antennas as u32,
            settings.subcarriers as u32,
            settings.flags(),
        );
        out
    }
}
