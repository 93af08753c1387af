//! The Donsker-Varadhan bound of the discriminator bank (eq. 12) as one Burn operation with a
//! hand-written backward pass (a backend extension over f32 host loops), for the CPU devices.
//!
//! Per perturbation `d`, the scores `t_i = w2 . relu(W1^T x_i + b1) + b2` of its `2S` training
//! samples (`S` nominal, then `S` perturbed) give `E_P[t] - log E_Q[e^t]`. The composed tensor
//! operations keep every `[D, 2S, H]` activation and its gradient in memory (20 MB each at the
//! shipped settings) and spend most of a step copying them; here each sample's hidden layer
//! lives in one `H`-vector and is recomputed in the backward pass. Gradients, with upstream `g`:
//! `dt_i = g / S` for nominal samples and `-g e^{t_i} / sum_Q e^t` for perturbed ones; `dw2 =
//! sum_i dt_i a_i` (`a_i` the activations), `db2 = sum_i dt_i`, `dz_i = dt_i w2 [z_i > 0]` (`z_i`
//! the pre-activations), `db1 = sum_i dz_i`, `dW1 = sum_i x_i dz_i^T`. The samples are data:
//! no gradient flows to them, and the caller takes the composed path if they require one.

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

/// The extension: `[D, 1]`, the bound of every perturbation for samples `x` `[D, 2S, F]` (`S =
/// samples` nominal rows, then `S` perturbed) and the bank's `w1` `[D, F, H]`, `b1` `[D, 1, H]`,
/// `w2` `[D, H, 1]`, `b2` `[D, 1, 1]`.
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait DvBound: Backend {
    fn dv_bound(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        samples: usize,
    ) -> FloatTensor<Self>;
}

/// Implements the extension for `$backend` by handing the five tensors and `S` to `$run`.
macro_rules! bound_extension {
    ([$($generics:tt)*] $backend:ty => $run:expr) => {
        impl<$($generics)*> DvBound for $backend {
            fn dv_bound(
                x: FloatTensor<Self>,
                w1: FloatTensor<Self>,
                b1: FloatTensor<Self>,
                w2: FloatTensor<Self>,
                b2: FloatTensor<Self>,
                samples: usize,
            ) -> FloatTensor<Self> {
                $run([x, w1, b1, w2, b2], samples)
            }
        }
    };
}

bound_extension!([] Flex => |inputs, samples| forward::<Flex>(&inputs, samples).0);
#[cfg(feature = "ndarray")]
bound_extension!([] burn::backend::NdArray => |inputs, samples| {
    forward::<burn::backend::NdArray>(&inputs, samples).0
});
bound_extension!([B: HostTensor, C: CheckpointStrategy] Autodiff<B, C> => tracked::<B, C>);

/// Perturbations `D`, samples per distribution `S`, features `F`, hidden width `H`.
#[derive(Debug, Clone, Copy)]
struct Dims {
    d: usize,
    s: usize,
    f: usize,
    h: usize,
}

impl Dims {
    fn of<B: Backend>(inputs: &[FloatTensor<B>; 5], samples: usize) -> Self {
        let (x, w1) = (
            TensorMetadata::shape(&inputs[0]),
            TensorMetadata::shape(&inputs[1]),
        );
        Self {
            d: x[0],
            s: samples,
            f: x[2],
            h: w1[2],
        }
    }
}

/// Hidden units whose pre-activations [`Discriminator::hidden`] keeps in registers (four AVX
/// vectors).
const HIDDEN_BLOCK: usize = 32;

/// Samples whose gradient terms the backward pass adds to `W1`'s gradient in one pass.
const SAMPLE_BLOCK: usize = 4;

/// One perturbation's discriminator: `w1` (`F x H`, row-major), `b1`, `w2` (`H` each), `b2`.
struct Discriminator<'a> {
    w1: &'a [f32],
    b1: &'a [f32],
    w2: &'a [f32],
    b2: f32,
}

impl Discriminator<'_> {
    /// The pre-activations `z = W1^T x + b1` of one sample into `z`, [`HIDDEN_BLOCK`] units at a
    /// time held in registers across all features (each unit still sums `b1` and then the
    /// features in order).
    fn hidden(&self, x: &[f32], z: &mut [f32]) {
        let h = z.len();
        for (block, out) in z.chunks_mut(HIDDEN_BLOCK).enumerate() {
            let start = block * HIDDEN_BLOCK;
            if let Ok(out) = <&mut [f32; HIDDEN_BLOCK]>::try_from(&mut *out) {
                let mut acc = [0.0f32; HIDDEN_BLOCK];
                acc.copy_from_slice(&self.b1[start..start + HIDDEN_BLOCK]);
                for (&xf, row) in x.iter().zip(self.w1.chunks_exact(h)) {
                    for (a, &w) in acc.iter_mut().zip(&row[start..start + HIDDEN_BLOCK]) {
                        *a += xf * w;
                    }
                }
                *out = acc;
            } else {
                out.copy_from_slice(&self.b1[start..start + out.len()]);
                for (&xf, row) in x.iter().zip(self.w1.chunks_exact(h)) {
                    axpy(xf, &row[start..start + out.len()], out);
                }
            }
        }
    }

    /// The score `w2 . relu(z) + b2` of pre-activations `z` (rectified in place). The dot
    /// product runs in [`dot`]'s eight partial sums: one running sum was a chain of `H`
    /// dependent additions per sample, longer than the hidden layer's multiply-adds.
    fn score(&self, z: &mut [f32]) -> f32 {
        z.iter_mut().for_each(|v| *v = v.max(0.0));
        dot(z, self.w2) + self.b2
    }
}

/// The bound `mean_P t - log mean_Q e^t` of one perturbation's scores (`S` nominal, then `S`
/// perturbed) in f64, and the weights `e^{t_i} / sum_Q e^t` of the perturbed samples.
fn bound_and_weights(t: &[f32], s: usize) -> (f64, Vec<f64>) {
    let (p, q) = t.split_at(s);
    let mean_p = p.iter().map(|&v| f64::from(v)).sum::<f64>() / s as f64;
    let max = q
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let mut weights: Vec<f64> = q.iter().map(|&v| (f64::from(v) - max).exp()).collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    (mean_p - ((total / s as f64).ln() + max), weights)
}

/// Views of the five inputs of perturbation `k`: its samples and its discriminator.
fn perturbation<'a>(
    host: &'a [std::borrow::Cow<'a, [f32]>; 5],
    dims: Dims,
    k: usize,
) -> (&'a [f32], Discriminator<'a>) {
    let Dims { s, f, h, .. } = dims;
    let x = &host[0][k * 2 * s * f..][..2 * s * f];
    let net = Discriminator {
        w1: &host[1][k * f * h..][..f * h],
        b1: &host[2][k * h..][..h],
        w2: &host[3][k * h..][..h],
        b2: host[4][k],
    };
    (x, net)
}

/// The bounds `[D, 1]` on the device of `x`, and every sample's score (for the backward pass).
fn forward<B: HostTensor>(
    inputs: &[FloatTensor<B>; 5],
    samples: usize,
) -> (FloatTensor<B>, Vec<f32>) {
    let dims = Dims::of::<B>(inputs, samples);
    let host = inputs.each_ref().map(B::view);
    let mut scores = Vec::with_capacity(dims.d * 2 * dims.s);
    let mut bounds = Vec::with_capacity(dims.d);
    let mut z = vec![0.0f32; dims.h];
    for k in 0..dims.d {
        let (x, net) = perturbation(&host, dims, k);
        let first = scores.len();
        for sample in x.chunks_exact(dims.f) {
            net.hidden(sample, &mut z);
            scores.push(net.score(&mut z));
        }
        bounds.push(bound_and_weights(&scores[first..], dims.s).0 as f32);
    }
    let device = TensorMetadata::device(&inputs[0]);
    (upload::<B, 2>(bounds, [dims.d, 1], &device), scores)
}

/// Records [`forward`] as one autodiff node whose parents are the bank's four parameters.
fn tracked<B: HostTensor, C: CheckpointStrategy>(
    inputs: [FloatTensor<Autodiff<B, C>>; 5],
    samples: usize,
) -> FloatTensor<Autodiff<B, C>> {
    let [x, w1, b1, w2, b2] = inputs.map(|t| t.into_parts());
    let inner = [x.0, w1.0, b1.0, w2.0, b2.0];
    let (bounds, scores) = forward::<B>(&inner, samples);
    match BoundBackward
        .prepare::<C>([w1.1, b1.1, w2.1, b2.1])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            Saved {
                inputs: inner,
                samples,
                scores,
            },
            bounds,
        ),
        OpsKind::UnTracked(prep) => prep.finish(bounds),
    }
}

/// What the backward pass keeps: the inputs (shared handles), `S` and every sample's score.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    inputs: [FloatTensor<B>; 5],
    samples: usize,
    scores: Vec<f32>,
}

/// The backward step of the node whose parents are `[w1, b1, w2, b2]`; it recomputes each
/// sample's hidden layer.
#[derive(Debug)]
struct BoundBackward;

impl<B: HostTensor> Backward<B, 4> for BoundBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let upstream = B::read(grad);
        let Saved {
            inputs,
            samples,
            scores,
        } = ops.state;
        let dims = Dims::of::<B>(&inputs, samples);
        let Dims { d, s, f, h } = dims;
        let host = inputs.each_ref().map(B::view);
        let (mut dw1, mut db1, mut dw2, mut db2) = (
            vec![0.0f32; d * f * h],
            vec![0.0f32; d * h],
            vec![0.0f32; d * h],
            vec![0.0f32; d],
        );
        let mut z = vec![0.0f32; h];
        let mut dz = vec![0.0f32; SAMPLE_BLOCK * h];
        for k in 0..d {
            let (x, net) = perturbation(&host, dims, k);
            let g = f64::from(upstream[k]);
            let (_, weights) = bound_and_weights(&scores[k * 2 * s..][..2 * s], s);
            let slope = |i: usize| -> f32 {
                if i < s {
                    (g / s as f64) as f32
                } else {
                    (-g * weights[i - s]) as f32
                }
            };
            let dw1 = &mut dw1[k * f * h..][..f * h];
            let (db1, dw2) = (&mut db1[k * h..][..h], &mut dw2[k * h..][..h]);
            let mut total = 0.0f64;
            // Samples in blocks: each W1 gradient entry takes the block's terms in sample order
            // while it sits in a register, instead of one pass over W1 per sample.
            for (b, block) in x.chunks(SAMPLE_BLOCK * f).enumerate() {
                let count = block.len() / f;
                for (j, sample) in block.chunks_exact(f).enumerate() {
                    let dt = slope(b * SAMPLE_BLOCK + j);
                    total += f64::from(dt);
                    net.hidden(sample, &mut z);
                    let dz = &mut dz[j * h..(j + 1) * h];
                    for (((dz, dw2), &z), &w2) in
                        dz.iter_mut().zip(dw2.iter_mut()).zip(&z).zip(net.w2)
                    {
                        *dw2 += dt * z.max(0.0);
                        *dz = if z > 0.0 { dt * w2 } else { 0.0 };
                    }
                    axpy(1.0, dz, db1);
                }
                for (feature, row) in dw1.chunks_exact_mut(h).enumerate() {
                    if count == SAMPLE_BLOCK {
                        let xs: [f32; SAMPLE_BLOCK] =
                            std::array::from_fn(|j| block[j * f + feature]);
                        let blocks: [&[f32]; SAMPLE_BLOCK] =
                            std::array::from_fn(|j| &dz[j * h..(j + 1) * h]);
                        let [d0, d1, d2, d3] = blocks;
                        for ((((g, &a), &b), &c), &e) in
                            row.iter_mut().zip(d0).zip(d1).zip(d2).zip(d3)
                        {
                            *g = *g + xs[0] * a + xs[1] * b + xs[2] * c + xs[3] * e;
                        }
                    } else {
                        for j in 0..count {
                            axpy(block[j * f + feature], &dz[j * h..(j + 1) * h], row);
                        }
                    }
                }
            }
            db2[k] = total as f32;
        }
        let [pw1, pb1, pw2, pb2] = ops.parents;
        for (parent, values, shape) in [
            (pw1, dw1, [d, f, h]),
            (pb1, db1, [d, 1, h]),
            (pw2, dw2, [d, h, 1]),
            (pb2, db2, [d, 1, 1]),
        ] {
            if let Some(node) = parent {
                grads.register::<B>(node.id, upload::<B, 3>(values, shape, &device));
            }
        }
    }
}
