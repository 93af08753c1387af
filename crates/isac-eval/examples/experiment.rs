//! Runs one registered experiment at quick size with `isac-eval` alone and prints its results
//! section (`cargo run --release -p isac-eval --example experiment -- [NAME]`, default
//! `hou2023-fig2`; outputs under `target/example-experiment/`).

use isac_eval::experiments::{RunContext, Silent, find, registry};

fn main() -> Result<(), isac_eval::EvalError> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "hou2023-fig2".into());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let experiment = find(&name).inspect_err(|_| {
        let names: Vec<&str> = registry().iter().map(|e| e.name).collect();
        eprintln!("experiments: {}", names.join(", "));
    })?;
    let ctx = RunContext {
        out_dir: format!("{root}/target/example-experiment").into(),
        scenarios_dir: format!("{root}/scenarios").into(),
        quick: true,
        seed: None,
        progress: &Silent,
        provenance: Default::default(),
        shard: None,
    };
    let report = (experiment.run)(&ctx)?;
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    println!("\n{}", report.markdown);
    Ok(())
}
