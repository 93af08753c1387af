//! Paper 003, Fig. 4: block error rates of the learned transceivers at every user (their own
//! decoders) and at Eve (an LMMSE combiner per stream and a nearest-point decision on the learned
//! constellation, which she is assumed to know: the worst case), single carrier, Rayleigh Eve.
//!
//! A block is one M-ary message per user. The Monte Carlo stops at `TARGET_ERRORS` errors or a
//! block cap; intervals are Wilson 95%. Users and Eve receive the deployed design (after stage
//! 2), the one every secrecy figure evaluates.

use std::fmt::Write as _;
use std::time::Instant;

use faer::{Col, c64};
use isac_channel::fading::realize;
use isac_channel::rng::{complex_normal, stream};
use isac_channel::scenario::friendly_jamming::EveModel;
use isac_learn::autoencoder::{
    Batch, Conditions, RowDesign, Scheme, TrainedAutoencoder, Transmission, null_space_projectors,
};
use isac_learn::{Tensor, TensorData};
use rayon::prelude::*;

use super::figures::{at_powers, binding_note, panel, plus_objective};
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::bler::{BlerCount, covariance_of, lmmse_combiner, nearest_point, run_until};
use crate::experiments::{Report, RunContext, section, table_head, verdict};
use crate::output::{Cell, Csv};
use crate::plot::{Series, Style};

/// `(snr_db, bler, ci_low, ci_high)`, one plotted point.
type ErrorBar = (f64, f64, f64, f64);

/// Block errors after which a point stops.
const TARGET_ERRORS: u64 = 200;
/// First realisation index of the BLER blocks (disjoint from training and evaluation draws).
const BLER_DRAWS: u64 = 1 << 42;
/// Stream index of Eve's jamming symbols and noise.
const STREAM_EVE: u64 = 0x4556_454e; // "EVEN"

fn variant(scheme: Scheme) -> Variant {
    Variant {
        stage2_objective: plus_objective(Evaluated::Learned(scheme)),
        ..Variant::single_carrier(EveModel::Rayleigh)
    }
}

/// The batch with user `k`'s message replaced by `m` on every row.
fn with_message(batch: &Batch, users: usize, order: usize, k: usize, m: usize) -> Batch {
    let [rows, width] = batch.features.dims();
    let start = width - users * order + k * order;
    let one_hot: Vec<f32> = (0..rows * order)
        .map(|i| if i % order == m { 1.0 } else { 0.0 })
        .collect();
    let device = batch.features.device();
    let replacement = Tensor::<2>::from_data(TensorData::new(one_hot, [rows, order]), &device);
    let mut parts = vec![batch.features.clone().narrow(1, 0, start), replacement];
    let rest = width - start - order;
    if rest > 0 {
        parts.push(batch.features.clone().narrow(1, start + order, rest));
    }
    let mut b = batch.clone();
    b.features = Tensor::cat(parts, 1);
    b
}

/// The deployed designs of single-carrier realisations `indices` at `p_db` (one row each),
/// with their batch: what users and Eve receive in the BLER Monte Carlo.
fn transmitted(
    lab: &Lab<'_>,
    model: &TrainedAutoencoder,
    p_db: f64,
    indices: &[u64],
) -> Result<(Batch, Vec<RowDesign>), EvalError> {
    let c = Conditions {
        p_db,
        crlb_db: model.setup.scenario.file().sensing.crlb_max_db,
    };
    let (batch, frames) = lab.deployed(model, indices, c)?;
    Ok((batch, frames.into_iter().flat_map(|f| f.rows).collect()))
}

/// Errors of one batch of blocks: per user (decoders) and Eve's per stream, summed over users.
fn errors(
    lab: &Lab<'_>,
    model: &TrainedAutoencoder,
    p_db: f64,
    first: u64,
    len: u64,
) -> Result<(Vec<u64>, u64), EvalError> {
    let setup = &model.setup;
    let s = &setup.scenario;
    let f = s.file();
    let (k, m, noise) = (s.users(), f.system.modulation_order, f.system.noise_power);
    let indices: Vec<u64> = (first..first + len).map(|i| BLER_DRAWS + i).collect();
    let (batch, actual) = transmitted(lab, model, p_db, &indices)?;
    let tx = Transmission::from_rows(&actual, &lab.device)?;
    let mut user_errors = vec![0u64; k];
    for (u, guess) in model.model.decide(&tx, &batch)?.into_iter().enumerate() {
        for (row, g) in guess.iter().enumerate() {
            user_errors[u] += u64::from(*g != batch.messages[row * k + u]);
        }
    }
    // Eve's decision points: per user, the deployed beams for each candidate message (stage 2
    // moves only the FJ beam, so it is skipped here; the channels, and so the projectors, are
    // the batch's).
    let projectors = null_space_projectors(&batch)?;
    let candidates: Vec<Vec<Vec<RowDesign>>> = (0..k)
        .map(|u| {
            (0..m)
                .map(|msg| {
                    let b = with_message(&batch, k, m, u, msg);
                    let frames = model.frames_projected(&b, false, &projectors)?;
                    Ok::<_, EvalError>(frames.into_iter().flat_map(|f| f.rows).collect())
                })
                .collect::<Result<_, _>>()
        })
        .collect::<Result<_, _>>()?;
    let eve_errors: u64 = indices
        .par_iter()
        .enumerate()
        .map(|(row, &index)| {
            let ch = &f.channel;
            let r = realize(s, &ch.eve_model, ch.csi_error_var, index)?;
            let he = &r.eve[0];
            let d = &actual[row];
            let g: Vec<Col<c64>> = d.beams.iter().map(|f| he.adjoint() * f).collect();
            let jam: Vec<Col<c64>> = (0..d.jamming.ncols())
                .map(|c| he.adjoint() * d.jamming.col(c))
                .collect();
            let ne = he.ncols();
            let mut rng = stream(lab.seed(), [STREAM_EVE, index, 0]);
            let mut y = Col::from_fn(ne, |_| complex_normal(&mut rng, noise));
            for gj in &g {
                y += gj;
            }
            for jc in &jam {
                y += jc * faer::Scale(complex_normal(&mut rng, 1.0));
            }
            // Eve's block is every user's message: it is in error if any stream is.
            let mut wrong = 0u64;
            for u in 0..k {
                let mut others: Vec<Col<c64>> = jam.clone();
                others.extend(
                    g.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != u)
                        .map(|(_, x)| x.clone()),
                );
                let w = lmmse_combiner(&g[u], covariance_of(&others, noise, ne).as_ref());
                let combine = |x: &Col<c64>| -> c64 { w.adjoint() * x };
                let points: Vec<c64> = (0..m)
                    .map(|msg| combine(&(he.adjoint() * &candidates[u][msg][row].beams[u])))
                    .collect();
                let z = combine(&y);
                let decided = nearest_point(z, &points);
                wrong |= u64::from(decided != batch.messages[row * k + u]);
            }
            Ok::<u64, EvalError>(wrong)
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .sum();
    Ok((user_errors, eve_errors))
}

/// Fig. 4: `snr_db,scheme,receiver,bler,ci_low,ci_high,blocks,errors`.
pub fn fig4(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let f = lab.scenario().file();
    let k = f.system.users;
    let snr = lab.evaluation().snr_db.clone();
    let schemes = [Scheme::IsacFj, Scheme::AeFj, Scheme::IsacFjPlus];
    let models = lab.models(&schemes.map(|s| (s, variant(s))))?;
    let (cap, len) = if lab.quick() {
        (2_000, 500)
    } else {
        (20_000, 1_000)
    };
    lab.progress()
        .start((schemes.len() * snr.len()) as u64, "blocks");
    let mut csv = Csv::new(&[
        "snr_db", "scheme", "receiver", "bler", "ci_low", "ci_high", "blocks", "errors",
    ]);
    // Every (scheme, SNR) point is its own Monte Carlo over the same indexed blocks, so they run
    // in parallel (the model's forward passes inside one point are sequential) and the counts do
    // not depend on the order or the thread count. Blocks are shared by the receivers (one batch
    // serves all); each stops counting at its own target.
    let points: Vec<(usize, f64)> = (0..schemes.len())
        .flat_map(|i| snr.iter().map(move |&p| (i, p)))
        .collect();
    let all_counts: Vec<Vec<BlerCount>> = points
        .par_iter()
        .map(|&(i, p)| {
            let counts = run_until(k + 1, TARGET_ERRORS, cap, len, |start, n| {
                let (mut all, eve) = errors(&lab, &models[i], p, start, n)?;
                all.push(eve);
                Ok::<_, EvalError>(all)
            })?;
            lab.progress().inc(1);
            Ok::<_, EvalError>(counts)
        })
        .collect::<Result<_, _>>()?;
    let mut all_counts = all_counts.into_iter();
    let mut curves: Vec<(String, Vec<ErrorBar>)> = Vec::new();
    let mut eve_at_top: Vec<(Scheme, f64)> = Vec::new();
    let mut user_at_15: Vec<(Scheme, f64)> = Vec::new();
    for scheme in &schemes {
        let mut per_receiver: Vec<Vec<ErrorBar>> = vec![Vec::new(); k + 1];
        for &p in &snr {
            let counts = all_counts.next().expect("one count per point");
            for (r, c) in counts.iter().enumerate() {
                let name = if r < k {
                    format!("user{}", r + 1)
                } else {
                    "eve".to_string()
                };
                let (lo, hi) = c.wilson95();
                csv.row(&[
                    Cell::Num(p),
                    Cell::Text(scheme.name()),
                    Cell::Text(&name),
                    Cell::Num(c.bler()),
                    Cell::Num(lo),
                    Cell::Num(hi),
                    Cell::Int(c.blocks),
                    Cell::Int(c.errors),
                ]);
                per_receiver[r].push((p, c.bler(), lo, hi));
            }
            if (p - 15.0).abs() < 1e-9 {
                let worst = counts[..k].iter().map(BlerCount::bler).fold(0.0, f64::max);
                user_at_15.push((*scheme, worst));
            }
        }
        eve_at_top.push((*scheme, per_receiver[k].last().map_or(f64::NAN, |x| x.1)));
        for (r, pts) in per_receiver.into_iter().enumerate() {
            let name = if r < k {
                format!("{} user{}", scheme.name(), r + 1)
            } else {
                format!("{} eve", scheme.name())
            };
            curves.push((name, pts));
        }
    }
    let panels = [panel(
        "single carrier, Rayleigh Eve",
        "SNR P/sigma^2 (dB)",
        "BLER",
        curves
            .into_iter()
            .map(|(name, pts)| Series {
                name,
                points: Vec::new(),
                style: Style::Points(pts),
            })
            .collect(),
    )];
    let mut panels = panels;
    panels[0].y_log = true;
    // The secrecy figures' metrics on their held-out draws (Eve's leakage for the cause, the
    // CRLB's binding share, the target jamming gain for the sidecar).
    let secrecy: Vec<Vec<PointSummary>> = schemes
        .iter()
        .zip(&models)
        .map(|(&s, m)| {
            lab.evaluate(
                Evaluated::Learned(s),
                Some(m),
                variant(s),
                &at_powers(&lab, &snr),
            )
        })
        .collect::<Result<_, _>>()?;
    let leakage: Vec<f64> = secrecy
        .iter()
        .map(|r| r.last().map_or(f64::NAN, |p| p.eve_leakage))
        .collect();
    let files = lab.publish("tuan2025-fig4", "fig4", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 4: block error rates at the users and at Eve",
        "tuan2025-fig4",
        &format!(
            "ISAC_FJ, AE_FJ and ISAC_FJ_PLUS (ours), single carrier, Rayleigh Eve. Users decode with their learned \
             decoders; Eve combines with LMMSE per stream and decides on the learned \
             constellation (known to her). Each receiver stops at {TARGET_ERRORS} block errors or \
             {cap} blocks; Wilson 95% intervals in `fig4.csv`."
        ),
    );
    md += &table_head(&[
        "scheme",
        "worst user BLER at 15 dB",
        "Eve BLER at the top SNR",
    ]);
    for ((s, u), (_, e)) in user_at_15.iter().zip(&eve_at_top) {
        let _ = writeln!(md, "| {} | {u:.2e} | {e:.3} |", s.name());
    }
    let isac_eve = eve_at_top[0].1;
    let isac_user = user_at_15.first().map_or(f64::NAN, |x| x.1);
    let _ = writeln!(
        md,
        "\n- \"ISAC_FJ keeps user BLER below 1e-2 at 15 dB\": **{}** ({isac_user:.2e}).\n- \"Eve's \
         BLER stays near 1 with ISAC_FJ\" (above 0.5 at the top SNR): **{}** ({isac_eve:.3}).\n- \
         \"AE_FJ lets Eve's BLER fall with power\": AE_FJ Eve BLER at the top SNR {:.3}.",
        verdict(isac_user < 1e-2),
        verdict(isac_eve > 0.5),
        eve_at_top[1].1
    );
    let sweeps: Vec<(String, &[PointSummary])> = schemes
        .iter()
        .zip(&secrecy)
        .map(|(s, r)| (s.name().to_string(), r.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &snr, &sweeps);
    if isac_eve <= 0.5 {
        let _ = writeln!(
            md,
            "- Cause: ISAC_FJ's single steered jamming beam leaves Eve (Ne = {}) a jam-free \
             receive dimension, so her leakage (log-det, eq. 28) at {} dB is {:.2} nats against \
             AE_FJ's {:.2} with isotropic null-space jamming (same held-out draws).",
            f.system.eve_antennas,
            snr[snr.len() - 1],
            leakage[0],
            leakage[1]
        );
    }
    Ok(Report {
        files,
        markdown: md,
    })
}

#[cfg(test)]
mod tests {
    use isac_learn::autoencoder::{Autoencoder, TrainingLog};

    use super::*;

    /// `sum_k f_k f_k^H + Q` of a design.
    fn total(d: &isac_design::JammingDesign) -> faer::Mat<c64> {
        let mut q = d.jamming.clone();
        for f in &d.beams {
            q += f * f.adjoint();
        }
        q
    }

    /// The total transmit covariance of a learned row.
    fn covariance(r: &RowDesign) -> faer::Mat<c64> {
        total(&super::super::covariance(r))
    }

    /// A freshly initialised model of `scheme` on Fig. 4's variant.
    fn untrained(lab: &Lab<'_>, scheme: Scheme) -> TrainedAutoencoder {
        let setup = lab.setup(scheme, variant(scheme)).unwrap();
        TrainedAutoencoder {
            model: Autoencoder::new(&setup, &lab.device).unwrap(),
            setup,
            log: TrainingLog::default(),
        }
    }

    #[test]
    fn the_bler_monte_carlo_transmits_the_design_the_secrecy_figures_evaluate() {
        let ctx = super::super::quick_context("isac-bler");
        let lab = Lab::new(&ctx).unwrap();
        let model = untrained(&lab, Scheme::IsacFj);
        let c = Conditions {
            p_db: 20.0,
            crlb_db: model.setup.scenario.file().sensing.crlb_max_db,
        };
        let draws = 4;
        let secrecy = lab.learned_designs(&model, c, draws).unwrap();
        let stage1 = {
            let indices: Vec<u64> = (0..draws as u64).collect();
            let batch = Batch::new(
                &model.setup,
                &indices,
                &vec![c; draws],
                lab.seed(),
                &lab.device,
            )
            .unwrap();
            model.designs(&batch).unwrap()
        };
        for d in 0..draws {
            let (_, rows) = transmitted(&lab, &model, c.p_db, &[d as u64]).unwrap();
            let bler = covariance(&rows[0]);
            let q = total(&secrecy[d][0]);
            let scale = q.norm_l2();
            assert!((&bler - &q).norm_l2() < 1e-5 * scale, "draw {d}");
            // Stage 2 moved the jamming: the stage-1 covariance is a different transmission.
            assert!(
                (&covariance(&stage1[d]) - &q).norm_l2() > 1e-3 * scale,
                "draw {d}: stage 2 changed nothing"
            );
        }
        let _ = std::fs::remove_dir_all(&ctx.out_dir);
    }

    /// Eve's candidate frames reuse the projectors of the transmitted batch: a message swap keeps
    /// the channels, so they are the frames each candidate batch would build for itself.
    #[test]
    fn candidate_frames_with_the_batch_projectors_are_their_own_frames() {
        let ctx = super::super::quick_context("isac-bler-candidates");
        let lab = Lab::new(&ctx).unwrap();
        let model = untrained(&lab, Scheme::AeFj);
        let s = &model.setup.scenario;
        let (k, m) = (s.users(), s.modulation_order());
        let (batch, _) = transmitted(&lab, &model, 10.0, &[3, 4, 5]).unwrap();
        let projectors = null_space_projectors(&batch).unwrap();
        for (u, msg) in [(0, 1), (k - 1, m - 1)] {
            let b = with_message(&batch, k, m, u, msg);
            let shared = model.frames_projected(&b, false, &projectors).unwrap();
            let own = model.frames(&b, false).unwrap();
            for (x, y) in shared
                .iter()
                .zip(&own)
                .flat_map(|(x, y)| x.rows.iter().zip(&y.rows))
            {
                assert_eq!(x.beams, y.beams);
                assert_eq!(x.jamming, y.jamming);
            }
        }
        // One projector short: an error naming the size, not a panic.
        assert!(
            model
                .frames_projected(&batch, false, &projectors[1..])
                .is_err()
        );
        let _ = std::fs::remove_dir_all(&ctx.out_dir);
    }
}
