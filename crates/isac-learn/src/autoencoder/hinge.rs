//! The CRLB hinge of loss eq. (40) on the cubecl devices (cargo feature `wgpu`): from the angle
//! FIM's per-row entries `[BN, 3]` (`J_tt`, `J_pp`, `J_tp`, [`super::fisher`]) and each
//! sample's threshold `ln CRLB_0` (`[B, 1]`), the mean over the samples of `sum_w relu(ln
//! CRLB_w - ln CRLB_0)` for `w` in `{theta, phi}`, with each sample's FIM `J = c sum_n J_n`
//! over its `N` rows. One launch forward and one backward, where the composed path
//! ([`super::crlb_hinge_composed`]) slices the three entries (a copy forward, a fill and a
//! slice assignment backward each) and runs tens of small reductions and elementwise kernels.
//! The CPU devices keep the composed path.
//!
//! Both conventions, with the composed path's floors: `Paper`, `ln CRLB_t = -ln J_tt`;
//! `Joint`, `ln CRLB_t = ln J_pp - ln det J` and `ln CRLB_p = ln J_tt - ln det J`, `det J =
//! max(J_tt J_pp - J_tp^2, 1e-6 J_tt J_pp)`. The gradient of an entry of row `n` is the
//! upstream gradient times `c / B` times the derivative of its sample's hinge in `J`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;
use isac_channel::scenario::friendly_jamming::CrlbConvention;

mod kernels;

/// The extension: the mean CRLB hinge (`[1]`) of the FIM entries `fim` (`[BN, 3]`) of samples of
/// `subcarriers` rows each against the thresholds `log_max` (`[B, 1]`), the sample FIM being
/// `scale` times the sum of its rows; `joint` picks [`CrlbConvention::Joint`].
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait CrlbHinge: Backend {
    #[fusion(dtype = fim, shape = burn::tensor::Shape::new([1]))]
    fn crlb_hinge(
        fim: FloatTensor<Self>,
        log_max: FloatTensor<Self>,
        subcarriers: usize,
        scale: f32,
        joint: bool,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`CrlbHinge`]: the gradient of `fim` for the upstream gradient `[1]`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait CrlbHingeGradient: Backend {
    #[fusion(dtype = fim, shape = fim)]
    fn crlb_hinge_gradient(
        fim: FloatTensor<Self>,
        log_max: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        subcarriers: usize,
        scale: f32,
        joint: bool,
    ) -> FloatTensor<Self>;
}

/// Everything but the tensors.
#[derive(Debug, Clone, Copy)]
struct Settings {
    subcarriers: usize,
    scale: f32,
    joint: bool,
}

// Training: one autodiff node whose parent is the FIM entries (the thresholds are data).
impl<B: CrlbHinge + CrlbHingeGradient, C: CheckpointStrategy> CrlbHinge for Autodiff<B, C> {
    fn crlb_hinge(
        fim: FloatTensor<Self>,
        log_max: FloatTensor<Self>,
        subcarriers: usize,
        scale: f32,
        joint: bool,
    ) -> FloatTensor<Self> {
        let s = Settings {
            subcarriers,
            scale,
            joint,
        };
        let (fim, node) = fim.into_parts();
        let log_max = log_max.into_parts().0;
        let out = B::crlb_hinge(fim.clone(), log_max.clone(), subcarriers, scale, joint);
        match HingeBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((fim, log_max, s), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parent is the FIM entries.
#[derive(Debug)]
struct HingeBackward;

impl<B: CrlbHinge + CrlbHingeGradient> Backward<B, 1> for HingeBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, Settings);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let (fim, log_max, s) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            let g = B::crlb_hinge_gradient(fim, log_max, upstream, s.subcarriers, s.scale, s.joint);
            grads.register::<B>(node.id, g);
        }
    }
}

/// The mean CRLB hinge (`[1]`) from the FIM entries `fim` (`[BN, 3]`), or `None` where the
/// composed path must run (not a cubecl device, or the thresholds require gradients).
pub(super) fn crlb_hinge(
    fim: &Tensor<2>,
    log_max: &Tensor<2>,
    subcarriers: usize,
    scale: f64,
    convention: CrlbConvention,
) -> Option<Tensor<1>> {
    if log_max.is_require_grad() || !crate::cube::supports(&fim.device()) {
        return None;
    }
    Some(Tensor::from_dispatch(<Dispatch as CrlbHinge>::crlb_hinge(
        fim.clone().into_dispatch(),
        log_max.clone().into_dispatch(),
        subcarriers,
        scale as f32,
        convention == CrlbConvention::Joint,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe), with the
    /// gradient of the FIM entries, for both conventions, one and several rows per sample, a
    /// batch of more samples than the summing cube has units, and thresholds that leave some
    /// hinges active and some not.
    #[test]
    fn the_wgpu_crlb_hinge_equals_the_composed_one_with_gradient() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (samples, subcarriers) in [(6, 1), (3, 4), (300, 1)] {
                let rows = samples * subcarriers;
                // Positive diagonals, a cross term below them (Cauchy-Schwarz), one row nearly
                // singular so that the joint convention's relative floor binds there.
                let draws = random_complex([rows, 3, 1], 7, &device)
                    .re
                    .reshape([rows, 3]);
                let mut v = values(draws).unwrap();
                for r in 0..rows {
                    let (a, p) = (v[3 * r].abs() + 0.5, v[3 * r + 1].abs() + 0.5);
                    let t = if r == 1 {
                        (a * p).sqrt()
                    } else {
                        0.8 * v[3 * r + 2].tanh() * (a * p).sqrt()
                    };
                    v[3 * r..3 * r + 3].copy_from_slice(&[a, p, t]);
                }
                let fim = crate::tensor::from_values(v, [rows, 3], &device).unwrap();
                let thresholds: Vec<f32> =
                    (0..samples).map(|b| -2.0 + 0.7 * (b % 6) as f32).collect();
                let log_max =
                    crate::tensor::from_values(thresholds, [samples, 1], &device).unwrap();
                for convention in [CrlbConvention::Joint, CrlbConvention::Paper] {
                    let run = |kernel: bool| {
                        let f = fim.clone().require_grad();
                        let hinge = if kernel {
                            crlb_hinge(&f, &log_max, subcarriers, 0.3, convention)
                                .expect("a cubecl device runs the kernels")
                        } else {
                            let entries = [0, 1, 2].map(|i| f.clone().narrow(1, i, 1));
                            super::super::crlb_hinge_composed(
                                &entries,
                                &log_max,
                                subcarriers,
                                0.3,
                                convention,
                            )
                        };
                        let grads = hinge.clone().mul_scalar(1.7).backward();
                        [hinge, f.grad(&grads).unwrap().reshape([rows * 3])]
                            .map(|t| values(t).unwrap())
                    };
                    let what = format!("{samples} x {subcarriers} {convention:?}");
                    let (kernel, composed) = (run(true), run(false));
                    assert!(composed[0][0] > 0.1, "{what}: no hinge is active");
                    assert_agree(&kernel, &composed, &what);
                }
            }
        }
    }
}
