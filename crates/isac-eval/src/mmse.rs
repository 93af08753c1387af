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

struct GridPoint {
    theta: f64,
    log_prior: f64,
    energy: f64,
}

/// The grid-posterior MMSE estimator for one transmit covariance.
pub struct GridMmse {
    setting: PcrbSetting,
    probe: Mat<c64>,
    grid: Vec<GridPoint>,
    /// `conj(b_i) c_j` of every grid point, column-major `(i, j)` like `Y`, the points one after
    /// another; real and imaginary parts apart, so that `b^H Y c` is one contiguous dot product
    /// per point (it runs for every point of every trial).
    weights: [Vec<f64>; 2],
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

/// Lanes of [`weighted_sum`]'s partial sums (independent, so the loop vectorises).
const LANES: usize = 4;

/// `sum_k w_k y_k` of complex vectors given as real and imaginary parts: here `b^H Y c` as
/// `sum_ij conj(b_i) c_j Y_ij`.
fn weighted_sum([w_re, w_im]: [&[f64]; 2], [y_re, y_im]: [&[f64]; 2]) -> c64 {
    let (mut re, mut im) = ([0.0; LANES], [0.0; LANES]);
    let whole = w_re.len() / LANES * LANES;
    let chunks = w_re[..whole]
        .chunks_exact(LANES)
        .zip(w_im[..whole].chunks_exact(LANES))
        .zip(y_re[..whole].chunks_exact(LANES))
        .zip(y_im[..whole].chunks_exact(LANES));
    for (((a, b), c), d) in chunks {
        for l in 0..LANES {
            re[l] += a[l] * c[l] - b[l] * d[l];
            im[l] += a[l] * d[l] + b[l] * c[l];
        }
    }
    let mut z = c64::new(re.iter().sum(), im.iter().sum());
    for k in whole..w_re.len() {
        z += c64::new(w_re[k], w_im[k]) * c64::new(y_re[k], y_im[k]);
    }
    z
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
        let mut grid = Vec::new();
        let mut weights = [Vec::new(), Vec::new()];
        for (lo, hi) in merged {
            let count = ((hi - lo) / step).ceil() as usize;
            for i in 0..=count {
                let theta = lo + i as f64 * step;
                let b = setting.rx.steering(theta);
                let c = probe.adjoint() * setting.tx.steering(theta);
                let energy = col_norm_sqr(&b) * col_norm_sqr(&c);
                for cj in c.iter() {
                    for bi in b.iter() {
                        let w = bi.conj() * cj;
                        weights[0].push(w.re);
                        weights[1].push(w.im);
                    }
                }
                grid.push(GridPoint {
                    theta,
                    log_prior: prior.log_pdf(theta),
                    energy,
                });
            }
        }
        Ok(Self {
            setting: setting.clone(),
            probe,
            grid,
            weights,
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

    /// Posterior mean of `theta` given one echo block.
    pub fn estimate(&self, y: MatRef<'_, c64>) -> f64 {
        let noise = self.setting.noise_radar;
        let len = y.nrows() * y.ncols();
        let (mut y_re, mut y_im) = (Vec::with_capacity(len), Vec::with_capacity(len));
        for j in 0..y.ncols() {
            for z in y.col(j).iter() {
                y_re.push(z.re);
                y_im.push(z.im);
            }
        }
        let log_post: Vec<f64> = self
            .grid
            .iter()
            .zip(self.weights[0].chunks_exact(len))
            .zip(self.weights[1].chunks_exact(len))
            .map(|((g, w_re), w_im)| {
                if g.energy <= 0.0 {
                    return g.log_prior;
                }
                let z = weighted_sum([w_re, w_im], [&y_re, &y_im]);
                g.log_prior + z.norm_sqr() / (noise * g.energy) - g.energy.ln()
            })
            .collect();
        let max = log_post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut num, mut den) = (0.0, 0.0);
        for (g, lp) in self.grid.iter().zip(&log_post) {
            let w = (lp - max).exp();
            num += w * g.theta;
            den += w;
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

    /// The grid statistic against faer's `b^H Y c`, on a length that is not a multiple of the
    /// lanes.
    #[test]
    fn weighted_sum_is_the_bilinear_form() {
        let mut rng = stream(3, [0; 3]);
        let (nr, nc) = (3, 5);
        let b = Col::from_fn(nr, |_| complex_normal(&mut rng, 1.0));
        let c = Col::from_fn(nc, |_| complex_normal(&mut rng, 1.0));
        let y = Mat::from_fn(nr, nc, |_, _| complex_normal(&mut rng, 1.0));
        let direct = b.adjoint() * &y * &c;
        let (mut w, mut v) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
        for j in 0..nc {
            for i in 0..nr {
                let x = b[i].conj() * c[j];
                w[0].push(x.re);
                w[1].push(x.im);
                v[0].push(y[(i, j)].re);
                v[1].push(y[(i, j)].im);
            }
        }
        let z = weighted_sum([&w[0], &w[1]], [&v[0], &v[1]]);
        assert!(
            (z - direct).norm() < 1e-12 * direct.norm().max(1.0),
            "{z} vs {direct}"
        );
    }
}
