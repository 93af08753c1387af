//! Beyond paper 003: when does sensing-guided (steered) jamming pay? Eve's channel runs from
//! the paper's i.i.d. Rayleigh through Rician K-factors to a pure line of sight from the target,
//! for several Ne and SNRs, and her line of sight moves off the target. Closed-form designs
//! (zero-forcing beams; the jamming share, and the steered share beta of mixed jamming, chosen
//! on training draws per point) stand in for a model per point; the learned schemes are trained
//! at the two ends (Rayleigh and line of sight, Ne = 2, 20 dB) to measure how far the closed
//! forms are from them.

use std::fmt::Write as _;
use std::time::Instant;

use faer::{Col, c64};
use isac_bounds::EchoGeometry;
use isac_channel::fading::{Realization, realize};
use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::EveModel;
use isac_design::{
    JammingDesign, sensing_guided_jamming_direction, target_jamming_direction, zf_an, zf_mixed,
};
use isac_learn::autoencoder::{Conditions, Scheme};
use rayon::prelude::*;

use super::figures::{at_powers, binding_note, panel, plus_objective};
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::{Report, RunContext, section, table_head};
use crate::held_out::{DrawMetrics, HeldOut, summarise};
use crate::output::{Cell, Csv};
use crate::plot::{Panel, Series, Style};

/// The study's schemes, in the CSV's order (exact names of the issue).
const SCHEMES: [&str; 5] = [
    "ISAC_FJ",
    "ISAC_FJ_TARGET",
    "ISAC_FJ_PLUS",
    "AE_FJ",
    "ZF_AN",
];

/// Jamming shares of the power tried on training draws.
const SHARES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Steered shares beta of ISAC_FJ_PLUS tried on training draws.
const BETAS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Training draws are realisations from this index on (held-out ones start at 0).
const TRAINING_DRAWS: u64 = 1 << 40;

/// Eve's channel at one row: the model and its K-factor (Rician only).
#[derive(Debug, Clone, Copy, PartialEq)]
struct EveChannel {
    model: EveModel,
    k_factor_db: Option<f64>,
}

impl EveChannel {
    /// Position on the figures' K axis: Rayleigh 5 dB below the smallest K, line of sight 5 dB
    /// above the largest.
    fn axis(self, ks: &[f64]) -> f64 {
        let lo = ks.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ks.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        match self.model {
            EveModel::Rayleigh => lo - 5.0,
            EveModel::Los => hi + 5.0,
            _ => self.k_factor_db.unwrap_or(f64::NAN),
        }
    }

    fn label(self) -> String {
        match self.k_factor_db {
            Some(k) => format!("K = {k} dB"),
            None => self.model.name().to_string(),
        }
    }
}

/// One row of the study (before the scheme).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    eve: EveChannel,
    eve_antennas: usize,
    offset_deg: f64,
    snr_db: f64,
}

impl Row {
    fn variant(self) -> Variant {
        Variant {
            eve_antennas: Some(self.eve_antennas),
            eve_k_factor_db: self.eve.k_factor_db,
            eve_offset_deg: Some(self.offset_deg),
            ..Variant::single_carrier(self.eve.model)
        }
    }
}

/// What the closed form of one scheme transmits, its free parameters fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Design {
    /// ZF beams and a share of the power isotropic in the null space (AE_FJ, ZF_AN).
    Isotropic { share: f64 },
    /// ZF beams and a share on the FIM-trace beam of eq. 17 (ISAC_FJ).
    Fisher { share: f64 },
    /// ZF beams and a share mixed between `P a / |P a|` and isotropic (ISAC_FJ_TARGET: beta 1).
    Mixed { share: f64, beta: f64 },
}

/// A training or held-out draw with the two steered directions at the BS's estimates.
struct Draw {
    index: u64,
    realization: Realization,
    fisher: Col<c64>,
    target: Col<c64>,
}

impl Design {
    fn transmit(self, draw: &Draw, power: f64) -> Result<JammingDesign, EvalError> {
        let h = draw.realization.users_estimated[0].as_ref();
        Ok(match self {
            Self::Isotropic { share } => zf_an(h, power, share)?,
            Self::Fisher { share } => zf_mixed(h, power, share, &draw.fisher, 1.0)?,
            Self::Mixed { share, beta } => zf_mixed(h, power, share, &draw.target, beta)?,
        })
    }

    /// The candidates tried on training draws for a scheme (ZF_AN has none: its share is the
    /// scenario's).
    fn candidates(scheme: &str, an_share: f64) -> Vec<Self> {
        match scheme {
            "ISAC_FJ" => SHARES.map(|share| Self::Fisher { share }).to_vec(),
            "ISAC_FJ_TARGET" => SHARES
                .map(|share| Self::Mixed { share, beta: 1.0 })
                .to_vec(),
            "ISAC_FJ_PLUS" => SHARES
                .iter()
                .flat_map(|&share| BETAS.map(|beta| Self::Mixed { share, beta }))
                .collect(),
            "AE_FJ" => SHARES.map(|share| Self::Isotropic { share }).to_vec(),
            _ => vec![Self::Isotropic { share: an_share }],
        }
    }
}

/// One evaluated (row, scheme).
struct Outcome {
    row: Row,
    scheme: &'static str,
    summary: PointSummary,
    /// The summary on OPT_Q's held-out draws (the first of everyone's).
    matched: PointSummary,
    design: Design,
}

impl<'a> Lab<'a> {
    fn draw(
        &self,
        s: &FriendlyJammingScenario,
        eve: EveModel,
        index: u64,
    ) -> Result<Draw, EvalError> {
        let realization = realize(s, &eve, 0.0, index)?;
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        let (theta, phi) = realization.target_estimated;
        let h = realization.users_estimated[0].as_ref();
        let (fisher, _) = sensing_guided_jamming_direction(&geometry.channel(theta, phi), h)?;
        let target = target_jamming_direction(h, &geometry, (theta, phi))?;
        Ok(Draw {
            index,
            realization,
            fisher,
            target,
        })
    }

    fn design_metrics(
        &self,
        s: &FriendlyJammingScenario,
        design: Design,
        draws: &[Draw],
        c: Conditions,
    ) -> Result<Vec<DrawMetrics>, EvalError> {
        let power = s.subcarrier_power(c.p_db);
        let held_out = HeldOut {
            believed_fim_scale: self.calibration.scale,
            ..HeldOut::new(s, draws.len())
        };
        draws
            .iter()
            .map(|d| {
                let x = design.transmit(d, power)?;
                held_out.metrics(&d.realization, &[x], c, d.index)
            })
            .collect()
    }

    /// Every scheme's closed form at `row`: parameters chosen on training draws (the best mean
    /// sum secrecy among candidates whose true CRLB meets `CRLB_0` on 95% of them, or the best
    /// outright if none does), then evaluated on the held-out draws.
    fn eve_row(&self, row: Row, train: usize, held_out: usize) -> Result<Vec<Outcome>, EvalError> {
        let s = self.variant(row.variant())?;
        let c = at_powers(self, &[row.snr_db])[0];
        let draws = |from: u64, n: usize| -> Result<Vec<Draw>, EvalError> {
            (from..from + n as u64)
                .map(|i| self.draw(&s, row.eve.model, i))
                .collect()
        };
        let (training, testing) = (draws(TRAINING_DRAWS, train)?, draws(0, held_out)?);
        let an_share = self.evaluation().an_power_fraction;
        let label = |scheme: &str| format!("{scheme} [closed form, {}]", row.eve.label());
        let mut out: Vec<Outcome> = SCHEMES
            .iter()
            .map(|&scheme| {
                let mut best: Option<(bool, f64, Design)> = None;
                for design in Design::candidates(scheme, an_share) {
                    let m = summarise(&self.design_metrics(&s, design, &training, c)?);
                    let key = (m.crlb_met >= 0.95, m.sum_secrecy.0);
                    if best.is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                        best = Some((key.0, key.1, design));
                    }
                }
                let design = best.map(|b| b.2).ok_or_else(|| {
                    EvalError::Invalid(format!("no candidate design for {scheme}"))
                })?;
                let metrics = self.design_metrics(&s, design, &testing, c)?;
                Ok(Outcome {
                    row,
                    scheme,
                    summary: self.summarise(&label(scheme), &metrics),
                    matched: summarise(&metrics[..self.opt_q_draws().min(metrics.len())]),
                    design,
                })
            })
            .collect::<Result<_, EvalError>>()?;
        // The certified optimum of ZF_AN's class at the reference SNR and Ne.
        if (row.eve_antennas, row.snr_db) == REFERENCE {
            let summary = self.evaluate(Evaluated::OptQ, None, row.variant(), &[c])?[0];
            out.push(Outcome {
                row,
                scheme: "OPT_Q",
                summary,
                matched: summary,
                design: Design::Isotropic { share: an_share },
            });
        }
        Ok(out)
    }
}

/// The rows of the sweep: Eve's channel x Ne x SNR at offset 0, then the offsets at line of
/// sight, Ne = 2, 20 dB (a quick run keeps a corner of each).
fn rows(quick: bool) -> (Vec<EveChannel>, Vec<usize>, Vec<f64>, Vec<f64>) {
    let ks: &[f64] = if quick {
        &[10.0]
    } else {
        &[0.0, 5.0, 10.0, 15.0, 20.0, 30.0]
    };
    let mut eves = vec![EveChannel {
        model: EveModel::Rayleigh,
        k_factor_db: None,
    }];
    eves.extend(ks.iter().map(|&k| EveChannel {
        model: EveModel::Rician,
        k_factor_db: Some(k),
    }));
    eves.push(EveChannel {
        model: EveModel::Los,
        k_factor_db: None,
    });
    if quick {
        (eves, vec![2], vec![20.0], vec![0.0, 10.0])
    } else {
        (
            eves,
            vec![1, 2, 4],
            vec![10.0, 20.0, 30.0],
            vec![0.0, 2.0, 5.0, 10.0, 20.0],
        )
    }
}

/// The study's reference point: Ne = 2 at 20 dB.
const REFERENCE: (usize, f64) = (2, 20.0);

fn csv_row(csv: &mut Csv, o: &Outcome) {
    let k = o.row.eve.k_factor_db.map(|k| format!("{k}"));
    csv.row(&[
        Cell::Text(o.row.eve.model.name()),
        Cell::Text(k.as_deref().unwrap_or("")),
        Cell::Int(o.row.eve_antennas as u64),
        Cell::Num(o.row.offset_deg),
        Cell::Num(o.row.snr_db),
        Cell::Text(o.scheme),
        Cell::Num(o.summary.sum_secrecy.0),
        Cell::Num(o.summary.sum_secrecy.1),
        Cell::Num(o.summary.target_jamming_gain),
    ]);
}

const COLUMNS: [&str; 9] = [
    "eve_model",
    "k_factor_db",
    "eve_antennas",
    "offset_deg",
    "snr_db",
    "scheme",
    "sum_secrecy_nats",
    "sum_secrecy_nats_ci95",
    "target_jamming_gain",
];

/// `tuan2025-eve-study`: `eve-study.csv` (closed forms at every row), `eve-study-learned.csv`
/// (the learned schemes at Rayleigh and line of sight, Ne = 2, 20 dB; same columns), the SVG and
/// the results section with its computed verdicts.
pub fn eve_study(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let (eves, antennas, snrs, offsets) = rows(lab.quick());
    let mut grid: Vec<Row> = Vec::new();
    for &eve in &eves {
        for &ne in &antennas {
            for &snr_db in &snrs {
                grid.push(Row {
                    eve,
                    eve_antennas: ne,
                    offset_deg: 0.0,
                    snr_db,
                });
            }
        }
    }
    let los = EveChannel {
        model: EveModel::Los,
        k_factor_db: None,
    };
    grid.extend(
        offsets
            .iter()
            .filter(|&&o| o != 0.0)
            .map(|&offset_deg| Row {
                eve: los,
                eve_antennas: REFERENCE.0,
                offset_deg,
                snr_db: REFERENCE.1,
            }),
    );
    let (train, held_out) = (lab.sized(100, 16), lab.draws());
    lab.progress().start(grid.len() as u64, "eve study");
    let outcomes: Vec<Outcome> = grid
        .par_iter()
        .map(|&row| {
            let o = lab.eve_row(row, train, held_out);
            lab.progress().inc(1);
            o
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut csv = Csv::new(&COLUMNS);
    for o in &outcomes {
        csv_row(&mut csv, o);
    }

    // The learned schemes at the two ends of the K axis.
    let ends = [
        EveChannel {
            model: EveModel::Rayleigh,
            k_factor_db: None,
        },
        los,
    ];
    let learned_schemes = [
        ("ISAC_FJ", Scheme::IsacFj, None),
        (
            "ISAC_FJ_TARGET",
            Scheme::IsacFj,
            Some(isac_learn::Stage2Objective::TargetPower),
        ),
        (
            "ISAC_FJ_PLUS",
            Scheme::IsacFjPlus,
            plus_objective(Evaluated::Learned(Scheme::IsacFjPlus)),
        ),
        ("AE_FJ", Scheme::AeFj, None),
    ];
    let learned_variant = |eve: EveChannel, objective| Variant {
        stage2_objective: objective,
        ..Row {
            eve,
            eve_antennas: REFERENCE.0,
            offset_deg: 0.0,
            snr_db: REFERENCE.1,
        }
        .variant()
    };
    let jobs: Vec<(Scheme, Variant)> = ends
        .iter()
        .flat_map(|&eve| {
            learned_schemes
                .iter()
                .map(move |&(_, scheme, objective)| (scheme, learned_variant(eve, objective)))
        })
        .collect();
    let models = lab.models(&jobs)?;
    lab.progress().start(jobs.len() as u64, "evaluating");
    let point = at_powers(&lab, &[REFERENCE.1]);
    let mut learned: Vec<Outcome> = Vec::new();
    for ((&(scheme, v), model), (name, _, _)) in
        jobs.iter().zip(&models).zip(learned_schemes.iter().cycle())
    {
        let summary = lab.evaluate(Evaluated::Learned(scheme), Some(model), v, &point)?[0];
        let matched = lab.evaluate_draws(
            Evaluated::Learned(scheme),
            Some(model),
            v,
            &point,
            None,
            lab.opt_q_draws(),
        )?[0];
        let eve = if v.eve == EveModel::Los { los } else { ends[0] };
        learned.push(Outcome {
            row: Row {
                eve,
                eve_antennas: REFERENCE.0,
                offset_deg: 0.0,
                snr_db: REFERENCE.1,
            },
            scheme: name,
            summary,
            matched,
            design: Design::Isotropic { share: f64::NAN },
        });
    }
    let mut learned_csv = Csv::new(&COLUMNS);
    for o in &learned {
        csv_row(&mut learned_csv, o);
    }

    let ks: Vec<f64> = eves.iter().filter_map(|e| e.k_factor_db).collect();
    let find = |eve: EveChannel, ne: usize, offset: f64, snr: f64, scheme: &str| {
        outcomes.iter().find(|o| {
            o.row.eve == eve
                && o.row.eve_antennas == ne
                && o.row.offset_deg == offset
                && o.row.snr_db == snr
                && o.scheme == scheme
        })
    };
    let by_k = |scheme: &str, pick: fn(&PointSummary) -> (f64, f64)| -> Series {
        let pts = eves
            .iter()
            .filter_map(|&e| {
                find(e, REFERENCE.0, 0.0, REFERENCE.1, scheme).map(|o| {
                    let (m, c) = pick(&o.summary);
                    (e.axis(&ks), m, m - c, m + c)
                })
            })
            .collect();
        Series {
            name: scheme.to_string(),
            points: Vec::new(),
            style: Style::Points(pts),
        }
    };
    let by_offset = |scheme: &str| -> Series {
        let pts = offsets
            .iter()
            .filter_map(|&off| {
                find(los, REFERENCE.0, off, REFERENCE.1, scheme).map(|o| {
                    let (m, c) = o.summary.sum_secrecy;
                    (off, m, m - c, m + c)
                })
            })
            .collect();
        Series {
            name: scheme.to_string(),
            points: Vec::new(),
            style: Style::Points(pts),
        }
    };
    let axis_note = format!(
        "Eve's K-factor (dB; Rayleigh at {}, line of sight at {})",
        eves[0].axis(&ks),
        los.axis(&ks)
    );
    let mut gain_panel = panel(
        "target jamming gain (Ne = 2, 20 dB)",
        &axis_note,
        "toward-target jamming / isotropic",
        SCHEMES
            .iter()
            .map(|s| by_k(s, |p| (p.target_jamming_gain, 0.0)))
            .collect(),
    );
    gain_panel.y_log = true;
    let panels: Vec<Panel> = vec![
        panel(
            "closed forms, Ne = 2, 20 dB",
            &axis_note,
            "sum secrecy rate (nats/s/Hz)",
            SCHEMES
                .iter()
                .chain(&["OPT_Q"])
                .map(|s| by_k(s, |p| p.sum_secrecy))
                .collect(),
        ),
        panel(
            "line-of-sight Eve off the target, Ne = 2, 20 dB",
            "Eve's azimuth offset from the target (degrees)",
            "sum secrecy rate (nats/s/Hz)",
            SCHEMES
                .iter()
                .chain(&["OPT_Q"])
                .map(|s| by_offset(s))
                .collect(),
        ),
        gain_panel,
    ];
    let mut files = lab.publish("tuan2025-eve-study", "eve-study", &csv, &panels, started)?;
    let learned_path = ctx.out_dir.join("tuan2025").join("eve-study-learned.csv");
    learned_csv.write(&learned_path)?;
    files.push(learned_path);

    // Results section.
    let mut md = section(
        "Beyond paper 003: when sensing-guided jamming pays (Eve-model study)",
        "tuan2025-eve-study",
        &format!(
            "Single carrier, perfect CSI. Eve's channel from i.i.d. Rayleigh (the paper) through \
             Rician K-factors to a pure line of sight (`los`) from the target, for Ne in {antennas:?} \
             and SNR in {snrs:?} dB, then her line of sight off the target ({offsets:?} degrees; \
             `los`, Ne = 2, 20 dB). Closed forms with zero-forcing beams: ISAC_FJ puts the \
             jamming on the FIM-trace beam of eq. 17, ISAC_FJ_TARGET on `P a / |P a|`, \
             ISAC_FJ_PLUS mixes a share beta of it with isotropic null-space jamming, AE_FJ is \
             isotropic; each one's jamming share (and beta) is the best on {train} training draws \
             among the designs meeting CRLB_0 on 95% of them; ZF_AN keeps the scenario's share. \
             `eve-study.csv`; the learned schemes at Rayleigh and line of sight in \
             `eve-study-learned.csv`. Target jamming gain: jamming power toward the target over \
             that of isotropic null-space jamming of the same power (1 isotropic, Nt - K = {} for \
             `P a / |P a|`).",
            lab.scenario().tx().elements() - lab.scenario().users()
        ),
    );
    // 1. The K from which steered jamming pays.
    let order: Vec<EveChannel> = eves.clone();
    let pays = |eve: EveChannel, ne: usize, offset: f64, snr: f64| -> Option<bool> {
        let t = find(eve, ne, offset, snr, "ISAC_FJ_TARGET")?;
        let a = find(eve, ne, offset, snr, "AE_FJ")?;
        Some(t.summary.sum_secrecy.0 > a.summary.sum_secrecy.0)
    };
    md += "Where steered jamming (ISAC_FJ_TARGET) starts to beat isotropic null-space jamming \
           (AE_FJ) and keeps beating it at every larger K (Eve's channel axis: Rayleigh, then K \
           in dB, then line of sight):\n\n";
    let mut head = vec!["SNR (dB)".to_string()];
    head.extend(antennas.iter().map(|ne| format!("Ne = {ne}")));
    md += &table_head(&head.iter().map(String::as_str).collect::<Vec<_>>());
    for &snr in &snrs {
        let cells: Vec<String> = antennas
            .iter()
            .map(|&ne| {
                let flags: Vec<Option<bool>> =
                    order.iter().map(|&e| pays(e, ne, 0.0, snr)).collect();
                let from = (0..order.len()).find(|&i| flags[i..].iter().all(|f| *f == Some(true)));
                match from {
                    Some(0) => "always (even Rayleigh)".to_string(),
                    Some(i) => order[i].label(),
                    None => "never".to_string(),
                }
            })
            .collect();
        let _ = writeln!(md, "| {snr} | {} |", cells.join(" | "));
    }
    // 2. The offset at which it stops paying.
    let stops = offsets
        .iter()
        .find(|&&o| pays(los, REFERENCE.0, o, REFERENCE.1) == Some(false));
    let gain_at = |off: f64| {
        find(los, REFERENCE.0, off, REFERENCE.1, "ISAC_FJ_TARGET")
            .map_or(f64::NAN, |o| o.summary.target_jamming_gain)
    };
    let _ = writeln!(
        md,
        "\n- Line-of-sight Eve off the target (Ne = {}, {} dB): steered jamming {}. Its target \
         jamming gain is {:.1} at every offset (it points at the target, not at Eve).",
        REFERENCE.0,
        REFERENCE.1,
        match stops {
            Some(0.0) => "does not pay even on the target".to_string(),
            Some(o) => format!("stops paying at an offset of {o} degrees"),
            None => format!(
                "still pays at {} degrees",
                offsets.last().copied().unwrap_or(f64::NAN)
            ),
        },
        gain_at(0.0)
    );
    // 3. ISAC_FJ_PLUS against the best scheme of every row.
    let mut rows_seen: Vec<Row> = Vec::new();
    for o in &outcomes {
        if !rows_seen.contains(&o.row) {
            rows_seen.push(o.row);
        }
    }
    let mut misses = Vec::new();
    let mut worst_gap: f64 = 0.0;
    for row in &rows_seen {
        let of_row: Vec<&Outcome> = outcomes.iter().filter(|o| o.row == *row).collect();
        let best = of_row
            .iter()
            .filter(|o| o.scheme != "OPT_Q")
            .max_by(|a, b| a.summary.sum_secrecy.0.total_cmp(&b.summary.sum_secrecy.0));
        let plus = of_row.iter().find(|o| o.scheme == "ISAC_FJ_PLUS");
        if let (Some(best), Some(plus)) = (best, plus) {
            let gap = best.summary.sum_secrecy.0 - plus.summary.sum_secrecy.0;
            worst_gap = worst_gap.max(gap);
            if gap > plus.summary.sum_secrecy.1 {
                misses.push(format!(
                    "{} Ne = {} offset {} at {} dB ({} by {gap:.3})",
                    row.eve.label(),
                    row.eve_antennas,
                    row.offset_deg,
                    row.snr_db,
                    best.scheme
                ));
            }
        }
    }
    let _ = writeln!(
        md,
        "- ISAC_FJ_PLUS within its CI of the best scheme at every row: **{}** ({} of {} rows; \
         largest shortfall {worst_gap:.3} nats){}.",
        if misses.is_empty() { "yes" } else { "no" },
        rows_seen.len() - misses.len(),
        rows_seen.len(),
        if misses.is_empty() {
            String::new()
        } else {
            format!("; outside: {}", misses.join(", "))
        }
    );
    // The chosen beta of ISAC_FJ_PLUS along K at the reference point.
    let betas: Vec<String> = order
        .iter()
        .filter_map(|&e| {
            find(e, REFERENCE.0, 0.0, REFERENCE.1, "ISAC_FJ_PLUS").map(|o| match o.design {
                Design::Mixed { share, beta } => {
                    format!("{} beta {beta} share {share}", e.label())
                }
                _ => String::new(),
            })
        })
        .collect();
    let _ = writeln!(
        md,
        "- ISAC_FJ_PLUS's choice on training draws (Ne = {}, {} dB): {}.",
        REFERENCE.0,
        REFERENCE.1,
        betas.join("; ")
    );
    // Distances to the certified optimum of ZF_AN's class along Eve's channel axis.
    let distances: Vec<String> = order
        .iter()
        .map(|&e| (e, 0.0))
        .chain(offsets.iter().filter(|&&o| o != 0.0).map(|&o| (los, o)))
        .filter_map(|(e, off)| {
            let opt = find(e, REFERENCE.0, off, REFERENCE.1, "OPT_Q")?
                .summary
                .sum_secrecy;
            let parts: Vec<String> = SCHEMES
                .iter()
                .filter_map(|s| {
                    let p = find(e, REFERENCE.0, off, REFERENCE.1, s)?
                        .matched
                        .sum_secrecy
                        .0;
                    let d = opt.0 - p;
                    Some(format!("{s} {d:+.2} ({:+.0}%)", 100.0 * d / opt.0))
                })
                .collect();
            Some(format!(
                "{}{}: OPT_Q {:.2} +- {:.2}; {}",
                e.label(),
                if off != 0.0 {
                    format!(" offset {off}")
                } else {
                    String::new()
                },
                opt.0,
                opt.1,
                parts.join(", ")
            ))
        })
        .collect();
    let _ = writeln!(
        md,
        "- Distance to OPT_Q (ZF_AN's beams and budget with the certified best jamming \
         covariance for Eve's distribution of {} training draws; every scheme on the same first \
         {} held-out draws; OPT_Q minus the scheme, nats and % of OPT_Q; negative where a closed \
         form's own power split beats ZF_AN's class), Ne = {}, {} dB:\n  - {}",
        lab.opt_q_eve_draws(),
        lab.opt_q_draws(),
        REFERENCE.0,
        REFERENCE.1,
        distances.join("\n  - ")
    );
    // 4. Learned schemes against their closed forms.
    md += "\nLearned schemes (trained per Eve model, Ne = 2, 20 dB) against the closed forms on \
           the same held-out draws, and against OPT_Q on its held-out draws (the first of \
           everyone's), sum secrecy in nats:\n\n";
    md += &table_head(&[
        "Eve",
        "scheme",
        "learned",
        "closed form",
        "learned - closed form",
        "OPT_Q - learned (same draws)",
        "target jamming gain (learned)",
    ]);
    for o in &learned {
        let closed = find(o.row.eve, o.row.eve_antennas, 0.0, o.row.snr_db, o.scheme);
        let (c, cc) = closed.map_or((f64::NAN, f64::NAN), |c| c.summary.sum_secrecy);
        let opt = find(o.row.eve, o.row.eve_antennas, 0.0, o.row.snr_db, "OPT_Q")
            .map_or(f64::NAN, |q| q.summary.sum_secrecy.0);
        let d = opt - o.matched.sum_secrecy.0;
        let _ = writeln!(
            md,
            "| {} | {} | {:.2} +- {:.2} | {c:.2} +- {cc:.2} | {:+.2} | {d:+.2} ({:+.0}%) | {:.2} |",
            o.row.eve.label(),
            o.scheme,
            o.summary.sum_secrecy.0,
            o.summary.sum_secrecy.1,
            o.summary.sum_secrecy.0 - c,
            100.0 * d / opt,
            o.summary.target_jamming_gain
        );
    }
    md.push('\n');
    let sweeps: Vec<(String, Vec<PointSummary>)> = learned
        .iter()
        .map(|o| {
            (
                format!("learned {} ({})", o.scheme, o.row.eve.label()),
                vec![o.summary],
            )
        })
        .collect();
    let refs: Vec<(String, &[PointSummary])> = sweeps
        .iter()
        .map(|(l, v)| (l.clone(), v.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &[REFERENCE.1], &refs);
    Ok(Report {
        files,
        markdown: md,
    })
}
