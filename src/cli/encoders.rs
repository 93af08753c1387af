//! `isac encoders [--scenario FILE] [--json]`: Table III from our encoder shapes.

use std::path::PathBuf;

use clap::Args;
use isac_channel::rng::stream;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::{CpuDevice, Encoder, EncoderKind, EncoderShape, LearnConfig};
use serde::Serialize;

use super::{CliError, outln, print_json};

/// The shipped paper-003 scenario, used when no `--scenario` is given.
const TABLE_II: &str = include_str!("../../scenarios/tuan2025.toml");

#[derive(Debug, Args)]
pub struct EncodersArgs {
    /// Paper-003 scenario (TOML) whose [system] and [encoder] sections fix the shapes
    /// [default: the shipped scenarios/tuan2025.toml, Table II].
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    parameters: usize,
    flops: usize,
    bytes: usize,
    layout: String,
    bits: u32,
    paper_parameters: Option<usize>,
    paper_flops: Option<usize>,
}

#[derive(Debug, Serialize)]
struct Output {
    input_width: usize,
    output_width: usize,
    encoders: Vec<Row>,
    tt_dense_max_abs_error: f64,
}

pub fn run(args: &EncodersArgs) -> Result<(), CliError> {
    let scenario = match &args.scenario {
        Some(path) => FriendlyJammingScenario::from_path(path)?,
        None => FriendlyJammingScenario::from_toml(TABLE_II)?,
    };
    let config =
        LearnConfig::from_scenario(&scenario).map_err(|e| CliError::Input(e.to_string()))?;
    let section = &config.encoder;
    let shape = EncoderShape::new(
        scenario.users(),
        scenario.tx().elements(),
        scenario.modulation_order(),
    );
    // Table III of the paper (parameters, FLOPs); it has no TT-Q column.
    let paper = [(62_563, 125_000), (28_371, 57_000), (2_800, 5_600)];
    let mut rows: Vec<Row> = EncoderKind::ALL
        .iter()
        .zip(paper)
        .map(|(&kind, (p, f))| {
            let s = Encoder::summary(kind, shape, section, None);
            Row {
                name: s.name,
                parameters: s.parameters,
                flops: s.flops,
                bytes: s.bytes,
                layout: s.layout,
                bits: 32,
                paper_parameters: Some(p),
                paper_flops: Some(f),
            }
        })
        .collect();
    let q = Encoder::summary(EncoderKind::Tt, shape, section, Some(section.tt_q_bits));
    rows.push(Row {
        name: "TT-Q".into(),
        parameters: q.parameters,
        flops: q.flops,
        bytes: q.bytes,
        layout: q.layout,
        bits: section.tt_q_bits,
        paper_parameters: None,
        paper_flops: None,
    });

    let device = CpuDevice::Flex.device();
    let mut error: f64 = 0.0;
    for kind in [EncoderKind::Dtte, EncoderKind::Tt] {
        let e = Encoder::new(
            kind,
            shape,
            section,
            &mut stream(scenario.seed(), [0; 3]),
            &device,
        )
        .map_err(|e| CliError::Input(e.to_string()))?;
        for layer in e.tt_layers() {
            let err = layer
                .dense_max_abs_error(64, scenario.seed())
                .map_err(|e| match e {
                    // The scenario's widths make W too large to form for the check.
                    isac_learn::LearnError::InvalidConfig { .. } => CliError::Input(e.to_string()),
                    e => CliError::Internal(e.to_string()),
                })?;
            error = error.max(err);
        }
    }
    let out = Output {
        input_width: shape.input,
        output_width: shape.output,
        encoders: rows,
        tt_dense_max_abs_error: error,
    };
    if args.json {
        return print_json(&out);
    }
    outln!(
        "encoders for {} inputs -> {} outputs (paper's Table III beside ours)",
        out.input_width,
        out.output_width
    );
    outln!(
        "{:<6} {:>10} {:>10} {:>9} {:>12} {:>11}  layout",
        "name",
        "params",
        "flops",
        "bytes",
        "paper params",
        "paper flops"
    );
    let opt = |x: Option<usize>| x.map_or_else(|| "-".to_string(), |v| v.to_string());
    for r in &out.encoders {
        outln!(
            "{:<6} {:>10} {:>10} {:>9} {:>12} {:>11}  {}",
            r.name,
            r.parameters,
            r.flops,
            r.bytes,
            opt(r.paper_parameters),
            opt(r.paper_flops),
            r.layout
        );
    }
    outln!(
        "TT contraction vs dense W: max abs error {:.2e}",
        out.tt_dense_max_abs_error
    );
    Ok(())
}
