//! Eq. (27)'s frame scale on the cubecl devices (cargo feature `wgpu`): for the beams `F`
//! (`[BN, Nt, K]`) and the FJ column `c` (`[BN, Nt, 1]`) before the power budget, the factor
//! `s_b = sqrt(P_b / max(f_b, FLOOR))` of every row of sample `b`, where `f_b` is the mean over
//! its `N` rows of `|F_n|^2 + |c_n|^2`, as `[BN, 1, 1]`. One launch each way (one unit per row,
//! each summing its sample's rows), where the composed path ([`super::frame_scale_composed`])
//! runs the squares, three reductions per block, the mean, the division, the square root and
//! the repetition over the rows, and their backward passes (about 30 launches at N = 64).
//!
//! Backward, for the upstream gradients `g_n` of the rows: every entry `x` of sample `b` gets
//! `-(s_b / (N f_b)) (sum_n g_n) x` (real and imaginary parts alike), zero where the floor
//! binds.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::{Shape, Tensor};

use crate::ComplexTensor;

mod kernels;

/// The extension: the frame scale `[BN, 1, 1]` of the beams and the FJ column (real and
/// imaginary parts) for the budgets `budget` (`[B, 1]`), `subcarriers` rows per sample.
#[backend_extension(Cube, Fusion, Autodiff)]
pub(crate) trait FrameScale: Backend {
    #[fusion(dtype = beams_re, shape = Shape::new([beams_re[0], 1, 1]))]
    fn frame_scale(
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        column_re: FloatTensor<Self>,
        column_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        subcarriers: usize,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`FrameScale`]: the gradients of the four planes for the upstream
/// gradient `[BN, 1, 1]`.
#[backend_extension(Cube, Fusion)]
pub(crate) trait FrameScaleGradient: Backend {
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |fr, fi, cr, ci, _p, _g, _n| (fr.clone(), fi.clone(), cr.clone(), ci.clone()))]
    fn frame_scale_gradient(
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        column_re: FloatTensor<Self>,
        column_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        subcarriers: usize,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

// Training: one autodiff node whose parents are the four planes (the budgets are data).
impl<B: FrameScale + FrameScaleGradient, C: CheckpointStrategy> FrameScale for Autodiff<B, C> {
    fn frame_scale(
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        column_re: FloatTensor<Self>,
        column_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        subcarriers: usize,
    ) -> FloatTensor<Self> {
        let [fr, fi, cr, ci] = [beams_re, beams_im, column_re, column_im].map(|t| t.into_parts());
        let budget = budget.into_parts().0;
        let planes = [fr.0, fi.0, cr.0, ci.0];
        let [a, b, c, d] = planes.clone();
        let out = B::frame_scale(a, b, c, d, budget.clone(), subcarriers);
        match ScaleBackward
            .prepare::<C>([fr.1, fi.1, cr.1, ci.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((planes, budget, subcarriers), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parents are `[Re F, Im F, Re c, Im c]`.
#[derive(Debug)]
struct ScaleBackward;

impl<B: FrameScale + FrameScaleGradient> Backward<B, 4> for ScaleBackward {
    type State = ([FloatTensor<B>; 4], FloatTensor<B>, usize);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let ([fr, fi, cr, ci], budget, subcarriers) = ops.state;
        let (gfr, gfi, gcr, gci) =
            B::frame_scale_gradient(fr, fi, cr, ci, budget, upstream, subcarriers);
        for (parent, g) in ops.parents.into_iter().zip([gfr, gfi, gcr, gci]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// The frame scale `[BN, 1, 1]` of `beams` and the FJ column `column` for the budgets
/// `budget` (`[B, 1]`), or `None` where the composed path must run (not a cubecl device, or the
/// budgets require gradients).
pub(super) fn frame_scale(
    beams: &ComplexTensor<3>,
    column: &ComplexTensor<3>,
    budget: &Tensor<2>,
    subcarriers: usize,
) -> Option<Tensor<3>> {
    if budget.is_require_grad() || !crate::cube::supports(&budget.device()) {
        return None;
    }
    Some(Tensor::from_dispatch(
        <Dispatch as FrameScale>::frame_scale(
            beams.re.clone().into_dispatch(),
            beams.im.clone().into_dispatch(),
            column.re.clone().into_dispatch(),
            column.im.clone().into_dispatch(),
            budget.clone().into_dispatch(),
            subcarriers,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): the
    /// scale and the gradients of the four planes, for one and several rows per sample.
    #[test]
    fn the_wgpu_frame_scale_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (samples, subcarriers, k, nt) in [(4, 1, 2, 8), (3, 5, 1, 4)] {
                let rows = samples * subcarriers;
                let beams = random_complex([rows, nt, k], 1, &device);
                let column = random_complex([rows, nt, 1], 2, &device);
                let budget: Vec<f32> = (0..samples).map(|b| 0.5 + b as f32).collect();
                let budget = from_values(budget, [samples, 1], &device).unwrap();
                let weights = random_complex([rows, 1, 1], 3, &device).re;
                let run = |kernel: bool| {
                    let [fr, fi, cr, ci] = [&beams.re, &beams.im, &column.re, &column.im]
                        .map(|t| t.clone().require_grad());
                    let f = ComplexTensor {
                        re: fr.clone(),
                        im: fi.clone(),
                    };
                    let c = ComplexTensor {
                        re: cr.clone(),
                        im: ci.clone(),
                    };
                    let scale = if kernel {
                        frame_scale(&f, &c, &budget, subcarriers)
                            .expect("a cubecl device runs the kernels")
                    } else {
                        super::super::frame_scale_composed(&[&f, &c], &budget, subcarriers)
                    };
                    let grads = (scale.clone() * weights.clone()).sum().backward();
                    let grad = |t: &Tensor<3>| {
                        let n: usize = t.dims().iter().product();
                        t.grad(&grads).unwrap().reshape([n])
                    };
                    [
                        scale.reshape([rows]),
                        grad(&fr),
                        grad(&fi),
                        grad(&cr),
                        grad(&ci),
                    ]
                    .map(|t| values(t).unwrap())
                };
                let what = format!("{samples} x {subcarriers}, K = {k}, Nt = {nt}");
                let (kernel, composed) = (run(true), run(false));
                assert_agree(&kernel, &composed, &what);
            }
        }
    }
}
