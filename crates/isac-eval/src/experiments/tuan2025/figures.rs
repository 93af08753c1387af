//! Figs. 3, 5, 6, 7, 8 of paper 003: CSVs with the exact columns, SVGs, sidecars, and
//! results sections with the paper's reading beside ours.

use std::fmt::Write as _;
use std::time::Instant;

use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::{EveModel, PowerModel};
use isac_learn::autoencoder::{Conditions, Scheme, TrainingLog};
use isac_learn::{BeamStructure, Stage2Objective};

use super::sweep::{
    CRLB_BINDING, Case, Column, Key, Line, Reading, SUM_SECRECY, Sweep, WORST_USER, markdown,
    reading,
};
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::{Report, RunContext, section, table_head, verdict};
use crate::output::{Cell, Csv};
use crate::plot::{Panel, Series, Style};

const PAPER: &str = "tuan2025";

pub(super) fn at_powers(lab: &Lab<'_>, powers: &[f64]) -> Vec<Conditions> {
    let crlb_db = lab.scenario().file().sensing.crlb_max_db;
    powers
        .iter()
        .map(|&p_db| Conditions { p_db, crlb_db })
        .collect()
}

fn points(x: &[f64], s: &[PointSummary], worst: bool) -> Style {
    Style::Points(
        x.iter()
            .zip(s)
            .map(|(&x, p)| {
                let (m, c) = if worst { p.worst_user } else { p.sum_secrecy };
                (x, m, m - c, m + c)
            })
            .collect(),
    )
}

pub(super) fn series(name: String, x: &[f64], s: &[PointSummary], worst: bool) -> Series {
    Series {
        name,
        points: Vec::new(),
        style: points(x, s, worst),
    }
}

pub(super) fn panel(title: &str, x_label: &str, y_label: &str, series: Vec<Series>) -> Panel {
    Panel {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        x_log: false,
        y_log: false,
        series,
    }
}

/// The value at `x` of a sweep (`NaN` if `x` is not on the grid).
pub(super) fn at(x: &[f64], s: &[PointSummary], want: f64, pick: fn(&PointSummary) -> f64) -> f64 {
    x.iter()
        .position(|&v| (v - want).abs() < 1e-9)
        .map_or(f64::NAN, |i| pick(&s[i]))
}

/// A draw counts toward "the CRLB binds at x" when at least this share of held-out draws has
/// an active constraint.
const BINDING_SHARE: f64 = 0.1;

/// The results sections' sentence on where `CRLB_0` binds: for each labelled sweep over `x`
/// (in `unit`), the points where the BS's CRLB is within 5% of `CRLB_0` on at least 10% of the
/// held-out draws, and the largest share.
pub(super) fn binding_note(
    lab: &Lab<'_>,
    unit: &str,
    x: &[f64],
    sweeps: &[(String, &[PointSummary])],
) -> String {
    let parts: Vec<String> = sweeps
        .iter()
        .map(|(label, points)| {
            let at: Vec<String> = x
                .iter()
                .zip(points.iter())
                .filter(|(_, p)| p.crlb_binding >= BINDING_SHARE)
                .map(|(x, _)| format!("{x}"))
                .collect();
            let top = points.iter().map(|p| p.crlb_binding).fold(0.0, f64::max);
            let met = points.iter().map(|p| p.crlb_met).fold(1.0, f64::min);
            format!(
                "{label}: {} (largest share {:.0}%, fewest draws meeting CRLB_0 {:.0}%)",
                if at.is_empty() {
                    "nowhere".to_string()
                } else {
                    format!("{} {unit}", at.join(", "))
                },
                100.0 * top,
                100.0 * met
            )
        })
        .collect();
    format!(
        "- Where the CRLB binds (the BS's own CRLB, with its calibrated echo scale at the \
         estimated angles, within 5% of CRLB_0 = {} dB on at least {:.0}% of held-out draws): {}.\n",
        lab.scenario().file().sensing.crlb_max_db,
        100.0 * BINDING_SHARE,
        parts.join("; ")
    )
}

/// The mean sum secrecy of a point (for [`at`]).
pub(super) fn sum_secrecy(p: &PointSummary) -> f64 {
    p.sum_secrecy.0
}

/// The mean worst-user secrecy of a point (for [`at`]).
fn worst_user(p: &PointSummary) -> f64 {
    p.worst_user.0
}

fn calibration_note(lab: &Lab<'_>) -> String {
    let c = lab.calibration();
    format!(
        "The BS's echo scale c_hat = {:.4e} comes from the neural FIM estimator (true c = {:.4e}, \
         FIM error {:.1}%). Held-out draws per point: {}. Rates are nats/s/Hz per subcarrier, \
         sum over users of [R_k - R_E,k]^+ averaged over subcarriers; +- is the 95% CI half-width.\n\n",
        c.scale,
        c.true_scale,
        100.0 * c.relative_error,
        if lab.quick() {
            "reduced (quick)"
        } else {
            "as in the scenario"
        }
    )
}

/// ISAC_FJ_PLUS (ours) steers its beam toward the target (`target_power`); every other scheme
/// keeps the scenario's stage-2 objective.
pub(super) fn plus_objective(scheme: Evaluated) -> Option<Stage2Objective> {
    (scheme == Evaluated::Learned(Scheme::IsacFjPlus)).then_some(Stage2Objective::TargetPower)
}

/// The beam structures of Fig. 3's ablation: ours first.
const STRUCTURES: [BeamStructure; 2] = [BeamStructure::Zf, BeamStructure::Free];

/// The held-out loss of a training log averaged over its powers, by logged iteration.
fn loss_curve(log: &TrainingLog) -> Vec<(f64, f64)> {
    let mut curve: Vec<(f64, f64, usize)> = Vec::new();
    for p in &log.points {
        match curve.last_mut() {
            Some(last) if last.0 == p.iteration as f64 => {
                last.1 += p.loss;
                last.2 += 1;
            }
            _ => curve.push((p.iteration as f64, p.loss, 1)),
        }
    }
    curve
        .into_iter()
        .map(|(it, sum, n)| (it, sum / n as f64))
        .collect()
}

/// The change of a loss curve over the last fifth of training: the mean of its last tenth minus
/// the mean of the tenth before it (nats), or `NaN` for a curve of fewer than 10 points.
fn late_change(curve: &[(f64, f64)]) -> f64 {
    let tenth = curve.len() / 10;
    if tenth == 0 {
        return f64::NAN;
    }
    let mean = |part: &[(f64, f64)]| part.iter().map(|x| x.1).sum::<f64>() / part.len() as f64;
    let n = curve.len();
    mean(&curve[n - tenth..]) - mean(&curve[n - 2 * tenth..n - tenth])
}

/// Whether a loss curve is flat at the end of training: its late change is below 0.05 nats or
/// 2% of its final value.
fn converged(curve: &[(f64, f64)]) -> bool {
    let last = curve.last().map_or(f64::NAN, |x| x.1);
    late_change(curve).abs() < 0.05f64.max(0.02 * last.abs())
}

/// The paper's Fig. 3 at 20 dB (its text): ISAC_FJ, AE_FJ, DL_AN.
const FIG3_PAPER: [Reading; 3] = [
    Reading {
        series: Key::Text("ISAC_FJ"),
        x: 20.0,
        value: 6.9,
    },
    Reading {
        series: Key::Text("AE_FJ"),
        x: 20.0,
        value: 4.5,
    },
    Reading {
        series: Key::Text("DL_AN"),
        x: 20.0,
        value: 3.6,
    },
];

/// `a / b / c` of the paper's values of `schemes` at `x` (empty if it reports none there).
fn paper_values(readings: &[Reading], schemes: &[&'static str], x: f64) -> String {
    let values: Vec<String> = schemes
        .iter()
        .filter_map(|&s| reading(readings, Key::Text(s), x))
        .map(|v| v.to_string())
        .collect();
    values.join(" / ")
}

/// The key of a Fig. 3 series: Eve's model, the beam structure, the scheme.
fn fig3_key(
    eve: EveModel,
    structure: BeamStructure,
    scheme: &'static str,
) -> [(&'static str, Key); 3] {
    [
        ("eve", Key::Text(eve.name())),
        ("beam_structure", Key::Text(structure.name())),
        ("scheme", Key::Text(scheme)),
    ]
}

/// Fig. 3: sum secrecy vs SNR for ISAC_FJ, AE_FJ, DL_AN and ZF_AN, single carrier, perfect
/// AoA, for the paper's Rayleigh Eve (`fig3.csv`) and the Rician Eve toward the target
/// (`fig3-rician.csv`, same columns); the learned schemes with zero-forcing beams (ours) and with
/// free-form beams (the ablation of what the learning adds).
pub fn fig3(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let snr = lab.evaluation().snr_db.clone();
    let eves = [EveModel::Rayleigh, EveModel::Rician];
    let variant = |eve: EveModel, structure: BeamStructure, scheme: Evaluated| Variant {
        beam_structure: Some(structure),
        stage2_objective: plus_objective(scheme),
        ..Variant::single_carrier(eve)
    };
    let label = |structure: BeamStructure, scheme: Evaluated| match (structure, scheme) {
        (BeamStructure::Free, _) => format!("{} (free)", scheme.name()),
        _ => scheme.name().to_string(),
    };
    // Every series; ZF_AN and OPT_Q are closed forms with ZF beams.
    let mut cases = Vec::new();
    for &eve in &eves {
        let schemes = STRUCTURES
            .iter()
            .flat_map(|&b| Scheme::ALL.map(|s| (b, Evaluated::Learned(s))))
            .chain([Evaluated::ZfAn, Evaluated::OptQ].map(|e| (BeamStructure::Zf, e)));
        cases.extend(schemes.map(|(structure, scheme)| Case {
            keys: fig3_key(eve, structure, scheme.name()).to_vec(),
            label: label(structure, scheme),
            scheme,
            variant: variant(eve, structure, scheme),
        }));
    }
    let conditions = at_powers(&lab, &snr);
    let sweep = Sweep::run(&lab, "snr_db", snr.clone(), &conditions, cases)?;
    let find = |eve: EveModel, b: BeamStructure, name: &'static str| {
        sweep.find(&fig3_key(eve, b, name)).map(|l| &l.points)
    };
    let of_eve = |eve: EveModel| move |c: &Case| c.key("eve") == Some(Key::Text(eve.name()));
    let mut files = Vec::new();
    let mut panels = Vec::new();
    for eve in eves {
        let csv = sweep.csv(&["scheme", "beam_structure"], &SUM_SECRECY, of_eve(eve));
        let title = match eve {
            EveModel::Rayleigh => "Eve i.i.d. Rayleigh (paper)",
            EveModel::Rician => "Eve Rician toward the target",
            EveModel::Los => "Eve line of sight on the target",
            other => other.name(),
        };
        let panel = panel(
            title,
            "SNR P/sigma^2 (dB)",
            "sum secrecy rate (nats/s/Hz)",
            sweep.series(false, of_eve(eve)),
        );
        let stem = match eve {
            EveModel::Rayleigh => "fig3".to_string(),
            other => format!("fig3-{}", other.name()),
        };
        files.extend(lab.publish(
            "tuan2025-fig3",
            &stem,
            &csv,
            std::slice::from_ref(&panel),
            started,
        )?);
        panels.push(panel);
    }
    // The held-out training loss of every learned model of the paper's Eve.
    let curves: Vec<(String, Vec<(f64, f64)>)> = sweep
        .lines(of_eve(EveModel::Rayleigh))
        .filter_map(|l| {
            l.model
                .as_ref()
                .map(|m| (l.case.label.clone(), loss_curve(&m.log)))
        })
        .collect();
    panels.push(panel(
        "held-out training loss eq. (40), Rayleigh Eve",
        "iteration",
        "loss (mean over the logged powers)",
        curves
            .iter()
            .map(|(name, points)| Series {
                name: name.clone(),
                points: points.clone(),
                style: Style::Line,
            })
            .collect(),
    ));
    // One SVG with every panel for results.md.
    let both = ctx.out_dir.join(PAPER).join("fig3.svg");
    crate::plot::draw_panels(&both, &panels)?;

    let mut md = section(
        "Paper 003, Fig. 3: sum secrecy rate vs SNR, single carrier, perfect AoA",
        "tuan2025-fig3",
        "Left: the paper's i.i.d. Rayleigh Eve (`fig3.csv`); middle: Eve Rician (K = 10 dB) with \
         her line of sight on the sensing target (`fig3-rician.csv`); right: the held-out loss \
         while training. `zf` (ours): each user's beam is its zero-forcing direction times a \
         learned gain, so the encoder learns powers only; `free`: the encoder outputs the beams \
         themselves (eq. 27 normalisation, no zero-forcing prior). ISAC_FJ_PLUS (ours) mixes a \
         learned share beta of its jamming on the steered beam (stage 2 toward the target, \
         `target_power`) with isotropic null-space jamming; OPT_Q is ZF_AN's beams and budget \
         with the certified best jamming covariance for Eve's distribution \
         (`isac jamming-optimum`).",
    );
    md += &calibration_note(&lab);
    let paper_schemes = ["ISAC_FJ", "AE_FJ", "DL_AN"];
    let order: Vec<(BeamStructure, &'static str)> = STRUCTURES
        .iter()
        .flat_map(|&b| Scheme::ALL.map(|s| (b, s.name())))
        .chain([(BeamStructure::Zf, "ZF_AN"), (BeamStructure::Zf, "OPT_Q")])
        .collect();
    let mut columns: Vec<Column<'_, (EveModel, usize)>> = vec![
        Column::new("Eve", |&(eve, _): &(EveModel, usize)| format!("{eve:?}")),
        Column::new("SNR (dB)", |&(_, i): &(EveModel, usize)| {
            format!("{}", snr[i])
        }),
    ];
    columns.extend(order.iter().map(|&(b, name)| {
        let head = match b {
            BeamStructure::Zf => name.to_string(),
            BeamStructure::Free => format!("{name} free"),
        };
        Column::new(head, move |&(eve, i): &(EveModel, usize)| {
            find(eve, b, name).map_or(String::new(), |r| {
                format!("{:.2} +- {:.2}", r[i].sum_secrecy.0, r[i].sum_secrecy.1)
            })
        })
    }));
    columns.push(Column::new(
        format!("paper ({})", paper_schemes.join(" / ")),
        |&(_, i): &(EveModel, usize)| paper_values(&FIG3_PAPER, &paper_schemes, snr[i]),
    ));
    let rows = eves
        .iter()
        .flat_map(|&eve| (0..snr.len()).map(move |i| (eve, i)));
    md += &markdown(rows, &columns);
    md.push('\n');
    md += &binding_note(
        &lab,
        "dB",
        &snr,
        &sweep
            .lines(|c| c.key("beam_structure") == Some(Key::Text(BeamStructure::Zf.name())))
            .map(|l| {
                let eve = l.case.variant.eve;
                (
                    format!("{eve:?} {}", l.case.scheme.name()),
                    l.points.as_slice(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let top = |eve, b, name| {
        find(eve, b, name)
            .and_then(|r| r.last())
            .map_or(f64::NAN, |p| p.eve_leakage)
    };
    let _ = writeln!(
        md,
        "Eve's leakage (her rate summed over the users' streams) at the highest SNR, nats: \
         ISAC_FJ {:.2} / AE_FJ {:.2} / DL_AN {:.2} / ZF_AN {:.2} (Rayleigh), {:.2} / {:.2} / {:.2} / \
         {:.2} (Rician). One steered FJ beam occupies a single dimension of Eve's Ne = {} \
         receive space and the log-det leakage of eq. 28 (her optimal combining) steps around \
         it, while isotropic jamming fills every dimension.\n",
        top(EveModel::Rayleigh, BeamStructure::Zf, "ISAC_FJ"),
        top(EveModel::Rayleigh, BeamStructure::Zf, "AE_FJ"),
        top(EveModel::Rayleigh, BeamStructure::Zf, "DL_AN"),
        top(EveModel::Rayleigh, BeamStructure::Zf, "ZF_AN"),
        top(EveModel::Rician, BeamStructure::Zf, "ISAC_FJ"),
        top(EveModel::Rician, BeamStructure::Zf, "AE_FJ"),
        top(EveModel::Rician, BeamStructure::Zf, "DL_AN"),
        top(EveModel::Rician, BeamStructure::Zf, "ZF_AN"),
        lab.scenario().file().system.eve_antennas
    );
    let at20 = |eve, b, name| {
        sweep
            .find(&fig3_key(eve, b, name))
            .map_or(f64::NAN, |l| l.at(&snr, 20.0, sum_secrecy))
    };
    let paper_at20 = paper_values(&FIG3_PAPER, &paper_schemes, 20.0);
    for &eve in &eves {
        for &b in &STRUCTURES {
            let beats = |other: &'static str| match (find(eve, b, "ISAC_FJ"), find(eve, b, other)) {
                (Some(isac), Some(o)) => {
                    (0..snr.len()).all(|i| isac[i].sum_secrecy.0 > o[i].sum_secrecy.0)
                }
                _ => false,
            };
            let last = |name: &'static str, pick: fn(&PointSummary) -> f64| {
                find(eve, b, name)
                    .and_then(|r| r.last())
                    .map_or(f64::NAN, pick)
            };
            let cause = if beats("AE_FJ") && beats("DL_AN") {
                String::new()
            } else {
                format!(
                    " Cause, at {} dB: Eve's leakage {:.2} nats with ISAC_FJ's one steered beam \
                     against {:.2} with AE_FJ's isotropic null-space jamming, for users' rates of \
                     {:.2} and {:.2} nats.",
                    snr.last().copied().unwrap_or(f64::NAN),
                    last("ISAC_FJ", |p| p.eve_leakage),
                    last("AE_FJ", |p| p.eve_leakage),
                    last("ISAC_FJ", |p| p.user_rate),
                    last("AE_FJ", |p| p.user_rate),
                )
            };
            let _ = writeln!(
                md,
                "- {eve:?} Eve, `{}` beams: \"ISAC_FJ outperforms AE_FJ at every power\": **{}**; \
                 \"... and DL_AN\": **{}**; at 20 dB ISAC_FJ / AE_FJ / DL_AN {:.2} / {:.2} / {:.2} \
                 nats (paper {paper_at20}).{cause}",
                b.name(),
                verdict(beats("AE_FJ")),
                verdict(beats("DL_AN")),
                at20(eve, b, "ISAC_FJ"),
                at20(eve, b, "AE_FJ"),
                at20(eve, b, "DL_AN"),
            );
        }
    }
    // Every zf-structured scheme against the certified optimum of ZF_AN's class.
    let n = lab.opt_q_draws();
    let _ = writeln!(
        md,
        "\nDistance to OPT_Q (ZF_AN's beams and jamming budget, the certified best null-space \
         jamming covariance for Eve's distribution of {} training draws, each scheme on the \
         same first {n} held-out draws): OPT_Q minus the scheme, nats (% of OPT_Q); a negative \
         distance is a scheme that leaves OPT_Q's class (its own power split) or OPT_Q's \
         sample-average error. OPT_Q imposes the CRLB as the BS computes it (like the learned \
         schemes); where no jamming covariance of its budget meets it (ZF_AN's beams keep half \
         the power), the unconstrained optimum stands in and counts among the draws missing \
         CRLB_0 in the note above.\n",
        lab.opt_q_eve_draws()
    );
    let mut head = vec!["Eve".to_string(), "scheme".to_string()];
    head.extend(snr.iter().map(|x| format!("{x} dB")));
    md += &table_head(&head.iter().map(String::as_str).collect::<Vec<_>>());
    for &eve in &eves {
        let Some(opt) = find(eve, BeamStructure::Zf, "OPT_Q") else {
            continue;
        };
        for name in Scheme::ALL.map(Scheme::name).iter().chain(&["ZF_AN"]) {
            let Some(line) = sweep.find(&fig3_key(eve, BeamStructure::Zf, name)) else {
                continue;
            };
            let r = lab.evaluate_draws(
                line.case.scheme,
                line.model.as_ref(),
                line.case.variant,
                &conditions,
                None,
                n,
            )?;
            let cells: Vec<String> = opt
                .iter()
                .zip(&r)
                .map(|(o, p)| {
                    let d = o.sum_secrecy.0 - p.sum_secrecy.0;
                    format!("{d:+.2} ({:+.0}%)", 100.0 * d / o.sum_secrecy.0)
                })
                .collect();
            let _ = writeln!(md, "| {eve:?} | {name} | {} |", cells.join(" | "));
        }
    }
    md.push('\n');
    // OPT_Q's sample-average error: isotropic jamming is optimal against a Rayleigh Eve.
    if let Some(opt) = find(EveModel::Rayleigh, BeamStructure::Zf, "OPT_Q") {
        let zf_matched = lab.evaluate_draws(
            Evaluated::ZfAn,
            None,
            variant(EveModel::Rayleigh, BeamStructure::Zf, Evaluated::ZfAn),
            &conditions,
            None,
            n,
        )?;
        let worst = opt
            .iter()
            .zip(&zf_matched)
            .map(|(o, z)| z.sum_secrecy.0 - o.sum_secrecy.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(
            md,
            "- OPT_Q's own error: against the Rayleigh Eve isotropic jamming (ZF_AN) is optimal by \
             symmetry, and OPT_Q, optimised on {} Eve draws, trails it by at most {worst:.3} nats \
             on the same held-out draws: the sample-average approximation, an error bar on every \
             distance above.",
            lab.opt_q_eve_draws()
        );
    }
    // What the learning adds: the zf-structured schemes against the closed form they contain.
    let gap = |name: &'static str| match (
        find(EveModel::Rayleigh, BeamStructure::Zf, name),
        find(EveModel::Rayleigh, BeamStructure::Zf, "ZF_AN"),
    ) {
        (Some(a), Some(z)) => a
            .iter()
            .zip(z)
            .map(|(a, z)| (a.sum_secrecy.0 - z.sum_secrecy.0).abs())
            .fold(0.0, f64::max),
        _ => f64::NAN,
    };
    let _ = writeln!(
        md,
        "- What the learning adds (Rayleigh): with `zf` beams AE_FJ and DL_AN stay within {:.2} \
         and {:.2} nats of the closed-form ZF_AN at every SNR (the encoder learns powers only, \
         and isotropic null-space jamming is what ZF_AN sends); with `free` beams they reach \
         {:.2} and {:.2} nats at 20 dB, against the paper's {} and {} for its learned \
         baselines.",
        gap("AE_FJ"),
        gap("DL_AN"),
        at20(EveModel::Rayleigh, BeamStructure::Free, "AE_FJ"),
        at20(EveModel::Rayleigh, BeamStructure::Free, "DL_AN"),
        reading(&FIG3_PAPER, Key::Text("AE_FJ"), 20.0).unwrap_or(f64::NAN),
        reading(&FIG3_PAPER, Key::Text("DL_AN"), 20.0).unwrap_or(f64::NAN),
    );
    let iterations = sweep
        .lines
        .iter()
        .find_map(|l| l.model.as_ref())
        .map_or(0, |m| m.log.iterations);
    let flat: Vec<String> = curves
        .iter()
        .map(|(name, c)| format!("{name} {:+.3}", late_change(c)))
        .collect();
    let all_flat = curves.iter().all(|(_, c)| converged(c));
    let _ = writeln!(
        md,
        "- Training: {iterations} Adam steps per model; change of the held-out loss over the last \
         fifth of training (mean of the last tenth minus the tenth before), nats: {}. Every curve \
         flat (below 0.05 nats or 2% of its value): **{}**.",
        flat.join(", "),
        if all_flat { "yes" } else { "no" }
    );
    Ok(Report {
        files,
        markdown: md,
    })
}

/// The paper's Fig. 5 (its text): ISAC_FJ "saturates around 10 nats at P = 22 dB".
const FIG5_PAPER: Reading = Reading {
    series: Key::Text("ISAC_FJ"),
    x: 22.0,
    value: 10.0,
};

/// Fig. 5: convergence of stage 1 (held-out sum secrecy and loss vs iteration at several P).
pub fn fig5(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let model = lab
        .models(&[(Scheme::IsacFj, Variant::single_carrier(EveModel::Rayleigh))])?
        .remove(0);
    let mut csv = Csv::new(&["iteration", "p_db", "sum_secrecy_nats", "loss"]);
    for p in &model.log.points {
        csv.row(&[
            Cell::Int(p.iteration as u64),
            Cell::Num(p.p_db),
            Cell::Num(p.sum_secrecy),
            Cell::Num(p.loss),
        ]);
    }
    let powers = lab.evaluation().convergence_p_db.clone();
    let curve = |p_db: f64, f: fn(&isac_learn::autoencoder::ConvergencePoint) -> f64| {
        model
            .log
            .points
            .iter()
            .filter(|q| q.p_db == p_db)
            .map(|q| (q.iteration as f64, f(q)))
            .collect::<Vec<_>>()
    };
    let line = |p_db: f64, f| Series {
        name: format!("P = {p_db} dB"),
        points: curve(p_db, f),
        style: Style::Line,
    };
    let panels = [
        panel(
            "held-out sum secrecy",
            "iteration",
            "sum secrecy rate (nats/s/Hz)",
            powers.iter().map(|&p| line(p, |q| q.sum_secrecy)).collect(),
        ),
        panel(
            "loss eq. (40)",
            "iteration",
            "loss",
            powers.iter().map(|&p| line(p, |q| q.loss)).collect(),
        ),
    ];
    // The trained model on the figures' held-out draws at the logged powers (where the CRLB
    // binds, and the target jamming gain for the sidecar).
    let evaluated = lab.evaluate(
        Evaluated::Learned(Scheme::IsacFj),
        Some(&model),
        Variant::single_carrier(EveModel::Rayleigh),
        &at_powers(&lab, &powers),
    )?;
    let files = lab.publish("tuan2025-fig5", "fig5", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 5: training convergence",
        "tuan2025-fig5",
        "ISAC_FJ (FC encoder, single carrier, Rayleigh Eve): held-out sum secrecy and loss during \
         stage 1, at several powers (one model is trained over the whole SNR range).",
    );
    md += &table_head(&[
        "P (dB)",
        "at iteration 50",
        "final",
        "reached 90% of final by iteration 50",
    ]);
    let mut fast = true;
    let mut finals = Vec::new();
    for &p in &powers {
        let c = curve(p, |q| q.sum_secrecy);
        let last = c.last().map_or(f64::NAN, |x| x.1);
        let early = c
            .iter()
            .rev()
            .find(|x| x.0 <= 50.0)
            .map_or(f64::NAN, |x| x.1);
        let ok = early >= 0.9 * last;
        fast &= ok;
        finals.push(last);
        let _ = writeln!(md, "| {p} | {early:.2} | {last:.2} | {ok} |");
    }
    md.push('\n');
    md += &binding_note(
        &lab,
        "dB",
        &powers,
        &[("ISAC_FJ".to_string(), evaluated.as_slice())],
    );
    let monotone = finals.windows(2).all(|w| w[1] > w[0]);
    let Reading {
        x: saturation_db,
        value: saturation,
        ..
    } = FIG5_PAPER;
    let ours = powers
        .iter()
        .position(|&p| p == saturation_db)
        .map(|i| finals[i]);
    let _ = writeln!(
        md,
        "- \"Rapid convergence within the first 50 iterations\": **{}**.\n- \"Higher power \
         budgets yield higher sum secrecy\": **{}**.\n- \"Saturates around {saturation} nats at \
         P = {saturation_db} dB\": ours {:.2} nats at {saturation_db} dB (**{}**). Training took \
         {:.1} s for {} iterations.",
        verdict(fast),
        verdict(monotone),
        ours.unwrap_or(f64::NAN),
        verdict(ours.is_some_and(|v| (v - saturation).abs() < 2.0)),
        model.log.seconds,
        model.log.iterations
    );
    // Fig. 3 against Fig. 5 in the paper: at high SNR each user's rate grows by ln(10^(dP/10))
    // per dP dB at most (and Eve's leakage can only lower the secrecy).
    let users = lab.scenario().users();
    let fig3_db = 20.0;
    let fig3 = reading(&FIG3_PAPER, Key::Text("ISAC_FJ"), fig3_db).unwrap_or(f64::NAN);
    let step_db = saturation_db - fig3_db;
    let per_user = step_db / 10.0 * std::f64::consts::LN_10;
    let gain = users as f64 * per_user;
    let _ = writeln!(
        md,
        "- The paper contradicts itself here: its Fig. 3 gives ISAC_FJ {fig3} nats at {fig3_db} \
         dB, and {step_db} dB more power raises each user's high-SNR rate by at most \
         ln(10^{}) = {per_user:.2} nats, so its K = {users} users can gain at most {gain:.2} \
         nats: {:.2} < {saturation}.",
        step_db / 10.0,
        fig3 + gain
    );
    Ok(Report {
        files,
        markdown: md,
    })
}

/// The paper's Fig. 6 near `CRLB_0 = -30` dB (its text): ISAC_FJ "above 4", MRT-Equal "about 3".
const FIG6_PAPER: [Reading; 2] = [
    Reading {
        series: Key::Text("ISAC_FJ"),
        x: -30.0,
        value: 4.0,
    },
    Reading {
        series: Key::Text("MRT_EQUAL"),
        x: -30.0,
        value: 3.0,
    },
];

/// Fig. 6: sum secrecy vs the CRLB threshold at `P_max`: ISAC_FJ and MRT_EQUAL (the paper's
/// comparison), with AE_FJ and ISAC_FJ_PLUS (ours) beside them.
pub fn fig6(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let base = Variant::single_carrier(EveModel::Rayleigh);
    let f = lab.scenario().file();
    let crlb = lab.evaluation().crlb_db.clone();
    let conditions: Vec<Conditions> = crlb
        .iter()
        .map(|&crlb_db| Conditions {
            p_db: f.system.p_max_db,
            crlb_db,
        })
        .collect();
    let cases = [Scheme::IsacFj, Scheme::IsacFjPlus, Scheme::AeFj]
        .map(Evaluated::Learned)
        .into_iter()
        .chain([Evaluated::MrtEqual])
        .map(|scheme| Case {
            keys: vec![("scheme", Key::Text(scheme.name()))],
            label: scheme.name().to_string(),
            scheme,
            variant: Variant {
                stage2_objective: plus_objective(scheme),
                ..base
            },
        })
        .collect();
    let sweep = Sweep::run(&lab, "crlb_db", crlb.clone(), &conditions, cases)?;
    let csv = sweep.csv(
        &["scheme"],
        &[SUM_SECRECY[0], SUM_SECRECY[1], CRLB_BINDING],
        |_| true,
    );
    let panels = [panel(
        &format!("P = {} dB, single carrier", f.system.p_max_db),
        "CRLB threshold (dB of rad^2)",
        "sum secrecy rate (nats/s/Hz)",
        sweep.series(false, |_| true),
    )];
    let files = lab.publish("tuan2025-fig6", "fig6", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 6: sum secrecy rate vs CRLB threshold",
        "tuan2025-fig6",
        "The learned schemes get the threshold as their input feature zeta and meet it through \
         the CRLB term of the loss (and stage 2 for the steered beams); MRT-Equal splits the \
         power equally whatever the threshold. AE_FJ and ISAC_FJ_PLUS (ours) are beside the \
         paper's two. Each cell: sum secrecy +- CI, then the shares of draws meeting CRLB_0 \
         (true CRLB) and with the constraint active (the BS's CRLB within 5% of CRLB_0).",
    );
    md += &calibration_note(&lab);
    let floor_db = 10.0 * crlb_floor(lab.scenario(), f.system.p_max_db).log10();
    let mut columns = vec![Column::new("CRLB_0 (dB)", |&i: &usize| {
        format!("{}", crlb[i])
    })];
    columns.extend(sweep.lines.iter().map(|l| {
        Column::new(l.case.label.clone(), move |&i: &usize| {
            let p = l.points[i];
            format!(
                "{:.2} +- {:.2} (met {:.0}%, active {:.0}%)",
                p.sum_secrecy.0,
                p.sum_secrecy.1,
                100.0 * p.crlb_met,
                100.0 * p.crlb_binding
            )
        })
    }));
    columns.push(Column::new("feasible", |&i: &usize| {
        (if crlb[i] >= floor_db { "yes" } else { "no" }).to_string()
    }));
    md += &markdown(0..crlb.len(), &columns);
    let _ = writeln!(
        md,
        "\n- No design of power P_max = {} dB meets a threshold below {floor_db:.1} dB: the CRLB \
         of either angle is at least 1 / (2 c T P lambda_max(dG_w^H dG_w)) (the Schur complement \
         cannot beat the diagonal, the trace cannot beat P lambda_max).",
        f.system.p_max_db
    );
    // The trade-off of each learned scheme: its secrecy at the loosest threshold against the
    // tightest one it meets on 90% of the draws, and the cause computed from its leakage and
    // users' rates.
    let loosest = (0..crlb.len()).max_by(|&a, &b| crlb[a].total_cmp(&crlb[b]));
    for line in sweep.lines(|c| c.learned().is_some()) {
        let r = &line.points;
        let tightest = (0..crlb.len())
            .filter(|&i| crlb[i] >= floor_db && r[i].crlb_met >= 0.9)
            .min_by(|&a, &b| crlb[a].total_cmp(&crlb[b]));
        if let (Some(lo), Some(hi)) = (loosest, tightest) {
            let (a, b) = (r[lo], r[hi]);
            let falls = b.sum_secrecy.0 + b.sum_secrecy.1 < a.sum_secrecy.0 - a.sum_secrecy.1;
            let active: Vec<String> = (0..crlb.len())
                .filter(|&i| r[i].crlb_binding >= BINDING_SHARE)
                .map(|i| format!("{}", crlb[i]))
                .collect();
            let _ = writeln!(
                md,
                "- {}: a live trade-off (secrecy at {} dB, the tightest threshold it meets on \
                 90% of draws, below that at {} dB by more than both CIs): **{}**, {:.2} against \
                 {:.2} nats; the constraint is active (>= {:.0}% of \
                 draws) at {}. From {} to {} dB the users' rates go {:.2} -> {:.2} nats, Eve's \
                 leakage {:.2} -> {:.2}, the target jamming gain {:.2} -> {:.2}, and the draws \
                 meeting CRLB_0 {:.0}% -> {:.0}%.",
                line.case.label,
                crlb[hi],
                crlb[lo],
                if falls { "yes" } else { "no" },
                b.sum_secrecy.0,
                a.sum_secrecy.0,
                100.0 * BINDING_SHARE,
                if active.is_empty() {
                    "no threshold".to_string()
                } else {
                    format!("CRLB_0 = {} dB", active.join(", "))
                },
                crlb[lo],
                crlb[hi],
                a.user_rate,
                b.user_rate,
                a.eve_leakage,
                b.eve_leakage,
                a.target_jamming_gain,
                b.target_jamming_gain,
                100.0 * a.crlb_met,
                100.0 * b.crlb_met
            );
        }
    }
    let [isac, mrt] = ["ISAC_FJ", "MRT_EQUAL"].map(|name| {
        sweep
            .find(&[("scheme", Key::Text(name))])
            .ok_or_else(|| EvalError::Invalid(format!("fig6 lost its {name} series")))
    });
    let (isac, mrt) = (isac?, mrt?);
    let beats = (0..crlb.len()).all(|i| isac.points[i].sum_secrecy.0 > mrt.points[i].sum_secrecy.0);
    let paper = |name| reading(&FIG6_PAPER, Key::Text(name), -30.0).unwrap_or(f64::NAN);
    let _ = writeln!(
        md,
        "- \"ISAC_FJ outperforms MRT-Equal at every CRLB level\": **{}**. Paper near -30 dB: \
         ISAC_FJ above {}, MRT-Equal about {} nats; ours at -30 dB: {:.2} and {:.2}.",
        verdict(beats),
        paper("ISAC_FJ"),
        paper("MRT_EQUAL"),
        isac.at(&crlb, -30.0, sum_secrecy),
        mrt.at(&crlb, -30.0, sum_secrecy)
    );
    Ok(Report {
        files,
        markdown: md,
    })
}

/// The smallest CRLB any single-carrier design of total power `p_db` can reach at the target
/// (true echo scale): `max_w 1 / (2 c T P lambda_max(dG_w^H dG_w))`, since `[J^-1]_ww >= 1 / J_ww`
/// and `J_ww = 2 c T tr(R dG_w^H dG_w) <= 2 c T P lambda_max`.
pub(super) fn crlb_floor(s: &FriendlyJammingScenario, p_db: f64) -> f64 {
    let geometry = isac_bounds::EchoGeometry {
        tx: s.tx(),
        rx: s.rx(),
    };
    let (theta, phi) = s.target();
    let ch = geometry.channel(theta, phi);
    let p = isac_channel::units::db_to_linear(p_db);
    [&ch.d_theta, &ch.d_phi]
        .iter()
        .map(|d| {
            let gram = d.adjoint() * *d;
            let top = gram
                .self_adjoint_eigenvalues(faer::Side::Lower)
                .map_or(f64::NAN, |e| e.iter().copied().fold(0.0, f64::max));
            1.0 / (2.0 * s.fim_scale() * s.snapshots() * p * top)
        })
        .fold(0.0, f64::max)
}

/// The power models of Fig. 7: the paper's reading first.
const POWER_MODELS: [PowerModel; 2] = [PowerModel::FixedBand, PowerModel::PerSubcarrier];

/// The paper's Fig. 7 at 25 dB: worst-user secrecy by N ("about 0" read as 0).
const FIG7_PAPER: [Reading; 4] = [
    Reading {
        series: Key::Int(1),
        x: 25.0,
        value: 0.0,
    },
    Reading {
        series: Key::Int(16),
        x: 25.0,
        value: 1.6,
    },
    Reading {
        series: Key::Int(32),
        x: 25.0,
        value: 4.3,
    },
    Reading {
        series: Key::Int(64),
        x: 25.0,
        value: 6.2,
    },
];

/// The largest distance between a sweep over N and the paper's Fig. 7 at 25 dB, each divided by
/// its value at the largest N both have (the shape, free of the absolute scale); `NaN` when they
/// share fewer than two N.
fn shape_distance(counts: &[usize], ours: &[f64]) -> f64 {
    let shared: Vec<(f64, f64)> = counts
        .iter()
        .zip(ours)
        .filter_map(|(&n, &o)| reading(&FIG7_PAPER, Key::Int(n as u64), 25.0).map(|p| (o, p)))
        .collect();
    let Some(&(our_top, paper_top)) = shared.last() else {
        return f64::NAN;
    };
    if shared.len() < 2 {
        return f64::NAN;
    }
    shared
        .iter()
        .map(|(o, p)| (o / our_top - p / paper_top).abs())
        .fold(0.0, f64::max)
}

/// One ISAC_FJ case (Rayleigh Eve, single-carrier defaults) per `(keys, label, variant)`.
fn isac_fj_cases(
    cases: impl IntoIterator<Item = (Vec<(&'static str, Key)>, String, Variant)>,
) -> Vec<Case> {
    cases
        .into_iter()
        .map(|(keys, label, variant)| Case {
            keys,
            label,
            scheme: Evaluated::Learned(Scheme::IsacFj),
            variant,
        })
        .collect()
}

/// Fig. 7: worst-user secrecy vs SNR for N subcarriers, under both power models: N occupied
/// slots of a fixed band sharing its power (the paper's values' reading) and eq. (27)'s same
/// mean power per subcarrier.
pub fn fig7(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let counts: Vec<usize> = if lab.quick() {
        lab.evaluation()
            .subcarrier_counts
            .iter()
            .copied()
            .filter(|&n| n <= 16)
            .collect()
    } else {
        lab.evaluation().subcarrier_counts.clone()
    };
    let band = lab.scenario().file().system.band_subcarriers;
    if let Some(&n) = counts.iter().find(|&&n| n > band) {
        return Err(EvalError::Invalid(format!(
            "evaluation.subcarrier_counts holds N = {n} above system.band_subcarriers = \
             {band}: the fixed band of Fig. 7 cannot hold it"
        )));
    }
    let snr = lab.evaluation().snr_db.clone();
    let cases = isac_fj_cases(POWER_MODELS.iter().flat_map(|&pm| {
        counts.iter().map(move |&n| {
            (
                vec![
                    ("subcarriers", Key::Int(n as u64)),
                    ("power_model", Key::Text(pm.name())),
                ],
                format!("N = {n}"),
                Variant {
                    subcarriers: n,
                    power_model: Some(pm),
                    ..Variant::single_carrier(EveModel::Rayleigh)
                },
            )
        })
    }));
    let sweep = Sweep::run(&lab, "snr_db", snr.clone(), &at_powers(&lab, &snr), cases)?;
    let csv = sweep.csv(&["subcarriers", "power_model"], &WORST_USER, |_| true);
    let of_model = |pm: PowerModel| move |c: &Case| c.variant.power_model == Some(pm);
    let panels: Vec<Panel> = POWER_MODELS
        .iter()
        .map(|&pm| {
            panel(
                &format!("ISAC_FJ, Rayleigh Eve, {}", pm.name()),
                "SNR P/sigma^2 (dB)",
                "worst-user secrecy rate (nats/s/Hz)",
                sweep.series(true, of_model(pm)),
            )
        })
        .collect();
    let files = lab.publish("tuan2025-fig7", "fig7", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 7: worst-user secrecy rate vs SNR and number of subcarriers",
        "tuan2025-fig7",
        &format!(
            "One ISAC_FJ model per N and power model. `fixed_band`: N subcarriers occupied inside \
             a band of B = {band} slots, the band's power B P_max split over the N occupied ones, \
             rates averaged over the B slots (\"all power is allocated to a single frequency \
             slot\"); `per_subcarrier` (eq. 27): the same mean power P_max on every subcarrier, \
             rates averaged over the N subcarriers. At N = B the two are the same model."
        ),
    );
    md += &calibration_note(&lab);
    let n_of = |l: &Line| l.case.variant.subcarriers;
    let model_of = |l: &Line| l.case.variant.power_model.map_or("", PowerModel::name);
    let axis = snr.as_slice();
    let ours = |x: f64| move |l: &&Line| format!("{:.2}", l.at(axis, x, worst_user));
    md += &markdown(
        &sweep.lines,
        &[
            Column::new("power model", |l: &&Line| model_of(l).to_string()),
            Column::new("N", |l: &&Line| n_of(l).to_string()),
            Column::new("at 25 dB (ours)", ours(25.0)),
            Column::new("at 25 dB (paper)", |l: &&Line| {
                reading(&FIG7_PAPER, Key::Int(n_of(l) as u64), 25.0).map_or(String::new(), |v| {
                    if v == 0.0 {
                        "~0".to_string()
                    } else {
                        v.to_string()
                    }
                })
            }),
            Column::new("at 30 dB (ours)", ours(30.0)),
        ],
    );
    md.push('\n');
    let sweeps: Vec<(String, &[PointSummary])> = sweep
        .lines
        .iter()
        .map(|l| {
            (
                format!("{} N = {}", model_of(l), n_of(l)),
                l.points.as_slice(),
            )
        })
        .collect();
    md += &binding_note(&lab, "dB", &snr, &sweeps);
    let at25 = |pm: PowerModel| -> Vec<f64> {
        sweep
            .lines(of_model(pm))
            .map(|l| l.at(&snr, 25.0, worst_user))
            .collect()
    };
    let distances: Vec<f64> = POWER_MODELS
        .iter()
        .map(|&pm| shape_distance(&counts, &at25(pm)))
        .collect();
    for (&pm, distance) in POWER_MODELS.iter().zip(&distances) {
        let v = at25(pm);
        let grows = v.windows(2).all(|w| w[1] > w[0]);
        let single_zero = counts.first() == Some(&1) && v[0] < 0.5;
        let cause = if single_zero || counts.first() != Some(&1) {
            String::new()
        } else {
            format!(
                " Cause: every subcarrier gets the mean power P_max whatever N, so a single \
                 carrier keeps {:.2} nats at 25 dB, {:.0}% of N = {}'s.",
                v[0],
                100.0 * v[0] / v.last().copied().unwrap_or(f64::NAN),
                counts.last().copied().unwrap_or(0)
            )
        };
        let _ = writeln!(
            md,
            "- `{}`: \"performance scales directly with the number of subcarriers\": **{}**; \
             \"the single-carrier system achieves nearly zero secrecy\": **{}**; largest distance \
             from the paper's shape (each curve over its value at the largest N): {distance:.3}.\
             {cause}",
            pm.name(),
            verdict(grows),
            verdict(single_zero),
        );
    }
    let closest = POWER_MODELS
        .iter()
        .zip(&distances)
        .filter(|(_, d)| d.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1));
    let _ = writeln!(
        md,
        "- The reading that reproduces the paper's shape (the smaller distance, and below 0.2): \
         **{}**.",
        closest
            .filter(|(_, d)| **d < 0.2)
            .map_or("neither".to_string(), |(pm, _)| format!("`{}`", pm.name()))
    );
    Ok(Report {
        files,
        markdown: md,
    })
}

/// Fig. 8: sum secrecy vs SNR for several CSI-error variances rho (one model per rho, trained
/// on estimates with that error).
pub fn fig8(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let f = lab.scenario().file();
    let rhos = f.channel.csi_error_vars.clone();
    let snr = lab.evaluation().snr_db.clone();
    let cases = isac_fj_cases(rhos.iter().map(|&rho| {
        (
            vec![("csi_error_var", Key::Num(rho))],
            format!("rho = {rho}"),
            Variant {
                csi_error_var: rho,
                ..Variant::single_carrier(EveModel::Rayleigh)
            },
        )
    }));
    let sweep = Sweep::run(&lab, "snr_db", snr.clone(), &at_powers(&lab, &snr), cases)?;
    let csv = sweep.csv(&["csi_error_var"], &SUM_SECRECY, |_| true);
    let panels = [panel(
        "ISAC_FJ, single carrier, Rayleigh Eve",
        "SNR P/sigma^2 (dB)",
        "sum secrecy rate (nats/s/Hz)",
        sweep.series(false, |_| true),
    )];
    let files = lab.publish("tuan2025-fig8", "fig8", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 8: sum secrecy rate vs SNR under CSI error",
        "tuan2025-fig8",
        "One ISAC_FJ model per rho, trained on estimates with that error; evaluation on the true \
         channels.",
    );
    md += &calibration_note(&lab);
    let axis = snr.as_slice();
    let ours = |x: f64| move |l: &&Line| format!("{:.2}", l.at(axis, x, sum_secrecy));
    md += &markdown(
        &sweep.lines,
        &[
            Column::new("rho", |l: &&Line| l.case.variant.csi_error_var.to_string()),
            Column::new("at 10 dB", ours(10.0)),
            Column::new("at 20 dB", ours(20.0)),
            Column::new("at 30 dB", ours(30.0)),
        ],
    );
    md.push('\n');
    md += &binding_note(&lab, "dB", &snr, &sweep.sweeps(|_| true));
    let top = snr.len() - 1;
    let results: Vec<&[PointSummary]> = sweep.lines.iter().map(|l| l.points.as_slice()).collect();
    let degrades = results
        .windows(2)
        .all(|w| w[1][top].sum_secrecy.0 <= w[0][top].sum_secrecy.0 + w[0][top].sum_secrecy.1);
    let kept =
        results.last().map_or(f64::NAN, |r| r[top].sum_secrecy.0) / results[0][top].sum_secrecy.0;
    let _ = writeln!(
        md,
        "- \"As rho increases the secrecy rate degrades\": **{}** (at {} dB).\n- \"The \
         degradation is gradual\": at rho = {} ISAC_FJ keeps {:.0}% of its rho = 0 secrecy at {} dB.",
        verdict(degrades),
        snr[top],
        rhos.last().copied().unwrap_or(f64::NAN),
        100.0 * kept,
        snr[top]
    );
    Ok(Report {
        files,
        markdown: md,
    })
}
