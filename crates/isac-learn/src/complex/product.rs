//! The batched complex matrix product as two Burn operations with hand-written backward passes
//! (backend extensions): `Re(AB) = Ar Br - Ai Bi` and `Im(AB) = Ar Bi + Ai Br` are each one
//! autodiff node [`pair`] `C = A1 B1 + s A2 B2` over host-memory loops, instead of four batched
//! products (one small GEMM call per matrix on Flex, three times over with the backward pass), a
//! sum and their bookkeeping. The matrices of a training step are tiny (`Nt = 16` and fewer rows
//! or columns), so plain loops beat GEMM calls; a profile of the step put a quarter of its time
//! in those calls.
//!
//! Runs where [`crate::host::supports`] says; `ComplexTensor::matmul` composes Burn operations
//! elsewhere (GPU devices), and a test checks both against each other, with gradients.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};

use crate::host::{HostTensor, axpy, dot, upload};

/// The extension: `C[b] = A1[b] B1[b] + s A2[b] B2[b]` for every `b`, with `s = -1` if
/// `negate` (else `+1`); `A1`, `A2` are `[batch, m, p]` and `B1`, `B2` `[batch, p, n]`.
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait ProductPair: Backend {
    fn product_pair(
        a1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        a2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        negate: bool,
    ) -> FloatTensor<Self>;
}

/// Implements the extension for a CPU backend: the product on host memory, no graph.
macro_rules! host_product {
    ($backend:ty) => {
        impl ProductPair for $backend {
            fn product_pair(
                a1: FloatTensor<Self>,
                b1: FloatTensor<Self>,
                a2: FloatTensor<Self>,
                b2: FloatTensor<Self>,
                negate: bool,
            ) -> FloatTensor<Self> {
                forward::<Self>(&[a1, b1, a2, b2], negate)
            }
        }
    };
}

host_product!(Flex);
#[cfg(feature = "ndarray")]
host_product!(burn::backend::NdArray);

impl<B: HostTensor, C: CheckpointStrategy> ProductPair for Autodiff<B, C> {
    fn product_pair(
        a1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        a2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        negate: bool,
    ) -> FloatTensor<Self> {
        let (a1, g1) = a1.into_parts();
        let (b1, g2) = b1.into_parts();
        let (a2, g3) = a2.into_parts();
        let (b2, g4) = b2.into_parts();
        let inputs = [a1, b1, a2, b2];
        let c = forward::<B>(&inputs, negate);
        match PairBackward
            .prepare::<C>([g1, g2, g3, g4])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(Saved { inputs, negate }, c),
            OpsKind::UnTracked(prep) => prep.finish(c),
        }
    }
}

/// `[batch, m, p, n]` of the operands `[A1, B1, A2, B2]`.
fn dims<B: Backend>(inputs: &[FloatTensor<B>; 4]) -> [usize; 4] {
    let a = TensorMetadata::shape(&inputs[0]);
    let b = TensorMetadata::shape(&inputs[1]);
    [a[0], a[1], a[2], b[2]]
}

fn sign(negate: bool) -> f32 {
    if negate { -1.0 } else { 1.0 }
}

/// `C` on the device of `A1`.
fn forward<B: HostTensor>(inputs: &[FloatTensor<B>; 4], negate: bool) -> FloatTensor<B> {
    let [batch, m, p, n] = dims::<B>(inputs);
    let [a1, b1, a2, b2] = inputs.each_ref().map(B::view);
    let c = pair(&a1, &b1, &a2, &b2, sign(negate), [batch, m, p, n]);
    upload::<B, 3>(c, [batch, m, n], &TensorMetadata::device(&inputs[0]))
}

/// What the backward step keeps: the operands (shared handles, not copies) and the sign.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    inputs: [FloatTensor<B>; 4],
    negate: bool,
}

/// The backward step of the node whose parents are `[A1, B1, A2, B2]`: with `G = dL/dC`,
/// `dA1 = G B1^T`, `dB1 = A1^T G`, `dA2 = s G B2^T`, `dB2 = s A2^T G`.
#[derive(Debug)]
struct PairBackward;

impl<B: HostTensor> Backward<B, 4> for PairBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Saved<B>, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let Saved { inputs, negate } = ops.state;
        let [batch, m, p, n] = dims::<B>(&inputs);
        let g = B::view(&grad);
        let [a1, b1, a2, b2] = inputs.each_ref().map(B::view);
        let [pa1, pb1, pa2, pb2] = ops.parents;
        let s = sign(negate);
        let shape = [batch, m, p, n];
        for (parent, left, scale) in [(pa1, &b1, 1.0), (pa2, &b2, s)] {
            if let Some(node) = parent {
                let d = times_transpose(&g, left, scale, shape);
                grads.register::<B>(node.id, upload::<B, 3>(d, [batch, m, p], &device));
            }
        }
        for (parent, right, scale) in [(pb1, &a1, 1.0), (pb2, &a2, s)] {
            if let Some(node) = parent {
                let d = transpose_times(right, &g, scale, shape);
                grads.register::<B>(node.id, upload::<B, 3>(d, [batch, p, n], &device));
            }
        }
    }
}

/// `A1 B1 + s A2 B2` per matrix (row-major; `A` `[batch, m, p]`, `B` `[batch, p, n]`): dot
/// products of `A`'s rows with the columns of `B`, transposed once per matrix into a scratch
/// buffer, so every inner loop runs over the shared dimension `p` (`Nt` in a training step)
/// rather than over the few columns `n`.
fn pair(
    a1: &[f32],
    b1: &[f32],
    a2: &[f32],
    b2: &[f32],
    s: f32,
    [batch, m, p, n]: [usize; 4],
) -> Vec<f32> {
    let mut c = vec![0.0f32; batch * m * n];
    if m * p * n == 0 {
        return c;
    }
    let (mut t1, mut t2) = (vec![0.0f32; n * p], vec![0.0f32; n * p]);
    let lhs = a1.chunks_exact(m * p).zip(a2.chunks_exact(m * p));
    let rhs = b1.chunks_exact(p * n).zip(b2.chunks_exact(p * n));
    for (c, ((a1, a2), (b1, b2))) in c.chunks_exact_mut(m * n).zip(lhs.zip(rhs)) {
        transpose(b1, p, n, &mut t1);
        transpose(b2, p, n, &mut t2);
        for (c_row, (a1_row, a2_row)) in c
            .chunks_exact_mut(n)
            .zip(a1.chunks_exact(p).zip(a2.chunks_exact(p)))
        {
            for (c, (col1, col2)) in c_row
                .iter_mut()
                .zip(t1.chunks_exact(p).zip(t2.chunks_exact(p)))
            {
                *c = dot(a1_row, col1) + s * dot(a2_row, col2);
            }
        }
    }
    c
}

/// `scale G B^T` per matrix: `G` `[batch, m, n]`, `B` `[batch, p, n]`, result `[batch, m, p]`
/// (row `i` is the sum over `j` of `G[i, j]` times column `j` of `B`).
fn times_transpose(g: &[f32], b: &[f32], scale: f32, [batch, m, p, n]: [usize; 4]) -> Vec<f32> {
    let mut d = vec![0.0f32; batch * m * p];
    if m * p * n == 0 {
        return d;
    }
    let mut t = vec![0.0f32; n * p];
    for (d, (g, b)) in d
        .chunks_exact_mut(m * p)
        .zip(g.chunks_exact(m * n).zip(b.chunks_exact(p * n)))
    {
        transpose(b, p, n, &mut t);
        for (d_row, g_row) in d.chunks_exact_mut(p).zip(g.chunks_exact(n)) {
            for (x, col) in g_row.iter().zip(t.chunks_exact(p)) {
                axpy(scale * x, col, d_row);
            }
        }
    }
    d
}

/// `scale A^T G` per matrix: `A` `[batch, m, p]`, `G` `[batch, m, n]`, result `[batch, p, n]`
/// (built transposed: column `j` is the sum over `i` of `G[i, j]` times row `i` of `A`).
fn transpose_times(a: &[f32], g: &[f32], scale: f32, [batch, m, p, n]: [usize; 4]) -> Vec<f32> {
    let mut d = vec![0.0f32; batch * p * n];
    if m * p * n == 0 {
        return d;
    }
    let mut t = vec![0.0f32; n * p];
    for (d, (a, g)) in d
        .chunks_exact_mut(p * n)
        .zip(a.chunks_exact(m * p).zip(g.chunks_exact(m * n)))
    {
        t.fill(0.0);
        for (a_row, g_row) in a.chunks_exact(p).zip(g.chunks_exact(n)) {
            for (x, col) in g_row.iter().zip(t.chunks_exact_mut(p)) {
                axpy(scale * x, a_row, col);
            }
        }
        transpose(&t, n, p, d);
    }
    d
}

/// `out` (`cols x rows`) = the transpose of `x` (`rows x cols`), both row-major.
fn transpose(x: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for (i, row) in x.chunks_exact(cols).enumerate() {
        for (j, v) in row.iter().enumerate() {
            out[j * rows + i] = *v;
        }
    }
}
