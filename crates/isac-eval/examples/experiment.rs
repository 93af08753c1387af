//! Runs one registered experiment at quick size with `isac-eval` alone and prints its results
//! section (`cargo run --release -p isac-eval --example experiment -- [NAME]`, default
//! `hou2023-fig2`; outputs under `target/example-experiment/`).

use isac_eval::experiments::{RunContext, find, registry};

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
        quick: true,
        ..RunContext::new(
            format!("{root}/target/example-experiment").into(),
            format!("{root}/scenarios").into(),
        )
    };
    let report = (experiment.run)(&ctx)?;
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    println!("\n{}", report.markdown);
    Ok(())
}
