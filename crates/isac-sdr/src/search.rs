//! The gamma search of (P1.2), eq. (32): maximise `log2((1 + f(gamma)) / (1 + gamma))`
//! over `log10 gamma` by a coarse grid bracket and golden-section refinement.

use crate::SdrError;
use crate::problem::{SdpSolution, SecureBeamformingProblem, SolveStatus};

/// Search range and accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    /// `log10 gamma` range of the coarse grid.
    pub log10_range: (f64, f64),
    /// Coarse grid points.
    pub grid_points: usize,
    /// Stop when two interior points differ by less than this (bit/s/Hz).
    pub tolerance_bits: f64,
    /// Cap on golden-section steps.
    pub max_refinements: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            log10_range: (-6.0, 6.0),
            grid_points: 25,
            tolerance_bits: 1e-5,
            max_refinements: 40,
        }
    }
}

/// One evaluated gamma.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// gamma.
    pub gamma: f64,
    /// The SDP at that gamma.
    pub solution: SdpSolution,
}

impl Evaluation {
    /// `log2((1 + f) / (1 + gamma))`, or `None` unless the SDP is optimal.
    pub fn rate(&self) -> Option<f64> {
        (self.solution.status == SolveStatus::Optimal)
            .then(|| ((1.0 + self.solution.user_sinr) / (1.0 + self.gamma)).log2())
    }
}

/// Result of a search: every evaluation, and the best one if any gamma was feasible.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// In the order solved.
    pub evaluations: Vec<Evaluation>,
    /// Index of the best evaluation.
    pub best: Option<usize>,
}

impl SearchOutcome {
    /// The best evaluation.
    pub fn best(&self) -> Option<&Evaluation> {
        self.best.map(|i| &self.evaluations[i])
    }
}

/// Grid over `log10 gamma`, bracket around the best feasible point, golden section inside it.
/// Infeasible and failed points are skipped (they count as `-inf`).
pub fn search_gamma(
    problem: &SecureBeamformingProblem,
    settings: SearchSettings,
) -> Result<SearchOutcome, SdrError> {
    let mut evaluations = Vec::new();
    let mut session = problem.session();
    let mut eval = |log_gamma: f64, evaluations: &mut Vec<Evaluation>| -> Result<f64, SdrError> {
        let gamma = 10f64.powf(log_gamma);
        let solution = session.solve(gamma)?;
        let e = Evaluation { gamma, solution };
        let rate = e.rate().unwrap_or(f64::NEG_INFINITY);
        evaluations.push(e);
        Ok(rate)
    };
    let (lo, hi) = settings.log10_range;
    let m = settings.grid_points.max(3);
    let grid: Vec<f64> = (0..m)
        .map(|i| lo + (hi - lo) * i as f64 / (m - 1) as f64)
        .collect();
    let mut rates = Vec::with_capacity(m);
    for &x in &grid {
        rates.push(eval(x, &mut evaluations)?);
    }
    let Some(i) = (0..m)
        .filter(|&i| rates[i].is_finite())
        .max_by(|&a, &b| rates[a].total_cmp(&rates[b]))
    else {
        return Ok(SearchOutcome {
            evaluations,
            best: None,
        });
    };
    let (mut a, mut b) = (grid[i.saturating_sub(1)], grid[(i + 1).min(m - 1)]);
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - phi * (b - a), a + phi * (b - a));
    let (mut fc, mut fd) = (eval(c, &mut evaluations)?, eval(d, &mut evaluations)?);
    for _ in 0..settings.max_refinements {
        if (fc - fd).abs() < settings.tolerance_bits && fc.is_finite() && fd.is_finite() {
            break;
        }
        if fc >= fd {
            (b, d, fd) = (d, c, fc);
            c = b - phi * (b - a);
            fc = eval(c, &mut evaluations)?;
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + phi * (b - a);
            fd = eval(d, &mut evaluations)?;
        }
    }
    let best = (0..evaluations.len())
        .filter(|&k| evaluations[k].rate().is_some())
        .max_by(|&x, &y| {
            evaluations[x]
                .rate()
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&evaluations[y].rate().unwrap_or(f64::NEG_INFINITY))
        });
    Ok(SearchOutcome { evaluations, best })
}
