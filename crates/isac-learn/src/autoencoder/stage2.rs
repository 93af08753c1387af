//! Stage 2 of Algorithm 1: the FJ beam of each subcarrier is refined by probing candidate beams
//! in the null space of the estimated channel; a candidate is accepted only if it improves the
//! objective (the angle-Fisher trace of eq. 17, or the jamming power toward the target) and the
//! frame's CRLBs stay within `CRLB_0` (or move toward it), otherwise the step is discarded and
//! shortened.
//!
//! The FIM of a candidate is the echo model's `J_ij = 2 c_hat zeta Re((dG_i v)^H dG_j v)` at the
//! estimated angles. Its one unknown, the echo scale `c_hat = |alpha|^2 / sigma_s^2`, is what
//! the BS learns from radar echoes: [`calibrate`] runs the neural FIM estimator (eqs. 12-16) on
//! the scenario's probe and fits the scale. Since the FIM is linear in the transmit covariance
//! (Theorem 1), that one estimate fixes the FIM of every candidate.

use burn::tensor::Device;
use faer::{Col, Mat, c64};
use isac_bounds::{SensingChannel, angle_information_matrix};
use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::CrlbConvention;

use crate::config::{FimEstimatorSection, Stage2Objective};

use super::RowDesign;
use crate::LearnError;
use crate::fim_estimator::{FimEstimatorSettings, Probe, estimate, relative_frobenius_error};

/// The echo scale measured by the neural FIM estimator.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FimCalibration {
    /// `c_hat`, the least-squares fit of the estimated FIM to the unit-scale analytic form.
    pub scale: f64,
    /// The scenario's true `c` (for reports only; the BS never sees it).
    pub true_scale: f64,
    /// Relative Frobenius error of the estimated FIM.
    pub relative_error: f64,
    /// Wall time of the estimate.
    pub seconds: f64,
}

/// Runs the neural FIM estimator (settings `f`, seeded by `seed`) on the scenario's probe and
/// fits `c_hat`.
pub fn calibrate(
    s: &FriendlyJammingScenario,
    f: &FimEstimatorSection,
    seed: u64,
    device: &Device,
) -> Result<FimCalibration, LearnError> {
    let probe = Probe::new(s, f.probe_power_fraction)?;
    let settings = FimEstimatorSettings::new(f, seed);
    let estimate = estimate(&probe, &settings, device)?;
    let truth = probe.analytic_fim()?;
    let c = probe.fim_scale();
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..2 {
        for j in 0..2 {
            let unit = truth[(i, j)] / c;
            num += estimate.fim[i][j] * unit;
            den += unit * unit;
        }
    }
    Ok(FimCalibration {
        scale: num / den,
        true_scale: c,
        relative_error: relative_frobenius_error(&estimate.fim, &truth),
        seconds: estimate.seconds,
    })
}

/// What stage 2 did to one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage2Outcome {
    /// Accepted candidate steps (all subcarriers).
    pub accepted: usize,
    /// Rejected candidate steps.
    pub rejected: usize,
    /// `[CRLB_theta, CRLB_phi]` of the frame after stage 2, with `c_hat` at the estimated angles.
    pub crlb: [f64; 2],
}

/// A complex matrix as column-major real and imaginary planes: [`Planes::apply`] then runs over
/// contiguous `f64` (vectorised) with the operations of `c64` arithmetic in the same order, so
/// its products are those of a `c64` loop, bit for bit. Stage 2 applies these matrices (a few
/// hundred entries) to every candidate of every subcarrier of every held-out frame.
struct Planes {
    rows: usize,
    re: Vec<f64>,
    im: Vec<f64>,
}

impl Planes {
    fn new(a: &Mat<c64>) -> Self {
        let entries = (0..a.ncols()).flat_map(|j| a.col_as_slice(j).iter());
        Self {
            rows: a.nrows(),
            re: entries.clone().map(|z| z.re).collect(),
            im: entries.map(|z| z.im).collect(),
        }
    }

    /// `out = A x`, accumulated in `acc` (the real and imaginary planes of `A`'s rows).
    fn apply(&self, x: &[c64], acc: &mut [Vec<f64>; 2], out: &mut [c64]) {
        let [acc_re, acc_im] = acc;
        acc_re.fill(0.0);
        acc_im.fill(0.0);
        let columns = self
            .re
            .chunks_exact(self.rows)
            .zip(self.im.chunks_exact(self.rows));
        for (&xj, (a_re, a_im)) in x.iter().zip(columns) {
            for (((o_re, o_im), &ar), &ai) in
                acc_re.iter_mut().zip(acc_im.iter_mut()).zip(a_re).zip(a_im)
            {
                *o_re += ar * xj.re - ai * xj.im;
                *o_im += ar * xj.im + ai * xj.re;
            }
        }
        for ((o, &re), &im) in out.iter_mut().zip(acc_re.iter()).zip(acc_im.iter()) {
            *o = c64::new(re, im);
        }
    }
}

/// The sensing operators and buffers for their echoes of one column.
struct Echoes {
    operators: [Planes; 2],
    y: [Vec<c64>; 2],
    acc: [Vec<f64>; 2],
}

impl Echoes {
    fn new(ch: &SensingChannel) -> Self {
        let nr = ch.d_theta.nrows();
        Self {
            operators: [Planes::new(&ch.d_theta), Planes::new(&ch.d_phi)],
            y: [vec![c64::ZERO; nr], vec![c64::ZERO; nr]],
            acc: [vec![0.0; nr], vec![0.0; nr]],
        }
    }

    /// 2 x 2 FIM per unit `2 c` of one column `x`: `Re((dG_i x)^H dG_j x)`.
    fn fim(&mut self, x: &[c64]) -> [[f64; 2]; 2] {
        for (d, y) in self.operators.iter().zip(&mut self.y) {
            d.apply(x, &mut self.acc, y);
        }
        let mut j = [[0.0; 2]; 2];
        for (a, ya) in self.y.iter().enumerate() {
            for (b, yb) in self.y.iter().enumerate() {
                j[a][b] = ya.iter().zip(yb).map(|(p, q)| (p.conj() * q).re).sum();
            }
        }
        j
    }

    /// The FIM of [`Self::fim`] summed over the columns of `x`.
    fn fim_of_columns(&mut self, x: &Mat<c64>) -> [[f64; 2]; 2] {
        (0..x.ncols()).fold([[0.0; 2]; 2], |acc, c| {
            add(acc, self.fim(x.col_as_slice(c)), 1.0)
        })
    }
}

fn add(a: [[f64; 2]; 2], b: [[f64; 2]; 2], s: f64) -> [[f64; 2]; 2] {
    let mut out = a;
    for i in 0..2 {
        for j in 0..2 {
            out[i][j] += s * b[i][j];
        }
    }
    out
}

/// `[CRLB_theta, CRLB_phi]` of a 2 x 2 FIM (infinite when singular).
pub fn crlbs(j: [[f64; 2]; 2], convention: CrlbConvention) -> [f64; 2] {
    match convention {
        CrlbConvention::Paper => [1.0 / j[0][0], 1.0 / j[1][1]],
        CrlbConvention::Joint => {
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            if det > 0.0 {
                [j[1][1] / det, j[0][0] / det]
            } else {
                [f64::INFINITY; 2]
            }
        }
    }
}

/// The accept/reject rule and the objective of stage 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage2Rule {
    /// `T c_hat`, the frame FIM per unit covariance term.
    pub scale: f64,
    /// `CRLB_0`, rad^2.
    pub crlb_max: f64,
    /// Which CRLB the constraint uses.
    pub convention: CrlbConvention,
    /// Candidates probed per subcarrier.
    pub iterations: usize,
    /// Where the FJ beam is steered.
    pub objective: Stage2Objective,
}

/// Stage 2 on one frame: `rows` are the N subcarriers' designs (the steered FJ beam is the first
/// jamming column of each; any further columns stay as they are), `projectors` the null-space
/// projectors of the estimated channels, `ch` the sensing channel and `steering` the transmit
/// steering vector `a` at the estimated angles. Each subcarrier probes up to `rule.iterations`
/// unit candidates `u'` (the beam keeps the FJ power the encoder chose):
/// - [`Stage2Objective::FisherTrace`] (eq. 17): `P (u + s M u / |M u|)`, accepted if it raises
///   `tr J`; the step `s` doubles on success and halves on failure;
/// - [`Stage2Objective::TargetPower`]: `P ((1 - t) u + t w)` toward `w = P a / |P a|`, accepted if
///   it raises `|a^H u'|`; `t` starts at 1 and halves on failure.
///
/// Either way a candidate must also keep the frame's CRLBs below `crlb_max` (or, while they
/// exceed it, lower their sum).
pub fn refine_jamming(
    rows: &mut [RowDesign],
    projectors: &[Mat<c64>],
    ch: &SensingChannel,
    steering: &Col<c64>,
    rule: &Stage2Rule,
) -> Result<Stage2Outcome, LearnError> {
    if rows.len() != projectors.len() || rows.iter().any(|r| r.jamming.ncols() == 0) {
        return Err(LearnError::Size {
            what: "stage-2 frame (a steered jamming column on every subcarrier)",
            expected: projectors.len(),
            got: rows.len(),
        });
    }
    let m = Planes::new(&angle_information_matrix(ch));
    let mut echoes = Echoes::new(ch);
    let mut frame = rows.iter().fold([[0.0; 2]; 2], |acc, r| {
        let f = Mat::from_fn(r.jamming.nrows(), r.beams.len(), |i, j| r.beams[j][i]);
        let beams = echoes.fim_of_columns(&f);
        add(add(acc, beams, 1.0), echoes.fim_of_columns(&r.jamming), 1.0)
    });
    let fime = |j: [[f64; 2]; 2]| crlbs(add([[0.0; 2]; 2], j, 2.0 * rule.scale), rule.convention);
    let steering: Vec<c64> = steering.iter().copied().collect();
    let toward_target = |u: &[c64]| {
        let inner: c64 = steering.iter().zip(u).map(|(a, x)| a.conj() * x).sum();
        inner.norm()
    };
    let norm = |x: &[c64]| x.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    let nt = steering.len();
    let (mut g, mut blend, mut cand, mut target) = (
        vec![c64::ZERO; nt],
        vec![c64::ZERO; nt],
        vec![c64::ZERO; nt],
        vec![c64::ZERO; nt],
    );
    let mut acc = [vec![0.0; nt], vec![0.0; nt]];
    let (mut accepted, mut rejected) = (0, 0);
    for (row, p) in rows.iter_mut().zip(projectors) {
        let p = Planes::new(p);
        let zeta = row.jamming.col(0).squared_norm_l2();
        if zeta <= 0.0 {
            continue;
        }
        let mut u: Vec<c64> = row
            .jamming
            .col_as_slice(0)
            .iter()
            .map(|v| v / zeta.sqrt())
            .collect();
        let mut own = echoes.fim(&u);
        p.apply(&steering, &mut acc, &mut target);
        let target_norm = norm(&target);
        let mut step = 1.0;
        for _ in 0..rule.iterations {
            match rule.objective {
                Stage2Objective::FisherTrace => {
                    m.apply(&u, &mut acc, &mut g);
                    let gn = norm(&g);
                    if gn == 0.0 {
                        break;
                    }
                    for ((b, ui), gi) in blend.iter_mut().zip(&u).zip(&g) {
                        *b = ui + gi * (step / gn);
                    }
                }
                Stage2Objective::TargetPower => {
                    if target_norm == 0.0 {
                        break;
                    }
                    // Align the phase of w = P a / |P a| with u's, so the blend never cancels.
                    let inner: c64 = target.iter().zip(&u).map(|(w, x)| w.conj() * x).sum();
                    let phase = if inner.norm() > 0.0 {
                        inner / inner.norm()
                    } else {
                        c64::new(1.0, 0.0)
                    };
                    for ((b, ui), wi) in blend.iter_mut().zip(&u).zip(&target) {
                        *b = ui * (1.0 - step) + wi / target_norm * phase * step;
                    }
                }
            }
            p.apply(&blend, &mut acc, &mut cand);
            let size = norm(&cand);
            if size == 0.0 {
                step *= 0.5;
                rejected += 1;
                continue;
            }
            cand.iter_mut().for_each(|c| *c /= size);
            let cand_fim = echoes.fim(&cand);
            let next = add(add(frame, own, -zeta), cand_fim, zeta);
            let (now, then) = (fime(frame), fime(next));
            let met = |c: [f64; 2]| c.iter().all(|x| *x <= rule.crlb_max);
            // A met constraint must stay met; an unmet one must move toward it.
            let ok = if met(now) {
                met(then)
            } else {
                then[0] + then[1] < now[0] + now[1]
            };
            let better = match rule.objective {
                Stage2Objective::FisherTrace => next[0][0] + next[1][1] > frame[0][0] + frame[1][1],
                Stage2Objective::TargetPower => toward_target(&cand) > toward_target(&u),
            };
            if better && ok {
                u.copy_from_slice(&cand);
                own = cand_fim;
                frame = next;
                if rule.objective == Stage2Objective::FisherTrace {
                    step *= 2.0;
                }
                accepted += 1;
            } else {
                step *= 0.5;
                rejected += 1;
            }
        }
        for (i, ui) in u.iter().enumerate() {
            row.jamming[(i, 0)] = ui * zeta.sqrt();
        }
    }
    Ok(Stage2Outcome {
        accepted,
        rejected,
        crlb: fime(frame),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Planes::apply`] is the `c64` loop `y_i = sum_j a_ij x_j` (terms in column order), bit
    /// for bit.
    #[test]
    fn planes_apply_is_the_complex_loop_bit_for_bit() {
        for (rows, cols) in [(4, 16), (16, 16), (6, 5), (3, 7)] {
            let entry = |i: usize, j: usize, t: f64| {
                let k = (i * 31 + j * 17) as f64 + t;
                c64::new((0.37 * k).sin(), (0.91 * k).cos() / 3.0)
            };
            let a = Mat::from_fn(rows, cols, |i, j| entry(i, j, 0.0));
            let x: Vec<c64> = (0..cols).map(|j| entry(7, j, 0.5)).collect();
            let planes = Planes::new(&a);
            let mut acc = [vec![0.0; rows], vec![0.0; rows]];
            let mut out = vec![c64::ZERO; rows];
            planes.apply(&x, &mut acc, &mut out);
            for (i, o) in out.iter().enumerate() {
                let mut want = c64::ZERO;
                for (j, xj) in x.iter().enumerate() {
                    want += a[(i, j)] * xj;
                }
                assert_eq!(
                    (o.re.to_bits(), o.im.to_bits()),
                    (want.re.to_bits(), want.im.to_bits()),
                    "{rows} x {cols}, row {i}: {o} vs {want}"
                );
            }
        }
    }
}
