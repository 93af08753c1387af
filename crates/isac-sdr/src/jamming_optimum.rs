//! The best null-space jamming covariance of paper 003 for a known distribution of Eve's
//! channel, with a certificate of optimality.
//!
//! With the user beams `f_k` fixed, Eve's sample-average leakage over D draws of her channel
//! `H_d` (eq. 28's log-det, her optimal receiver; the other users' streams are not her
//! interference),
//! `L(Q) = 1/D sum_d sum_k ln(1 + g_dk^H A_d(Q)^-1 g_dk)`, `g_dk = H_d^H f_k`,
//! `A_d(Q) = sigma^2 I + H_d^H Q H_d`,
//! is convex in `Q`: `ln det(A + g g^H) - ln det A` is convex in the noise covariance `A`, and
//! `A_d` is affine in `Q`. With `Q = B S B^H` (`B` an orthonormal basis of the users' null
//! space) over `{S PSD, tr S <= P_J}`, projected gradient (the projection clips the
//! eigenvalues onto a simplex) gives a feasible `S`, and the Frank–Wolfe gap
//! `<grad L(S), S - S_lmo>` is an upper bound on `L(S) - L*`: the certificate.
//!
//! The gradient is `-1/D sum_dk w w^H / (1 + q)`, `w = B^H H_d A^-1 g_dk`, `q = g^H A^-1 g`
//! (Sherman–Morrison), negative semidefinite: more jamming never helps Eve, so the optimum
//! spends the whole budget and the linear-minimisation oracle is `P_J u u^H` with `u` the
//! eigenvector of the gradient's smallest eigenvalue.
//!
//! No sensing constraint is imposed here: adding `Q` to the beams' covariance only adds Fisher
//! information, so whenever the beams alone meet a CRLB threshold, every `Q` does (the
//! caller checks that).

use faer::{Col, Mat, MatRef, Side, c64};
use isac_bounds::null_space_projector;

use crate::SdrError;

/// Solver settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimumSettings {
    /// Stop once the gap is at most this (nats).
    pub gap_tolerance: f64,
    /// Stop after this many projected-gradient steps.
    pub max_iterations: usize,
}

impl Default for OptimumSettings {
    fn default() -> Self {
        Self {
            gap_tolerance: 1e-4,
            max_iterations: 2000,
        }
    }
}

/// How the solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimumStatus {
    /// The gap met its tolerance.
    Optimal,
    /// The iteration cap came first (the gap still bounds the distance to the optimum).
    IterationLimit,
}

/// The solution and its certificate.
#[derive(Debug, Clone)]
pub struct JammingOptimum {
    /// How the solve ended.
    pub status: OptimumStatus,
    /// `Q = B S B^H`, Nt x Nt.
    pub covariance: Mat<c64>,
    /// `L(Q)` on the problem's draws, nats.
    pub leakage: f64,
    /// The Frank–Wolfe gap at `Q`: `L(Q) - L* <= gap`.
    pub gap: f64,
    /// Projected-gradient steps taken.
    pub iterations: usize,
}

/// One draw's data in the null-space coordinates.
struct Draw {
    /// `E = B^H H_d`, m x Ne.
    e: Mat<c64>,
    /// `g_k = H_d^H f_k`, Ne each.
    g: Vec<Col<c64>>,
}

/// The problem: fixed beams, Eve's draws, the null space of the users' channel, the budget.
pub struct JammingProblem {
    basis: Mat<c64>,
    draws: Vec<Draw>,
    noise: f64,
    power: f64,
}

fn hermitian_part(m: &Mat<c64>) -> Mat<c64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        (m[(i, j)] + m[(j, i)].conj()) * c64::new(0.5, 0.0)
    })
}

/// The eigendecomposition of a Hermitian matrix (ascending eigenvalues), as an error naming
/// `what` if it fails.
fn eigen(
    m: MatRef<'_, c64>,
    what: &'static str,
) -> Result<faer::linalg::solvers::SelfAdjointEigen<c64>, SdrError> {
    m.self_adjoint_eigen(Side::Lower)
        .map_err(|e| SdrError::InvalidParameter {
            name: what,
            value: format!("{e:?}"),
            requirement: "must have an eigendecomposition",
        })
}

/// `Re tr(X^H Y)`.
fn inner(x: &Mat<c64>, y: &Mat<c64>) -> f64 {
    let mut s = 0.0;
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            s += (x[(i, j)].conj() * y[(i, j)]).re;
        }
    }
    s
}

impl JammingProblem {
    /// `users` is K x Nt (row k is `h_k^H`), `beams` the K user beams (power included),
    /// `eve` the D draws of Eve's Nt x Ne channel, `noise` her noise power, `power` the
    /// jamming budget `P_J`.
    pub fn new(
        users: MatRef<'_, c64>,
        beams: &[Col<c64>],
        eve: &[Mat<c64>],
        noise: f64,
        power: f64,
    ) -> Result<Self, SdrError> {
        let invalid = |name, value: String, requirement| SdrError::InvalidParameter {
            name,
            value,
            requirement,
        };
        if !(noise.is_finite() && noise > 0.0) {
            return Err(invalid(
                "noise",
                noise.to_string(),
                "must be finite and > 0",
            ));
        }
        if !(power.is_finite() && power > 0.0) {
            return Err(invalid(
                "power",
                power.to_string(),
                "must be finite and > 0",
            ));
        }
        let nt = users.ncols();
        if eve.is_empty() || eve.iter().any(|h| h.nrows() != nt || h.ncols() == 0) {
            return Err(invalid(
                "eve",
                format!("{} draws", eve.len()),
                "needs at least one draw, each Nt x Ne with Ne >= 1",
            ));
        }
        if beams.iter().any(|f| f.nrows() != nt) {
            return Err(invalid(
                "beams",
                format!("{}", beams.len()),
                "must have Nt entries",
            ));
        }
        let p = null_space_projector(users)?;
        let evd = eigen(p.as_ref(), "users")?;
        let keep: Vec<usize> = (0..nt).filter(|&i| evd.S()[i].re > 0.5).collect();
        if keep.is_empty() {
            return Err(invalid(
                "users",
                format!("{} x {nt}", users.nrows()),
                "must leave a non-empty null space",
            ));
        }
        let basis = Mat::from_fn(nt, keep.len(), |i, j| evd.U()[(i, keep[j])]);
        let draws = eve
            .iter()
            .map(|h| Draw {
                e: basis.adjoint() * h,
                g: beams.iter().map(|f| h.adjoint() * f).collect(),
            })
            .collect();
        Ok(Self {
            basis,
            draws,
            noise,
            power,
        })
    }

    /// `m`, the dimension of the null space.
    pub fn dimension(&self) -> usize {
        self.basis.ncols()
    }

    /// The orthonormal basis `B` (Nt x m) of the users' null space.
    pub fn basis(&self) -> MatRef<'_, c64> {
        self.basis.as_ref()
    }

    /// `Q = B S B^H`.
    pub fn covariance(&self, s: &Mat<c64>) -> Mat<c64> {
        &self.basis * s * self.basis.adjoint()
    }

    /// `L` at `Q = B S B^H` and, if `gradient`, its gradient in `S` (m x m Hermitian).
    fn evaluate(&self, s: &Mat<c64>, gradient: bool) -> (f64, Option<Mat<c64>>) {
        let m = self.dimension();
        let mut value = 0.0;
        let mut grad = gradient.then(|| Mat::<c64>::zeros(m, m));
        for d in &self.draws {
            // A_d = sigma^2 I + E^H S E.
            let mut a = d.e.adjoint() * s * &d.e;
            for i in 0..a.nrows() {
                a[(i, i)] += c64::new(self.noise, 0.0);
            }
            let lu = hermitian_part(&a).partial_piv_lu();
            for g in &d.g {
                let x = faer::linalg::solvers::Solve::solve(&lu, g.as_mat());
                let q: f64 = (0..g.nrows()).map(|i| (g[i].conj() * x[(i, 0)]).re).sum();
                value += (1.0 + q).ln();
                if let Some(grad) = grad.as_mut() {
                    let w = &d.e * &x;
                    *grad -= (&w * w.adjoint()) * faer::Scale(c64::new(1.0 / (1.0 + q), 0.0));
                }
            }
        }
        let n = self.draws.len() as f64;
        (
            value / n,
            grad.map(|g| hermitian_part(&(g * faer::Scale(c64::new(1.0 / n, 0.0))))),
        )
    }

    /// Eve's mean leakage `L(Q)` at `Q = B S B^H`, nats.
    pub fn leakage(&self, s: &Mat<c64>) -> f64 {
        self.evaluate(s, false).0
    }

    /// `L` and its gradient in `S` (`Re tr(G^H dS)` is the first-order change).
    pub fn leakage_and_gradient(&self, s: &Mat<c64>) -> (f64, Mat<c64>) {
        let (value, grad) = self.evaluate(s, true);
        (value, grad.unwrap_or_else(|| Mat::zeros(0, 0)))
    }

    /// Isotropic jamming of the whole budget in the null space, `S = P_J / m I`.
    pub fn isotropic(&self) -> Mat<c64> {
        let m = self.dimension();
        Mat::from_fn(m, m, |i, j| {
            c64::new(if i == j { self.power / m as f64 } else { 0.0 }, 0.0)
        })
    }

    /// The Frank–Wolfe gap at `S`: `<G, S> - min over the feasible set of <G, V>`, where the
    /// minimum is `P_J lambda` at `V = P_J u u^H` for the gradient's smallest eigenvalue
    /// `lambda` (0 at `V = 0` if `lambda >= 0`). By convexity `L(S) - L* <= gap`.
    fn gap(&self, grad: &Mat<c64>, s: &Mat<c64>) -> Result<f64, SdrError> {
        let lambda = eigen(grad.as_ref(), "gradient")?.S()[0].re.min(0.0);
        Ok((inner(grad, s) - self.power * lambda).max(0.0))
    }

    /// The Euclidean projection of a Hermitian matrix onto `{S PSD, tr S <= P_J}`: its
    /// eigenvalues projected onto `{l >= 0, sum l <= P_J}`.
    fn project(&self, x: &Mat<c64>) -> Result<Mat<c64>, SdrError> {
        let evd = eigen(hermitian_part(x).as_ref(), "iterate")?;
        let m = x.nrows();
        let lambda: Vec<f64> = (0..m).map(|i| evd.S()[i].re).collect();
        let clipped: f64 = lambda.iter().map(|l| l.max(0.0)).sum();
        let tau = if clipped <= self.power {
            0.0
        } else {
            // The simplex threshold: sum max(l - tau, 0) = P_J.
            let mut sorted = lambda.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let mut tau = 0.0;
            let mut cumulative = 0.0;
            for (i, l) in sorted.iter().enumerate() {
                cumulative += l;
                let t = (cumulative - self.power) / (i + 1) as f64;
                if *l > t {
                    tau = t;
                }
            }
            tau
        };
        let u = evd.U();
        let weights: Vec<f64> = lambda.iter().map(|l| (l - tau).max(0.0)).collect();
        Ok(hermitian_part(&Mat::from_fn(m, m, |i, j| {
            (0..m)
                .map(|k| u[(i, k)] * u[(j, k)].conj() * c64::new(weights[k], 0.0))
                .sum()
        })))
    }

    /// Projected gradient from isotropic jamming (backtracking step, grown after every
    /// accepted one) until the Frank–Wolfe gap meets the tolerance or the iteration cap.
    pub fn solve(&self, settings: OptimumSettings) -> Result<JammingOptimum, SdrError> {
        let mut s = self.isotropic();
        let (mut value, mut grad) = self.leakage_and_gradient(&s);
        let mut step = self.power / grad.norm_l2().max(f64::MIN_POSITIVE);
        let mut iterations = 0;
        loop {
            let gap = self.gap(&grad, &s)?;
            let done = gap <= settings.gap_tolerance;
            let mut stalled = false;
            if !done && iterations < settings.max_iterations {
                loop {
                    let next = self.project(&(&s - &grad * faer::Scale(c64::new(step, 0.0))))?;
                    let diff = &next - &s;
                    let (v, g) = self.leakage_and_gradient(&next);
                    let model = value + inner(&grad, &diff) + inner(&diff, &diff) / (2.0 * step);
                    if v <= model + 1e-14 * value.abs() {
                        (s, value, grad) = (next, v, g);
                        step *= 2.0;
                        break;
                    }
                    step *= 0.5;
                    if step * grad.norm_l2() < 1e-15 * self.power {
                        stalled = true;
                        break;
                    }
                }
                if !stalled {
                    iterations += 1;
                    continue;
                }
            }
            return Ok(JammingOptimum {
                status: if done {
                    OptimumStatus::Optimal
                } else {
                    OptimumStatus::IterationLimit
                },
                covariance: hermitian_part(&self.covariance(&s)),
                leakage: value,
                gap,
                iterations,
            });
        }
    }
}

#[cfg(test)]
mod tests;
