//! End-to-end tests of `isac pcrb` as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hou2023.toml");

fn isac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isac"))
        .args(args)
        .output()
        .expect("run isac")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `R = P w w^H / ||w||^2` for the centred steering vector at `deg` (Nt = 8, Delta = 1/2).
fn beam_covariance_json(deg: f64, power: f64) -> String {
    let n = 8;
    let s = deg.to_radians().sin();
    let phase: Vec<f64> = (0..n)
        .map(|i| std::f64::consts::PI * 0.5 * (n as f64 - 1.0 - 2.0 * i as f64) * s)
        .collect();
    let mut re = vec![vec![0.0; n]; n];
    let mut im = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            re[i][j] = power / n as f64 * (phase[i] - phase[j]).cos();
            im[i][j] = power / n as f64 * (phase[i] - phase[j]).sin();
        }
    }
    serde_json::json!({ "re": re, "im": im }).to_string()
}

/// `isac pcrb --scenario S --covariance C [--json]`.
fn pcrb(scenario: &Path, cov: &Path, json: bool) -> Output {
    let mut args = vec![
        "pcrb",
        "--scenario",
        scenario.to_str().unwrap(),
        "--covariance",
        cov.to_str().unwrap(),
    ];
    if json {
        args.push("--json");
    }
    isac(&args)
}

fn run_json(cov: &Path) -> serde_json::Value {
    let out = pcrb(Path::new(SCENARIO), cov, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn inverse_00(j: &[[f64; 3]; 3]) -> f64 {
    // Cofactor formula: [J^-1]_00 = (J11 J22 - J12 J21) / det J.
    let det = j[0][0] * (j[1][1] * j[2][2] - j[1][2] * j[2][1])
        - j[0][1] * (j[1][0] * j[2][2] - j[1][2] * j[2][0])
        + j[0][2] * (j[1][0] * j[2][1] - j[1][1] * j[2][0]);
    (j[1][1] * j[2][2] - j[1][2] * j[2][1]) / det
}

#[test]
fn json_report_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    for deg in [45.0, -35.0, 10.0] {
        let cov = write(dir.path(), "r.json", &beam_covariance_json(deg, 0.1));
        let v = run_json(&cov);
        let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("field {k}"));
        let fim: [[f64; 3]; 3] = serde_json::from_value(v["bayesian_fim"].clone()).unwrap();
        let (pcrb, upper, closed) = (
            num("pcrb"),
            num("pcrb_upper"),
            num("pcrb_upper_closed_form"),
        );
        assert!(num("epsilon") >= 0.0);
        assert!(pcrb > 0.0 && pcrb <= upper, "{pcrb} {upper}");
        assert!((pcrb - inverse_00(&fim)).abs() <= 1e-9 * pcrb);
        // sigma_theta = 0.01: the closed form is within a few percent of eq. (23).
        assert!(
            (closed - upper).abs() <= 0.05 * upper,
            "{closed} vs {upper}"
        );
        for (a, row) in fim.iter().enumerate() {
            for (b, x) in row.iter().enumerate() {
                assert_eq!(*x, fim[b][a]);
            }
        }
    }
}

#[test]
fn mrt_closed_form_matches_the_independent_reference() {
    // docs/conventions.md (paper 000): MRT (all power on the user's beam at -10 deg) has an
    // approximate PCRB upper bound of about 5.4e-5 (independent solver stack).
    let dir = tempfile::tempdir().unwrap();
    let cov = write(dir.path(), "mrt.json", &beam_covariance_json(-10.0, 0.1));
    let closed = run_json(&cov)["pcrb_upper_closed_form"].as_f64().unwrap();
    assert!((closed - 5.4e-5).abs() < 0.02 * 5.4e-5, "{closed}");
}

#[test]
fn readable_table_without_json() {
    let dir = tempfile::tempdir().unwrap();
    let cov = write(dir.path(), "r.json", &beam_covariance_json(45.0, 0.1));
    let out = pcrb(Path::new(SCENARIO), cov.as_path(), false);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "PCRB, exact",
        "upper bound",
        "closed form",
        "epsilon",
        "Bayesian FIM",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

fn assert_bad_input(scenario: &Path, cov: &Path, needle: &str) {
    let out = pcrb(scenario, cov, true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{needle}: {stderr}");
    assert!(out.stdout.is_empty(), "{needle}: stdout not empty");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{needle}: {stderr}");
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "{needle}: {stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn every_kind_of_bad_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good_cov = write(d, "good.json", &beam_covariance_json(45.0, 0.1));
    let scen = std::fs::read_to_string(SCENARIO).unwrap();
    let good_scen = Path::new(SCENARIO);
    let missing = d.join("missing.toml");

    assert_bad_input(&missing, &good_cov, "cannot read scenario");
    assert_bad_input(good_scen, &d.join("missing.json"), "cannot read covariance");
    assert_bad_input(&write(d, "syntax.toml", "seed = = 1"), &good_cov, "line 1");
    assert_bad_input(
        &write(
            d,
            "unknown.toml",
            &scen.replace("seed = 1", "seed = 1\ncolour = 3"),
        ),
        &good_cov,
        "colour",
    );
    assert_bad_input(
        &write(
            d,
            "range.toml",
            &scen.replace("prior_std_rad = 0.01", "prior_std_rad = -1"),
        ),
        &good_cov,
        "target.prior_std_rad",
    );
    assert_bad_input(
        &write(
            d,
            "nan.toml",
            &scen.replace("rcs_min = 0.0071", "rcs_min = nan"),
        ),
        &good_cov,
        "target.rcs_min",
    );
    assert_bad_input(
        &write(
            d,
            "len.toml",
            &scen.replace("[0.2, 0.3, 0.1, 0.4]", "[0.5, 0.5]"),
        ),
        &good_cov,
        "target.probabilities",
    );
    assert_bad_input(
        good_scen,
        &write(d, "json.json", "{\"re\": [[1.0]"),
        "invalid covariance",
    );
    assert_bad_input(
        good_scen,
        &write(d, "nan.json", "{\"re\": [[NaN]], \"im\": [[0.0]]}"),
        "invalid covariance",
    );
    assert_bad_input(
        good_scen,
        &write(
            d,
            "key.json",
            "{\"re\": [[1.0]], \"im\": [[0.0]], \"x\": 1}",
        ),
        "unknown field",
    );
    assert_bad_input(
        good_scen,
        &write(
            d,
            "size.json",
            "{\"re\": [[1.0, 0.0], [0.0, 1.0]], \"im\": [[0.0, 0.0], [0.0, 0.0]]}",
        ),
        "tx_antennas = 8",
    );
    assert_bad_input(
        good_scen,
        &write(
            d,
            "ragged.json",
            "{\"re\": [[1.0, 0.0], [0.0]], \"im\": [[0.0, 0.0], [0.0, 0.0]]}",
        ),
        "entries",
    );
    assert_bad_input(
        good_scen,
        &write(
            d,
            "herm.json",
            "{\"re\": [[1.0, 0.5], [0.0, 1.0]], \"im\": [[0.0, 0.0], [0.0, 0.0]]}",
        ),
        "Hermitian",
    );
    assert_bad_input(
        good_scen,
        &write(
            d,
            "psd.json",
            "{\"re\": [[1.0, 2.0], [2.0, 1.0]], \"im\": [[0.0, 0.0], [0.0, 0.0]]}",
        ),
        "semidefinite",
    );
}

#[test]
fn missing_arguments_are_usage_errors() {
    let out = isac(&["pcrb", "--scenario", SCENARIO]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
