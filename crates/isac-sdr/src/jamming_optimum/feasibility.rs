//! Phase one of [`JammingProblem::solve_constrained`]: does any jamming covariance of the
//! budget meet the sensing constraint at all? It is a question about the constraint alone, so
//! it is answered without Eve's draws.
//!
//! For weights `nu` and `1 - nu` (`0 <= nu <= 1`), every feasible `S` has `f_nu(S) = nu
//! CRLB_theta(S) / CRLB_0 + (1 - nu) CRLB_phi(S) / CRLB_0 <= 1`. `f_nu` is convex (each CRLB is
//! `e^T J^-1 e` of a FIM affine in `S`), so projected gradient over `{S PSD, tr S <= P_J}` gives
//! a lower bound on its minimum, its value minus its Frank–Wolfe gap: a bound above 1 proves
//! the constraint infeasible. The best weight maximises the concave `min_S f_nu(S)`, whose
//! slope at `nu` is `(CRLB_theta - CRLB_phi) / CRLB_0` at the minimiser (Danskin): bisection on
//! its sign. An iterate that meets both CRLBs proves the constraint feasible.

use faer::{Mat, c64};

use super::{CrlbConstraint, JammingProblem, OptimumSettings};
use crate::SdrError;

/// How far above 1 a lower bound of the normalised weighted CRLB must lie to prove
/// infeasibility: beyond the rounding of its evaluation.
const MARGIN: f64 = 1e-9;

/// Bisection steps on the weight `nu`.
const WEIGHT_STEPS: usize = 24;

/// What phase one proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Feasibility {
    /// An iterate met both CRLBs.
    Feasible,
    /// A weighted CRLB's lower bound exceeds `CRLB_0` on the whole feasible set.
    Infeasible,
    /// Neither within the steps (the constraint is feasible or infeasible by less than the gap
    /// tolerance).
    Undecided,
}

/// The outcome and the projected-gradient steps it took.
pub(super) struct Phase {
    pub(super) verdict: Feasibility,
    pub(super) iterations: usize,
}

impl JammingProblem {
    /// Phase one from `start` (a point of finite CRLBs, else the isotropic point is tried).
    pub(super) fn feasibility(
        &self,
        constraint: &CrlbConstraint,
        start: &Mat<c64>,
        settings: OptimumSettings,
    ) -> Result<Phase, SdrError> {
        let finite = |s: &Mat<c64>| constraint.crlbs(s).iter().all(|c| c.is_finite());
        let isotropic = self.isotropic();
        let mut s = if finite(start) {
            start.clone()
        } else if finite(&isotropic) {
            isotropic
        } else {
            return Ok(Phase {
                verdict: Feasibility::Undecided,
                iterations: 0,
            });
        };
        let bound = constraint.crlb_max();
        let (mut low, mut high) = (0.0f64, 1.0f64);
        let mut iterations = 0;
        for _ in 0..WEIGHT_STEPS {
            let nu = 0.5 * (low + high);
            let weights = [nu / bound, (1.0 - nu) / bound];
            let run = self.minimise(s, settings, &|x| {
                let (c, g) = constraint.crlbs_and_gradients(x);
                let value = weights[0] * c[0] + weights[1] * c[1];
                let gradient = &g[0] * faer::Scale(c64::new(weights[0], 0.0))
                    + &g[1] * faer::Scale(c64::new(weights[1], 0.0));
                Ok((value, gradient))
            })?;
            iterations += run.iterations;
            s = run.s;
            let c = constraint.crlbs(&s);
            let verdict = if constraint.met(c) {
                Feasibility::Feasible
            } else if (run.value - run.gap).is_finite() && run.value - run.gap > 1.0 + MARGIN {
                Feasibility::Infeasible
            } else {
                Feasibility::Undecided
            };
            if verdict != Feasibility::Undecided {
                return Ok(Phase {
                    verdict,
                    iterations,
                });
            }
            if c[0] > c[1] {
                low = nu;
            } else {
                high = nu;
            }
        }
        Ok(Phase {
            verdict: Feasibility::Undecided,
            iterations,
        })
    }
}
