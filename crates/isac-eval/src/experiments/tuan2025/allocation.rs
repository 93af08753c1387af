//! Paper 003, Fig. 11: a communication-only share of the subcarriers, the rest either joint
//! carriers of communication, sensing and jamming (hybrid, the paper's text) or sensing and
//! jamming only (Sec. IV, eq. 43), same total power.

use std::fmt::Write as _;
use std::time::Instant;

use isac_channel::scenario::friendly_jamming::{Allocation, EveModel};
use isac_learn::autoencoder::Scheme;

use super::figures::{at, at_powers, binding_note, panel, series, sum_secrecy};
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::{Report, RunContext, section, table_head, verdict};
use crate::output::{Cell, Csv};
use crate::plot::{Series, Style};

/// The allocations of Fig. 11: the paper's reading first.
const ALLOCATIONS: [Allocation; 2] = [Allocation::Hybrid, Allocation::NonOverlapping];

/// Fig. 11: users' channel rate and secrecy rate vs SNR for each communication-only share, in
/// the hybrid allocation (the paper's text) and the strict partition of eq. (43).
pub fn fig11(ctx: &RunContext<'_>) -> Result<Report, EvalError> {
    let started = Instant::now();
    let lab = Lab::new(ctx)?;
    let f = lab.scenario().file();
    let subcarriers = if lab.quick() {
        16
    } else {
        f.system.subcarriers
    };
    let fractions = lab.evaluation().comm_fractions.clone();
    let snr = lab.evaluation().snr_db.clone();
    let cases: Vec<(Allocation, f64)> = ALLOCATIONS
        .iter()
        .flat_map(|&a| fractions.iter().map(move |&share| (a, share)))
        .collect();
    let variants: Vec<Variant> = cases
        .iter()
        .map(|&case| Variant {
            subcarriers,
            comm_fraction: Some(case),
            ..Variant::single_carrier(EveModel::Rayleigh)
        })
        .collect();
    let jobs: Vec<(Scheme, Variant)> = variants.iter().map(|&v| (Scheme::IsacFj, v)).collect();
    let models = lab.models(&jobs)?;
    lab.progress()
        .start((variants.len() * snr.len()) as u64, "evaluating");
    let conditions = at_powers(&lab, &snr);
    let results: Vec<Vec<PointSummary>> = models
        .iter()
        .zip(&variants)
        .map(|(m, &v)| lab.evaluate(Evaluated::Learned(Scheme::IsacFj), Some(m), v, &conditions))
        .collect::<Result<_, _>>()?;
    let mut csv = Csv::new(&[
        "snr_db",
        "comm_fraction",
        "allocation",
        "channel_rate_nats",
        "secrecy_rate_nats",
        "secrecy_rate_nats_ci95",
    ]);
    for ((allocation, share), res) in cases.iter().zip(&results) {
        for (x, p) in snr.iter().zip(res) {
            csv.row(&[
                Cell::Num(*x),
                Cell::Num(*share),
                Cell::Text(allocation.name()),
                Cell::Num(p.user_rate),
                Cell::Num(p.sum_secrecy.0),
                Cell::Num(p.sum_secrecy.1),
            ]);
        }
    }
    let label = |(a, share): &(Allocation, f64)| format!("{} N_c/N = {share}", a.name());
    let rate_lines = cases
        .iter()
        .zip(&results)
        .map(|(case, r)| Series {
            name: label(case),
            points: snr.iter().zip(r).map(|(&x, p)| (x, p.user_rate)).collect(),
            style: Style::Line,
        })
        .collect();
    let panels = [
        panel(
            "secrecy rate",
            "SNR P/sigma^2 (dB)",
            "sum secrecy rate (nats/s/Hz)",
            cases
                .iter()
                .zip(&results)
                .map(|(case, r)| series(label(case), &snr, r, false))
                .collect(),
        ),
        panel(
            "users' channel rate",
            "SNR P/sigma^2 (dB)",
            "sum rate (nats/s/Hz)",
            rate_lines,
        ),
    ];
    let files = lab.publish("tuan2025-fig11", "fig11", &csv, &panels, started)?;
    let mut md = section(
        "Paper 003, Fig. 11: communication-only subcarriers",
        "tuan2025-fig11",
        &format!(
            "ISAC_FJ on N = {subcarriers} subcarriers, the first N_c carrying communication only; \
             one model per allocation and share, same total power, rates averaged over all N \
             subcarriers. `hybrid` (the paper's text: the other subcarriers are \"joint \
             carriers\" with communication, sensing and jamming; 0% is the fully overlapping \
             model) and `non_overlapping` (Sec. IV, eq. 43: the other subcarriers carry sensing \
             and jamming only)."
        ),
    );
    md += &table_head(&[
        "allocation",
        "N_c / N",
        "rate at 30 dB",
        "secrecy at 20 dB",
        "secrecy at 30 dB",
        "worst user at 30 dB",
        "paper at 30 dB",
    ]);
    let paper = |share: f64| {
        if share == 0.0 {
            "secrecy 7.2"
        } else if (share - 0.25).abs() < 1e-9 {
            "highest secrecy"
        } else if (share - 0.5).abs() < 1e-9 {
            "rate 33, secrecy 4.8"
        } else {
            ""
        }
    };
    for ((allocation, share), r) in cases.iter().zip(&results) {
        let _ = writeln!(
            md,
            "| {} | {share} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            allocation.name(),
            at(&snr, r, 30.0, |p| p.user_rate),
            at(&snr, r, 20.0, sum_secrecy),
            at(&snr, r, 30.0, sum_secrecy),
            at(&snr, r, 30.0, |p| p.worst_user.0),
            paper(*share)
        );
    }
    md.push('\n');
    let sweeps: Vec<(String, &[PointSummary])> = cases
        .iter()
        .zip(&results)
        .map(|((a, share), r)| (format!("{} {share}", a.name()), r.as_slice()))
        .collect();
    md += &binding_note(&lab, "dB", &snr, &sweeps);
    for allocation in ALLOCATIONS {
        let rows: Vec<(f64, &Vec<PointSummary>)> = cases
            .iter()
            .zip(&results)
            .filter(|((a, _), _)| *a == allocation)
            .map(|((_, share), r)| (*share, r))
            .collect();
        let secrecy = |r: &Vec<PointSummary>| at(&snr, r, 30.0, sum_secrecy);
        let best = rows
            .iter()
            .max_by(|a, b| secrecy(a.1).total_cmp(&secrecy(b.1)))
            .map_or(f64::NAN, |(s, _)| *s);
        let share_of = |want: f64| {
            rows.iter()
                .find(|(s, _)| (s - want).abs() < 1e-9)
                .map(|(_, r)| *r)
        };
        let zero = share_of(0.0).map_or(f64::NAN, secrecy);
        let half_rate_highest = share_of(0.5).is_some_and(|half| {
            rows.iter().all(|(_, r)| {
                at(&snr, r, 30.0, |p| p.user_rate) <= at(&snr, half, 30.0, |p| p.user_rate)
            })
        });
        let reproduced = (best - 0.25).abs() < 1e-9;
        let cause = match allocation {
            _ if reproduced => String::new(),
            Allocation::NonOverlapping => format!(
                " Cause: with disjoint subcarriers the jamming never shares a subcarrier with \
                 data, so it cannot lower Eve's leakage (0% carries no data at all: secrecy \
                 {zero:.2}); the share only trades data subcarriers against sensing power."
            ),
            _ => {
                let leak = |want: f64| {
                    share_of(want).map_or(f64::NAN, |r| {
                        at(&snr, r, 30.0, |p| p.eve_leakage) / at(&snr, r, 30.0, |p| p.user_rate)
                    })
                };
                format!(
                    " Cause: Eve's leakage grows with the jam-free communication-only share: \
                     {:.0}% of the users' rate at 0%, {:.0}% at 25%, {:.0}% at 50% (30 dB); our \
                     joint carriers' jamming costs the users nothing (null space), so no share \
                     gains from moving data onto jam-free subcarriers.",
                    100.0 * leak(0.0),
                    100.0 * leak(0.25),
                    100.0 * leak(0.5)
                )
            }
        };
        let _ = writeln!(
            md,
            "- `{}`: \"25% communication-only maximises secrecy\" (at 30 dB): best share {best} \
             (**{}**); \"50% has the highest channel rate\": **{}**; 0% secrecy at 30 dB {zero:.2} \
             (paper 7.2).{cause}",
            allocation.name(),
            verdict(reproduced),
            verdict(half_rate_highest),
        );
    }
    let _ = writeln!(
        md,
        "\nThe paper's text calls these \"worst-user\" rates while its caption says \"average\"; \
         the CSV holds the users' sum, the table adds the worst user."
    );
    Ok(Report {
        files,
        markdown: md,
    })
}
