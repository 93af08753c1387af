//! The null-space jamming of AE_FJ, ISAC_FJ_PLUS and DL_AN on the cubecl devices (cargo feature
//! `wgpu`), `V = P a` with the null-space projector `P` (`D = Nt - K`, `f = FLOOR / D`) and the
//! sensing mask `m`:
//! - AE_FJ, the isotropic AN of the steered FJ candidate `c` (`[BN, Nt, 1]`, `zeta = |c|^2`):
//!   `a = (sqrt(q zeta / D + f) - sqrt(f)) m`, `q = 1`;
//! - ISAC_FJ_PLUS, the whole mix `V = [sqrt(beta) c, P a]` with `q = 1 - beta`, `beta =
//!   sigmoid(s)` of the logit `s` in the last column of the encoder's output;
//! - DL_AN, the fixed share `rho` of each sample's budget `p` (`[B, 1]`): `a = sqrt(rho p / D)
//!   m` (data: no gradient).
//!
//! One launch forward and one backward, where the composed paths
//! ([`super::mixed_jamming_composed`], [`super::budget_jamming_composed`]) run a kernel per
//! tensor operation each way (the power's reduction and scalar chain, Burn's sigmoid, the
//! scalings, the concatenation).
//!
//! Backward, for the upstream `G` of `V` (`G_0` its steered column, `G_P` the rest): `dL/da =
//! sum_{n,m} Re(conj(G_P[n, m]) P[n, m])`, `u = dL/da m / (2 D sqrt(q zeta / D + f))`; the
//! candidate's gradient `2 q u c + sqrt(beta) G_0`; the logit's `dL/ds = g sqrt(beta) (1 -
//! beta) / 2 - u zeta beta (1 - beta)` with `g = sum_n Re(conj(G_0[n]) c[n])` (written so
//! that no `1 / sqrt(beta)` appears).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::{Shape, Tensor};

use crate::ComplexTensor;
use crate::handover::{self, Slots};

mod kernels;

/// Everything but the tensors and DL_AN's share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Isotropic {
    /// `D = Nt - K`.
    pub(crate) null_dimension: usize,
    /// Which scheme's jamming.
    pub(crate) power: Power,
    /// Whether there is a sensing mask (else 1).
    pub(crate) sense: bool,
}

/// Where the isotropic AN's power comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Power {
    /// AE_FJ: all of the candidate's.
    Candidate,
    /// ISAC_FJ_PLUS: the candidate's share `1 - beta`; `V` gains the steered column first.
    Mixed,
    /// DL_AN: the share `rho` of each sample's budget.
    Budget,
}

impl Isotropic {
    /// The shape of `V` for projectors of shape `projectors` (`[BN, Nt, Nt]`): `[BN, Nt, Nt +
    /// 1]` with the steered column of the mix, else that of the projectors.
    fn jamming_shape(self, projectors: &Shape) -> Shape {
        let [rows, nt] = [projectors[0], projectors[1]];
        Shape::new([rows, nt, nt + usize::from(self.power == Power::Mixed)])
    }
}

/// The extension: `(Re V, Im V)` ([`Isotropic::jamming_shape`]) for the candidate `[BN, Nt,
/// 1]`, the projectors `[BN, Nt, Nt]` (real and imaginary parts), the encoder's output `[BN, W]`
/// (DL_AN: the budgets `[B, 1]`), the mask `[BN, 1, 1]` (any tensor where `settings` says there
/// is none) and DL_AN's share `rho` (unused otherwise).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait IsotropicJamming: Backend {
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    #[fusion(meta = |_cr, _ci, pr, _pi, _e, _m, _rho, settings| {
        let shape = settings.jamming_shape(&pr.shape);
        let spec = TensorSpec::new(shape, pr.dtype);
        (spec.clone(), spec)
    })]
    fn isotropic_jamming(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        encoded: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        share: f32,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The backward pass of [`IsotropicJamming`]: the gradients of the candidate (real and
/// imaginary parts) and of the encoder's output (zero but in its last column) for the upstream
/// gradients of `V` (`present[i]` whether part `i` has one).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait IsotropicJammingGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |cr, ci, _pr, _pi, e, _m, _gr, _gi, _settings, _present| (
        cr.clone(), ci.clone(), e.clone()
    ))]
    fn isotropic_jamming_gradient(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        encoded: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        upstream_re: FloatTensor<Self>,
        upstream_im: FloatTensor<Self>,
        settings: Isotropic,
        present: [bool; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

// Training: the operation's node (parents: the candidate's parts and the encoder's output; the
// rest is data), then one node per part of `V` (`crate::handover`).
impl<B: IsotropicJamming + IsotropicJammingGradient, C: CheckpointStrategy> IsotropicJamming
    for Autodiff<B, C>
{
    fn isotropic_jamming(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        encoded: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        share: f32,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [cr, ci, out] = [candidate_re, candidate_im, encoded].map(|t| t.into_parts());
        let [pr, pi, m] = [proj_re, proj_im, sense].map(|t| t.into_parts().0);
        let inputs = [cr.0, ci.0, pr, pi, out.0, m];
        let [a, b, c, d, e, f] = inputs.clone();
        let (vr, vi) = B::isotropic_jamming(a, b, c, d, e, f, share, settings);
        let slots = Slots::new();
        // The operation's own output is never read: a part of `V` stands in for it.
        let stand_in = vr.clone();
        let operation: FloatTensor<Self> = match IsotropicBackward
            .prepare::<C>([cr.1, ci.1, out.1])
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
        let ([cr, ci, pr, pi, e, m], settings, slots) = ops.state;
        let Some((present, [gr, gi])) = slots.gradients(&pr) else {
            return;
        };
        let (gcr, gci, ge) =
            B::isotropic_jamming_gradient(cr, ci, pr, pi, e, m, gr, gi, settings, present);
        for (parent, g) in ops.parents.into_iter().zip([gcr, gci, ge]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// What the jamming's power comes from (see the module docs).
pub(super) enum Source<'a> {
    /// AE_FJ: the candidate `[BN, Nt, 1]`.
    Candidate(&'a ComplexTensor<3>),
    /// ISAC_FJ_PLUS: the candidate and the encoder's output (`[BN, W]`, the logit in its last
    /// column).
    Mixed(&'a ComplexTensor<3>, &'a Tensor<2>),
    /// DL_AN: the budgets `[B, 1]` and the share `rho` of them.
    Budget(&'a Tensor<2>, f64),
}

/// The jamming `V` of `source` with the mask `sense` (`[BN, 1, 1]`, `None` for 1), or `None`
/// where the composed path must run (not a cubecl device, or data that require gradients).
pub(super) fn null_space_jamming(
    source: Source<'_>,
    projectors: &ComplexTensor<3>,
    sense: Option<&Tensor<3>>,
    null_dimension: usize,
) -> Option<ComplexTensor<3>> {
    let budget_tracked = matches!(source, Source::Budget(p, _) if p.is_require_grad());
    let data_tracked = projectors.requires_grad() || sense.is_some_and(Tensor::is_require_grad);
    if budget_tracked || data_tracked || !crate::cube::supports(&projectors.re.device()) {
        return None;
    }
    // An absent input is never read: the projectors (data, so no gradient) stand in.
    let stand_in = || projectors.re.clone().into_dispatch();
    let complex = |c: &ComplexTensor<3>| [&c.re, &c.im].map(|t| t.clone().into_dispatch());
    let (power, [cr, ci], encoded, share) = match source {
        Source::Candidate(c) => (Power::Candidate, complex(c), stand_in(), 1.0),
        Source::Mixed(c, e) => (Power::Mixed, complex(c), e.clone().into_dispatch(), 1.0),
        Source::Budget(p, rho) => {
            let budget = p.clone().into_dispatch();
            (Power::Budget, [stand_in(), stand_in()], budget, rho as f32)
        }
    };
    let settings = Isotropic {
        null_dimension,
        power,
        sense: sense.is_some(),
    };
    let sense = sense.unwrap_or(&projectors.re).clone();
    let (re, im) = <Dispatch as IsotropicJamming>::isotropic_jamming(
        cr,
        ci,
        projectors.re.clone().into_dispatch(),
        projectors.im.clone().into_dispatch(),
        encoded,
        sense.into_dispatch(),
        share,
        settings,
    );
    Some(ComplexTensor {
        re: Tensor::from_dispatch(re),
        im: Tensor::from_dispatch(im),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{budget_jamming_composed, mixed_jamming_composed};
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex, tracked};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): `V` and
    /// the gradients of the candidate and the encoder's output, for the mix (ISAC_FJ_PLUS, its
    /// logits spread over +-3 and one at +-12) and the isotropic AN alone (AE_FJ), with and
    /// without a mask, a masked row (zero candidate power) among them, and losses that read
    /// both parts of `V` or its real part only.
    #[test]
    fn the_wgpu_isotropic_jamming_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, nt, null, width) in [(5, 8, 6, 4), (3, 4, 3, 1)] {
                let candidate = random_complex([rows, nt, 1], 1, &device);
                let projectors = random_complex([rows, nt, nt], 2, &device);
                let mut encoded = random_complex([rows, width, 1], 4, &device)
                    .re
                    .mul_scalar(3.0);
                let tail = Tensor::<3>::full([1, width, 1], 12.0, &device);
                encoded = encoded.slice_assign([0..1, 0..width, 0..1], tail);
                let encoded: Tensor<2> = encoded.squeeze_dim(2);
                let mask = (0..rows).map(|r| f32::from(u8::from(r != 1))).collect();
                let mask = from_values(mask, [rows, 1, 1], &device).unwrap();
                for (mixed, with_mask, both) in [
                    (false, false, true),
                    (true, true, true),
                    (true, false, false),
                    (false, true, true),
                ] {
                    let columns = nt + usize::from(mixed);
                    let weights = random_complex([rows, nt, columns], 3, &device);
                    let run = |kernel: bool| {
                        let c = tracked(&candidate);
                        let e = encoded.clone().require_grad();
                        let mixing = mixed.then(|| e.clone());
                        let m = with_mask.then_some(&mask);
                        let v = if kernel {
                            let source = match &mixing {
                                Some(e) => Source::Mixed(&c, e),
                                None => Source::Candidate(&c),
                            };
                            null_space_jamming(source, &projectors, m, null)
                                .expect("a cubecl device runs the kernels")
                        } else {
                            mixed_jamming_composed(&c, &projectors, mixing, m, null)
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
                        if mixed {
                            let g = e.grad(&grads).unwrap();
                            out.push(values(g.flatten::<1>(0, 1)).unwrap());
                        }
                        out
                    };
                    let what = format!(
                        "{rows} rows, Nt = {nt}, mixed {mixed}, mask {with_mask}, both {both}"
                    );
                    assert_agree(&run(true), &run(false), &what);
                }
            }
        }
    }

    /// DL_AN's AN: the kernel against the composed operations on the wgpu device, three samples
    /// of four rows each (each row reads its own sample's budget), with and without a mask.
    #[test]
    fn the_wgpu_budget_jamming_equals_the_composed_one() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            let (samples, subcarriers, nt, null, share) = (3, 4, 6, 4, 0.3);
            let rows = samples * subcarriers;
            let projectors = random_complex([rows, nt, nt], 2, &device);
            let budget = from_values(vec![0.5, 2.0, 7.0], [samples, 1], &device).unwrap();
            let mask = (0..rows).map(|r| f32::from(u8::from(r % 4 != 1))).collect();
            let mask = from_values(mask, [rows, 1, 1], &device).unwrap();
            for with_mask in [false, true] {
                let m = with_mask.then_some(&mask);
                let run = |v: ComplexTensor<3>| {
                    vec![
                        values(v.re.flatten::<1>(0, 2)).unwrap(),
                        values(v.im.flatten::<1>(0, 2)).unwrap(),
                    ]
                };
                let kernel =
                    null_space_jamming(Source::Budget(&budget, share), &projectors, m, null)
                        .expect("a cubecl device runs the kernels");
                let composed = budget_jamming_composed(&budget, &projectors, share, m, null);
                assert_agree(&run(kernel), &run(composed), &format!("mask {with_mask}"));
            }
        }
    }
}
