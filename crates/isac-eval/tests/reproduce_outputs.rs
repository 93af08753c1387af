//! The `pcrb-tightness` experiment writes its CSV, SVG, sidecar and report section, and the
//! numbers in them obey the bounds' ordering.

use isac_eval::experiments::{RunContext, find};

#[test]
fn pcrb_tightness_quick_run_writes_consistent_outputs() {
    let out = std::env::temp_dir().join(format!("isac-reproduce-test-{}", std::process::id()));
    let ctx = RunContext {
        quick: true,
        seed: Some(3),
        ..RunContext::new(
            out.clone(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios").into(),
        )
    };
    let report = (find("pcrb-tightness").unwrap().run)(&ctx).unwrap();
    for f in &report.files {
        assert!(f.exists(), "{}", f.display());
    }
    let csv = std::fs::read_to_string(out.join("hou2023/pcrb-tightness.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3 * 4, "three covariances x four sigma values");
    for r in &rows {
        let x = |name: &str| r[col(name)].parse::<f64>().unwrap();
        assert!(x("pcrb") <= x("pcrb_upper"));
        assert!(
            x("pcrb") <= x("sigma_theta_rad").powi(2) * 1.000001,
            "data cannot lose information"
        );
        assert!(x("mmse_mse") > 0.0 && x("mmse_mse_ci95") > 0.0);
    }
    let svg = std::fs::read_to_string(out.join("hou2023/pcrb-tightness.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("PCRB (eq. 21)"));
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("hou2023/pcrb-tightness.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["seed"], 3);
    assert_eq!(sidecar["scenario"]["array"]["tx_antennas"], 8);
    assert!(report.markdown.contains("figures/pcrb-tightness.svg"));
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn unknown_experiment_is_a_clear_error() {
    let err = find("fig99").err().unwrap().to_string();
    assert!(err.contains("fig99") && err.contains("--list"), "{err}");
}

/// Runs experiment `name` at quick size; returns its report section and the text of
/// `<out>/<csv>`. (Thread-count independence of every output is tested by xtask's
/// `determinism` test.)
fn quick_run(name: &str, csv: &str) -> (String, String) {
    let out = std::env::temp_dir().join(format!("isac-{name}-{}", std::process::id()));
    let ctx = RunContext {
        quick: true,
        ..RunContext::new(
            out.clone(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios").into(),
        )
    };
    let report = (find(name).unwrap().run)(&ctx).unwrap();
    let text = std::fs::read_to_string(out.join(csv)).unwrap();
    std::fs::remove_dir_all(out).unwrap();
    (report.markdown, text)
}

#[test]
fn fim_estimator_sweep_is_consistent() {
    let (markdown, csv) = quick_run("fim-estimator", "tuan2025/fim-estimator.csv");
    assert!(markdown.contains("N(0, 0.05 I)"));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let num = |r: &Vec<&str>, name: &str| r[col(name)].parse::<f64>().unwrap();
    let star: Vec<&Vec<&str>> = rows.iter().filter(|r| r[col("design")] == "star").collect();
    // The quadratic approximation degrades and the divergence grows with the scale (physics, not
    // learning); the paper's perturbations leave the local regime by far.
    for w in star.windows(2) {
        assert!(num(w[0], "scale_rad") < num(w[1], "scale_rad"));
        assert!(num(w[0], "quadratic_error") < num(w[1], "quadratic_error"));
        assert!(num(w[0], "max_kl_nats") < num(w[1], "max_kl_nats"));
    }
    let paper = rows
        .iter()
        .find(|r| r[col("design")] == "gaussian")
        .unwrap();
    assert!(num(paper, "max_kl_nats") > 10.0 && num(paper, "quadratic_error") > 0.3);
}

#[test]
fn tuan2025_fig3_writes_the_contract_columns_for_every_scheme() {
    let (_, csv) = quick_run("tuan2025-fig3", "tuan2025/fig3.csv");
    assert!(
        csv.starts_with("snr_db,scheme,beam_structure,sum_secrecy_nats,sum_secrecy_nats_ci95\n")
    );
    for scheme in ["ISAC_FJ", "AE_FJ", "DL_AN"] {
        for structure in ["zf", "free"] {
            assert!(
                csv.contains(&format!(",{scheme},{structure},")),
                "{scheme} {structure}"
            );
        }
    }
    assert!(csv.contains(",ZF_AN,zf,") && !csv.contains(",ZF_AN,free,"));
}
