//! Paper 003, Fig. 12: secrecy lost to hardware impairments (IQ imbalance and Wiener phase
//! noise, common to the array as the paper writes it or per antenna) by a model trained with
//! them (robust), one trained on ideal hardware (non-robust), and ZF + AN, at P_max on the same
//! draws.

use std::fmt::Write as _;
use std::time::Instant;

use isac_channel::impairments::IqImbalance;
use isac_channel::scenario::friendly_jamming::{EveModel, PhaseModel};
use isac_learn::autoencoder::Scheme;

use super::figures::{at_powers, binding_note, panel};
use super::{Evaluated, Hardware, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::{Report, RunContext, section, table_head, verdict};
use crate::output::{Cell, Csv};
use crate::plot::{Series, Style};

/// The phase models of Fig. 12: the paper's reading first.
const PHASE_MODELS: [PhaseModel; 2] = [PhaseModel::Common, PhaseModel::PerAntenna];

fn variant(robust: bool, phase_model: PhaseModel) -> Variant {
    Variant {
        robust,
        phase_model: Some(phase_model),
        ..Variant::single_carrier(EveModel::Rayleigh)
    }
}

/// One scheme's row of the table.
struct Lost {
    name: &'static str,
    phase_model: PhaseModel,
    /// Secrecy on ideal hardware.
    ideal: f64,
    /// Secrecy lost to the IQ imbalance alone (no phase noise).
    iq_only: f64,
    /// Secrecy lost at each phase-noise variance (with the IQ imbalance).
    lost: Vec<f64>,
}

/// Fig. 12: `phase_noise_var,scheme,phase_model,secrecy_degradation_nats`.
pub fn fig12(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let f = lab.scenario().file();
    let i = &f.impairments;
    let iq = IqImbalance::new(i.iq_epsilon, i.iq_phase_deg.to_radians());
    let vars = i.phase_noise_vars.clone();
    // Robust models per phase model, then the ideal-hardware model (the same for both).
    let mut jobs: Vec<(Scheme, Variant)> = PHASE_MODELS
        .iter()
        .map(|&pm| (Scheme::IsacFj, variant(true, pm)))
        .collect();
    jobs.push((Scheme::IsacFj, variant(false, PhaseModel::PerAntenna)));
    let models = lab.models(&jobs)?;
    let point = at_powers(&lab, &[f.system.p_max_db]);
    lab.progress().start(
        (PHASE_MODELS.len() * 3 * (vars.len() + 2)) as u64,
        "evaluating",
    );
    let mut csv = Csv::new(&[
        "phase_noise_var",
        "scheme",
        "phase_model",
        "secrecy_degradation_nats",
    ]);
    let mut table: Vec<Lost> = Vec::new();
    let mut operating: Vec<(String, [PointSummary; 1])> = Vec::new();
    for (pi, &pm) in PHASE_MODELS.iter().enumerate() {
        let schemes: [(&str, Evaluated, Option<usize>, bool); 3] = [
            (
                "ROBUST_ISAC",
                Evaluated::Learned(Scheme::IsacFj),
                Some(pi),
                true,
            ),
            (
                "NONROBUST_ISAC",
                Evaluated::Learned(Scheme::IsacFj),
                Some(PHASE_MODELS.len()),
                false,
            ),
            ("ZF_AN", Evaluated::ZfAn, None, false),
        ];
        for (name, scheme, model, robust) in schemes {
            let m = model.map(|k| &models[k]);
            let v = variant(robust, pm);
            let ideal_point = lab.evaluate(scheme, m, v, &point)?[0];
            operating.push((format!("{name} {}", pm.name()), [ideal_point]));
            let ideal = ideal_point.sum_secrecy.0;
            let impaired = |var: f64| {
                let hw = Hardware {
                    iq,
                    phase_noise_var: var,
                    phase_model: pm,
                };
                Ok::<_, EvalError>(
                    lab.evaluate_on(scheme, m, v, &point, Some(hw))?[0]
                        .sum_secrecy
                        .0,
                )
            };
            let iq_only = ideal - impaired(0.0)?;
            let mut lost = Vec::new();
            for &var in &vars {
                let l = ideal - impaired(var)?;
                csv.row(&[
                    Cell::Num(var),
                    Cell::Text(name),
                    Cell::Text(pm.name()),
                    Cell::Num(l),
                ]);
                lost.push(l);
            }
            table.push(Lost {
                name,
                phase_model: pm,
                ideal,
                iq_only,
                lost,
            });
        }
    }
    let panels: Vec<_> = PHASE_MODELS
        .iter()
        .map(|&pm| {
            panel(
                &format!(
                    "{} phase, P = {} dB, eps = {}, dtheta = {} deg",
                    pm.name(),
                    f.system.p_max_db,
                    i.iq_epsilon,
                    i.iq_phase_deg
                ),
                "phase-noise variance (rad^2)",
                "secrecy degradation (nats/s/Hz)",
                table
                    .iter()
                    .filter(|row| row.phase_model == pm)
                    .map(|row| Series {
                        name: row.name.to_string(),
                        points: vars.iter().copied().zip(row.lost.iter().copied()).collect(),
                        style: Style::Line,
                    })
                    .collect(),
            )
        })
        .collect();
    let files = lab.publish("tuan2025-fig12", "fig12", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 12: secrecy degradation under hardware impairments",
        "tuan2025-fig12",
        "Secrecy on ideal hardware minus secrecy with IQ imbalance and oscillator phase noise (one \
         Wiener increment since the design was computed), single carrier, Rayleigh Eve, same \
         draws. `common`: the paper's y = e^{j phi} h^H x, one oscillator for the array; \
         `per_antenna`: one Wiener phase per antenna (ours). ROBUST_ISAC is trained with the \
         impairments of its phase model sampled per batch, NONROBUST_ISAC on ideal hardware.",
    );
    let mut head = vec!["phase model", "scheme", "ideal secrecy"];
    let labels: Vec<String> = vars.iter().map(|v| format!("lost at {v}")).collect();
    head.extend(labels.iter().map(String::as_str));
    md += &table_head(&head);
    for row in &table {
        let cells: Vec<String> = row.lost.iter().map(|l| format!("{l:.2}")).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {:.2} | {} |",
            row.phase_model.name(),
            row.name,
            row.ideal,
            cells.join(" | ")
        );
    }
    md.push('\n');
    let sweeps: Vec<(String, &[PointSummary])> = operating
        .iter()
        .map(|(label, p)| (label.clone(), p.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &[f.system.p_max_db], &sweeps);
    for pm in PHASE_MODELS {
        let rows: Vec<&Lost> = table.iter().filter(|row| row.phase_model == pm).collect();
        let last = |k: usize| rows[k].lost.last().copied().unwrap_or(f64::NAN);
        // What the phase noise adds to the IQ imbalance alone, over every scheme and variance.
        let beyond_iq = rows
            .iter()
            .flat_map(|r| r.lost.iter().map(|l| (l - r.iq_only).abs()))
            .fold(0.0, f64::max);
        let zf_an_degrades = last(2) > rows[2].iq_only + 0.05;
        let cause = match pm {
            PhaseModel::Common => format!(
                " A common phase rotates signal, jamming and interference alike, so no rate of \
                 eq. (28) moves: over every variance the loss differs from the IQ-only loss by at \
                 most {beyond_iq:.1e} nats for every scheme, and the IQ imbalance alone costs \
                 ROBUST_ISAC {:.2} nats.{}",
                rows[0].iq_only,
                if beyond_iq < 1e-6 {
                    " So the paper's claim that ZF+AN degrades with phase noise cannot hold under \
                     its own y = e^{j phi} h^H x."
                } else {
                    ""
                }
            ),
            PhaseModel::PerAntenna => format!(
                " Per-antenna phases leak the beams into the users' null space and the jamming \
                 into theirs: ROBUST_ISAC loses {:.0}% of its ideal secrecy, {:.2} nats beyond \
                 the IQ imbalance alone.",
                100.0 * last(0) / rows[0].ideal,
                last(0) - rows[0].iq_only
            ),
        };
        let _ = writeln!(
            md,
            "- `{}`: \"Robust training makes phase-noise degradation negligible\" (under 5% of its \
             ideal secrecy at the largest variance): **{}** ({:.2} of {:.2} nats lost); \"robust \
             degrades less than non-robust\" (by over 0.05 nats): **{}** ({:.3} vs {:.3}); \"ZF+AN degrades with \
             phase noise\": **{}** ({:.2} at the largest variance vs {:.2} with IQ imbalance \
             alone).{cause}",
            pm.name(),
            verdict(last(0) < 0.05 * rows[0].ideal),
            last(0),
            rows[0].ideal,
            verdict(last(0) + 0.05 < last(1)),
            last(0),
            last(1),
            verdict(zf_an_degrades),
            last(2),
            rows[2].iq_only,
        );
    }
    Ok(Report {
        files,
        markdown: md,
    })
}
