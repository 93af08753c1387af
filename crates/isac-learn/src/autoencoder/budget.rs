//! Eq. (27)'s power budget on the cubecl devices (cargo feature `wgpu`), applied to the
//! encoder's output before it becomes beams. The beams and the FJ candidate are linear in each
//! row's first `width = 2 (K + 1) Nt` entries of the encoder's output `e` ([`super::encoded`]),
//! so scaling them by the frame scale `s_b` scales the transmission: the operation returns `e`
//! with those entries of every row of sample `b` times `s_b = sqrt(P_b / max(f_b, FLOOR))`
//! (the rest, ISAC_FJ_PLUS's share, unchanged), `f_b` the mean over the sample's `N` rows of the
//! row power `p_n` of the beams and (where the budget covers it) the FJ column, each times its
//! allocation mask squared. One launch each way (one summing cube per sample), where scaling
//! the planes (the composed path: [`super::frame_scale_composed`] and the broadcast products)
//! takes a launch for the scale and one for the products forward, and about 20 backward: the
//! products' gradients, their reductions to the scale and the sums of the planes' two
//! gradients.
//!
//! Row power: ZF beams `f_k = z_k g_k` with `g_k = sum_m u_k[m] / sqrt(Nt)` give `|z_k|^2
//! |g_k|^2`, free beams `|u_k|^2`, the FJ column `|P c|^2`. Backward, for the upstream gradient
//! `G`: `s_b G` on the scaled entries and `G` on the rest, plus `-(s_b D_b / (2 N f_b)) dp_n / de`
//! on the scaled entries of row `n`, `D_b` the sum of `G e` over the sample's scaled entries
//! (zero where the floor binds): `dp / d(Re, Im) u_k[m] = 2 |z_k|^2 (Re, Im) g_k / sqrt(Nt)`
//! (ZF) or `2 (Re, Im) u_k[m]` (free), `dp / d(Re, Im) c = 2 (Re, Im) P^H P c`, times the masks
//! squared.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use super::AllocationMasks;
use crate::ComplexTensor;

mod kernels;

/// Everything but the tensors: the sizes and the compile-time choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Budget {
    /// `K`.
    pub(crate) users: usize,
    /// `Nt`.
    pub(crate) antennas: usize,
    /// `N`, rows per sample.
    pub(crate) subcarriers: usize,
    /// Whether the beams have the ZF structure (else the encoder's columns are the beams).
    pub(crate) zero_forcing: bool,
    /// Whether the budget covers the FJ column (not for DL_AN, whose AN has its own share).
    pub(crate) column: bool,
    /// Whether the beams and the FJ column have allocation masks.
    pub(crate) comm_mask: bool,
    pub(crate) sense_mask: bool,
}

/// The extension: the encoder's output `e` (`[BN, W]`) with its first `2 (K + 1) Nt` entries
/// per row scaled to the budgets `budget` (`[B, 1]`), for the unit ZF directions `[BN, Nt, K]`,
/// the projectors `[BN, Nt, Nt]` (real and imaginary parts) and the masks `[BN, 1, 1]` (any
/// tensor where `budget` says there is none).
#[backend_extension(Cube, Fusion, Autodiff)]
pub(crate) trait FrameBudget: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = encoded, shape = encoded)]
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
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`FrameBudget`]: the gradient of `encoded` for the upstream gradient
/// (shaped as `encoded`).
#[backend_extension(Cube, Fusion)]
pub(crate) trait FrameBudgetGradient: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = encoded, shape = encoded)]
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
    ) -> FloatTensor<Self>;
}

// Training: one autodiff node whose parent is the encoder's output (the rest is data).
impl<B: FrameBudget + FrameBudgetGradient, C: CheckpointStrategy> FrameBudget for Autodiff<B, C> {
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
        let (e, node) = encoded.into_parts();
        let data = [zf_re, zf_im, proj_re, proj_im, budget, comm, sense].map(|t| t.into_parts().0);
        let [zr, zi, pr, pi, p, c, s] = data.clone();
        let out = B::frame_budget(e.clone(), zr, zi, pr, pi, p, c, s, settings);
        match BudgetBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((e, data, settings), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parent is the encoder's output.
#[derive(Debug)]
struct BudgetBackward;

impl<B: FrameBudget + FrameBudgetGradient> Backward<B, 1> for BudgetBackward {
    type State = (FloatTensor<B>, [FloatTensor<B>; 7], Budget);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let (e, [zr, zi, pr, pi, p, c, s], settings) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            let g = B::frame_budget_gradient(e, zr, zi, pr, pi, p, c, s, upstream, settings);
            grads.register::<B>(node.id, g);
        }
    }
}

/// The encoder's output `encoded` with each sample's transmission scaled to `budget` (`[B,
/// 1]`), the FJ column included where `column`, or `None` where the composed path must run
/// (not a cubecl device, or data that require gradients).
#[allow(clippy::too_many_arguments)]
pub(super) fn budgeted(
    encoded: &Tensor<2>,
    zero_forcing: Option<&ComplexTensor<3>>,
    projectors: &ComplexTensor<3>,
    masks: &AllocationMasks,
    budget: &Tensor<2>,
    column: bool,
    subcarriers: usize,
    users: usize,
) -> Option<Tensor<2>> {
    let masks_tracked = [&masks.comm, &masks.sense]
        .iter()
        .any(|m| m.as_ref().is_some_and(Tensor::is_require_grad));
    let data_tracked = budget.is_require_grad()
        || masks_tracked
        || projectors.requires_grad()
        || zero_forcing.is_some_and(|z| z.requires_grad());
    if data_tracked || !crate::cube::supports(&encoded.device()) {
        return None;
    }
    let settings = Budget {
        users,
        antennas: projectors.re.dims()[1],
        subcarriers,
        zero_forcing: zero_forcing.is_some(),
        column,
        comm_mask: masks.comm.is_some(),
        sense_mask: masks.sense.is_some(),
    };
    // The free structure never reads the ZF directions, nor an absent mask: stand-ins.
    let zf = zero_forcing.unwrap_or(projectors);
    let mask = |m: &Option<Tensor<3>>| m.clone().unwrap_or_else(|| budget.clone().unsqueeze());
    Some(Tensor::from_dispatch(
        <Dispatch as FrameBudget>::frame_budget(
            encoded.clone().into_dispatch(),
            zf.re.clone().into_dispatch(),
            zf.im.clone().into_dispatch(),
            projectors.re.clone().into_dispatch(),
            projectors.im.clone().into_dispatch(),
            budget.clone().into_dispatch(),
            mask(&masks.comm).into_dispatch(),
            mask(&masks.sense).into_dispatch(),
            settings,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{budgeted_planes_composed, encoded_planes_composed};
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): the
    /// budgeted beams and FJ column from the scaled encoder output against the composed planes
    /// scaled by eq. (27), and the gradient of the encoder's output, for the ZF and the free
    /// structure, samples of one to 300 rows, with and without the FJ column in the budget,
    /// with and without allocation masks, and an output with one more entry (ISAC_FJ_PLUS's
    /// share).
    #[test]
    fn the_wgpu_frame_budget_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            // Samples of fewer entries than a summing cube has units, of more entries, and of more
            // rows.
            let sizes = [
                (4, 1, 2, 8, 1),
                (3, 5, 1, 4, 0),
                (2, 20, 2, 8, 1),
                (2, 300, 1, 2, 1),
            ];
            for (samples, subcarriers, k, nt, extra) in sizes {
                let rows = samples * subcarriers;
                let width = 2 * (k + 1) * nt;
                let encoded = random_complex([rows, width + extra, 1], 1, &device)
                    .re
                    .reshape([rows, width + extra]);
                let zf = random_complex([rows, nt, k], 2, &device);
                let projectors = random_complex([rows, nt, nt], 3, &device);
                let weights = [4, 5].map(|seed| random_complex([rows, nt, k + 1], seed, &device));
                let budget: Vec<f32> = (0..samples).map(|b| 0.5 + b as f32).collect();
                let budget = from_values(budget, [samples, 1], &device).unwrap();
                let mask = |offset: usize| {
                    let v = (0..rows).map(|r| f32::from(u8::from(!(r + offset).is_multiple_of(3))));
                    from_values(v.collect(), [rows, 1, 1], &device).unwrap()
                };
                let masked = AllocationMasks {
                    comm: Some(mask(0)),
                    sense: Some(mask(1)),
                };
                let open = AllocationMasks {
                    comm: None,
                    sense: None,
                };
                for (zero_forcing, masks, column) in [
                    (Some(&zf), &open, true),
                    (None, &open, true),
                    (Some(&zf), &masked, true),
                    (Some(&zf), &open, false),
                    (None, &masked, false),
                ] {
                    let run = |kernel: bool| {
                        let e = encoded.clone().require_grad();
                        let (f, c) = if kernel {
                            let scaled = budgeted(
                                &e,
                                zero_forcing,
                                &projectors,
                                masks,
                                &budget,
                                column,
                                subcarriers,
                                k,
                            )
                            .expect("a cubecl device runs the kernels");
                            let (f, c) = encoded_planes_composed(
                                &scaled,
                                width,
                                zero_forcing,
                                &projectors,
                                k,
                                nt,
                            );
                            masks.apply(f, c)
                        } else {
                            let planes = encoded_planes_composed(
                                &e,
                                width,
                                zero_forcing,
                                &projectors,
                                k,
                                nt,
                            );
                            let (f, c) = masks.apply(planes.0, planes.1);
                            budgeted_planes_composed(f, c, &budget, column, subcarriers)
                        };
                        // Without the column in the budget only the beams are compared.
                        let c = if column { c } else { c.scale_by(0.0) };
                        let x = ComplexTensor::cat_columns(&[f, c]);
                        let loss = (x.re.clone() * weights[0].re.clone()).sum()
                            + (x.im.clone() * weights[1].im.clone()).sum();
                        let grads = loss.backward();
                        [
                            x.re.reshape([rows * nt * (k + 1)]),
                            x.im.reshape([rows * nt * (k + 1)]),
                            e.grad(&grads).unwrap().reshape([rows * (width + extra)]),
                        ]
                        .map(|t| values(t).unwrap())
                    };
                    let what = format!(
                        "{samples} x {subcarriers}, K = {k}, Nt = {nt}, ZF {}, masks {}, \
                         column {column}",
                        zero_forcing.is_some(),
                        masks.comm.is_some(),
                    );
                    assert_agree(&run(true), &run(false), &what);
                }
            }
        }
    }
}
