//! The total of loss eq. (40) on the cubecl devices (cargo feature `wgpu`): from the secrecy
//! operation's stacked rates `[BN, 2, K]` (users', then Eve's), the decoders' cross-entropies
//! `[BN, K]` and the CRLB hinge `[1]`, `-mean_n sum_k (R_k - R_E,k) + w_ce mean_{n,k} CE +
//! w_crlb hinge` as `[1]`. One launch forward (one cube summing in shared memory) and one
//! backward, where the composed path ([`super::total_composed`]) runs the rates' signed sum,
//! four reductions, the scalar products and the sum, and their backward passes (fills,
//! broadcasts and products): about 20 launches a step.
//!
//! Backward, for the upstream gradient `u`: `-u / BN` for every user rate, `u / BN` for every
//! one of Eve's, `u w_ce / (BN K)` for every cross-entropy and `u w_crlb` for the hinge.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

mod kernels;

/// The extension: the total (`[1]`) of the stacked rates `rates` (`[BN, 2, K]`), the
/// cross-entropies `losses` (`[BN, K]`) and the hinge `hinge` (`[1]`) with the weights
/// `ce_weight` and `crlb_weight`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait LossTotal: Backend {
    #[fusion(dtype = rates, shape = burn::tensor::Shape::new([1]))]
    fn loss_total(
        rates: FloatTensor<Self>,
        losses: FloatTensor<Self>,
        hinge: FloatTensor<Self>,
        ce_weight: f32,
        crlb_weight: f32,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`LossTotal`]: the gradients of `rates`, `losses` and `hinge` for the
/// upstream gradient `[1]`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait LossTotalGradient: Backend {
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |r, l, h, _g, _a, _b| (r.clone(), l.clone(), h.clone()))]
    fn loss_total_gradient(
        rates: FloatTensor<Self>,
        losses: FloatTensor<Self>,
        hinge: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        ce_weight: f32,
        crlb_weight: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

// Training: one autodiff node whose parents are the rates, the cross-entropies and the hinge.
impl<B: LossTotal + LossTotalGradient, C: CheckpointStrategy> LossTotal for Autodiff<B, C> {
    fn loss_total(
        rates: FloatTensor<Self>,
        losses: FloatTensor<Self>,
        hinge: FloatTensor<Self>,
        ce_weight: f32,
        crlb_weight: f32,
    ) -> FloatTensor<Self> {
        let [r, l, h] = [rates, losses, hinge].map(|t| t.into_parts());
        let inner = [r.0, l.0, h.0];
        let [a, b, c] = inner.clone();
        let out = B::loss_total(a, b, c, ce_weight, crlb_weight);
        match TotalBackward
            .prepare::<C>([r.1, l.1, h.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((inner, [ce_weight, crlb_weight]), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parents are the rates, the cross-entropies and the hinge.
#[derive(Debug)]
struct TotalBackward;

impl<B: LossTotal + LossTotalGradient> Backward<B, 3> for TotalBackward {
    type State = ([FloatTensor<B>; 3], [f32; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let ([r, l, h], [ce_weight, crlb_weight]) = ops.state;
        let (gr, gl, gh) = B::loss_total_gradient(r, l, h, upstream, ce_weight, crlb_weight);
        for (parent, g) in ops.parents.into_iter().zip([gr, gl, gh]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// The total of eq. (40) from the stacked rates `rates` (`[BN, 2, K]`), the cross-entropies
/// `losses` (`[BN, K]`, [`super::Decoders::losses`]: only on a cubecl device) and the CRLB
/// hinge, if the scheme senses.
pub(super) fn loss_total(
    rates: &Tensor<3>,
    losses: &Tensor<2>,
    hinge: Option<&Tensor<1>>,
    ce_weight: f64,
    crlb_weight: f64,
) -> Tensor<1> {
    let (hinge, crlb_weight) = match hinge {
        Some(h) => (h.clone(), crlb_weight),
        None => (Tensor::zeros([1], &losses.device()), 0.0),
    };
    Tensor::from_dispatch(<Dispatch as LossTotal>::loss_total(
        rates.clone().into_dispatch(),
        losses.clone().into_dispatch(),
        hinge.into_dispatch(),
        ce_weight as f32,
        crlb_weight as f32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complex::secrecy_gaps_of;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): the total
    /// and the gradients of its three parts, with and without the hinge, for a batch that fills
    /// the kernel's cube several times and one that does not fill it once.
    #[test]
    fn the_wgpu_loss_total_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, users, senses) in [(512, 2, true), (7, 3, false), (300, 1, true)] {
                let rates = random_complex([rows, 2, users], 1, &device).re;
                let losses = random_complex([rows, users, 1], 2, &device)
                    .re
                    .reshape([rows, users]);
                let hinge = random_complex([1, 1, 1], 3, &device).re.reshape([1]);
                let (ce_weight, crlb_weight) = (0.7, 3.0);
                let run = |kernel: bool| {
                    let r = rates.clone().require_grad();
                    let l = losses.clone().require_grad();
                    let h = hinge.clone().require_grad();
                    let hinge = senses.then(|| h.clone());
                    let total = if kernel {
                        loss_total(&r, &l, hinge.as_ref(), ce_weight, crlb_weight)
                    } else {
                        let secrecy = secrecy_gaps_of(r.clone()).sum_dim(1).mean();
                        super::super::total_composed(
                            secrecy,
                            l.clone().mean(),
                            hinge,
                            ce_weight,
                            crlb_weight,
                        )
                    };
                    let grads = total.clone().mul_scalar(1.5).backward();
                    let mut out = vec![
                        values(total).unwrap(),
                        values(r.grad(&grads).unwrap().reshape([rows * 2 * users])).unwrap(),
                        values(l.grad(&grads).unwrap().reshape([rows * users])).unwrap(),
                    ];
                    if senses {
                        out.push(values(h.grad(&grads).unwrap()).unwrap());
                    }
                    out
                };
                let what = format!("{rows} rows, K = {users}, hinge: {senses}");
                assert_agree(&run(true), &run(false), &what);
            }
        }
    }
}
