//! Frequency-selective fading of paper 003 (docs/conventions.md, "Geometry and channels"): channels on N
//! subcarriers from an L-tap delay line, Eve's Rician or pure line-of-sight channel toward the
//! sensing target, and the CSI and AoA errors of the estimated quantities.

use std::cell::RefCell;

use faer::{Mat, MatRef, c64};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::FftPlanner;

use crate::ChannelError;
use crate::rng::{complex_normal, stream, uniform_phase};
use crate::scenario::FriendlyJammingScenario;
use crate::scenario::friendly_jamming::EveModel;
use crate::units::db_to_linear;

thread_local! {
    /// rustfft's planner, which keeps one plan per length (a thread's delay lines share them).
    static PLANNER: RefCell<FftPlanner<f64>> = RefCell::new(FftPlanner::new());
}

/// An L-tap delay line observed on N subcarriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayLine {
    subcarriers: usize,
    taps: usize,
}

impl DelayLine {
    /// `1 <= taps <= subcarriers`.
    pub fn new(subcarriers: usize, taps: usize) -> Result<Self, ChannelError> {
        if subcarriers == 0 || taps == 0 || taps > subcarriers {
            return Err(ChannelError::invalid(
                "taps",
                format!("{taps} taps on {subcarriers} subcarriers"),
                "needs 1 <= taps <= subcarriers",
            ));
        }
        Ok(Self { subcarriers, taps })
    }

    /// A `rows x cols` channel on every subcarrier: every entry has i.i.d. taps
    /// `h_l ~ CN(0, 1/L)` and frequency response `H[n] = sum_l h_l exp(-j 2 pi n l / N)`, so each
    /// entry is CN(0, 1) on each subcarrier (L = N: independent across subcarriers).
    ///
    /// The taps are drawn tap by tap, each tap's matrix column-major (the order `Mat::from_fn`
    /// draws in), and each entry's response is the FFT of its taps zero-padded to N: this runs
    /// for every training sample, and the direct sum's N L multiply-adds per entry were most of
    /// a 64-subcarrier batch.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, rows: usize, cols: usize) -> Vec<Mat<c64>> {
        let (n, l, len) = (self.subcarriers, self.taps, rows * cols);
        // Entry-major: entry e = i + j rows holds its N (zero-padded) taps at e N ..
        let mut spectra = vec![c64::new(0.0, 0.0); len * n];
        for tap in 0..l {
            for e in 0..len {
                spectra[e * n + tap] = complex_normal(rng, 1.0 / l as f64);
            }
        }
        if n > 1 {
            let fft = PLANNER.with(|planner| planner.borrow_mut().plan_fft_forward(n));
            fft.process(&mut spectra);
        }
        (0..n)
            .map(|sc| Mat::from_fn(rows, cols, |i, j| spectra[(i + j * rows) * n + sc]))
            .collect()
    }

    /// `E[H[n] H[m]^*]` of one entry: `(1/L) sum_l exp(-j 2 pi (n - m) l / N)`.
    pub fn correlation(&self, n: usize, m: usize) -> c64 {
        let d = n as f64 - m as f64;
        (0..self.taps)
            .map(|l| c64::cis(-std::f64::consts::TAU * d * l as f64 / self.subcarriers as f64))
            .sum::<c64>()
            / self.taps as f64
    }
}

/// `sqrt(K / (K + 1)) los + sqrt(1 / (K + 1)) nlos` on every subcarrier (unit power per entry
/// when `los` has unit-modulus entries and `nlos` is CN(0, 1)).
pub fn rician(nlos: &[Mat<c64>], los: MatRef<'_, c64>, k_factor: f64) -> Vec<Mat<c64>> {
    let (a, b) = (
        (k_factor / (k_factor + 1.0)).sqrt(),
        (1.0 / (k_factor + 1.0)).sqrt(),
    );
    nlos.iter()
        .map(|h| Mat::from_fn(h.nrows(), h.ncols(), |i, j| los[(i, j)] * a + h[(i, j)] * b))
        .collect()
}

/// The estimate `H + dH`, `dH` i.i.d. CN(0, variance).
pub fn with_csi_error<R: Rng + ?Sized>(rng: &mut R, h: MatRef<'_, c64>, variance: f64) -> Mat<c64> {
    Mat::from_fn(h.nrows(), h.ncols(), |i, j| {
        h[(i, j)] + complex_normal(rng, variance)
    })
}

/// One channel realisation of a paper-003 scenario on all its subcarriers.
#[derive(Debug, Clone)]
pub struct Realization {
    /// The users' channels `H^(n)` (K x Nt, row k is `h_k^H`).
    pub users: Vec<Mat<c64>>,
    /// The BS's estimates `H^(n) + dH^(n)`, `dH ~ CN(0, rho)`.
    pub users_estimated: Vec<Mat<c64>>,
    /// Eve's channels `H_E^(n)` (Nt x Ne).
    pub eve: Vec<Mat<c64>>,
    /// The estimated target angles `(theta + e_theta, phi + e_phi)`, rad.
    pub target_estimated: (f64, f64),
}

/// Stream index of channel realisations.
const STREAM_REALIZATION: u64 = 0x4348_414e; // "CHAN"

/// Eve's channel on every subcarrier of a realisation: the extension seam behind [`realize`].
/// [`EveModel`] (the scenario file's `channel.eve_model`) implements it; a user's own model
/// (an Eve that wanders around the target, a cluster of scatterers) implements it outside this
/// crate and is evaluated on the same users' draws.
pub trait EveChannelModel: Send + Sync {
    /// The model's name in tables and figures.
    fn name(&self) -> &str;

    /// Eve's channels `H_E^(n)` (Nt x Ne, one per subcarrier) of one realisation.
    fn channels(&self, draw: EveDraw<'_>) -> Result<Vec<Mat<c64>>, ChannelError>;
}

/// What an [`EveChannelModel`] draws one realisation from.
pub struct EveDraw<'a> {
    /// The scenario (arrays, target, Ne, subcarriers).
    pub scenario: &'a FriendlyJammingScenario,
    /// The realisation's own delay-line draw for Eve: CN(0, 1) entries, correlated across
    /// subcarriers as the scenario's taps make them.
    pub nlos: Vec<Mat<c64>>,
    /// The realisation's stream after the users' and that draw, for whatever else the model
    /// needs. Each realisation has its own stream, so a model is reproducible and independent
    /// of the order draws are made in.
    pub rng: &'a mut dyn Rng,
}

impl EveChannelModel for EveModel {
    fn name(&self) -> &str {
        EveModel::name(*self)
    }

    /// Rayleigh: the delay-line draw itself. Her line of sight (`rician`, `los`) is
    /// `a(theta + offset, phi)` times unit-modulus random phases, flat over subcarriers.
    fn channels(&self, draw: EveDraw<'_>) -> Result<Vec<Mat<c64>>, ChannelError> {
        let EveDraw {
            scenario: s,
            nlos,
            rng,
        } = draw;
        let c = &s.file().channel;
        let (theta, phi) = s.target();
        let mut line_of_sight =
            || eve_line_of_sight(s, (theta + c.eve_offset_deg.to_radians(), phi), rng);
        Ok(match self {
            EveModel::Rayleigh => nlos,
            EveModel::Rician => rician(
                &nlos,
                line_of_sight().as_ref(),
                db_to_linear(c.eve_k_factor_db),
            ),
            // Flat over subcarriers (the NLoS draw keeps every other stream where it was).
            EveModel::Los => vec![line_of_sight(); nlos.len()],
        })
    }
}

/// Eve's pure line-of-sight channel from direction `(theta, phi)` (Nt x Ne): every one of her
/// antennas sees `a(theta, phi)` times its own unit-modulus random phase, drawn from `rng`.
pub fn eve_line_of_sight(
    s: &FriendlyJammingScenario,
    (theta, phi): (f64, f64),
    rng: &mut dyn Rng,
) -> Mat<c64> {
    let (nt, ne) = (s.tx().elements(), s.eve_antennas());
    let a = s.tx().steering(theta, phi).a;
    let phases: Vec<c64> = (0..ne).map(|_| uniform_phase(rng)).collect();
    Mat::from_fn(nt, ne, |i, j| a[i] * phases[j])
}

/// Realisation `index` of the scenario (its own seeded stream, so realisations can be drawn in
/// any order or in parallel). Eve's model is passed explicitly so that several can be compared
/// on the same users' draws.
pub fn realize(
    s: &FriendlyJammingScenario,
    eve: &dyn EveChannelModel,
    csi_error_var: f64,
    index: u64,
) -> Result<Realization, ChannelError> {
    let c = &s.file().channel;
    let line = DelayLine::new(s.subcarriers(), c.taps)?;
    let (k, nt, ne) = (s.users(), s.tx().elements(), s.eve_antennas());
    let mut rng = stream(s.seed(), [STREAM_REALIZATION, index, 0]);
    let users = line.draw(&mut rng, k, nt);
    let nlos = line.draw(&mut rng, nt, ne);
    let eve = eve.channels(EveDraw {
        scenario: s,
        nlos,
        rng: &mut rng,
    })?;
    let (theta, phi) = s.target();
    // The estimation errors: the target angles' first, then the CSI error, whose draws (one per
    // entry and subcarrier, a third of a realisation's) are skipped where it is zero.
    let mut err = stream(s.seed(), [STREAM_REALIZATION, index, 1]);
    let aoa = c.aoa_error_std_deg.to_radians();
    let e_theta: f64 = StandardNormal.sample(&mut err);
    let e_phi: f64 = StandardNormal.sample(&mut err);
    let users_estimated = if csi_error_var == 0.0 {
        users.clone()
    } else {
        users
            .iter()
            .map(|h| with_csi_error(&mut err, h.as_ref(), csi_error_var))
            .collect()
    };
    Ok(Realization {
        users,
        users_estimated,
        eve,
        target_estimated: (theta + aoa * e_theta, phi + aoa * e_phi),
    })
}

#[cfg(test)]
mod tests;
