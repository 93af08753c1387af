//! The kernels of [`BudgetedPlanes`] and [`BudgetedPlanesGradient`], in f32, one summing cube
//! per sample both ways ([`cube_sum`]: its units share the sample's rows for the frame power,
//! then its plane entries forward, its entries of the encoder's output backward), so that no
//! unit loops over a whole sample (at N = 64, tens of thousands of dependent loads on a GPU).
//! The beam structure, whether the budget covers the FJ column, which masks exist and which
//! planes have a gradient are compile-time choices. Layouts (row-major, made contiguous first):
//! the encoder's output `[BN, W]` (each row `[Re, Im] x [u_1 .. u_K, c] x Nt` first), the ZF
//! directions and the beams' planes `[BN, Nt, K]`, the projectors `[BN, Nt, Nt]`, the
//! candidate's planes `[BN, Nt, 1]`, the budgets `[B, 1]`, the masks `[BN, 1, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::FLOOR;
use super::{Budget, BudgetedPlanes, BudgetedPlanesGradient, plane_shapes};
use crate::cube::{
    CUBE_WIDTH, Cx, conj_mul, contiguous, cube_sum, cx, empty_like_rows, mul, one_cube, re_conj_mul,
};

/// Compile-time choices of [`Budget`], and which planes have a gradient (backward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Flags {
    zero_forcing: bool,
    column: bool,
    comm_mask: bool,
    sense_mask: bool,
    present: [bool; 4],
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

/// `(f_b, s_b)`, in every unit of sample `b`'s cube: the mean row power of the sample (each
/// unit sums a strided share of its rows) and its scale `sqrt(P_b / max(f_b, FLOOR))`.
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
    let mut share = 0.0f32;
    for j in 0..subcarriers.div_ceil(CUBE_WIDTH) {
        let n = j * CUBE_WIDTH + UNIT_POS as usize;
        if n < subcarriers {
            share += row_power(
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
    }
    let f = cube_sum(share) / subcarriers as f32;
    (f, f32::sqrt(budget[b] / f32::max(f, FLOOR)))
}

/// `dp_n / de` at entry `i` of row `row` (one of its first `2 (K + 1) Nt`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn power_gradient(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    row: usize,
    i: usize,
    k: usize,
    nt: usize,
    #[comptime] flags: Flags,
) -> f32 {
    // Entry `m` of column `col` (`K` is the FJ candidate), real (`part` 0) or imaginary part.
    let block = i / nt;
    let m = i % nt;
    let real = block / (k + 1) == 0;
    let col = block % (k + 1);
    let (comm_sq, sense_sq) = mask_squares(comm, sense, row, flags);
    let mut value = 0.0f32;
    if col < k {
        if comptime!(flags.zero_forcing) {
            let g = gain(e, row, col, k, nt);
            let w =
                2.0f32 * comm_sq * direction_norm(zr, zi, row, col, k, nt) / f32::sqrt(nt as f32);
            value = w * select(real, g.re, g.im);
        } else {
            value = 2.0f32 * comm_sq * e[row * e.shape(1) + i];
        }
    } else if comptime!(flags.column) {
        // `2 (P^H P c)[m]`.
        let mut re = 0.0f32;
        let mut im = 0.0f32;
        for n in 0..nt {
            let at = (row * nt + n) * nt + m;
            let p = conj_mul(cx(pr[at], pi[at]), projected(e, pr, pi, row, n, k, nt));
            re += p.re;
            im += p.im;
        }
        value = 2.0f32 * sense_sq * select(real, re, im);
    }
    value
}

/// Whether entry `i` of a row of the encoder's output is scaled by the budget: the beams' and,
/// where the budget covers it, the FJ candidate's.
#[cube]
fn scaled(i: usize, k: usize, nt: usize, #[comptime] flags: Flags) -> bool {
    let beam = i < 2 * (k + 1) * nt && (i / nt) % (k + 1) < k;
    let column = i < 2 * (k + 1) * nt && (i / nt) % (k + 1) == k;
    beam || (column && comptime!(flags.column))
}

/// `G'` at entry `i` of row `row` (one of its first `2 (K + 1) Nt`): the gradient of the scaled
/// output from the planes' upstream gradients `g0 .. g3` (module docs of `budget.rs`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn plane_gradient(
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    g0: &Tensor<f32>,
    g1: &Tensor<f32>,
    g2: &Tensor<f32>,
    g3: &Tensor<f32>,
    row: usize,
    i: usize,
    k: usize,
    nt: usize,
    #[comptime] flags: Flags,
) -> f32 {
    // Entry `m` of column `col` (`K` is the candidate), real (`part` 0) or imaginary part.
    let block = i / nt;
    let m = i % nt;
    let real = block / (k + 1) == 0;
    let col = block % (k + 1);
    let mut value = 0.0f32;
    if col < k {
        if comptime!(flags.zero_forcing) {
            let mut sum = 0.0f32;
            for n in 0..nt {
                let at = (row * nt + n) * k + col;
                if comptime!(flags.present[0]) {
                    sum += g0[at] * select(real, zr[at], -zi[at]);
                }
                if comptime!(flags.present[1]) {
                    sum += g1[at] * select(real, zi[at], zr[at]);
                }
            }
            value = sum / f32::sqrt(nt as f32);
        } else {
            let at = (row * nt + m) * k + col;
            if comptime!(flags.present[0]) {
                value = select(real, g0[at], value);
            }
            if comptime!(flags.present[1]) {
                value = select(real, value, g1[at]);
            }
        }
    } else {
        let mut sum = 0.0f32;
        for n in 0..nt {
            let at = (row * nt + n) * nt + m;
            if comptime!(flags.present[2]) {
                sum += g2[row * nt + n] * select(real, pr[at], -pi[at]);
            }
            if comptime!(flags.present[3]) {
                sum += g3[row * nt + n] * select(real, pi[at], pr[at]);
            }
        }
        value = sum;
    }
    value
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn budgeted_planes_kernel(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    budget: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    beams_re: &mut Tensor<f32>,
    beams_im: &mut Tensor<f32>,
    column_re: &mut Tensor<f32>,
    column_im: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    subcarriers: u32,
    #[comptime] flags: Flags,
) {
    let (k, nt, subcarriers) = (k as usize, nt as usize, subcarriers as usize);
    let b = CUBE_POS;
    let (_, s) = frame(
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
    // The candidate is scaled only where the budget covers it.
    let mut column_scale = 1.0f32;
    if comptime!(flags.column) {
        column_scale = s;
    }
    // The sample's complex plane entries, `[N, Nt, K + 1]`.
    let per_row = nt * (k + 1);
    let sample = subcarriers * per_row;
    for j in 0..sample.div_ceil(CUBE_WIDTH) {
        let idx = j * CUBE_WIDTH + UNIT_POS as usize;
        if idx < sample {
            let row = b * subcarriers + idx / per_row;
            let n = (idx / (k + 1)) % nt;
            let col = idx % (k + 1);
            let base = row * e.shape(1);
            if col < k {
                let at = (row * nt + n) * k + col;
                let mut re = e[base + col * nt + n];
                let mut im = e[base + (k + 1 + col) * nt + n];
                if comptime!(flags.zero_forcing) {
                    let f = mul(cx(zr[at], zi[at]), gain(e, row, col, k, nt));
                    re = f.re;
                    im = f.im;
                }
                beams_re[at] = s * re;
                beams_im[at] = s * im;
            } else {
                let y = projected(e, pr, pi, row, n, k, nt);
                column_re[row * nt + n] = column_scale * y.re;
                column_im[row * nt + n] = column_scale * y.im;
            }
        }
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn budgeted_planes_gradient_kernel(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    budget: &Tensor<f32>,
    comm: &Tensor<f32>,
    sense: &Tensor<f32>,
    g0: &Tensor<f32>,
    g1: &Tensor<f32>,
    g2: &Tensor<f32>,
    g3: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    subcarriers: u32,
    #[comptime] flags: Flags,
) {
    let (k, nt, subcarriers) = (k as usize, nt as usize, subcarriers as usize);
    let b = CUBE_POS;
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
    let width = 2 * (k + 1) * nt;
    let sample = subcarriers * entries;
    // `G'` into the output, and `D_b`, the sum of `G' e` over the sample's scaled entries.
    let mut share = 0.0f32;
    for j in 0..sample.div_ceil(CUBE_WIDTH) {
        let idx = j * CUBE_WIDTH + UNIT_POS as usize;
        if idx < sample {
            let at = b * sample + idx;
            let i = idx % entries;
            let row = b * subcarriers + idx / entries;
            let mut g = 0.0f32;
            if i < width {
                g = plane_gradient(zr, zi, pr, pi, g0, g1, g2, g3, row, i, k, nt, flags);
            }
            out[at] = g;
            if scaled(i, k, nt, flags) {
                share += g * e[at];
            }
        }
    }
    let d = cube_sum(share);
    // `-(s D / (2 N f))`, the factor of `dp_n / de`.
    let factor = select(
        f > FLOOR,
        -s * d / (2.0f32 * subcarriers as f32 * f),
        0.0f32,
    );
    // Each unit reads back only the entries it wrote.
    for j in 0..sample.div_ceil(CUBE_WIDTH) {
        let idx = j * CUBE_WIDTH + UNIT_POS as usize;
        if idx < sample {
            let i = idx % entries;
            if scaled(i, k, nt, flags) {
                let at = b * sample + idx;
                let row = b * subcarriers + idx / entries;
                let dp = power_gradient(e, zr, zi, pr, pi, comm, sense, row, i, k, nt, flags);
                out[at] = s * out[at] + factor * dp;
            }
        }
    }
}

impl Budget {
    fn flags(self, present: [bool; 4]) -> Flags {
        Flags {
            zero_forcing: self.zero_forcing,
            column: self.column,
            comm_mask: self.comm_mask,
            sense_mask: self.sense_mask,
            present,
        }
    }
}

/// One summing cube per sample (the budgets `[B, 1]`).
fn cubes(budget: &CubeTensor) -> (CubeCount, CubeDim) {
    let samples = TensorMetadata::shape(budget)[0] as u32;
    (CubeCount::Static(samples, 1, 1), one_cube().1)
}

impl BudgetedPlanes for CubeBackend {
    fn budgeted_planes(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        comm: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        settings: Budget,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let inputs = [encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense].map(contiguous);
        let rows = TensorMetadata::shape(&inputs[0])[0];
        let planes = plane_shapes(rows, &settings).map(|shape| empty_like_rows(&inputs[0], shape));
        let (count, dim) = cubes(&inputs[5]);
        let client = planes[0].client.clone();
        let [e, zr, zi, pr, pi, p, c, s] = inputs.map(CubeTensor::into_tensor_arg);
        let [fr, fi, cr, ci] = planes.clone().map(CubeTensor::into_tensor_arg);
        budgeted_planes_kernel::launch(
            &client,
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
            fr,
            fi,
            cr,
            ci,
            settings.users as u32,
            settings.antennas as u32,
            settings.subcarriers as u32,
            settings.flags([true; 4]),
        );
        let [fr, fi, cr, ci] = planes;
        (fr, fi, cr, ci)
    }
}

impl BudgetedPlanesGradient for CubeBackend {
    fn budgeted_planes_gradient(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        comm: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        upstream_beams_re: FloatTensor<Self>,
        upstream_beams_im: FloatTensor<Self>,
        upstream_column_re: FloatTensor<Self>,
        upstream_column_im: FloatTensor<Self>,
        settings: Budget,
        present: [bool; 4],
    ) -> FloatTensor<Self> {
        let inputs = [encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense].map(contiguous);
        let upstream = [
            upstream_beams_re,
            upstream_beams_im,
            upstream_column_re,
            upstream_column_im,
        ]
        .map(contiguous);
        let out = empty_like_rows(&inputs[0], TensorMetadata::shape(&inputs[0]));
        let (count, dim) = cubes(&inputs[5]);
        let [e, zr, zi, pr, pi, p, c, s] = inputs.map(CubeTensor::into_tensor_arg);
        let [g0, g1, g2, g3] = upstream.map(CubeTensor::into_tensor_arg);
        budgeted_planes_gradient_kernel::launch(
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
            g0,
            g1,
            g2,
            g3,
            out.clone().into_tensor_arg(),
            settings.users as u32,
            settings.antennas as u32,
            settings.subcarriers as u32,
            settings.flags(present),
        );
        out
    }
}
