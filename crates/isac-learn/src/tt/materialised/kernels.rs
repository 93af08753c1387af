//! The kernels of [`TtMaterialise`] and [`TtMaterialiseGradient`], in f32: forward, one unit
//! per entry of the dense weights (each multiplies its `q` core slices); backward, one unit per
//! entry of the flat TT weights (each sums over the dense entries its core slice enters). The
//! layout is a compile-time value, so the loops over the cores unroll. Layouts: the flat TT
//! weights (every core `C_k` `[(m_k r_k), (r_{k-1} n_k)]` row-major, then the bias), the dense
//! weights (`W` `[M, N]` row-major, then the bias).

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::{TtLayout, TtMaterialise, TtMaterialiseGradient};
use crate::cube::{contiguous, elementwise, empty_like_rows};

impl TtLayout {
    fn cores(&self) -> usize {
        self.in_factors.len()
    }

    fn d_input(&self) -> usize {
        self.in_factors.iter().product()
    }

    fn max_rank(&self) -> usize {
        self.ranks.iter().copied().max().unwrap_or(1)
    }
}

/// Entry `[.., (m, b), (a, n)]` of core `k`'s slice `G_k[m, n][a, b]`.
#[cube]
fn core_entry(
    w: &Tensor<f32>,
    m: usize,
    n: usize,
    a: usize,
    b: usize,
    #[comptime] layout: TtLayout,
    #[comptime] k: usize,
) -> f32 {
    let (r0, r1) = comptime!((layout.ranks[k], layout.ranks[k + 1]));
    let nf = comptime!(layout.in_factors[k]);
    w[comptime!(layout.offsets[k]) + (m * r1 + b) * (r0 * nf) + a * nf + n]
}

/// Digit `k` of row `i` (`m_k`) and of column `j` (`n_k`).
#[cube]
fn digits(
    i: usize,
    j: usize,
    #[comptime] layout: TtLayout,
    #[comptime] k: usize,
) -> (usize, usize) {
    (
        (i / comptime!(layout.out_strides[k])) % comptime!(layout.out_factors[k]),
        (j / comptime!(layout.in_strides[k])) % comptime!(layout.in_factors[k]),
    )
}

/// Into `v` (`r_upto` entries): the row `G_1[m_1, n_1] .. G_upto[m_upto, n_upto]` at the
/// digits of `(i, j)`, `[1]` for `upto = 0`.
#[cube]
fn left_chain(
    w: &Tensor<f32>,
    i: usize,
    j: usize,
    v: &mut Array<f32>,
    scratch: &mut Array<f32>,
    #[comptime] layout: TtLayout,
    #[comptime] upto: usize,
) {
    v[0] = 1.0f32;
    #[unroll]
    for k in 0..upto {
        let (m, n) = digits(i, j, comptime!(layout.clone()), k);
        let (r0, r1) = comptime!((layout.ranks[k], layout.ranks[k + 1]));
        for b in 0..r1 {
            let mut s = 0.0f32;
            for a in 0..r0 {
                s += v[a] * core_entry(w, m, n, a, b, comptime!(layout.clone()), k);
            }
            scratch[b] = s;
        }
        for b in 0..r1 {
            v[b] = scratch[b];
        }
    }
}

/// Into `u` (`r_from` entries): the column `G_{from+1}[..] .. G_q[..]` at the digits of `(i,
/// j)`, `[1]` for `from = q`.
#[cube]
fn right_chain(
    w: &Tensor<f32>,
    i: usize,
    j: usize,
    u: &mut Array<f32>,
    scratch: &mut Array<f32>,
    #[comptime] layout: TtLayout,
    #[comptime] from: usize,
) {
    u[0] = 1.0f32;
    #[unroll]
    for t in 0..comptime!(layout.cores() - from) {
        let k = comptime!(layout.cores() - 1 - t);
        let (m, n) = digits(i, j, comptime!(layout.clone()), k);
        let (r0, r1) = comptime!((layout.ranks[k], layout.ranks[k + 1]));
        for a in 0..r0 {
            let mut s = 0.0f32;
            for b in 0..r1 {
                s += core_entry(w, m, n, a, b, comptime!(layout.clone()), k) * u[b];
            }
            scratch[a] = s;
        }
        for a in 0..r0 {
            u[a] = scratch[a];
        }
    }
}

#[cube(launch)]
fn tt_materialise_kernel(w: &Tensor<f32>, out: &mut Tensor<f32>, #[comptime] layout: TtLayout) {
    if ABSOLUTE_POS >= out.shape(0) {
        terminate!();
    }
    let n_total = comptime!(layout.d_input());
    let entries = comptime!(layout.d_output() * layout.d_input());
    if ABSOLUTE_POS >= entries {
        out[ABSOLUTE_POS] = w[comptime!(layout.offsets[layout.cores()]) + ABSOLUTE_POS - entries];
    } else {
        let mut v = Array::<f32>::new(comptime!(layout.max_rank()));
        let mut scratch = Array::<f32>::new(comptime!(layout.max_rank()));
        left_chain(
            w,
            ABSOLUTE_POS / n_total,
            ABSOLUTE_POS % n_total,
            &mut v,
            &mut scratch,
            comptime!(layout.clone()),
            comptime!(layout.cores()),
        );
        out[ABSOLUTE_POS] = v[0];
    }
}

#[cube(launch)]
fn tt_materialise_gradient_kernel(
    w: &Tensor<f32>,
    upstream: &Tensor<f32>,
    out: &mut Tensor<f32>,
    #[comptime] layout: TtLayout,
) {
    if ABSOLUTE_POS >= out.shape(0) {
        terminate!();
    }
    let (m_total, n_total) = comptime!((layout.d_output(), layout.d_input()));
    let bias_start = comptime!(layout.offsets[layout.cores()]);
    if ABSOLUTE_POS >= bias_start {
        out[ABSOLUTE_POS] = upstream[m_total * n_total + ABSOLUTE_POS - bias_start];
    } else {
        let mut left = Array::<f32>::new(comptime!(layout.max_rank()));
        let mut right = Array::<f32>::new(comptime!(layout.max_rank()));
        let mut scratch = Array::<f32>::new(comptime!(layout.max_rank()));
        let mut total = 0.0f32;
        #[unroll]
        for k in 0..comptime!(layout.cores()) {
            let (start, end) = comptime!((layout.offsets[k], layout.offsets[k + 1]));
            if ABSOLUTE_POS >= start && ABSOLUTE_POS < end {
                let (r0, r1) = comptime!((layout.ranks[k], layout.ranks[k + 1]));
                let (mf, nf) = comptime!((layout.out_factors[k], layout.in_factors[k]));
                let (os, is) = comptime!((layout.out_strides[k], layout.in_strides[k]));
                // Entry `C_k[(m, b), (a, n)]`.
                let e = ABSOLUTE_POS - start;
                let (row, col) = (e / (r0 * nf), e % (r0 * nf));
                let (m, b, a, n) = (row / r1, row % r1, col / nf, col % nf);
                for ir in 0..comptime!(m_total / mf) {
                    let i = (ir / os) * (mf * os) + m * os + ir % os;
                    for jr in 0..comptime!(n_total / nf) {
                        let j = (jr / is) * (nf * is) + n * is + jr % is;
                        left_chain(
                            w,
                            i,
                            j,
                            &mut left,
                            &mut scratch,
                            comptime!(layout.clone()),
                            k,
                        );
                        right_chain(
                            w,
                            i,
                            j,
                            &mut right,
                            &mut scratch,
                            comptime!(layout.clone()),
                            comptime!(k + 1),
                        );
                        total += upstream[i * n_total + j] * left[a] * right[b];
                    }
                }
            }
        }
        out[ABSOLUTE_POS] = total;
    }
}

impl TtMaterialise for CubeBackend {
    fn tt_materialise(weights: FloatTensor<Self>, layout: TtLayout) -> FloatTensor<Self> {
        let weights = contiguous(weights);
        let len = layout.dense_len();
        let out = empty_like_rows(&weights, Shape::new([len]));
        let (count, dim) = elementwise(&out, len);
        tt_materialise_kernel::launch(
            &out.client,
            count,
            dim,
            weights.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            layout,
        );
        out
    }
}

impl TtMaterialiseGradient for CubeBackend {
    fn tt_materialise_gradient(
        weights: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        layout: TtLayout,
    ) -> FloatTensor<Self> {
        let [weights, upstream] = [weights, upstream].map(contiguous);
        let out = empty_like_rows(&weights, TensorMetadata::shape(&weights));
        let (count, dim) = elementwise(&out, TensorMetadata::shape(&out).num_elements());
        tt_materialise_gradient_kernel::launch(
            &out.client,
            count,
            dim,
            weights.into_tensor_arg(),
            upstream.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            layout,
        );
        out
    }
}
