//! End-to-end tests of `isac jamming-optimum` as a user runs it.

use std::process::{Command, Output};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tuan2025.toml");

fn isac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isac"))
        .args(args)
        .output()
        .expect("run isac")
}

#[test]
fn the_certified_optimum_reports_the_contract_and_never_loses_to_isotropic_jamming() {
    let out = isac(&[
        "jamming-optimum",
        "--scenario",
        SCENARIO,
        "--snr-db",
        "20",
        "--draws",
        "400",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fields = [
        "status",
        "snr_db",
        "draws",
        "leakage_nats",
        "sum_secrecy_nats",
        "sum_secrecy_nats_ci95",
        "isotropic_secrecy_nats",
        "gap_nats",
        "iterations",
        "jamming_power",
        "jamming_rank",
        "target_jamming_gain",
        "crlb",
        "jamming_covariance",
        "seconds",
    ];
    let object = v.as_object().unwrap();
    assert_eq!(object.len(), fields.len(), "{object:?}");
    for f in fields {
        assert!(object.contains_key(f), "{f}");
    }
    let num = |f: &str| v[f].as_f64().unwrap();
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["draws"], 400);
    assert!(num("gap_nats") <= 1e-4);
    // The budget: an_power_fraction 0.5 of 10^2.
    assert!(
        (num("jamming_power") - 50.0).abs() < 1e-6,
        "{}",
        num("jamming_power")
    );
    // Rayleigh Eve: the optimum is close to isotropic jamming on held-out draws, and its
    // covariance is Hermitian Nt x Nt.
    assert!(
        (num("sum_secrecy_nats") - num("isotropic_secrecy_nats")).abs()
            < 2.0 * num("sum_secrecy_nats_ci95") + 0.05
    );
    let re = v["jamming_covariance"]["re"].as_array().unwrap();
    let im = v["jamming_covariance"]["im"].as_array().unwrap();
    assert_eq!(re.len(), 16);
    let at = |m: &Vec<serde_json::Value>, i: usize, j: usize| m[i][j].as_f64().unwrap();
    for i in 0..16 {
        for j in 0..16 {
            assert!((at(re, i, j) - at(re, j, i)).abs() < 1e-9);
            assert!((at(im, i, j) + at(im, j, i)).abs() < 1e-9);
        }
    }
    assert!(num("crlb") < -30.0, "the beams alone meet CRLB_0 here");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for (args, needle) in [
        (vec!["--scenario", SCENARIO, "--draws", "1"], "--draws"),
        (vec!["--scenario", SCENARIO, "--snr-db", "nan"], "--snr-db"),
        (vec!["--scenario", "/no/such/file.toml"], "cannot read"),
    ] {
        let mut all = vec!["jamming-optimum"];
        all.extend(args.iter().copied());
        let out = isac(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
        assert!(
            err.contains(needle) && err.trim().lines().count() == 1,
            "{all:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}
