//! Bayesian FIM and posterior Cramer-Rao bound of Hou & Zhang, eqs. (10)-(24).
//!
//! Parameters `omega = (theta, Re beta, Im beta)`, echo `y_R = beta M(theta) x + z_R` with
//! `M = b a^H`, `z_R ~ CN(0, sigma_R^2 I)`, `theta` drawn from the Gaussian mixture (eq. 9).
//! With `g1 = E[tr(M^H M R)]`, `g2 = E[tr(Mdot^H Mdot R)]`, `g3 = E[tr(Mdot^H M R)]`
//! (the printed eq. 21 writes all three as `tr(M^H M R)`; see docs/conventions.md):
//!
//! ```text
//! J = [ (2|b|^2/s2) g2 + 1/st^2 - eps   (2/s2) Re(b* g3)   -(2/s2) Im(b* g3) ]
//!     [ (2/s2) Re(b* g3)                (2/s2) g1           0                 ]
//!     [ -(2/s2) Im(b* g3)               0                   (2/s2) g1         ]
//! PCRB = [J^-1]_11 = 1 / ((2|b|^2/s2)(g2 - |g3|^2/g1) + 1/st^2 - eps)     (21)
//! PCRB^U = 1 / ((2|b|^2/s2) tr(Q R) + 1/st^2 - eps),  Q = E[||bdot||^2 a a^H]   (23)
//! closed form: Q -> Qbar, eps -> 0                                          (24)
//! ```
//!
//! Every `g` is linear in `R`, so [`PcrbModel::new`] integrates the matrices
//! `E[M^H M]`, `E[Mdot^H Mdot]`, `E[Mdot^H M]` and `Q` once (Gauss-Hermite per component) and
//! each evaluation is a handful of `Nt x Nt` inner products.

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, Mat, MatRef, Par, c64};
use isac_channel::scenario::{QbarConvention, SecureIsacScenario};
use isac_channel::{GaussianMixturePrior, Ula};
use serde::Serialize;

use crate::BoundsError;
use crate::error::check_square;
use crate::prior_information::epsilon;
use crate::quadrature::NormalRule;

/// What the bound depends on besides the transmit covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct PcrbSetting {
    /// Transmit ULA (Nt).
    pub tx: Ula,
    /// Receive ULA (Nr).
    pub rx: Ula,
    /// Prior of the target angle.
    pub prior: GaussianMixturePrior,
    /// `|beta|`, the reflection coefficient magnitude (its phase does not change the PCRB).
    pub beta: f64,
    /// Radar noise power sigma_R^2 (W).
    pub noise_radar: f64,
}

impl PcrbSetting {
    /// The setting of a paper-000 scenario, with `|beta| = |beta_bar|` (the worst case).
    pub fn from_scenario(s: &SecureIsacScenario) -> Self {
        Self {
            tx: s.tx(),
            rx: s.rx(),
            prior: s.prior().clone(),
            beta: s.beta_min(),
            noise_radar: s.noise_radar(),
        }
    }
}

/// Accuracy knobs of the prior expectations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadratureSettings {
    /// Gauss-Hermite nodes per mixture component.
    pub hermite_nodes: usize,
}

impl Default for QuadratureSettings {
    /// 32 nodes: relative error below 1e-12 on the paper setting (sigma_theta = 0.01) and below
    /// 1e-10 up to sigma_theta = 0.1 against 160 nodes (test `default_rule_is_converged_*`;
    /// 20 nodes already pass it).
    fn default() -> Self {
        Self { hermite_nodes: 32 }
    }
}

/// Everything `isac pcrb` reports for one covariance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcrbReport {
    /// Exact PCRB, eq. (21), rad^2.
    pub pcrb: f64,
    /// Upper bound, eq. (23), with `Q` and `epsilon`.
    pub pcrb_upper: f64,
    /// Closed form, eq. (24), with the requested Qbar convention.
    pub pcrb_upper_closed_form: f64,
    /// `epsilon` of eq. (19).
    pub epsilon: f64,
    /// The 3 x 3 Bayesian FIM of `(theta, Re beta, Im beta)`, eq. (20), `beta` real.
    pub bayesian_fim: [[f64; 3]; 3],
}

/// Precomputed prior expectations for one [`PcrbSetting`]; evaluates bounds for any `R`.
#[derive(Debug, Clone)]
pub struct PcrbModel {
    setting: PcrbSetting,
    /// `E[M^H M]`.
    e_mm: Mat<c64>,
    /// `E[Mdot^H Mdot]`.
    e_dd: Mat<c64>,
    /// `E[Mdot^H M]`.
    e_dm: Mat<c64>,
    /// `Q = E[||bdot||^2 a a^H]`, eq. (23).
    q: Mat<c64>,
    qbar_exact: Mat<c64>,
    qbar_paper: Mat<c64>,
    epsilon: f64,
}

/// `m += coef x y^H`.
fn add_outer(m: &mut Mat<c64>, coef: c64, x: &Col<c64>, y: &Col<c64>) {
    for j in 0..m.ncols() {
        let yj = coef * y[j].conj();
        for i in 0..m.nrows() {
            m[(i, j)] += x[i] * yj;
        }
    }
}

/// `x^H y`.
fn inner(x: &Col<c64>, y: &Col<c64>) -> c64 {
    (0..x.nrows()).map(|i| x[i].conj() * y[i]).sum()
}

/// `tr(A R)`.
fn trace_product(a: MatRef<'_, c64>, r: MatRef<'_, c64>) -> c64 {
    let mut acc = c64::new(0.0, 0.0);
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            acc += a[(i, j)] * r[(j, i)];
        }
    }
    acc
}

/// Qbar of eq. (24) in either convention (see [`QbarConvention`]).
pub fn qbar(
    tx: &Ula,
    rx: &Ula,
    prior: &GaussianMixturePrior,
    convention: QbarConvention,
) -> Mat<c64> {
    let n = tx.elements();
    let mut q = Mat::zeros(n, n);
    let pi_d2 = (std::f64::consts::PI * rx.spacing()).powi(2);
    // rho0 = sum_{n=1}^{Nr} pi^2 Delta^2 (n-1)^2, as printed.
    let rho0: f64 = (0..rx.elements()).map(|m| pi_d2 * (m as f64).powi(2)).sum();
    for (&th, &p) in prior.means().iter().zip(prior.weights()) {
        let gain = match convention {
            QbarConvention::Exact => rx.derivative_norm_sqr(th),
            QbarConvention::Paper => rho0 * ((2.0 * th).cos() + 1.0),
        };
        let a = tx.steering(th);
        add_outer(&mut q, c64::new(p * gain, 0.0), &a, &a);
    }
    q
}

impl PcrbModel {
    /// Integrates the prior expectations (Gauss-Hermite) and `epsilon` (adaptive quadrature).
    pub fn new(setting: PcrbSetting, quadrature: QuadratureSettings) -> Result<Self, BoundsError> {
        if !(setting.beta.is_finite() && setting.beta > 0.0) {
            return Err(BoundsError::InvalidParameter {
                name: "beta",
                value: setting.beta.to_string(),
                requirement: "must be finite and > 0",
            });
        }
        if !(setting.noise_radar.is_finite() && setting.noise_radar > 0.0) {
            return Err(BoundsError::InvalidParameter {
                name: "noise_radar",
                value: setting.noise_radar.to_string(),
                requirement: "must be finite and > 0",
            });
        }
        let rule = NormalRule::new(quadrature.hermite_nodes)?;
        let prior = &setting.prior;
        // Quadrature nodes over all components: a(theta), da/dtheta as columns, and the
        // per-node weights times the receive-array scalars ||b||^2, ||db||^2 and db^H b.
        let nodes: Vec<(f64, f64)> = prior
            .means()
            .iter()
            .zip(prior.weights())
            .flat_map(|(&mean, &p)| {
                rule.points(mean, prior.std())
                    .map(move |(th, w)| (th, p * w))
            })
            .collect();
        let n = setting.tx.elements();
        let mut a = Mat::<c64>::zeros(n, nodes.len());
        let mut da = Mat::<c64>::zeros(n, nodes.len());
        let (mut w_bb, mut w_dbdb, mut w_dbb) = (Vec::new(), Vec::new(), Vec::new());
        for (col, &(th, w)) in nodes.iter().enumerate() {
            let (at, dat) = setting.tx.steering_and_derivative(th);
            a.col_mut(col).copy_from(&at);
            da.col_mut(col).copy_from(&dat);
            let (b, db) = setting.rx.steering_and_derivative(th);
            w_bb.push(c64::new(w * inner(&b, &b).re, 0.0));
            w_dbdb.push(c64::new(w * inner(&db, &db).re, 0.0));
            w_dbb.push(inner(&db, &b) * w);
        }
        // sum_nodes c x y^H = X diag(c) Y^H.
        let weighted = |x: &Mat<c64>, c: &[c64], y: &Mat<c64>| {
            let xc = Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] * c[j]);
            let mut out = Mat::<c64>::zeros(x.nrows(), y.nrows());
            // Sequential: an 8 x 128 product is far too small to be worth threads.
            matmul(
                out.as_mut(),
                Accum::Replace,
                xc.as_ref(),
                y.adjoint(),
                c64::new(1.0, 0.0),
                Par::Seq,
            );
            out
        };
        // M^H M = ||b||^2 a a^H; Q = E[||db||^2 a a^H];
        // Mdot = db a^H + b da^H:
        // Mdot^H Mdot = ||db||^2 a a^H + (db^H b) a da^H + (b^H db) da a^H + ||b||^2 da da^H;
        // Mdot^H M = (db^H b) a a^H + ||b||^2 da a^H.
        let e_mm = weighted(&a, &w_bb, &a);
        let q = weighted(&a, &w_dbdb, &a);
        let cross = weighted(&a, &w_dbb, &da);
        let e_dd = &q + &cross + cross.adjoint() + weighted(&da, &w_bb, &da);
        let e_dm = weighted(&a, &w_dbb, &a) + weighted(&da, &w_bb, &a);
        let qbar_exact = qbar(&setting.tx, &setting.rx, prior, QbarConvention::Exact);
        let qbar_paper = qbar(&setting.tx, &setting.rx, prior, QbarConvention::Paper);
        let epsilon = epsilon(prior).value;
        Ok(Self {
            setting,
            e_mm,
            e_dd,
            e_dm,
            q,
            qbar_exact,
            qbar_paper,
            epsilon,
        })
    }

    /// The setting this model was built for.
    pub fn setting(&self) -> &PcrbSetting {
        &self.setting
    }

    /// `epsilon` of eq. (19).
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// `Q` of eq. (23).
    pub fn q(&self) -> MatRef<'_, c64> {
        self.q.as_ref()
    }

    /// Qbar of eq. (24) in the given convention.
    pub fn qbar(&self, convention: QbarConvention) -> MatRef<'_, c64> {
        match convention {
            QbarConvention::Exact => self.qbar_exact.as_ref(),
            QbarConvention::Paper => self.qbar_paper.as_ref(),
        }
    }

    fn check(&self, r: MatRef<'_, c64>) -> Result<(), BoundsError> {
        check_square(
            "transmit covariance",
            r.nrows(),
            r.ncols(),
            self.setting.tx.elements(),
        )
    }

    /// `2 |beta|^2 / sigma_R^2`.
    fn data_scale(&self) -> f64 {
        2.0 * self.setting.beta.powi(2) / self.setting.noise_radar
    }

    /// `[J_P]_thth = 1 / sigma_theta^2 - epsilon`.
    fn prior_information(&self) -> f64 {
        self.setting.prior.std().powi(-2) - self.epsilon
    }

    /// `(g1, g2, g3)` of eq. (21).
    pub fn g(&self, r: MatRef<'_, c64>) -> Result<(f64, f64, c64), BoundsError> {
        self.check(r)?;
        Ok((
            trace_product(self.e_mm.as_ref(), r).re,
            trace_product(self.e_dd.as_ref(), r).re,
            trace_product(self.e_dm.as_ref(), r),
        ))
    }

    /// The Bayesian FIM of eq. (20) for `(theta, Re beta, Im beta)`, `beta = |beta|` real.
    pub fn bayesian_fim(&self, r: MatRef<'_, c64>) -> Result<[[f64; 3]; 3], BoundsError> {
        let (g1, g2, g3) = self.g(r)?;
        let s = 2.0 / self.setting.noise_radar;
        let beta = self.setting.beta;
        let (jr, ji) = (s * beta * g3.re, -s * beta * g3.im);
        Ok([
            [self.data_scale() * g2 + self.prior_information(), jr, ji],
            [jr, s * g1, 0.0],
            [ji, 0.0, s * g1],
        ])
    }

    /// Exact PCRB, eq. (21): `[J^-1]_11` by the Schur complement of the beta block.
    pub fn pcrb(&self, r: MatRef<'_, c64>) -> Result<f64, BoundsError> {
        let (g1, g2, g3) = self.g(r)?;
        // |g3|^2 <= g1 g2 (Cauchy-Schwarz); with R = 0 all vanish and only the prior informs.
        let coupling = if g1 > 0.0 { g3.norm_sqr() / g1 } else { 0.0 };
        Ok(1.0 / (self.data_scale() * (g2 - coupling) + self.prior_information()))
    }

    /// Upper bound `PCRB^U` of eq. (23), with `Q` and `epsilon`.
    pub fn pcrb_upper(&self, r: MatRef<'_, c64>) -> Result<f64, BoundsError> {
        self.check(r)?;
        let tq = trace_product(self.q.as_ref(), r).re;
        Ok(1.0 / (self.data_scale() * tq + self.prior_information()))
    }

    /// Closed form of eq. (24): `Qbar` in the given convention and `epsilon = 0`.
    pub fn pcrb_upper_closed_form(
        &self,
        r: MatRef<'_, c64>,
        convention: QbarConvention,
    ) -> Result<f64, BoundsError> {
        self.check(r)?;
        let tq = trace_product(self.qbar(convention), r).re;
        Ok(1.0 / (self.data_scale() * tq + self.setting.prior.std().powi(-2)))
    }

    /// Every bound for one covariance.
    pub fn report(
        &self,
        r: MatRef<'_, c64>,
        convention: QbarConvention,
    ) -> Result<PcrbReport, BoundsError> {
        Ok(PcrbReport {
            pcrb: self.pcrb(r)?,
            pcrb_upper: self.pcrb_upper(r)?,
            pcrb_upper_closed_form: self.pcrb_upper_closed_form(r, convention)?,
            epsilon: self.epsilon,
            bayesian_fim: self.bayesian_fim(r)?,
        })
    }
}

#[cfg(test)]
mod tests;
