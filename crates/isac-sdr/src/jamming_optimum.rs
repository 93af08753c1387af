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
//! The sensing constraint (the joint CRLB of beams plus jamming below `CRLB_0`) is convex in
//! `Q` too, and only binds when the beams alone miss it (adding `Q` only adds Fisher
//! information): [`JammingProblem::solve_constrained`] first decides from the constraint alone
//! whether any `Q` meets it (`feasibility.rs`), then handles it by Lagrangian duality, with
//! upper minus lower bound as its certificate.

use faer::{Col, Mat, MatRef, Side, c64};
use isac_bounds::{SensingChannel, angle_fim};
use isac_design::null_space_projector;

use crate::SdrError;
use feasibility::Feasibility;

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
    /// No jamming covariance meets the sensing constraint (proved by a bound on the FIM's
    /// diagonal, a weighted CRLB's lower bound above `CRLB_0`, or a dual lower bound above the
    /// largest leakage); the covariance returned is the unconstrained optimum, with an
    /// infinite gap and zero multipliers.
    Infeasible,
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
    /// Projected-gradient steps taken (all inner solves of a constrained solve).
    pub iterations: usize,
    /// The multipliers of the two CRLB constraints (zero when the constraint is inactive).
    pub multipliers: [f64; 2],
}

/// The problem: fixed beams, Eve's draws, the null space of the users' channel, the budget.
pub struct JammingProblem {
    basis: Mat<c64>,
    /// `E_d = B^H H_d` of every draw side by side, m x (sum of the draws' Ne).
    eve: Mat<c64>,
    /// The first column of each draw's block in `eve`, then the total.
    offsets: Vec<usize>,
    /// `g_dk = H_d^H f_k`: each draw's K vectors of its Ne entries, one after another (draw d's
    /// start at `K offsets[d]`).
    gains: Vec<c64>,
    users: usize,
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

/// Solves `A X = B` in place (`A` n x n and `B` n x r, column-major), Gaussian elimination with
/// partial pivoting; `A` is overwritten. A zero pivot (singular `A`) gives non-finite values.
fn solve_in_place(a: &mut [c64], b: &mut [c64], n: usize, r: usize) {
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i + k * n].norm_sqr().total_cmp(&a[j + k * n].norm_sqr()))
            .unwrap_or(k);
        if pivot != k {
            for c in 0..n {
                a.swap(k + c * n, pivot + c * n);
            }
            for c in 0..r {
                b.swap(k + c * n, pivot + c * n);
            }
        }
        let inverse = a[k + k * n].inv();
        for i in k + 1..n {
            let factor = a[i + k * n] * inverse;
            for c in k..n {
                let v = a[k + c * n];
                a[i + c * n] -= factor * v;
            }
            for c in 0..r {
                let v = b[k + c * n];
                b[i + c * n] -= factor * v;
            }
        }
    }
    for c in 0..r {
        for k in (0..n).rev() {
            let mut v = b[k + c * n];
            for j in k + 1..n {
                v -= a[k + j * n] * b[j + c * n];
            }
            b[k + c * n] = v / a[k + k * n];
        }
    }
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
        let mut offsets = vec![0];
        for h in eve {
            offsets.push(offsets[offsets.len() - 1] + h.ncols());
        }
        let mut stacked = Mat::<c64>::zeros(nt, offsets[eve.len()]);
        for (h, &first) in eve.iter().zip(&offsets) {
            stacked
                .as_mut()
                .subcols_mut(first, h.ncols())
                .copy_from(h.as_ref());
        }
        let mut gains = Vec::with_capacity(offsets[eve.len()] * beams.len());
        for h in eve {
            for f in beams {
                gains.extend((h.adjoint() * f).iter().copied());
            }
        }
        Ok(Self {
            eve: basis.adjoint() * &stacked,
            basis,
            offsets,
            gains,
            users: beams.len(),
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
    ///
    /// Per draw: `A = sigma^2 I + E^H S E` (Ne x Ne, its Hermitian part), `x_k = A^-1 g_k`,
    /// `L += ln(1 + g_k^H x_k)` and the gradient `-= w_k w_k^H` with `w_k = E x_k / sqrt(1 + g_k^H
    /// x_k)`. This runs for every draw at every step of every OPT_Q solve: the two products of
    /// size m x m x (D Ne), `S [E_1 .. E_D]` and `W W^H` over all draws' `w_k`, are one faer
    /// product each; the per-draw work left (`A`, its small solve, `w_k`) is plain loops over
    /// buffers allocated once per call.
    fn evaluate(&self, s: &Mat<c64>, gradient: bool) -> (f64, Option<Mat<c64>>) {
        let (m, k) = (self.dimension(), self.users);
        let draws = self.offsets.len() - 1;
        let t = s * &self.eve;
        let mut w = if gradient {
            Mat::<c64>::zeros(m, draws * k)
        } else {
            Mat::zeros(0, 0)
        };
        let mut value = 0.0;
        let (mut a, mut x) = (Vec::new(), Vec::new());
        for d in 0..draws {
            let (first, ne) = (self.offsets[d], self.offsets[d + 1] - self.offsets[d]);
            // A = sigma^2 I + E^H T (column-major), then its Hermitian part.
            a.clear();
            for c in 0..ne {
                let tc = t.col_as_slice(first + c);
                a.extend((0..ne).map(|r| {
                    let diagonal = if r == c { self.noise } else { 0.0 };
                    let e = self.eve.col_as_slice(first + r);
                    e.iter().zip(tc).map(|(e, t)| e.conj() * t).sum::<c64>() + diagonal
                }));
            }
            for c in 0..ne {
                for r in c..ne {
                    let h = (a[r + c * ne] + a[c + r * ne].conj()) * 0.5;
                    a[r + c * ne] = h;
                    a[c + r * ne] = h.conj();
                }
            }
            // X = A^-1 [g_1 .. g_K] by Gaussian elimination with partial pivoting.
            let g = &self.gains[first * k..(first + ne) * k];
            x.clear();
            x.extend_from_slice(g);
            solve_in_place(&mut a, &mut x, ne, k);
            for (u, (gk, xk)) in g.chunks_exact(ne).zip(x.chunks_exact(ne)).enumerate() {
                let q: f64 = gk.iter().zip(xk).map(|(gi, xi)| (gi.conj() * xi).re).sum();
                value += (1.0 + q).ln();
                if gradient {
                    let scale = 1.0 / (1.0 + q).sqrt();
                    let column = w.col_as_slice_mut(d * k + u);
                    for (c, xc) in xk.iter().enumerate() {
                        let e = self.eve.col_as_slice(first + c);
                        for (wi, ei) in column.iter_mut().zip(e) {
                            *wi += ei * xc * scale;
                        }
                    }
                }
            }
        }
        let n = draws as f64;
        (
            value / n,
            gradient.then(|| {
                let g = &w * w.adjoint();
                Mat::from_fn(m, m, |i, j| (g[(i, j)] + g[(j, i)].conj()) * (-0.5 / n))
            }),
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
    /// accepted one) until the Frank–Wolfe gap meets the tolerance or the iteration cap. No
    /// sensing constraint: see [`Self::solve_constrained`].
    pub fn solve(&self, settings: OptimumSettings) -> Result<JammingOptimum, SdrError> {
        let run = self.minimise(self.isotropic(), settings, &|s| {
            Ok(self.leakage_and_gradient(s))
        })?;
        Ok(self.optimum(&run, run.status()))
    }

    /// A lower bound on each angle's CRLB over every `S` of the budget: `[J^-1]_ww >= 1 / J_ww`
    /// and `J_ww(S) <= J0_ww + P_J lambda_max(D_ww)`. One above `CRLB_0` is a quick proof of
    /// infeasibility.
    fn diagonal_bounds(&self, constraint: &CrlbConstraint) -> Result<[f64; 2], SdrError> {
        let m = self.dimension();
        let mut bounds = [0.0; 2];
        for (w, bound) in bounds.iter_mut().enumerate() {
            let evd = eigen(constraint.d[w][w].as_ref(), "information operator")?;
            *bound = 1.0 / (constraint.base[w][w] + self.power * evd.S()[m - 1].re);
        }
        Ok(bounds)
    }

    /// A proof of infeasibility after `iterations` steps: the unconstrained optimum `free`
    /// stands in, with an infinite gap.
    fn infeasible(&self, free: &Minimised, iterations: usize) -> JammingOptimum {
        JammingOptimum {
            gap: f64::INFINITY,
            iterations,
            ..self.optimum(free, OptimumStatus::Infeasible)
        }
    }

    fn optimum(&self, run: &Minimised, status: OptimumStatus) -> JammingOptimum {
        JammingOptimum {
            status,
            covariance: hermitian_part(&self.covariance(&run.s)),
            leakage: self.leakage(&run.s),
            gap: run.gap,
            iterations: run.iterations,
            multipliers: [0.0; 2],
        }
    }

    /// Projected gradient on `objective` (value and gradient in `S`) over `{S PSD, tr S <=
    /// P_J}` from `start`, to the Frank–Wolfe gap `settings.gap_tolerance` or the cap.
    fn minimise(
        &self,
        start: Mat<c64>,
        settings: OptimumSettings,
        objective: &Objective<'_>,
    ) -> Result<Minimised, SdrError> {
        let mut s = start;
        let (mut value, mut grad) = objective(&s)?;
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
                    let (v, g) = objective(&next)?;
                    let model = value + inner(&grad, &diff) + inner(&diff, &diff) / (2.0 * step);
                    if v.is_finite() && v <= model + 1e-14 * value.abs() {
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
            return Ok(Minimised {
                s,
                value,
                gap,
                iterations,
                done,
            });
        }
    }

    /// The sensing constraint `[J(R_0 + Q)^-1]_ww <= crlb_max` of both angles toward the
    /// sensing channel `ch`, where `J_ij(R) = 2 scale Re tr(R dG_i^H dG_j)` (eq. 18) and
    /// `R_0 = sum_k f_k f_k^H` is the covariance of the user `beams`.
    pub fn crlb_constraint(
        &self,
        ch: &SensingChannel,
        beams: &[Col<c64>],
        scale: f64,
        crlb_max: f64,
    ) -> Result<CrlbConstraint, SdrError> {
        let nt = self.basis.nrows();
        if ch.d_theta.ncols() != nt
            || beams.iter().any(|f| f.nrows() != nt)
            || !(scale.is_finite() && scale > 0.0)
            || !(crlb_max.is_finite() && crlb_max > 0.0)
        {
            return Err(SdrError::InvalidParameter {
                name: "crlb constraint",
                value: format!("scale {scale}, crlb_max {crlb_max}"),
                requirement: "needs Nt-column operators and beams, scale > 0 and CRLB_0 > 0",
            });
        }
        let mut r0 = Mat::<c64>::zeros(nt, nt);
        for f in beams {
            r0 += f * f.adjoint();
        }
        let base = angle_fim(ch, r0.as_ref(), scale)?;
        let y = [&ch.d_theta, &ch.d_phi].map(|d| d * &self.basis);
        let d = [0, 1].map(|i| {
            [0, 1].map(|j| (y[i].adjoint() * &y[j]) * faer::Scale(c64::new(2.0 * scale, 0.0)))
        });
        Ok(CrlbConstraint {
            base: [[base[(0, 0)], base[(0, 1)]], [base[(1, 0)], base[(1, 1)]]],
            d,
            crlb_max,
        })
    }

    /// The best jamming covariance under the sensing constraint as well. The constraint is
    /// convex (a matrix-fractional function of the FIM, affine in `Q`); if the unconstrained
    /// optimum meets it, that is the answer. Otherwise phase one (`feasibility.rs`) asks
    /// whether any `S` meets it, from the constraint alone; if not, the unconstrained optimum
    /// stands in (status [`OptimumStatus::Infeasible`]). Otherwise the method of multipliers on the
    /// normalised constraints `h_w = CRLB_w / CRLB_0 - 1` (slightly tightened, so that its
    /// iterates end inside) gives feasible points, whose leakage is an upper bound on the
    /// optimum; for its multipliers `nu`, the Lagrangian `L(S) + sum_w nu_w h_w(S)` minimised by
    /// projected gradient gives a lower bound (its value minus its Frank–Wolfe gap, weak
    /// duality). The gap reported is upper minus lower bound. A lower bound above `L(0)` (no
    /// jamming, the largest leakage of any `S`) proves the constraint infeasible.
    pub fn solve_constrained(
        &self,
        constraint: &CrlbConstraint,
        settings: OptimumSettings,
    ) -> Result<JammingOptimum, SdrError> {
        let free = self.minimise(self.isotropic(), settings, &|s| {
            Ok(self.leakage_and_gradient(s))
        })?;
        if constraint.met(constraint.crlbs(&free.s)) {
            return Ok(self.optimum(&free, free.status()));
        }
        if self
            .diagonal_bounds(constraint)?
            .iter()
            .any(|b| *b > constraint.crlb_max)
        {
            return Ok(self.infeasible(&free, free.iterations));
        }
        // Phase one: a weighted CRLB's lower bound above CRLB_0 proves it without Eve's draws.
        let phase = self.feasibility(constraint, &free.s, settings)?;
        let mut iterations = free.iterations + phase.iterations;
        if phase.verdict == Feasibility::Infeasible {
            return Ok(self.infeasible(&free, iterations));
        }
        let m = self.dimension();
        let ceiling = self.leakage(&Mat::zeros(m, m));
        let inner_settings = OptimumSettings {
            gap_tolerance: 0.25 * settings.gap_tolerance,
            ..settings
        };
        // The iterates aim at a bound this much tighter, so that they end feasible.
        let target = constraint.crlb_max * (1.0 - 1e-6);
        let h_of = |c: [f64; 2], bound: f64| [0, 1].map(|w| c[w] / bound - 1.0);
        let mut nu = [0.0f64; 2];
        let mut rho = 1.0;
        let mut lower = f64::NEG_INFINITY;
        let mut best: Option<(f64, Mat<c64>)> = None;
        let mut s = free.s.clone();
        let mut violation = f64::INFINITY;
        let consider = |x: &Mat<c64>, best: &mut Option<(f64, Mat<c64>)>| {
            if constraint.met(constraint.crlbs(x)) {
                let v = self.leakage(x);
                if best.as_ref().is_none_or(|b| v < b.0) {
                    *best = Some((v, x.clone()));
                }
            } else if let Some((_, feasible)) = best.clone() {
                // The feasible end of the segment from the best feasible point toward x.
                let mix = |t: f64| {
                    &feasible * faer::Scale(c64::new(1.0 - t, 0.0))
                        + x * faer::Scale(c64::new(t, 0.0))
                };
                let (mut lo, mut hi) = (0.0, 1.0);
                for _ in 0..40 {
                    let t = 0.5 * (lo + hi);
                    if constraint.met(constraint.crlbs(&mix(t))) {
                        lo = t;
                    } else {
                        hi = t;
                    }
                }
                let v = self.leakage(&mix(lo));
                if best.as_ref().is_none_or(|b| v < b.0) {
                    *best = Some((v, mix(lo)));
                }
            }
        };
        for _ in 0..60 {
            // The augmented Lagrangian of the tightened constraint.
            let (nu_k, rho_k) = (nu, rho);
            let run = self.minimise(s.clone(), inner_settings, &|x| {
                let (mut v, mut g) = self.leakage_and_gradient(x);
                let (c, gc) = constraint.crlbs_and_gradients(x);
                let h = h_of(c, target);
                for w in 0..2 {
                    let shifted = (nu_k[w] + rho_k * h[w]).max(0.0);
                    v += (shifted * shifted - nu_k[w] * nu_k[w]) / (2.0 * rho_k);
                    if shifted > 0.0 {
                        g += &gc[w] * faer::Scale(c64::new(shifted / target, 0.0));
                    }
                }
                Ok((v, g))
            })?;
            iterations += run.iterations;
            s = run.s;
            consider(&s, &mut best);
            let h = h_of(constraint.crlbs(&s), target);
            nu = [0, 1].map(|w| (nu[w] + rho * h[w]).max(0.0));
            let now = h.iter().fold(0.0f64, |a, x| a.max(*x));
            if now > 0.25 * violation {
                rho *= 10.0;
            }
            violation = now;
            // The lower bound at these multipliers (original constraint).
            let nu_k = nu;
            let dual = self.minimise(s.clone(), inner_settings, &|x| {
                let (mut v, mut g) = self.leakage_and_gradient(x);
                let (c, gc) = constraint.crlbs_and_gradients(x);
                let h = h_of(c, constraint.crlb_max);
                for w in 0..2 {
                    if nu_k[w] > 0.0 {
                        v += nu_k[w] * h[w];
                        g += &gc[w] * faer::Scale(c64::new(nu_k[w] / constraint.crlb_max, 0.0));
                    }
                }
                Ok((v, g))
            })?;
            iterations += dual.iterations;
            lower = lower.max(dual.value - dual.gap);
            consider(&dual.s, &mut best);
            if lower > ceiling {
                return Ok(self.infeasible(&free, iterations));
            }
            let upper = best.as_ref().map_or(f64::INFINITY, |b| b.0);
            if upper - lower <= settings.gap_tolerance {
                break;
            }
        }
        let upper = best.as_ref().map_or(f64::INFINITY, |b| b.0);
        let gap = (upper - lower).max(0.0);
        let (value, s) = best.unwrap_or((f64::INFINITY, s));
        Ok(JammingOptimum {
            status: if gap <= settings.gap_tolerance {
                OptimumStatus::Optimal
            } else {
                OptimumStatus::IterationLimit
            },
            covariance: hermitian_part(&self.covariance(&s)),
            leakage: value,
            gap,
            iterations,
            multipliers: nu,
        })
    }
}

/// A smooth objective in `S`: its value and gradient.
type Objective<'a> = dyn Fn(&Mat<c64>) -> Result<(f64, Mat<c64>), SdrError> + 'a;

/// A projected-gradient run.
struct Minimised {
    s: Mat<c64>,
    value: f64,
    gap: f64,
    iterations: usize,
    done: bool,
}

impl Minimised {
    fn status(&self) -> OptimumStatus {
        if self.done {
            OptimumStatus::Optimal
        } else {
            OptimumStatus::IterationLimit
        }
    }
}

/// The joint-CRLB constraint of [`JammingProblem::crlb_constraint`] in null-space
/// coordinates: `J(S) = J_0 + [Re tr(S D_ij)]`, `D_ij = 2 scale B^H dG_i^H dG_j B`.
pub struct CrlbConstraint {
    base: [[f64; 2]; 2],
    d: [[Mat<c64>; 2]; 2],
    crlb_max: f64,
}

impl CrlbConstraint {
    /// The FIM at `S`.
    fn fim(&self, s: &Mat<c64>) -> [[f64; 2]; 2] {
        let mut j = self.base;
        for (a, row) in j.iter_mut().enumerate() {
            for (b, x) in row.iter_mut().enumerate() {
                *x += inner(&self.d[a][b].adjoint().to_owned(), s);
            }
        }
        j
    }

    /// `[J(S)^-1]_ww` of both angles (infinite where `J` is singular).
    pub fn crlbs(&self, s: &Mat<c64>) -> [f64; 2] {
        let j = self.fim(s);
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        if det > 0.0 {
            [j[1][1] / det, j[0][0] / det]
        } else {
            [f64::INFINITY; 2]
        }
    }

    /// The CRLBs and their gradients in `S`: `-sum_ij u_i u_j D_ij` with `u = J^-1 e_w`.
    pub fn crlbs_and_gradients(&self, s: &Mat<c64>) -> ([f64; 2], [Mat<c64>; 2]) {
        let j = self.fim(s);
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        let m = s.nrows();
        if det <= 0.0 {
            return ([f64::INFINITY; 2], [Mat::zeros(m, m), Mat::zeros(m, m)]);
        }
        let inv = [
            [j[1][1] / det, -j[0][1] / det],
            [-j[1][0] / det, j[0][0] / det],
        ];
        let grad = |w: usize| {
            let u = [inv[0][w], inv[1][w]];
            let mut g = Mat::<c64>::zeros(m, m);
            for a in 0..2 {
                for b in 0..2 {
                    g -= &self.d[a][b] * faer::Scale(c64::new(u[a] * u[b], 0.0));
                }
            }
            hermitian_part(&g)
        };
        ([inv[0][0], inv[1][1]], [grad(0), grad(1)])
    }

    /// `CRLB_0`.
    pub fn crlb_max(&self) -> f64 {
        self.crlb_max
    }

    fn met(&self, c: [f64; 2]) -> bool {
        c.iter().all(|x| *x <= self.crlb_max)
    }
}

mod feasibility;
#[cfg(test)]
mod tests;
