//! Problem (P2.1R) of Hou & Zhang (eqs. 38-43) for a fixed gamma.
//!
//! Normalised units (docs/conventions.md): powers over P, every gain an SNR (noise 1):
//! `H' = P h h^H / sigma^2`, `A'_k = P (beta0/r^2) a_k a_k^H / sigma_E^2`, and the sensing
//! constraint (42) divided by `c = 1/Gamma - 1/sigma_theta^2`:
//! `Q'' = P Qbar 2|beta_bar|^2 / (sigma_R^2 c)`. Charnes-Cooper variables `W, V, t`:
//!
//! ```text
//! max tr(H' W)  s.t.  tr(A'_k W) <= gamma (tr(A'_k V) + t)      (39)
//!                     tr(H' V) + t = 1                           (40)
//!                     tr(W) + tr(V) <= t                         (41)
//!                     tr((W + V) Q'') >= t   (only if c > 0)     (42)
//!                     W, V >= 0, t >= 0                          (43)
//! ```
//!
//! Subspace reduction (exact): every matrix of the problem (H, A_k, Qbar) lives in
//! `S = span{h, a_1, ..., a_K}`; the part of W or V outside S only spends power, so projecting
//! onto S keeps a solution feasible with the same objective. With an orthonormal basis B of S
//! whose first column is `h/|h|`, `W = B Y B^H`, `V = B Z B^H` (r x r, r = dim S = 5 for the
//! paper instead of 8): PSD blocks of 55 instead of 136 entries.
//!
//! Preconditioning (docs/conventions.md): `Z = T X T^H`, `T = diag(1/sqrt(SNR_u), 1, ..., 1)` in that basis,
//! so that (40) reads `X_11 + t = 1` and no coefficient of size SNR_u reaches the solver; the
//! objective is divided by SNR_u for the same reason. Every inequality row is divided by its
//! largest coefficient.

use std::time::Instant;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use faer::{Col, Mat, c64};
use isac_bounds::qbar;
use isac_channel::scenario::SecureIsacScenario;
use serde::{Deserialize, Serialize};

use crate::SdrError;
use crate::hermitian::{embedding_svec, from_parameters, parameter_count, trace_coefficients};

/// Solver settings of each attempt: (max step fraction, static regularisation). A solve that
/// stalls (not one that proves infeasibility) is retried once with shorter interior-point
/// steps and stronger static regularisation of the KKT system (measured: rescues the last
/// failures over gamma in [1e-6, 1e6]); the report counts the attempts.
const ATTEMPTS: [(f64, f64); 2] = [(0.99, 1e-8), (0.9, 1e-6)];

fn settings(
    max_step: f64,
    regularisation: f64,
) -> Result<clarabel::solver::DefaultSettings<f64>, SdrError> {
    DefaultSettingsBuilder::default()
        .verbose(std::env::var_os("ISAC_SDR_VERBOSE").is_some())
        .presolve_enable(false)
        .chordal_decomposition_enable(false)
        .max_step_fraction(max_step)
        .static_regularization_constant(regularisation)
        .build()
        .map_err(|e| SdrError::Setup(format!("{e:?}")))
}

/// Repeated solves of one problem over gamma, reusing clarabel's setup (see
/// [`SecureBeamformingProblem::session`]). A stalled solve falls back to a fresh one-shot solve
/// with the retry settings.
pub struct Session<'a> {
    problem: &'a SecureBeamformingProblem,
    solver: Option<DefaultSolver<f64>>,
}

impl Session<'_> {
    /// Solves (P2.1R) for one gamma > 0, like [`SecureBeamformingProblem::solve`].
    pub fn solve(&mut self, gamma: f64) -> Result<SdpSolution, SdrError> {
        let problem = self.problem;
        if !(gamma.is_finite() && gamma > 0.0) {
            return problem.solve(gamma);
        }
        let started = Instant::now();
        let (a, b, q, cones) = problem.data(gamma);
        let solver = match self.solver.as_mut() {
            Some(solver) => {
                solver
                    .update_A(&a)
                    .map_err(|e| SdrError::Setup(format!("{e:?}")))?;
                solver
            }
            None => {
                let p = CscMatrix::zeros((q.len(), q.len()));
                let (max_step, regularisation) = ATTEMPTS[0];
                let solver =
                    DefaultSolver::new(&p, &q, &a, &b, &cones, settings(max_step, regularisation)?)
                        .map_err(|e| SdrError::Setup(format!("{e:?}")))?;
                self.solver.insert(solver)
            }
        };
        solver.solve();
        let solution = problem.extract(&solver.solution, started.elapsed().as_secs_f64());
        if solution.status == SolveStatus::SolverFailed {
            return problem.solve(gamma);
        }
        Ok(solution)
    }
}

/// How (P2.1R) is written for the solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Formulation {
    /// Normalised units, subspace reduction and `V = B T X T^H B^H` (default).
    Preconditioned,
    /// Normalised units, full `Nt x Nt` variables `W`, `V` (the plain formulation, kept to
    /// check the reduced one where both solve).
    Plain,
}

/// Outcome class of one solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Solved (or solved to reduced accuracy: see the report).
    Optimal,
    /// The SDP is infeasible for this gamma (a result, not an error).
    Infeasible,
    /// clarabel stopped without a solution or certificate (numerical trouble, limits).
    SolverFailed,
}

/// What clarabel said about one solve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolverReport {
    /// clarabel's status, verbatim (`Solved`, `AlmostSolved`, `PrimalInfeasible`, ...).
    pub clarabel_status: String,
    /// Primal residual.
    pub primal_residual: f64,
    /// Dual residual.
    pub dual_residual: f64,
    /// Interior-point iterations.
    pub iterations: u32,
    /// Wall time of the solve (s), all attempts.
    pub seconds: f64,
    /// Solver runs used (a stalled first run is retried once with shorter steps).
    pub attempts: u32,
}

/// A solution of (P2.1R) mapped back to physical units.
#[derive(Debug, Clone)]
pub struct SdpSolution {
    /// Outcome class.
    pub status: SolveStatus,
    /// Solver details.
    pub report: SolverReport,
    /// `f(gamma)`, the optimal user SINR (linear); `NaN` unless optimal.
    pub user_sinr: f64,
    /// Information covariance `W / t` in watts (zero unless optimal).
    pub w: Mat<c64>,
    /// AN covariance `V / t` in watts (zero unless optimal).
    pub v: Mat<c64>,
}

/// The data of (P2.1R) for one scenario and threshold Gamma; solves any gamma.
#[derive(Debug, Clone)]
pub struct SecureBeamformingProblem {
    n: usize,
    formulation: Formulation,
    /// Artificial noise allowed (false: benchmark 2, `V = 0`).
    with_an: bool,
    power: f64,
    h: Col<c64>,
    snr_user: f64,
    user: Mat<c64>,
    eves: Vec<Mat<c64>>,
    sensing: Option<Mat<c64>>,
    /// `V = v_map X v_map^H`: the basis B (first column h/|h|) times `T` (Nt x r).
    v_map: Mat<c64>,
    /// `W = w_basis Y w_basis^H`: the basis B itself (Nt x r).
    w_basis: Mat<c64>,
}

/// `scale x x^H`.
fn outer(x: &Col<c64>, scale: f64) -> Mat<c64> {
    Mat::from_fn(x.nrows(), x.nrows(), |i, j| x[i] * x[j].conj() * scale)
}

/// Orthonormal basis of `span{vectors}` by twice-iterated Gram-Schmidt, first vector first;
/// vectors (numerically) in the span of earlier ones are skipped.
fn orthonormal_basis(vectors: &[Col<c64>]) -> Mat<c64> {
    let mut basis: Vec<Col<c64>> = Vec::new();
    for v in vectors {
        let mut r = v.clone();
        for _ in 0..2 {
            for q in &basis {
                let c: c64 = (0..r.nrows()).map(|i| q[i].conj() * r[i]).sum();
                for i in 0..r.nrows() {
                    r[i] -= q[i] * c;
                }
            }
        }
        let norm = r.norm_l2();
        if norm > 1e-9 * v.norm_l2() {
            basis.push(Col::from_fn(r.nrows(), |i| r[i] / norm));
        }
    }
    let n = vectors[0].nrows();
    Mat::from_fn(n, basis.len(), |i, j| basis[j][i])
}

impl SecureBeamformingProblem {
    /// The problem of a scenario with threshold `pcrb_max` (Gamma).
    pub fn new(
        scenario: &SecureIsacScenario,
        pcrb_max: f64,
        formulation: Formulation,
        with_an: bool,
    ) -> Result<Self, SdrError> {
        if !(pcrb_max.is_finite() && pcrb_max > 0.0) {
            return Err(SdrError::InvalidParameter {
                name: "pcrb_max",
                value: pcrb_max.to_string(),
                requirement: "must be finite and > 0",
            });
        }
        let tx = scenario.tx();
        let power = scenario.tx_power();
        let h = scenario.user_channel();
        let steering: Vec<Col<c64>> = scenario
            .target_angles()
            .iter()
            .map(|&th| tx.steering(th))
            .collect();
        let basis = match formulation {
            Formulation::Preconditioned => {
                let mut vectors = vec![h.clone()];
                vectors.extend(steering.iter().cloned());
                orthonormal_basis(&vectors)
            }
            Formulation::Plain => Mat::from_fn(tx.elements(), tx.elements(), |i, j| {
                c64::new(if i == j { 1.0 } else { 0.0 }, 0.0)
            }),
        };
        let n = basis.ncols();
        let full = |m: Mat<c64>| m;
        let user = full(outer(&h, power / scenario.noise_user()));
        let snr_user = (0..user.nrows()).map(|i| user[(i, i)].re).sum::<f64>();
        let eve_scale = power * scenario.target_gain() / scenario.noise_eve();
        let eves = steering.iter().map(|a| outer(a, eve_scale)).collect();
        let c = 1.0 / pcrb_max - 1.0 / scenario.prior().std().powi(2);
        let sensing = (c > 0.0).then(|| {
            let q = qbar(&tx, &scenario.rx(), scenario.prior(), scenario.qbar());
            let scale = power * 2.0 * scenario.beta_min().powi(2) / (scenario.noise_radar() * c);
            Mat::from_fn(tx.elements(), tx.elements(), |i, j| q[(i, j)] * scale)
        });
        // In the basis B, h = |h| e1, so T = diag(1/sqrt(SNR_u), 1, ..., 1) maps X_11 to tr(H'V).
        let v_map = Mat::from_fn(basis.nrows(), n, |i, j| match formulation {
            Formulation::Preconditioned if j == 0 => basis[(i, j)] / snr_user.sqrt(),
            _ => basis[(i, j)],
        });
        let w_basis = basis;
        Ok(Self {
            n,
            formulation,
            with_an,
            power,
            h,
            snr_user,
            user,
            eves,
            sensing,
            v_map,
            w_basis,
        })
    }

    /// Antennas Nt.
    pub fn antennas(&self) -> usize {
        self.v_map.nrows()
    }

    /// Dimension r of the variables' space (Nt for the plain formulation).
    pub fn reduced_dimension(&self) -> usize {
        self.n
    }

    /// Whether the sensing constraint (42) is active (`1/Gamma > 1/sigma_theta^2`).
    pub fn sensing_active(&self) -> bool {
        self.sensing.is_some()
    }

    /// Coefficients of `tr(M Z)` on the parameters of the variable `map^H Z map`.
    fn on(map: &Mat<c64>, m: &Mat<c64>) -> Vec<f64> {
        trace_coefficients(&(map.adjoint() * m * map))
    }

    /// `(A, b, q, cones)` of clarabel's standard form for this gamma.
    fn data(&self, gamma: f64) -> (CscMatrix<f64>, Vec<f64>, Vec<f64>, Vec<SupportedConeT<f64>>) {
        let np = parameter_count(self.n);
        let (w0, x0) = (0, np);
        let t = if self.with_an { 2 * np } else { np };
        let nvars = t + 1;
        let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
        let mut b = Vec::new();
        // Each row is divided by its largest coefficient: the eavesdropper rows carry
        // SNR_eve * gamma (up to ~1e13), beyond what clarabel's equilibration (clamped to
        // [1e-4, 1e4]) can repair. Only rows with b = 0 are scaled, so b is unchanged.
        let push_row = |coefs: &[(usize, &[f64], f64)],
                        t_coef: f64,
                        rhs: f64,
                        rows: &mut Vec<usize>,
                        cols: &mut Vec<usize>,
                        vals: &mut Vec<f64>,
                        b: &mut Vec<f64>| {
            let r = b.len();
            let largest = coefs
                .iter()
                .flat_map(|&(_, c, scale)| c.iter().map(move |v| (v * scale).abs()))
                .fold(t_coef.abs(), f64::max);
            let norm = if rhs == 0.0 && largest > 0.0 {
                largest
            } else {
                1.0
            };
            for &(offset, c, scale) in coefs {
                for (k, &v) in c.iter().enumerate() {
                    if v != 0.0 {
                        rows.push(r);
                        cols.push(offset + k);
                        vals.push(v * scale / norm);
                    }
                }
            }
            rows.push(r);
            cols.push(t);
            vals.push(t_coef / norm);
            b.push(rhs);
        };
        let w_terms = |m: &Mat<c64>| Self::on(&self.w_basis, m);
        let x_terms = |m: &Mat<c64>| {
            if self.with_an {
                Self::on(&self.v_map, m)
            } else {
                Vec::new()
            }
        };
        // (40): tr(H' V) + t = 1.
        let user_x = x_terms(&self.user);
        push_row(
            &[(x0, &user_x, 1.0)],
            1.0,
            1.0,
            &mut rows,
            &mut cols,
            &mut vals,
            &mut b,
        );
        // (39): tr(A'_k W) - gamma tr(A'_k V) - gamma t <= 0. The gamma entries are kept even
        // when zero so that the sparsity pattern does not depend on gamma.
        for eve in &self.eves {
            let (cw, cx) = (w_terms(eve), x_terms(eve));
            push_row(
                &[(w0, &cw, 1.0), (x0, &cx, -gamma)],
                -gamma,
                0.0,
                &mut rows,
                &mut cols,
                &mut vals,
                &mut b,
            );
        }
        // (41): tr(W) + tr(V) - t <= 0.
        let nt = self.antennas();
        let id = Mat::from_fn(nt, nt, |i, j| c64::new(if i == j { 1.0 } else { 0.0 }, 0.0));
        let (cw, cx) = (w_terms(&id), x_terms(&id));
        push_row(
            &[(w0, &cw, 1.0), (x0, &cx, 1.0)],
            -1.0,
            0.0,
            &mut rows,
            &mut cols,
            &mut vals,
            &mut b,
        );
        // (42): t - tr((W + V) Q'') <= 0.
        if let Some(q) = &self.sensing {
            let (cw, cx) = (w_terms(q), x_terms(q));
            push_row(
                &[(w0, &cw, -1.0), (x0, &cx, -1.0)],
                1.0,
                0.0,
                &mut rows,
                &mut cols,
                &mut vals,
                &mut b,
            );
        }
        // t >= 0.
        push_row(&[], -1.0, 0.0, &mut rows, &mut cols, &mut vals, &mut b);
        let nonneg = b.len() - 1;
        // PSD blocks: svec(embed(W)) = -A x (b = 0), then the same for X.
        let svec = embedding_svec(self.n);
        let block = 2 * self.n * (2 * self.n + 1) / 2;
        let blocks: &[usize] = if self.with_an { &[w0, x0] } else { &[w0] };
        for &offset in blocks {
            let base = b.len();
            for &(row, param, coef) in &svec {
                rows.push(base + row);
                cols.push(offset + param);
                vals.push(-coef);
            }
            b.extend(std::iter::repeat_n(0.0, block));
        }
        let a = CscMatrix::new_from_triplets(b.len(), nvars, rows, cols, vals);
        let mut q = vec![0.0; nvars];
        for (k, c) in w_terms(&self.user).iter().enumerate() {
            q[w0 + k] = -c / self.snr_user;
        }
        let mut cones = vec![
            SupportedConeT::ZeroConeT(1),
            SupportedConeT::NonnegativeConeT(nonneg),
        ];
        cones.extend(
            blocks
                .iter()
                .map(|_| SupportedConeT::PSDTriangleConeT(2 * self.n)),
        );
        (a, b, q, cones)
    }

    /// Solves (P2.1R) for one gamma > 0.
    pub fn solve(&self, gamma: f64) -> Result<SdpSolution, SdrError> {
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(SdrError::InvalidParameter {
                name: "gamma",
                value: gamma.to_string(),
                requirement: "must be finite and > 0",
            });
        }
        let (a, b, q, cones) = self.data(gamma);
        let p = CscMatrix::zeros((q.len(), q.len()));
        let started = Instant::now();
        let mut last = None;
        for (attempt, &(max_step, regularisation)) in ATTEMPTS.iter().enumerate() {
            let mut solver =
                DefaultSolver::new(&p, &q, &a, &b, &cones, settings(max_step, regularisation)?)
                    .map_err(|e| SdrError::Setup(format!("{e:?}")))?;
            solver.solve();
            let mut solution = self.extract(&solver.solution, started.elapsed().as_secs_f64());
            solution.report.attempts = attempt as u32 + 1;
            let done = solution.status != SolveStatus::SolverFailed;
            last = Some(solution);
            if done {
                break;
            }
        }
        Ok(last.expect("at least one attempt"))
    }

    /// A session that builds clarabel's solver (and its symbolic KKT factorisation) once and,
    /// for every further gamma, only overwrites the coefficients of `A` (same sparsity pattern).
    pub fn session(&self) -> Session<'_> {
        Session {
            problem: self,
            solver: None,
        }
    }

    fn extract(&self, sol: &clarabel::solver::DefaultSolution<f64>, seconds: f64) -> SdpSolution {
        let status = match sol.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => SolveStatus::Optimal,
            SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
                SolveStatus::Infeasible
            }
            _ => SolveStatus::SolverFailed,
        };
        let report = SolverReport {
            clarabel_status: format!("{:?}", sol.status),
            primal_residual: sol.r_prim,
            dual_residual: sol.r_dual,
            iterations: sol.iterations,
            seconds,
            attempts: 1,
        };
        let nt = self.antennas();
        let zero = Mat::<c64>::zeros(nt, nt);
        if status != SolveStatus::Optimal {
            return SdpSolution {
                status,
                report,
                user_sinr: f64::NAN,
                w: zero.clone(),
                v: zero,
            };
        }
        let np = parameter_count(self.n);
        let t_index = if self.with_an { 2 * np } else { np };
        let t = sol.x[t_index];
        let b = &self.w_basis;
        let w = b * from_parameters(&sol.x[..np], self.n) * b.adjoint();
        let v = if self.with_an {
            let x = from_parameters(&sol.x[np..2 * np], self.n);
            &self.v_map * x * self.v_map.adjoint()
        } else {
            zero
        };
        let user_sinr = -sol.obj_val * self.snr_user;
        let scale = c64::new(self.power / t, 0.0);
        SdpSolution {
            status,
            report,
            user_sinr,
            w: w * faer::Scale(scale),
            v: v * faer::Scale(scale),
        }
    }

    /// The user channel h (physical).
    pub fn user_channel(&self) -> &Col<c64> {
        &self.h
    }

    /// The formulation used.
    pub fn formulation(&self) -> Formulation {
        self.formulation
    }
}
