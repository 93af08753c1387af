//! The registry of reproducible experiments run by `cargo xtask reproduce`.

mod fim_estimator;
mod hou2023;
mod pcrb_tightness;
mod points;
mod tuan2025;

pub use points::Shard;

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::EvalError;
use crate::output::{Csv, write_atomic};
use crate::plot::{Panel, draw_panels};

/// Receives progress from a running experiment (the xtask draws it with indicatif).
pub trait Progress: Sync {
    /// A new stage of `len` steps begins.
    fn start(&self, len: u64, message: &str);
    /// `n` steps are done.
    fn inc(&self, n: u64);
}

/// Progress that goes nowhere (tests, library use).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64, _: &str) {}
    fn inc(&self, _: u64) {}
}

/// Where and how an experiment runs.
pub struct RunContext<'a> {
    /// Root output directory (`target/reproduce/` by default); each paper writes to a subfolder.
    pub out_dir: PathBuf,
    /// Directory with the scenario files.
    pub scenarios_dir: PathBuf,
    /// Reduced sizes for smoke tests.
    pub quick: bool,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Progress sink.
    pub progress: &'a dyn Progress,
    /// What produced this run, recorded in every sidecar.
    pub provenance: Provenance,
    /// Compute only this part of every experiment's points (see [`RunContext::points`]).
    pub shard: Option<Shard>,
    /// The device paper-003 models train and run on (`--device`; flex by default).
    pub device: isac_learn::ModelDevice,
}

impl<'a> RunContext<'a> {
    /// A full-size run of the scenarios in `scenarios_dir` into `out_dir`, with the scenarios'
    /// seeds, no progress, no provenance (so no point is cached) and no sharding; change any
    /// of it through the public fields, e.g. `RunContext { quick: true, ..RunContext::new(..) }`.
    pub fn new(out_dir: PathBuf, scenarios_dir: PathBuf) -> Self {
        Self {
            out_dir,
            scenarios_dir,
            quick: false,
            seed: None,
            progress: &Silent,
            provenance: Provenance::default(),
            shard: None,
            device: isac_learn::ModelDevice::Flex,
        }
    }
}

/// Where a run's outputs come from: written into every sidecar so that a reader (or a rerun
/// deciding whether a figure is up to date) can tell which code and inputs made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `git rev-parse HEAD`, with `-dirty` and a hash of the diff for uncommitted changes.
    pub git_revision: String,
    /// Versions of the workspace and of its numerical dependencies.
    pub crate_versions: std::collections::BTreeMap<String, String>,
    /// A hash of everything that determines the experiment's outputs (name, size, seed,
    /// revision, scenario files).
    pub inputs_hash: String,
}

/// What an experiment produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// Files written (CSV, SVG, JSON sidecar).
    pub files: Vec<PathBuf>,
    /// Its section of `docs/results.md` (Markdown, from the computed numbers).
    pub markdown: String,
}

/// A named, reproducible experiment.
pub struct Experiment {
    /// Name used by `--only` (e.g. `pcrb-tightness`).
    pub name: &'static str,
    /// Output subfolder (the paper's key, e.g. `hou2023`).
    pub paper: &'static str,
    /// File stem of its CSV, SVG and JSON inside the subfolder (e.g. `fig3`).
    pub stem: &'static str,
    /// One-line description for `--list`.
    pub about: &'static str,
    /// Runs it.
    pub run: fn(&RunContext<'_>) -> Result<Report, EvalError>,
}

/// Every experiment, in the order of `docs/results.md`.
pub fn registry() -> &'static [Experiment] {
    &[
        Experiment {
            name: "hou2023-fig2",
            stem: "hou2023-fig2",
            paper: "hou2023",
            about: "Fig. 2: secrecy rate vs gamma for three PCRB thresholds",
            run: hou2023::fig2,
        },
        Experiment {
            name: "hou2023-fig3",
            stem: "hou2023-fig3",
            paper: "hou2023",
            about: "Fig. 3: information and AN beampattern (g_u = -60 dB)",
            run: hou2023::fig3,
        },
        Experiment {
            name: "hou2023-fig4",
            stem: "hou2023-fig4",
            paper: "hou2023",
            about: "Fig. 4: secrecy rate vs PCRB threshold, proposed vs no-AN vs MRT",
            run: hou2023::fig4,
        },
        Experiment {
            name: "pcrb-tightness",
            stem: "pcrb-tightness",
            paper: "hou2023",
            about: "PCRB vs its upper bound, closed form and the Monte Carlo MMSE, over sigma_theta",
            run: pcrb_tightness::run,
        },
        Experiment {
            name: "fim-estimator",
            stem: "fim-estimator",
            paper: "tuan2025",
            about: "Neural FIM estimator vs the analytic FIM over perturbation scale and sample count",
            run: fim_estimator::run,
        },
        Experiment {
            name: "tuan2025-fig3",
            paper: "tuan2025",
            stem: "fig3",
            about: "Fig. 3: sum secrecy vs SNR, ISAC_FJ / AE_FJ / DL_AN / ZF_AN, both Eve models",
            run: tuan2025::fig3,
        },
        Experiment {
            name: "tuan2025-fig4",
            paper: "tuan2025",
            stem: "fig4",
            about: "Fig. 4: BLER at the users (learned decoders) and at Eve (LMMSE), ISAC_FJ and AE_FJ",
            run: tuan2025::fig4,
        },
        Experiment {
            name: "tuan2025-fig5",
            paper: "tuan2025",
            stem: "fig5",
            about: "Fig. 5: stage-1 training convergence at several powers",
            run: tuan2025::fig5,
        },
        Experiment {
            name: "tuan2025-fig6",
            paper: "tuan2025",
            stem: "fig6",
            about: "Fig. 6: sum secrecy vs CRLB threshold, ISAC_FJ vs MRT-Equal",
            run: tuan2025::fig6,
        },
        Experiment {
            name: "tuan2025-fig7",
            paper: "tuan2025",
            stem: "fig7",
            about: "Fig. 7: worst-user secrecy vs SNR for N = 1, 16, 32, 64 subcarriers",
            run: tuan2025::fig7,
        },
        Experiment {
            name: "tuan2025-fig8",
            paper: "tuan2025",
            stem: "fig8",
            about: "Fig. 8: sum secrecy vs SNR for CSI-error variances rho",
            run: tuan2025::fig8,
        },
        Experiment {
            name: "tuan2025-fig9",
            paper: "tuan2025",
            stem: "fig9",
            about: "Fig. 9: sum secrecy vs SNR by encoder (FC, DTTE, TT, TT-Q)",
            run: tuan2025::fig9,
        },
        Experiment {
            name: "tuan2025-fig10",
            paper: "tuan2025",
            stem: "fig10",
            about: "Fig. 10: training convergence by encoder",
            run: tuan2025::fig10,
        },
        Experiment {
            name: "tuan2025-fig11",
            paper: "tuan2025",
            stem: "fig11",
            about: "Fig. 11: non-overlapping subcarriers, rate and secrecy vs SNR by comm-only share",
            run: tuan2025::fig11,
        },
        Experiment {
            name: "tuan2025-fig12",
            paper: "tuan2025",
            stem: "fig12",
            about: "Fig. 12: secrecy degradation vs phase noise (robust, non-robust, ZF+AN)",
            run: tuan2025::fig12,
        },
        Experiment {
            name: "tuan2025-eve-study",
            paper: "tuan2025",
            stem: "eve-study",
            about: "Beyond paper 003: steered vs isotropic jamming over Eve's K-factor, Ne, SNR and offset",
            run: tuan2025::eve_study,
        },
        Experiment {
            name: "tuan2025-table3",
            paper: "tuan2025",
            stem: "table3",
            about: "Table III: parameters, FLOPs, bytes, secrecy and training step by encoder",
            run: tuan2025::table3,
        },
    ]
}

/// Looks an experiment up by name.
pub fn find(name: &str) -> Result<&'static Experiment, EvalError> {
    registry()
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| EvalError::UnknownExperiment(name.to_string()))
}

/// JSON written next to every figure: what produced it.
#[derive(Debug, Serialize)]
struct Sidecar<'a, S: Serialize> {
    experiment: &'a str,
    quick: bool,
    seed: u64,
    seconds: f64,
    scenario: &'a S,
    crate_version: &'static str,
    provenance: &'a Provenance,
    /// Experiment-specific fields (e.g. paper 003's `target_jamming_gain` per scheme).
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Writes an experiment's table, figure and sidecar as `<out>/<paper>/<stem>.{csv,svg,json}`
/// and returns the three paths.
#[allow(clippy::too_many_arguments)]
fn publish<S: Serialize>(
    ctx: &RunContext<'_>,
    paper: &str,
    name: &str,
    stem: &str,
    csv: &Csv,
    panels: &[Panel],
    seed: u64,
    started: Instant,
    scenario: &S,
) -> Result<Vec<PathBuf>, EvalError> {
    publish_with(
        ctx,
        paper,
        name,
        stem,
        csv,
        panels,
        seed,
        started,
        scenario,
        serde_json::Map::new(),
    )
}

/// [`publish`] with experiment-specific fields in the sidecar.
#[allow(clippy::too_many_arguments)]
fn publish_with<S: Serialize>(
    ctx: &RunContext<'_>,
    paper: &str,
    name: &str,
    stem: &str,
    csv: &Csv,
    panels: &[Panel],
    seed: u64,
    started: Instant,
    scenario: &S,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<PathBuf>, EvalError> {
    let dir = ctx.out_dir.join(paper);
    let (csv_path, svg_path, json_path) = (
        dir.join(format!("{stem}.csv")),
        dir.join(format!("{stem}.svg")),
        dir.join(format!("{stem}.json")),
    );
    csv.write(&csv_path)?;
    draw_panels(&svg_path, panels)?;
    let sidecar = Sidecar {
        experiment: name,
        quick: ctx.quick,
        seed,
        seconds: started.elapsed().as_secs_f64(),
        scenario,
        crate_version: env!("CARGO_PKG_VERSION"),
        provenance: &ctx.provenance,
        extra,
    };
    let text = serde_json::to_string_pretty(&sidecar).expect("sidecar serialises");
    write_atomic(&json_path, text.as_bytes())?;
    Ok(vec![csv_path, svg_path, json_path])
}

/// The word a results section uses for a paper's claim that our numbers do or do not show.
fn verdict(reproduced: bool) -> &'static str {
    if reproduced {
        "reproduced"
    } else {
        "NOT reproduced"
    }
}

/// A Markdown table's header row and separator.
fn table_head(columns: &[&str]) -> String {
    format!(
        "| {} |\n|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    )
}

/// The opening of an experiment's results section: title, description and its figure.
fn section(title: &str, name: &str, description: &str) -> String {
    format!("## {title} (`{name}`)\n\n{description}\n\n![{name}](figures/{name}.svg)\n\n")
}
