//! Eq. (27)'s power budget and the transmission's first step as one operation (host loops on the
//! CPU devices, `budget/host.rs`; kernels on the cubecl devices, cargo feature `wgpu`,
//! `budget/kernels.rs`): from the encoder's output `e` (`[BN, W]`, its first `width = 2 (K + 1) Nt`
//! entries `[Re, Im] x [u_1 .. u_K, c] x Nt`) to the four real planes of the budgeted beams
//! (`[BN, Nt, K]`; ZF structure: `f_k = z_k g_k`, `g_k = sum_m u_k[m] / sqrt(Nt)`; free: `f_k =
//! u_k`) and of the FJ candidate `P c` (`[BN, Nt, 1]`, `P` the null-space projector), each
//! sample's scaled by `s_b = sqrt(P_b / max(f_b, FLOOR))` (the candidate only where the budget
//! covers it), `f_b` the mean over the sample's `N` rows of the row power `p_n` of the beams and
//! (where the budget covers it) the FJ column, each times its allocation mask squared. On a GPU, one
//! launch each way, one summing cube per sample, where the composed path
//! ([`super::encoded_planes_composed`], [`super::budgeted_planes_composed`]) slices the output,
//! reduces the gains, runs the complex products, the frame scale and the broadcast products,
//! and their backward passes (tens of launches), and where one operation per plane took nine
//! launches forward and backward with Burn's sums of the planes' gradients (`budget` and
//! `encoded.rs` before).
//!
//! Row power: ZF beams give `|z_k|^2 |g_k|^2`, free beams `|u_k|^2`, the FJ column `|P c|^2`.
//! Backward, for the planes' upstream gradients `G` (an unused plane has none): first the
//! gradient `G'` of the scaled output `e' = s_b e` (a beam plane gives `u_k`'s entries `sum_n
//! G[n, k] (a Re z_k[n] + b Im z_k[n]) / sqrt(Nt)` (ZF) or `G` itself (free); a candidate plane
//! gives `c[m]`'s entries `sum_n G[n] (a Re P[n, m] + b Im P[n, m])`, with `(a, b) = (1, 0)` for
//! a real part of a real plane or an imaginary part of an imaginary plane, `(0, -1)` for an
//! imaginary part of a real plane and `(0, 1)` for a real part of an imaginary plane), then the
//! budget's: `s_b G'` on the scaled entries and `G'` on the rest, plus `-(s_b D_b / (2 N f_b))
//! dp_n / de` on the scaled entries of row `n`, `D_b` the sum of `G' e` over the sample's scaled
//! entries (zero where the floor binds): `dp / d(Re, Im) u_k[m] = 2 |z_k|^2 (Re, Im) g_k /
//! sqrt(Nt)` (ZF) or `2 (Re, Im) u_k[m]` (free), `dp / d(Re, Im) c = 2 (Re, Im) P^H P c`, times
//! the masks squared.
//!
//! One autodiff node per plane hands its gradient to the operation's node, whose step runs the
//! one gradient operation (`crate::handover`).

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::{Shape, Tensor};

use super::AllocationMasks;
use crate::ComplexTensor;
use crate::handover::{self, Slots};

mod host;
#[cfg(feature = "wgpu")]
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

/// The four planes' shapes for an encoder output of `rows` rows: `Re f`, `Im f` (`[BN, Nt, K]`),
/// `Re P c`, `Im P c` (`[BN, Nt, 1]`).
fn plane_shapes(rows: usize, settings: &Budget) -> [Shape; 4] {
    let (k, nt) = (settings.users, settings.antennas);
    [k, k, 1, 1].map(|cols| Shape::new([rows, nt, cols]))
}

/// The extension: the four planes of the budgeted beams and FJ candidate from the encoder's
/// output `e` (`[BN, W]`), for the unit ZF directions `[BN, Nt, K]`, the projectors `[BN, Nt,
/// Nt]` (real and imaginary parts), the budgets `[B, 1]` and the masks `[BN, 1, 1]` (any tensor
/// where `settings` says there is none).
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion"),
    Autodiff
)]
pub(crate) trait BudgetedPlanes: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |e, _zr, _zi, _pr, _pi, _p, _c, _s, settings| {
        let [a, b, c, d] =
            plane_shapes(e.shape[0], settings).map(|shape| TensorSpec::new(shape, e.dtype));
        (a, b, c, d)
    })]
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
    );
}

/// The backward pass of [`BudgetedPlanes`]: the gradient of `encoded` for the planes' upstream
/// gradients `upstream` (`present[i]` whether plane `i` has one; any tensor where it has none).
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion")
)]
pub(crate) trait BudgetedPlanesGradient: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = encoded, shape = encoded)]
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
    ) -> FloatTensor<Self>;
}

// Training: the operation's node (parent: the encoder's output; the rest is data), then one node
// per plane (`crate::handover`).
impl<B: BudgetedPlanes + BudgetedPlanesGradient, C: CheckpointStrategy> BudgetedPlanes
    for Autodiff<B, C>
{
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
        let (e, node) = encoded.into_parts();
        let data = [zf_re, zf_im, proj_re, proj_im, budget, comm, sense].map(|t| t.into_parts().0);
        let [zr, zi, pr, pi, p, c, s] = data.clone();
        let (fr, fi, cr, ci) = B::budgeted_planes(e.clone(), zr, zi, pr, pi, p, c, s, settings);
        let slots = Slots::new();
        // The operation's own output is never read: a plane stands in for it.
        let stand_in = fr.clone();
        let operation: FloatTensor<Self> = match PlanesBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((e, data, settings, slots.clone()), stand_in),
            OpsKind::UnTracked(prep) => prep.finish(stand_in),
        };
        let [a, b, c, d] = handover::outputs::<B, C, 4>(&operation, [fr, fi, cr, ci], &slots);
        (a, b, c, d)
    }
}

/// The backward step of the operation's node, after every plane's: the gradient of the
/// encoder's output from the gradients the planes handed over.
#[derive(Debug)]
struct PlanesBackward;

impl<B: BudgetedPlanes + BudgetedPlanesGradient> Backward<B, 1> for PlanesBackward {
    type State = (FloatTensor<B>, [FloatTensor<B>; 7], Budget, Slots<B, 4>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (e, [zr, zi, pr, pi, p, c, s], settings, slots) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent
            && let Some((present, [g0, g1, g2, g3])) = slots.gradients(&e)
        {
            let g = B::budgeted_planes_gradient(
                e, zr, zi, pr, pi, p, c, s, g0, g1, g2, g3, settings, present,
            );
            grads.register::<B>(node.id, g);
        }
    }
}

/// The budgeted beams and FJ candidate (masked by [`AllocationMasks::apply`] after) from the
/// encoder's output `encoded`, each sample's transmission scaled to `budget` (`[B, 1]`), the FJ
/// column in the budget where `column`; `None` where the composed path must run (a device that
/// runs neither host loops nor cubecl kernels, or data that require gradients).
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
) -> Option<(ComplexTensor<3>, ComplexTensor<3>)> {
    let masks_tracked = [&masks.comm, &masks.sense]
        .iter()
        .any(|m| m.as_ref().is_some_and(Tensor::is_require_grad));
    let data_tracked = budget.is_require_grad()
        || masks_tracked
        || projectors.requires_grad()
        || zero_forcing.is_some_and(|z| z.requires_grad());
    let device = encoded.device();
    if data_tracked || !(crate::cube::supports(&device) || crate::host::supports(&device)) {
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
    let (beams_re, beams_im, column_re, column_im) = <Dispatch as BudgetedPlanes>::budgeted_planes(
        encoded.clone().into_dispatch(),
        zf.re.clone().into_dispatch(),
        zf.im.clone().into_dispatch(),
        projectors.re.clone().into_dispatch(),
        projectors.im.clone().into_dispatch(),
        budget.clone().into_dispatch(),
        mask(&masks.comm).into_dispatch(),
        mask(&masks.sense).into_dispatch(),
        settings,
    );
    Some((
        ComplexTensor {
            re: Tensor::from_dispatch(beams_re),
            im: Tensor::from_dispatch(beams_im),
        },
        ComplexTensor {
            re: Tensor::from_dispatch(column_re),
            im: Tensor::from_dispatch(column_im),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{budgeted_planes_composed, encoded_planes_composed};
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The operation against the composed one on every CPU device and the wgpu device (CI:
    /// lavapipe): the four planes of the budgeted beams and FJ candidate and the gradient of the
    /// encoder's output, for the ZF and the free structure, samples of one to 300 rows, with and without the FJ
    /// column in the budget, with and without allocation masks, an output with one more entry
    /// (ISAC_FJ_PLUS's share), and a loss that reads all four planes, the beams only (DL_AN) or
    /// the real planes only (a plane without a gradient).
    #[test]
    fn the_budgeted_planes_equal_the_composed_ones_with_gradients_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            // Samples of fewer entries than a summing cube has units, of more entries, and of more
            // rows; and more antennas than the host loops' partial sums have lanes.
            let sizes = [
                (4, 1, 2, 8, 1),
                (3, 5, 1, 4, 0),
                (2, 20, 2, 8, 1),
                (2, 300, 1, 2, 1),
                (2, 3, 2, 20, 1),
            ];
            for (samples, subcarriers, k, nt, extra) in sizes {
                let rows = samples * subcarriers;
                let width = 2 * (k + 1) * nt;
                let encoded = random_complex([rows, width + extra, 1], 1, &device)
                    .re
                    .reshape([rows, width + extra]);
                let zf = random_complex([rows, nt, k], 2, &device);
                let projectors = random_complex([rows, nt, nt], 3, &device);
                let weights = [
                    random_complex([rows, nt, k], 4, &device),
                    random_complex([rows, nt, 1], 5, &device),
                ];
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
                let all = [true; 4];
                let beams_only = [true, true, false, false];
                let real_only = [true, false, true, false];
                for (zero_forcing, masks, column, used) in [
                    (Some(&zf), &open, true, all),
                    (None, &open, true, all),
                    (Some(&zf), &masked, true, all),
                    (Some(&zf), &open, false, beams_only),
                    (None, &masked, false, beams_only),
                    (Some(&zf), &open, true, real_only),
                    (None, &open, false, real_only),
                ] {
                    let run = |kernel: bool| {
                        let e = encoded.clone().require_grad();
                        let (f, c) = if kernel {
                            let (f, c) = budgeted(
                                &e,
                                zero_forcing,
                                &projectors,
                                masks,
                                &budget,
                                column,
                                subcarriers,
                                k,
                            )
                            .expect("every kernel device runs the operation");
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
                        let planes = [f.re, f.im, c.re, c.im];
                        let weights = [
                            &weights[0].re,
                            &weights[0].im,
                            &weights[1].re,
                            &weights[1].im,
                        ];
                        let mut loss = Tensor::<1>::zeros([1], &device);
                        let mut out = Vec::new();
                        for ((plane, w), used) in planes.into_iter().zip(weights).zip(used) {
                            if used {
                                loss = loss + (plane.clone() * w.clone()).sum();
                                out.push(values(plane.flatten::<1>(0, 2)).unwrap());
                            }
                        }
                        let grads = loss.backward();
                        let gradient = e.grad(&grads).unwrap();
                        out.push(values(gradient.reshape([rows * (width + extra)])).unwrap());
                        out
                    };
                    let what = format!(
                        "{samples} x {subcarriers}, K = {k}, Nt = {nt}, ZF {}, masks {}, \
                         column {column}, planes {used:?}",
                        zero_forcing.is_some(),
                        masks.comm.is_some(),
                    );
                    assert_agree(&run(true), &run(false), &what);
                }
            }
        }
    }
}
