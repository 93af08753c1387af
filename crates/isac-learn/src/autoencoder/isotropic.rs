//! The isotropic AN of AE_FJ and of ISAC_FJ_PLUS's mix on the cubecl devices (cargo feature
//! `wgpu`): `V = P a`, `a = (sqrt(q zeta / D + f) - sqrt(f)) m` per row, from the steered FJ
//! candidate `c` (`zeta = |c|^2`), its share `q` (1 for AE_FJ, `1 - beta` for ISAC_FJ_PLUS),
//! the null-space projector `P` (`D = Nt - K`, `f = FLOOR / D`) and the sensing mask `m`. One
//! launch forward and one backward, where the composed path ([`super::mixed_jamming`]) runs
//! the power's reduction and the scalar chain forward and some twenty kernels backward.
//!
//! Backward, for the upstream `G` of `V`: `dL/da = sum_{n,m} Re(conj(G[n, m]) P[n, m])`, `u =
//! dL/da m / (2 D sqrt(q zeta / D + f))`; the candidate's gradient `2 q u c`, the share's
//! `u zeta`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use crate::ComplexTensor;
use crate::handover::{self, Slots};

mod kernels;

/// Everything but the tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Isotropic {
    /// `D = Nt - K`.
    pub(crate) null_dimension: usize,
    /// Whether there is a share `q` (else 1) and a sensing mask (else 1).
    pub(crate) share: bool,
    pub(crate) sense: bool,
}

/// The extension: `(Re V, Im V)` (`[BN, Nt, Nt]`) for the candidate `[BN, Nt, 1]`, the
/// projectors `[BN, Nt, Nt]`, the share and the mask `[BN, 1, 1]` (any tensor where `settings`
/// says there is none), real and imaginary parts.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait IsotropicJamming: Backend {
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |_cr, _ci, pr, _pi, _q, _m, _settings| (pr.clone(), pr.clone()))]
    fn isotropic_jamming(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        share: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The backward pass of [`IsotropicJamming`]: the gradients of the candidate (real and
/// imaginary parts) and of the share for the upstream gradients of `V` (`present[i]` whether
/// part `i` has one).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait IsotropicJammingGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |cr, ci, _pr, _pi, q, _m, _gr, _gi, _settings, _present| (
        cr.clone(), ci.clone(), q.clone()
    ))]
    fn isotropic_jamming_gradient(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        share: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        upstream_re: FloatTensor<Self>,
        upstream_im: FloatTensor<Self>,
        settings: Isotropic,
        present: [bool; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

// Training: the operation's node (parents: the candidate's parts and the share; the rest is
// data), then one node per part of `V` (`crate::handover`).
impl<B: IsotropicJamming + IsotropicJammingGradient, C: CheckpointStrategy> IsotropicJamming
    for Autodiff<B, C>
{
    fn isotropic_jamming(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        share: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [cr, ci, q] = [candidate_re, candidate_im, share].map(|t| t.into_parts());
        let [pr, pi, m] = [proj_re, proj_im, sense].map(|t| t.into_parts().0);
        let inputs = [cr.0, ci.0, pr, pi, q.0, m];
        let [a, b, c, d, e, f] = inputs.clone();
        let (vr, vi) = B::isotropic_jamming(a, b, c, d, e, f, settings);
        let slots = Slots::new();
        // The operation's own output is never read: a part of `V` stands in for it.
        let stand_in = vr.clone();
        let operation: FloatTensor<Self> = match IsotropicBackward
            .prepare::<C>([cr.1, ci.1, q.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((inputs, settings, slots.clone()), stand_in),
            OpsKind::UnTracked(prep) => prep.finish(stand_in),
        };
        let [vr, vi] = handover::outputs::<B, C, 2>(&operation, [vr, vi], &slots);
        (vr, vi)
    }
}

/// The backward step of the operation's node, after both parts' of `V`.
#[derive(Debug)]
struct IsotropicBackward;

impl<B: IsotropicJamming + IsotropicJammingGradient> Backward<B, 3> for IsotropicBackward {
    type State = ([FloatTensor<B>; 6], Isotropic, Slots<B, 2>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let ([cr, ci, pr, pi, q, m], settings, slots) = ops.state;
        let Some((present, [gr, gi])) = slots.gradients(&pr) else {
            return;
        };
        let (gcr, gci, gq) =
            B::isotropic_jamming_gradient(cr, ci, pr, pi, q, m, gr, gi, settings, present);
        for (parent, g) in ops.parents.into_iter().zip([gcr, gci, gq]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// `V = P a` for the candidate `candidate` (`[BN, Nt, 1]`), its share `share` and the mask
/// `sense` (`[BN, 1, 1]` each, `None` for 1), or `None` where the composed path must run (not a
/// cubecl device, or data that require gradients).
pub(super) fn isotropic_jamming(
    candidate: &ComplexTensor<3>,
    projectors: &ComplexTensor<3>,
    share: Option<&Tensor<3>>,
    sense: Option<&Tensor<3>>,
    null_dimension: usize,
) -> Option<ComplexTensor<3>> {
    let data_tracked = projectors.requires_grad() || sense.is_some_and(Tensor::is_require_grad);
    if data_tracked || !crate::cube::supports(&candidate.re.device()) {
        return None;
    }
    let settings = Isotropic {
        null_dimension,
        share: share.is_some(),
        sense: sense.is_some(),
    };
    // An absent share or mask is never read: the projectors (data, so no gradient) stand in.
    let stand_in = |t: Option<&Tensor<3>>| t.unwrap_or(&projectors.re).clone().into_dispatch();
    let (re, im) = <Dispatch as IsotropicJamming>::isotropic_jamming(
        candidate.re.clone().into_dispatch(),
        candidate.im.clone().into_dispatch(),
        projectors.re.clone().into_dispatch(),
        projectors.im.clone().into_dispatch(),
        stand_in(share),
        stand_in(sense),
        settings,
    );
    Some(ComplexTensor {
        re: Tensor::from_dispatch(re),
        im: Tensor::from_dispatch(im),
    })
}

#[cfg(test)]
mod tests {
    use super::super::isotropic_composed;
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex, tracked};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): `V` and
    /// the gradients of the candidate and the share, with and without a share (ISAC_FJ_PLUS,
    /// AE_FJ) and a mask, a masked row (zero candidate power) among them, and losses that read
    /// both parts of `V` or its real part only.
    #[test]
    fn the_wgpu_isotropic_jamming_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, nt, null) in [(5, 8, 6), (3, 4, 3)] {
                let candidate = random_complex([rows, nt, 1], 1, &device);
                let projectors = random_complex([rows, nt, nt], 2, &device);
                let weights = random_complex([rows, nt, nt], 3, &device);
                let share = random_complex([rows, 1, 1], 4, &device).re.abs();
                let mask = (0..rows).map(|r| f32::from(u8::from(r != 1))).collect();
                let mask = from_values(mask, [rows, 1, 1], &device).unwrap();
                for (with_share, with_mask, both) in [
                    (false, false, true),
                    (true, true, true),
                    (true, false, false),
                    (false, true, true),
                ] {
                    let run = |kernel: bool| {
                        let c = tracked(&candidate);
                        let q = share.clone().require_grad();
                        let q_used = with_share.then(|| q.clone());
                        let m = with_mask.then_some(&mask);
                        let v = if kernel {
                            isotropic_jamming(&c, &projectors, q_used.as_ref(), m, null)
                                .expect("a cubecl device runs the kernels")
                        } else {
                            isotropic_composed(&c, &projectors, q_used, m, null)
                        };
                        let mut loss = (v.re.clone() * weights.re.clone()).sum();
                        if both {
                            loss = loss + (v.im.clone() * weights.im.clone()).sum();
                        }
                        let grads = loss.backward();
                        let mut out = vec![
                            values(v.re.flatten::<1>(0, 2)).unwrap(),
                            values(v.im.flatten::<1>(0, 2)).unwrap(),
                            values(c.re.grad(&grads).unwrap().flatten::<1>(0, 2)).unwrap(),
                            values(c.im.grad(&grads).unwrap().flatten::<1>(0, 2)).unwrap(),
                        ];
                        if with_share {
                            let g = q.grad(&grads).unwrap();
                            out.push(values(g.flatten::<1>(0, 2)).unwrap());
                        }
                        out
                    };
                    let what = format!(
                        "{rows} rows, Nt = {nt}, share {with_share}, mask {with_mask}, both {both}"
                    );
                    assert_agree(&run(true), &run(false), &what);
                }
            }
        }
    }
}
