//! Posterior-mean (MMSE) estimate of the target angle on a grid, and its Monte Carlo MSE.
//!
//! Echo model of Hou & Zhang eq. (8) over a known probing block `X` with `X X^H = R`:
//! `Y = beta b(theta) a(theta)^H X + Z`, `Z ~ CN(0, sigma_R^2 I)`, `theta` from the mixture prior.
//! `beta` is unknown: it is integrated out under a flat prior, which gives
//! `p(theta | Y) ~ p(theta) exp(|b^H Y c|^2 / (sigma_R^2 e)) / e` with `c = X^H a(theta)`,
//! `e = ||M X||_F^2 = ||b||^2 ||c||^2`. The MSE of this estimator is what the PCRB bounds.

use faer::{Col, Mat, MatRef, Side, c64};
use isac_bounds::PcrbSetting;
use isac_channel::rng::{complex_normal, stream, uniform_phase};
use rayon::prelude::*;
use serde::Serialize;

use crate::EvalError;

/// Grid points per posterior standard deviation (trapezoid sums of smooth bells converge
/// exponentially in this number; 4 already gives ~1e-10 relative accuracy).
const POINTS_PER_STD: f64 = 4.0;
/// Half-width of the grid around each prior mean, in prior standard deviations.
const HALF_WIDTH_STDS: f64 = 10.0;
/// Largest grid built (memory ~50 MB); a narrower posterior is refused, not approximated.
pub const MAX_GRID_POINTS: usize = 200_000;

/// One grid point: `ln p(theta | Y) = offset + gain |b^H Y c|^2` up to a constant.
struct GridPoint {
    theta: f64,
    /// `ln p(theta) - ln e` (`ln p(theta)` where `e = 0`).
    offset: f64,
    /// `1 / (sigma_R^2 e)` (0 where `e = 0`: no echo energy, the prior alone).
    gain: f64,
}

/// The grid-posterior MMSE estimator for one transmit covariance.
pub struct GridMmse {
    setting: PcrbSetting,
    probe: Mat<c64>,
    grid: Vec<GridPoint>,
    /// The statistic through its rates: with `W = Y X^H`, `b^H Y c = b^H W a = sum_mn W_mn
    /// exp(j (k_n - k'_m) sin theta)` (the arrays' [`phase_rates`](isac_channel::Ula::phase_rates)
    /// `k` and `k'`), and two ULAs of one spacing have only `Nt + Nr - 1` distinct rates. `rate_of`
    /// gives each entry of `W` (column-major) its rate's index.
    rate_of: Vec<usize>,
    /// `exp(j f sin theta)` of every grid point at every distinct rate `f` (a rate's points one
    /// after another), real and imaginary parts apart, so that the statistic of every point is
    /// summed rate by rate along the grid in contiguous (vectorised) loops: it runs for every
    /// point of every trial.
    phasors: [Vec<f64>; 2],
}

/// Monte Carlo estimate of a mean squared error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MseEstimate {
    /// Sample mean of the squared error (rad^2).
    pub mse: f64,
    /// Half-width of its 95% confidence interval ([`Z95`](crate::secrecy::Z95) standard errors).
    pub ci95: f64,
    /// Number of trials.
    pub trials: usize,
}

fn col_norm_sqr(x: &Col<c64>) -> f64 {
    (0..x.nrows()).map(|i| x[i].norm_sqr()).sum()
}

/// The distinct rates `f = k_n - k'_m` of the transmit (`k`) and receive (`k'`) phase rates,
/// and the index of each pair's rate, pairs column-major `(m, n)` like `W`. Rates that agree to
/// rounding (1e-12 of the largest) are one.
fn distinct_rates(tx: &[f64], rx: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let pairs: Vec<f64> = tx
        .iter()
        .flat_map(|kn| rx.iter().map(move |km| kn - km))
        .collect();
    let tolerance = 1e-12 * pairs.iter().fold(0.0_f64, |a, f| a.max(f.abs()));
    let mut sorted = pairs.clone();
    sorted.sort_by(f64::total_cmp);
    let mut rates: Vec<f64> = Vec::new();
    for f in sorted {
        if rates.last().is_none_or(|last| f - last > tolerance) {
            rates.push(f);
        }
    }
    let index = pairs
        .iter()
        .map(|f| {
            rates
                .iter()
                .position(|r| (r - f).abs() <= tolerance)
                .expect("every pair's rate is listed")
        })
        .collect();
    (rates, index)
}

/// `X` with `X X^H = R`: eigenvectors scaled by the square roots of the eigenvalues.
fn probe_matrix(r: MatRef<'_, c64>) -> Result<Mat<c64>, EvalError> {
    let evd = r.self_adjoint_eigen(Side::Lower).map_err(|_| {
        isac_channel::ChannelError::InvalidParameter {
            name: "covariance".into(),
            value: "eigendecomposition failed".into(),
            requirement: "must be Hermitian PSD".into(),
        }
    })?;
    let (u, s) = (evd.U(), evd.S());
    Ok(Mat::from_fn(r.nrows(), r.ncols(), |i, j| {
        u[(i, j)] * s[j].re.max(0.0).sqrt()
    }))
}

impl GridMmse {
    /// Builds the grid: `theta_k +- 10 sigma_theta` around every mean, step a quarter of the
    /// narrowest posterior width (the smaller of `sigma_theta` and the local Bayesian CRB).
    pub fn new(setting: &PcrbSetting, r: MatRef<'_, c64>) -> Result<Self, EvalError> {
        let probe = probe_matrix(r)?;
        let prior = &setting.prior;
        let s = prior.std();
        let data_scale = 2.0 * setting.beta.powi(2) / setting.noise_radar;
        let narrowest = prior
            .means()
            .iter()
            .map(|&th| {
                let (a, da) = setting.tx.steering_and_derivative(th);
                let (b, db) = setting.rx.steering_and_derivative(th);
                let c = probe.adjoint() * &a;
                let dc = probe.adjoint() * &da;
                // Mdot X = db c^H + b dc^H; M X = b c^H.
                let mx = Mat::from_fn(b.nrows(), c.nrows(), |i, j| b[i] * c[j].conj());
                let dx = Mat::from_fn(b.nrows(), c.nrows(), |i, j| {
                    db[i] * c[j].conj() + b[i] * dc[j].conj()
                });
                let (e, d) = (mx.squared_norm_l2(), dx.squared_norm_l2());
                let mut m = c64::new(0.0, 0.0);
                for j in 0..mx.ncols() {
                    for i in 0..mx.nrows() {
                        m += dx[(i, j)].conj() * mx[(i, j)];
                    }
                }
                let info = if e > 0.0 {
                    data_scale * (d - m.norm_sqr() / e)
                } else {
                    0.0
                };
                1.0 / (info + 1.0 / (s * s)).sqrt()
            })
            .fold(s, f64::min);
        let step = narrowest / POINTS_PER_STD;
        let mut intervals: Vec<(f64, f64)> = prior
            .means()
            .iter()
            .map(|m| (m - HALF_WIDTH_STDS * s, m + HALF_WIDTH_STDS * s))
            .collect();
        intervals.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (lo, hi) in intervals {
            match merged.last_mut() {
                Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        let total: f64 = merged.iter().map(|(lo, hi)| (hi - lo) / step).sum();
        if !(total.is_finite() && total < MAX_GRID_POINTS as f64) {
            return Err(EvalError::GridTooLarge {
                points: total,
                max: MAX_GRID_POINTS,
            });
        }
        let (rates, rate_of) = distinct_rates(&setting.tx.phase_rates(), &setting.rx.phase_rates());
        let mut grid = Vec::new();
        for (lo, hi) in merged {
            let count = ((hi - lo) / step).ceil() as usize;
            for i in 0..=count {
                let theta = lo + i as f64 * step;
                let b = setting.rx.steering(theta);
                let c = probe.adjoint() * setting.tx.steering(theta);
                let energy = col_norm_sqr(&b) * col_norm_sqr(&c);
                let log_prior = prior.log_pdf(theta);
                grid.push(if energy > 0.0 {
                    GridPoint {
                        theta,
                        offset: log_prior - energy.ln(),
                        gain: 1.0 / (setting.noise_radar * energy),
                    }
                } else {
                    GridPoint {
                        theta,
                        offset: log_prior,
                        gain: 0.0,
                    }
                });
            }
        }
        let mut phasors = [Vec::new(), Vec::new()];
        for f in &rates {
            for g in &grid {
                let z = c64::cis(f * g.theta.sin());
                phasors[0].push(z.re);
                phasors[1].push(z.im);
            }
        }
        Ok(Self {
            setting: setting.clone(),
            probe,
            grid,
            rate_of,
            phasors,
        })
    }

    /// Number of grid points.
    pub fn grid_len(&self) -> usize {
        self.grid.len()
    }

    /// One echo block `Y = beta M(theta) X + Z`.
    pub fn echo(&self, theta: f64, beta: c64, rng: &mut impl rand::Rng) -> Mat<c64> {
        let b = self.setting.rx.steering(theta);
        let c = self.probe.adjoint() * self.setting.tx.steering(theta);
        let noise = self.setting.noise_radar;
        Mat::from_fn(b.nrows(), c.nrows(), |i, j| {
            beta * b[i] * c[j].conj() + complex_normal(rng, noise)
        })
    }

    /// `sum_mn W_mn` over the entries of `W = Y X^H` of each distinct rate, real and imaginary
    /// parts apart.
    fn rate_sums(&self, y: MatRef<'_, c64>) -> [Vec<f64>; 2] {
        let w = y * self.probe.adjoint();
        let rates = self.phasors[0].len() / self.grid.len();
        let mut sums = [vec![0.0; rates], vec![0.0; rates]];
        for j in 0..w.ncols() {
            for (i, z) in w.col(j).iter().enumerate() {
                let r = self.rate_of[j * w.nrows() + i];
                sums[0][r] += z.re;
                sums[1][r] += z.im;
            }
        }
        sums
    }

    /// `b^H Y c` at every grid point from [`rate_sums`](Self::rate_sums), real and imaginary
    /// parts apart.
    fn statistics(&self, sums: &[Vec<f64>; 2]) -> [Vec<f64>; 2] {
        let points = self.grid.len();
        let (mut re, mut im) = (vec![0.0; points], vec![0.0; points]);
        let rates = self.phasors[0]
            .chunks_exact(points)
            .zip(self.phasors[1].chunks_exact(points));
        for ((p_re, p_im), (&w_re, &w_im)) in rates.zip(sums[0].iter().zip(&sums[1])) {
            for (((r, i), a), b) in re.iter_mut().zip(im.iter_mut()).zip(p_re).zip(p_im) {
                *r += w_re * a - w_im * b;
                *i += w_re * b + w_im * a;
            }
        }
        [re, im]
    }

    /// Posterior mean of `theta` given one echo block.
    pub fn estimate(&self, y: MatRef<'_, c64>) -> f64 {
        let [re, im] = self.statistics(&self.rate_sums(y));
        let log_post: Vec<f64> = self
            .grid
            .iter()
            .zip(re.iter().zip(&im))
            .map(|(g, (r, i))| g.offset + g.gain * (r * r + i * i))
            .collect();
        let max = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for (g, lp) in self.grid.iter().zip(&log_post) {
            // exp underflows to a subnormal below -708: such weights change neither sum (the
            // largest weight is 1).
            let d = lp - max;
            if d > -708.0 {
                let w = d.exp();
                num += w * g.theta;
                den += w;
            }
        }
        num / den
    }

    /// Monte Carlo MSE over `trials` draws of `(theta, phase of beta, noise)`; trial `t` uses
    /// the stream `(seed, [point, t, 0])`, so the result does not depend on the thread count.
    pub fn mse(&self, trials: usize, seed: u64, point: u64) -> MseEstimate {
        let errors: Vec<f64> = (0..trials)
            .into_par_iter()
            .map(|t| {
                let mut rng = stream(seed, [point, t as u64, 0]);
                let theta = self.setting.prior.sample(&mut rng);
                let beta = uniform_phase(&mut rng) * self.setting.beta;
                let y = self.echo(theta, beta, &mut rng);
                (self.estimate(y.as_ref()) - theta).powi(2)
            })
            .collect();
        let n = trials as f64;
        let mse = errors.iter().sum::<f64>() / n;
        let var = errors.iter().map(|e| (e - mse).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        MseEstimate {
            mse,
            ci95: crate::secrecy::Z95 * (var / n).sqrt(),
            trials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statistic through the rate sums against faer's `b^H Y X^H a` at every grid point:
    /// arrays of one spacing (their rates merge to `Nt + Nr - 1`) and of two (none merge).
    #[test]
    fn rate_sums_give_the_bilinear_form() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/hou2023.toml");
        let scenario =
            isac_channel::scenario::SecureIsacScenario::from_path(std::path::Path::new(path))
                .unwrap();
        let mut rng = stream(5, [0; 3]);
        for (nt, nr, tx_spacing, rx_spacing, rates) in
            [(8, 10, 0.5, 0.5, 17), (4, 3, 0.5, 0.37, 12)]
        {
            let mut setting = PcrbSetting::from_scenario(&scenario);
            setting.tx = isac_channel::Ula::new(nt, tx_spacing).unwrap();
            setting.rx = isac_channel::Ula::new(nr, rx_spacing).unwrap();
            setting.prior = setting.prior.with_std(0.05).unwrap();
            let a = Mat::from_fn(nt, nt, |_, _| complex_normal(&mut rng, 1.0));
            let r = &a * a.adjoint();
            let est = GridMmse::new(&setting, r.as_ref()).unwrap();
            let y = Mat::from_fn(nr, nt, |_, _| complex_normal(&mut rng, 1.0));
            let sums = est.rate_sums(y.as_ref());
            assert_eq!(sums[0].len(), rates);
            let [re, im] = est.statistics(&sums);
            for (g, z) in est.grid.iter().zip(re.iter().zip(&im)) {
                let z = c64::new(*z.0, *z.1);
                let b = setting.rx.steering(g.theta);
                let c = est.probe.adjoint() * setting.tx.steering(g.theta);
                let direct = b.adjoint() * &y * &c;
                assert!(
                    (z - direct).norm() < 1e-10 * direct.norm().max(1.0),
                    "{z} vs {direct} at {}",
                    g.theta
                );
            }
        }
    }
}
