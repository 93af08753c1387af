//! `fim-estimator` (paper 003, eqs. 12-16): the relative Frobenius error of the neural FIM
//! estimate against the analytic FIM of the scenario's probing beam, over the perturbation scale
//! and the sample count, beside the error of the quadratic approximation alone (least squares on
//! the exact divergences), and at the paper's own setting `delta ~ N(0, 0.05 I)`.

use std::fmt::Write as _;
use std::time::Instant;

use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::fim_estimator::{FimEstimatorSettings, Probe, estimate, relative_frobenius_error};
use isac_learn::{LearnConfig, PerturbationDesign};
use serde::{Deserialize, Serialize};

use super::{Report, RunContext, publish, section, table_head, verdict};
use crate::EvalError;
use crate::output::{Cell, Csv};
use crate::plot::{Panel, Series, Style};

/// The paper's perturbation: `delta ~ N(0, 0.05 I)`, a standard deviation of sqrt(0.05) rad.
const PAPER_VARIANCE: f64 = 0.05;

#[derive(Serialize, Deserialize)]
struct Row {
    design: PerturbationDesign,
    scale: f64,
    samples: usize,
    seed: u64,
    error: f64,
    quadratic_error: f64,
    max_kl: f64,
}

impl Row {
    fn is_paper(&self) -> bool {
        self.design == PerturbationDesign::Gaussian
    }
}

pub fn run(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let scenario = FriendlyJammingScenario::from_path(&ctx.scenarios_dir.join("tuan2025.toml"))?;
    let seed = ctx.seed.unwrap_or(scenario.seed());
    let section = LearnConfig::from_scenario(&scenario)?.fim_estimator;
    let probe = Probe::new(&scenario, section.probe_power_fraction)?;
    let truth = probe.analytic_fim()?;
    let defaults = FimEstimatorSettings::new(&section, seed);
    let (scales, samples, seeds): (&[f64], &[usize], u64) = if ctx.quick {
        (&[0.005, 0.015, 0.05], &[1000], 1)
    } else {
        (
            &[0.003, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1],
            &[1000, 2000, 5000],
            2,
        )
    };
    let mut jobs: Vec<FimEstimatorSettings> = Vec::new();
    for k in 0..seeds {
        for &n in samples {
            for &scale in scales {
                jobs.push(FimEstimatorSettings {
                    scale,
                    samples: n,
                    seed: seed + k,
                    ..defaults.clone()
                });
            }
        }
        jobs.push(FimEstimatorSettings {
            design: PerturbationDesign::Gaussian,
            scale: PAPER_VARIANCE.sqrt(),
            samples: *samples.last().expect("sample counts"),
            seed: seed + k,
            ..defaults.clone()
        });
    }
    let device = ctx.device.open()?;
    let rows = ctx.points("fim-estimator", jobs.len(), |i| {
        let settings = &jobs[i];
        let e = estimate(&probe, settings, &device)?;
        Ok(Row {
            design: settings.design,
            scale: settings.scale,
            samples: settings.samples,
            seed: settings.seed,
            error: relative_frobenius_error(&e.fim, &truth),
            quadratic_error: relative_frobenius_error(&e.quadratic_fim, &truth),
            max_kl: e.exact_divergences.iter().copied().fold(0.0, f64::max),
        })
    })?;
    let files = publish(
        ctx,
        "tuan2025",
        "fim-estimator",
        "fim-estimator",
        &table(&rows),
        &[panel(&rows, scales, samples)],
        seed,
        started,
        scenario.file(),
    )?;
    Ok(Report {
        files,
        markdown: markdown(&rows, &defaults),
    })
}

fn design_name(d: PerturbationDesign) -> &'static str {
    match d {
        PerturbationDesign::Star => "star",
        PerturbationDesign::Gaussian => "gaussian",
    }
}

fn table(rows: &[Row]) -> Csv {
    let mut csv = Csv::new(&[
        "design",
        "scale_rad",
        "samples",
        "seed",
        "relative_error",
        "quadratic_error",
        "max_kl_nats",
    ]);
    for r in rows {
        csv.row(&[
            Cell::Text(design_name(r.design)),
            Cell::Num(r.scale),
            Cell::Int(r.samples as u64),
            Cell::Int(r.seed),
            Cell::Num(r.error),
            Cell::Num(r.quadratic_error),
            Cell::Num(r.max_kl),
        ]);
    }
    csv
}

/// Mean over seeds of `f` for the star rows with this scale and sample count.
fn mean(rows: &[Row], scale: f64, samples: usize, f: fn(&Row) -> f64) -> f64 {
    let sel: Vec<f64> = rows
        .iter()
        .filter(|r| !r.is_paper() && r.scale == scale && r.samples == samples)
        .map(f)
        .collect();
    sel.iter().sum::<f64>() / sel.len() as f64
}

fn panel(rows: &[Row], scales: &[f64], samples: &[usize]) -> Panel {
    let mut series: Vec<Series> = samples
        .iter()
        .map(|&n| Series {
            name: format!("neural estimate, {n} samples"),
            points: scales
                .iter()
                .map(|&s| (s, mean(rows, s, n, |r| r.error)))
                .collect(),
            style: Style::Line,
        })
        .collect();
    series.push(Series {
        name: "quadratic approximation alone (exact KL)".into(),
        points: scales
            .iter()
            .map(|&s| (s, mean(rows, s, samples[0], |r| r.quadratic_error)))
            .collect(),
        style: Style::Dashed,
    });
    series.push(Series {
        name: "paper: delta ~ N(0, 0.05 I)".into(),
        points: vec![],
        style: Style::Points(
            rows.iter()
                .filter(|r| r.is_paper())
                .map(|r| {
                    (
                        r.scale,
                        r.error,
                        r.quadratic_error.min(r.error),
                        r.error.max(r.quadratic_error),
                    )
                })
                .collect(),
        ),
    });
    Panel {
        title: "neural FIM estimate vs analytic FIM".into(),
        x_label: "perturbation scale (rad)".into(),
        y_label: "relative Frobenius error".into(),
        x_log: true,
        y_log: true,
        series,
    }
}

fn markdown(rows: &[Row], defaults: &FimEstimatorSettings) -> String {
    let mut md = section(
        "Neural FIM estimator (paper 003, eqs. 12-16)",
        "fim-estimator",
        &format!(
            "Probing beam of `scenarios/tuan2025.toml`: the closed-form sensing-guided jamming direction in \
             the null space of a seeded user-channel draw, half of P_max, echo gain -20 dB. {} discriminators \
             (FC 8-128-1), {} full-batch Adam steps at learning rate {}; the divergence of each perturbation is \
             the Donsker-Varadhan bound on fresh samples. The star design places the perturbations on a \
             half circle of the given radius; the paper's design draws them from N(0, 0.05 I). \
             `quadratic error` is what least squares gives from the exact divergences: the error of eq. (12) alone.",
            defaults.perturbations, defaults.training_steps, defaults.learning_rate
        ),
    );
    let w = &mut md;
    w.push_str(&table_head(&[
        "design",
        "scale (rad)",
        "samples",
        "seed",
        "max KL (nats)",
        "quadratic error",
        "estimator error",
    ]));
    for r in rows {
        let _ = writeln!(
            w,
            "| {} | {:.4} | {} | {} | {:.3} | {:.4} | {:.3} |",
            design_name(r.design),
            r.scale,
            r.samples,
            r.seed,
            r.max_kl,
            r.quadratic_error,
            r.error
        );
    }
    let default_rows: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.is_paper() && r.scale == defaults.scale && r.samples == defaults.samples)
        .collect();
    let worst_default = default_rows.iter().map(|r| r.error).fold(0.0, f64::max);
    let paper: Vec<&Row> = rows.iter().filter(|r| r.is_paper()).collect();
    let best = rows
        .iter()
        .filter(|r| !r.is_paper())
        .min_by(|a, b| a.error.total_cmp(&b.error))
        .expect("rows");
    let _ = writeln!(w, "\nVerdicts (computed from the rows above):\n");
    if !default_rows.is_empty() {
        let _ = writeln!(
            w,
            "- At the shipped settings (scale {} rad, {} samples) the estimate is within 10% of the analytic \
             FIM for every seed (worst {:.3}): **{}**.",
            defaults.scale,
            defaults.samples,
            worst_default,
            verdict(worst_default <= 0.10)
        );
    }
    let _ = writeln!(
        w,
        "- Smallest error of the sweep: {:.3} at scale {} rad with {} samples. Small scales are limited by \
         sampling noise (the divergences shrink as scale^2 while their noise does not), large ones by the \
         quadratic approximation and by the Donsker-Varadhan bound failing once the divergence reaches a few nats.",
        best.error, best.scale, best.samples
    );
    for r in paper {
        let _ = writeln!(
            w,
            "- The paper's delta ~ N(0, 0.05 I) (std {:.3} rad, seed {}): the largest divergence is {:.1} nats, the \
             quadratic approximation alone is off by {:.2} and the estimate by {:.2}. The paper's perturbations \
             are far outside the local regime of eq. (12).",
            r.scale, r.seed, r.max_kl, r.quadratic_error, r.error
        );
    }
    md
}
