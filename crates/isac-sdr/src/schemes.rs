//! The proposed design and the paper's two benchmarks, evaluated the same way.

use std::time::Instant;

use faer::{Col, Mat, c64};
use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
use isac_channel::scenario::SecureIsacScenario;
use serde::{Deserialize, Serialize};

use crate::metrics::{covariance, eve_sinrs, power, secrecy_rate, user_sinr};
use crate::recovery::{Certificate, RecoveredBeams, certify, recover_rank_one};
use crate::search::{SearchSettings, search_gamma};
use crate::{
    Evaluation, Formulation, SdrError, SecureBeamformingProblem, SolveStatus, SolverReport,
};

/// Which transmit design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Scheme {
    /// SDR with AN, gamma search and rank-one recovery (Sec. V).
    Proposed,
    /// Benchmark 2: the same without AN (`V = 0`).
    NoAn,
    /// Benchmark 1: all power on the user's MRT beam; feasible iff its PCRB bound <= Gamma.
    Mrt,
}

impl Scheme {
    /// The name in files and on the command line (`proposed`, `no-an`, `mrt`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::NoAn => "no-an",
            Self::Mrt => "mrt",
        }
    }
}

/// Relative tolerance of the certificate. A `Solved` SDP meets it with room to spare
/// (eavesdropper SINR within 5e-5 of gamma on the paper setting); clarabel's reduced-accuracy
/// termination (`AlmostSolved`, feasibility 1e-4 in the scaled problem) can show up as ~1e-3
/// in an eavesdropper SINR, whose denominator is the small AN-plus-noise power.
pub const CERTIFICATE_TOLERANCE: f64 = 1e-3;

/// Everything `isac secure-beamforming` reports.
#[derive(Debug, Clone)]
pub struct SchemeOutcome {
    /// Optimal, infeasible, or solver failure.
    pub status: SolveStatus,
    /// The design's name ([`SecureDesign::name`]).
    pub name: String,
    /// gamma of the returned beams (`None` for MRT or when no gamma was feasible).
    pub gamma: Option<f64>,
    /// Secrecy rate of the recovered beams, eq. (7), bit/s/Hz.
    pub secrecy_rate: f64,
    /// `log2((1 + f(gamma)) / (1 + gamma))` of the SDP (`None` for MRT).
    pub sdp_secrecy_rate: Option<f64>,
    /// User SINR (linear).
    pub sinr_user: f64,
    /// Eavesdropper SINR at each candidate angle (linear).
    pub sinr_eve: Vec<f64>,
    /// Closed-form PCRB bound (eq. 24) of `w w^H + V`.
    pub pcrb_upper_closed_form: f64,
    /// Exact PCRB (eq. 21) of `w w^H + V`.
    pub pcrb: f64,
    /// `||w||^2 + tr V` (W).
    pub power: f64,
    /// Information beam.
    pub w: Col<c64>,
    /// AN covariance.
    pub an_covariance: Mat<c64>,
    /// AN beams.
    pub an_beams: Vec<Col<c64>>,
    /// SDPs solved.
    pub solves: usize,
    /// Wall time (s).
    pub seconds: f64,
    /// The report of the last SDP solved (`None` for MRT).
    pub solver: Option<SolverReport>,
    /// Constraint check of the recovered beams (`None` unless optimal SDR).
    pub certificate: Option<Certificate>,
}

/// What a paper-000 scheme chose, before it is evaluated ([`evaluate_design`] adds the rates,
/// the PCRBs, the power and the certificate).
#[derive(Debug, Clone)]
pub struct TransmitDesign {
    /// Optimal, infeasible, or solver failure.
    pub status: SolveStatus,
    /// gamma of the beams (`None` for a design without one).
    pub gamma: Option<f64>,
    /// The information beam `w`, the AN covariance `V` and its beams.
    pub beams: RecoveredBeams,
    /// `(f(gamma), log2((1 + f) / (1 + gamma)))` of the SDP behind the beams, if any (its
    /// presence with `gamma` asks for the rank-one certificate).
    pub sdp: Option<(f64, f64)>,
    /// Whether the design meets the PCRB threshold by construction. A design that does not
    /// (MRT) is reported infeasible when its closed-form PCRB bound exceeds the threshold.
    pub enforces_sensing: bool,
    /// SDPs solved.
    pub solves: usize,
    /// The report of the last SDP solved.
    pub solver: Option<SolverReport>,
}

/// The extension seam of paper 000: a way to choose the information beam and the AN
/// covariance for a scenario under a PCRB threshold `pcrb_max` (and, where the design has one,
/// a fixed `gamma` instead of its search). [`Scheme`] implements it; a user's design does too,
/// and [`evaluate_design`] reports it exactly as ours.
pub trait SecureDesign: Sync {
    /// The design's name in files and tables.
    fn name(&self) -> &str;

    /// The design's beams for `s`.
    fn design(
        &self,
        s: &SecureIsacScenario,
        pcrb_max: f64,
        gamma: Option<f64>,
    ) -> Result<TransmitDesign, SdrError>;
}

impl SecureDesign for Scheme {
    fn name(&self) -> &str {
        Scheme::name(*self)
    }

    fn design(
        &self,
        s: &SecureIsacScenario,
        pcrb_max: f64,
        gamma: Option<f64>,
    ) -> Result<TransmitDesign, SdrError> {
        Ok(match self {
            Scheme::Mrt => mrt(s),
            Scheme::Proposed => sdr(s, true, pcrb_max, gamma)?,
            Scheme::NoAn => sdr(s, false, pcrb_max, gamma)?,
        })
    }
}

/// Benchmark 1: all power on the user's MRT beam.
fn mrt(s: &SecureIsacScenario) -> TransmitDesign {
    let (n, h) = (s.tx().elements(), s.user_channel());
    let scale = (s.tx_power() / h.norm_l2().powi(2)).sqrt();
    let beams = RecoveredBeams {
        w: Col::from_fn(n, |i| h[i] * scale),
        an_covariance: Mat::zeros(n, n),
        an_beams: Vec::new(),
    };
    TransmitDesign {
        status: SolveStatus::Optimal,
        gamma: None,
        beams,
        sdp: None,
        enforces_sensing: false,
        solves: 0,
        solver: None,
    }
}

/// The proposed design (`with_an`) or benchmark 2: SDR at one gamma or searched, then recovery.
fn sdr(
    s: &SecureIsacScenario,
    with_an: bool,
    pcrb_max: f64,
    gamma: Option<f64>,
) -> Result<TransmitDesign, SdrError> {
    let n = s.tx().elements();
    let problem = SecureBeamformingProblem::new(s, pcrb_max, Formulation::Preconditioned, with_an)?;
    let (evaluations, best) = match gamma {
        Some(g) => (
            vec![Evaluation {
                gamma: g,
                solution: problem.solve(g)?,
            }],
            Some(0),
        ),
        None => {
            let outcome = search_gamma(&problem, SearchSettings::default())?;
            (outcome.evaluations, outcome.best)
        }
    };
    let solver = evaluations.last().map(|e| e.solution.report.clone());
    let solves = evaluations.len();
    let optimal = best
        .map(|i| &evaluations[i])
        .filter(|e| e.solution.status == SolveStatus::Optimal);
    Ok(match optimal {
        Some(e) => TransmitDesign {
            status: SolveStatus::Optimal,
            gamma: Some(e.gamma),
            beams: recover_rank_one(&s.user_channel(), &e.solution.w, &e.solution.v),
            sdp: e.rate().map(|rate| (e.solution.user_sinr, rate)),
            enforces_sensing: true,
            solves,
            solver,
        },
        None => {
            // Infeasible if any gamma proved it; otherwise the solver failed everywhere.
            let infeasible = evaluations
                .iter()
                .any(|e| e.solution.status == SolveStatus::Infeasible);
            TransmitDesign {
                status: if infeasible {
                    SolveStatus::Infeasible
                } else {
                    SolveStatus::SolverFailed
                },
                gamma,
                beams: RecoveredBeams {
                    w: Col::zeros(n),
                    an_covariance: Mat::zeros(n, n),
                    an_beams: Vec::new(),
                },
                sdp: None,
                enforces_sensing: true,
                solves,
                solver,
            }
        }
    })
}

/// Runs one of our schemes with threshold `pcrb_max` ([`evaluate_design`] of a [`Scheme`]);
/// `gamma` solves that single gamma instead of searching.
pub fn run_scheme(
    s: &SecureIsacScenario,
    scheme: Scheme,
    pcrb_max: f64,
    gamma: Option<f64>,
) -> Result<SchemeOutcome, SdrError> {
    evaluate_design(s, &scheme, pcrb_max, gamma)
}

/// Runs any [`SecureDesign`] with threshold `pcrb_max` and reports it: secrecy rate (eq. 7),
/// SINRs, exact and closed-form PCRB, power, and the rank-one certificate of an SDP design.
pub fn evaluate_design(
    s: &SecureIsacScenario,
    design: &dyn SecureDesign,
    pcrb_max: f64,
    gamma: Option<f64>,
) -> Result<SchemeOutcome, SdrError> {
    let started = Instant::now();
    let name = design.name().to_string();
    let design = design.design(s, pcrb_max, gamma)?;
    let (w, v) = (&design.beams.w, design.beams.an_covariance.as_ref());
    let model = PcrbModel::new(PcrbSetting::from_scenario(s), QuadratureSettings::default())?;
    let r = covariance(w, v);
    let pcrb_upper_closed_form = model.pcrb_upper_closed_form(r.as_ref(), s.qbar())?;
    let (sinr_user, sinr_eve) = (user_sinr(s, w, v), eve_sinrs(s, w, v));
    // MRT is feasible iff it meets the sensing constraint.
    let status = if !design.enforces_sensing && pcrb_upper_closed_form > pcrb_max {
        SolveStatus::Infeasible
    } else {
        design.status
    };
    let certificate = match (design.gamma, design.sdp) {
        (Some(g), Some((f, _))) => Some(certify(
            s,
            &design.beams,
            g,
            pcrb_max,
            f,
            CERTIFICATE_TOLERANCE,
        )?),
        _ => None,
    };
    Ok(SchemeOutcome {
        status,
        name,
        gamma: design.gamma,
        secrecy_rate: if status == SolveStatus::Optimal {
            secrecy_rate(sinr_user, &sinr_eve)
        } else {
            0.0
        },
        sdp_secrecy_rate: design.sdp.map(|(_, rate)| rate),
        sinr_user,
        sinr_eve,
        pcrb_upper_closed_form,
        pcrb: model.pcrb(r.as_ref())?,
        power: power(w, v),
        solves: design.solves,
        seconds: started.elapsed().as_secs_f64(),
        solver: design.solver,
        certificate,
        w: design.beams.w,
        an_covariance: design.beams.an_covariance,
        an_beams: design.beams.an_beams,
    })
}
