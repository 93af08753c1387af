//! Paper 003, part 2: the encoders compared on the same task (Figs. 9, 10 and Table III): ISAC_FJ
//! with an FC, DTTE or pure-TT encoder, and TT-Q (the trained TT encoder with quantised cores,
//! no retraining), single carrier, Rayleigh Eve.

use std::fmt::Write as _;
use std::time::Instant;

use isac_channel::scenario::friendly_jamming::EveModel;
use isac_learn::autoencoder::{Scheme, TrainedAutoencoder};
use isac_learn::{Encoder, EncoderKind};

use super::figures::{at, at_powers, binding_note, panel, series, sum_secrecy};
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::{Report, RunContext, section, table_head, verdict};
use crate::output::{Cell, Csv};
use crate::plot::{Series, Style};

/// Table III as printed: parameters and FLOPs of FC, DTTE and TT.
const PAPER_TABLE: [(&str, &str, &str); 3] = [
    ("FC", "62,563", "125k"),
    ("DTTE", "28,371", "57k"),
    ("TT", "2,800", "5.6k"),
];

/// One compared encoder: a trained model and, for TT-Q, its bit width.
struct Entry {
    name: String,
    kind: EncoderKind,
    bits: Option<u32>,
    model: TrainedAutoencoder,
}

fn variant(encoder: EncoderKind) -> Variant {
    Variant {
        encoder,
        ..Variant::single_carrier(EveModel::Rayleigh)
    }
}

/// Trains (or loads) the three encoders and derives the TT-Q models.
fn entries(lab: &Lab<'_>) -> Result<Vec<Entry>, EvalError> {
    let jobs: Vec<(Scheme, Variant)> = EncoderKind::ALL
        .iter()
        .map(|&k| (Scheme::IsacFj, variant(k)))
        .collect();
    let models = lab.models(&jobs)?;
    let mut out: Vec<Entry> = EncoderKind::ALL
        .iter()
        .zip(models)
        .map(|(&kind, model)| Entry {
            name: kind.name().to_string(),
            kind,
            bits: None,
            model,
        })
        .collect();
    let tt = out
        .iter()
        .find(|e| e.kind == EncoderKind::Tt)
        .map(|e| e.model.clone())
        .ok_or_else(|| EvalError::Invalid("no TT model".into()))?;
    for &bits in &lab.evaluation().tt_q_bits {
        out.push(Entry {
            name: format!("TT-Q{bits}"),
            kind: EncoderKind::Tt,
            bits: Some(bits),
            model: TrainedAutoencoder {
                model: tt.model.quantized(bits)?,
                ..tt.clone()
            },
        });
    }
    Ok(out)
}

fn evaluate_all(
    lab: &Lab<'_>,
    entries: &[Entry],
    powers: &[f64],
) -> Result<Vec<Vec<PointSummary>>, EvalError> {
    lab.progress()
        .start((entries.len() * powers.len()) as u64, "evaluating");
    let conditions = at_powers(lab, powers);
    entries
        .iter()
        .map(|e| {
            lab.evaluate(
                Evaluated::Learned(Scheme::IsacFj),
                Some(&e.model),
                variant(e.kind),
                &conditions,
            )
        })
        .collect()
}

/// Fig. 9: sum secrecy vs SNR for each encoder.
pub fn fig9(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let snr = lab.evaluation().snr_db.clone();
    let entries = entries(&lab)?;
    let results = evaluate_all(&lab, &entries, &snr)?;
    let mut csv = Csv::new(&[
        "snr_db",
        "encoder",
        "sum_secrecy_nats",
        "sum_secrecy_nats_ci95",
    ]);
    for (e, res) in entries.iter().zip(&results) {
        for (x, p) in snr.iter().zip(res) {
            csv.row(&[
                Cell::Num(*x),
                Cell::Text(&e.name),
                Cell::Num(p.sum_secrecy.0),
                Cell::Num(p.sum_secrecy.1),
            ]);
        }
    }
    let panels = [panel(
        "ISAC_FJ by encoder, single carrier, Rayleigh Eve",
        "SNR P/sigma^2 (dB)",
        "sum secrecy rate (nats/s/Hz)",
        entries
            .iter()
            .zip(&results)
            .map(|(e, r)| series(e.name.clone(), &snr, r, false))
            .collect(),
    )];
    let files = lab.publish("tuan2025-fig9", "fig9", &csv, &panels, started)?;
    let top = snr.len() - 1;
    let mut md = section(
        "Paper 003, Fig. 9: sum secrecy rate by encoder",
        "tuan2025-fig9",
        "ISAC_FJ trained with each encoder on the same task; TT-Q is the trained TT encoder with \
         its cores quantised (no retraining).",
    );
    let sweeps: Vec<(String, &[PointSummary])> = entries
        .iter()
        .zip(&results)
        .map(|(e, r)| (e.name.clone(), r.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &snr, &sweeps);
    md.push('\n');
    md += &table_head(&["encoder", "at 10 dB", "at 20 dB", "at 30 dB"]);
    let value = |r: &[PointSummary], want: f64| at(&snr, r, want, sum_secrecy);
    for (e, r) in entries.iter().zip(&results) {
        let _ = writeln!(
            md,
            "| {} | {:.2} | {:.2} | {:.2} |",
            e.name,
            value(r, 10.0),
            value(r, 20.0),
            value(r, 30.0)
        );
    }
    let fc = results[0][top].sum_secrecy;
    let close = |i: usize| {
        (results[i][top].sum_secrecy.0 - fc.0).abs()
            <= fc.1 + results[i][top].sum_secrecy.1 + 0.05 * fc.0
    };
    let _ = writeln!(
        md,
        "\n- \"The compressed encoders keep the FC encoder's secrecy\" (within 5% or the CIs at {} \
         dB): DTTE **{}**, TT **{}**.",
        snr[top],
        verdict(close(1)),
        verdict(close(2))
    );
    Ok(Report {
        files,
        markdown: md,
    })
}

/// Fig. 10: training curves of each encoder (held-out sum secrecy and loss at the highest
/// tracked power, per iteration; every iteration draws a fresh batch, so an epoch is one step).
pub fn fig10(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let entries = entries(&lab)?;
    let p = lab
        .evaluation()
        .convergence_p_db
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let trained: Vec<&Entry> = entries.iter().filter(|e| e.bits.is_none()).collect();
    let mut csv = Csv::new(&["epoch", "encoder", "sum_secrecy_nats", "loss"]);
    let curves: Vec<Vec<(f64, f64, f64)>> = trained
        .iter()
        .map(|e| {
            e.model
                .log
                .points
                .iter()
                .filter(|q| q.p_db == p)
                .map(|q| (q.iteration as f64, q.sum_secrecy, q.loss))
                .collect()
        })
        .collect();
    for (e, c) in trained.iter().zip(&curves) {
        for &(it, sec, loss) in c {
            csv.row(&[
                Cell::Int(it as u64),
                Cell::Text(&e.name),
                Cell::Num(sec),
                Cell::Num(loss),
            ]);
        }
    }
    let line = |name: &str, pts: Vec<(f64, f64)>| Series {
        name: name.to_string(),
        points: pts,
        style: Style::Line,
    };
    let panels = [
        panel(
            &format!("held-out sum secrecy at P = {p} dB"),
            "iteration",
            "sum secrecy rate (nats/s/Hz)",
            trained
                .iter()
                .zip(&curves)
                .map(|(e, c)| line(&e.name, c.iter().map(|x| (x.0, x.1)).collect()))
                .collect(),
        ),
        panel(
            "loss eq. (40)",
            "iteration",
            "loss",
            trained
                .iter()
                .zip(&curves)
                .map(|(e, c)| line(&e.name, c.iter().map(|x| (x.0, x.2)).collect()))
                .collect(),
        ),
    ];
    // The trained encoders on the figures' held-out draws at the logged power (where the CRLB
    // binds, and the target jamming gain for the sidecar).
    let at_p = evaluate_all(&lab, &entries, &[p])?;
    let files = lab.publish("tuan2025-fig10", "fig10", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 10: training convergence by encoder",
        "tuan2025-fig10",
        &format!("ISAC_FJ, single carrier, held-out draws at P = {p} dB."),
    );
    let sweeps: Vec<(String, &[PointSummary])> = entries
        .iter()
        .zip(&at_p)
        .map(|(e, r)| (e.name.clone(), r.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &[p], &sweeps);
    md.push('\n');
    md += &table_head(&[
        "encoder",
        "secrecy at step 100",
        "final secrecy",
        "final loss",
        "seconds",
    ]);
    for (e, c) in trained.iter().zip(&curves) {
        let early = c
            .iter()
            .rev()
            .find(|x| x.0 <= 100.0)
            .map_or(f64::NAN, |x| x.1);
        let last = c.last().copied().unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let _ = writeln!(
            md,
            "| {} | {early:.2} | {:.2} | {:.3} | {:.1} |",
            e.name, last.1, last.2, e.model.log.seconds
        );
    }
    Ok(Report {
        files,
        markdown: md,
    })
}

/// Table III: size, cost, secrecy at P_max and training time per step of every encoder.
pub fn table3(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let f = lab.scenario().file();
    let entries = entries(&lab)?;
    let results = evaluate_all(&lab, &entries, &[f.system.p_max_db])?;
    let shape = entries[0].model.setup.shape();
    let mut csv = Csv::new(&[
        "encoder",
        "parameters",
        "flops",
        "bytes",
        "sum_secrecy_nats",
        "train_step_ms",
    ]);
    let mut md = section(
        "Paper 003, Table III: encoders",
        "tuan2025-table3",
        "Parameters, forward FLOPs per sample and stored bytes from the configured shapes (ours: \
         the paper's shapes do not give its counts), secrecy of ISAC_FJ at P_max, and the mean \
         training step (batch of 128 frames, single carrier, measured while the other models \
         trained on the second core, in lock step on shared draws whose whole time each model \
         counts; TT-Q is not retrained and reuses TT's).",
    );
    md += &table_head(&[
        "encoder",
        "parameters (ours / paper)",
        "FLOPs (ours / paper)",
        "bytes",
        "sum secrecy at P_max",
        "train step (ms)",
    ]);
    let mut rows = Vec::new();
    for (e, r) in entries.iter().zip(&results) {
        let summary = Encoder::summary(e.kind, shape, &e.model.setup.config.encoder, e.bits);
        let step_ms = 1e3 * e.model.log.seconds / e.model.log.iterations.max(1) as f64;
        csv.row(&[
            Cell::Text(&e.name),
            Cell::Int(summary.parameters as u64),
            Cell::Int(summary.flops as u64),
            Cell::Int(summary.bytes as u64),
            Cell::Num(r[0].sum_secrecy.0),
            Cell::Num(step_ms),
        ]);
        let paper = PAPER_TABLE.iter().find(|p| p.0 == e.name);
        let _ = writeln!(
            md,
            "| {} | {} / {} | {} / {} | {} | {:.2} +- {:.2} | {step_ms:.2} |",
            e.name,
            summary.parameters,
            paper.map_or("-", |p| p.1),
            summary.flops,
            paper.map_or("-", |p| p.2),
            summary.bytes,
            r[0].sum_secrecy.0,
            r[0].sum_secrecy.1
        );
        rows.push((e.name.clone(), summary.bytes, r[0].sum_secrecy.0));
    }
    let bytes_panel = panel(
        "sum secrecy at P_max vs stored bytes",
        "bytes",
        "sum secrecy rate (nats/s/Hz)",
        rows.iter()
            .map(|(n, b, s)| Series {
                name: n.clone(),
                points: Vec::new(),
                style: Style::Points(vec![(*b as f64, *s, *s, *s)]),
            })
            .collect(),
    );
    let files = lab.publish("tuan2025-table3", "table3", &csv, &[bytes_panel], started)?;
    let sweeps: Vec<(String, &[PointSummary])> = entries
        .iter()
        .zip(&results)
        .map(|(e, r)| (e.name.clone(), r.as_slice()))
        .collect();
    md.push('\n');
    md += &binding_note(&lab, "dB", &[f.system.p_max_db], &sweeps);
    let fc_bytes = rows[0].1 as f64;
    let smallest = rows.iter().map(|r| r.1).min().unwrap_or(0) as f64;
    let _ = writeln!(
        md,
        "\n- \"TT-Q reduces memory about 100-fold\": smallest encoder {:.0}x smaller than FC in \
         bytes (**{}**).",
        fc_bytes / smallest,
        verdict(fc_bytes / smallest >= 50.0),
    );
    Ok(Report {
        files,
        markdown: md,
    })
}
