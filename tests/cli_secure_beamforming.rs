//! End-to-end tests of `isac secure-beamforming` as a user runs it.

use std::process::{Command, Output};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hou2023.toml");

fn isac(extra: &[&str]) -> Output {
    let mut args = vec!["secure-beamforming", "--scenario", SCENARIO];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_isac"))
        .args(&args)
        .output()
        .expect("run isac")
}

fn json(extra: &[&str]) -> serde_json::Value {
    let mut args = extra.to_vec();
    args.push("--json");
    let out = isac(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn proposed_search_reports_every_contract_field() {
    let v = json(&[]);
    for key in [
        "status",
        "scheme",
        "gamma",
        "secrecy_rate",
        "sdp_secrecy_rate",
        "sinr_user",
        "sinr_eve",
        "pcrb_upper_closed_form",
        "pcrb",
        "power",
        "w",
        "an_covariance",
        "an_beams",
        "solves",
        "seconds",
        "solver",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["scheme"], "proposed");
    let rate = v["secrecy_rate"].as_f64().unwrap();
    assert!((rate - 19.18).abs() < 0.02, "{rate}");
    assert_eq!(v["sinr_eve"].as_array().unwrap().len(), 4);
    assert_eq!(v["w"]["re"].as_array().unwrap().len(), 8);
    assert_eq!(v["an_covariance"]["im"].as_array().unwrap().len(), 8);
    assert!(v["solves"].as_u64().unwrap() > 10);
    assert!(v["solver"]["primal_residual"].as_f64().unwrap() < 1e-4);
    // The reported beams carry the reported power.
    let w2: f64 = ["re", "im"]
        .iter()
        .flat_map(|p| {
            v["w"][p]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap().powi(2))
        })
        .sum();
    let tr_v: f64 = (0..8)
        .map(|i| v["an_covariance"]["re"][i][i].as_f64().unwrap())
        .sum();
    assert!((w2 + tr_v - v["power"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn single_gamma_and_overrides() {
    let v = json(&["--gamma", "0.02"]);
    assert_eq!(v["solves"], 1);
    assert!((v["gamma"].as_f64().unwrap() - 0.02).abs() < 1e-15);
    let sdp = v["sdp_secrecy_rate"].as_f64().unwrap();
    assert!((sdp - 19.179).abs() < 0.01, "{sdp}");
    // MRT: infeasible at the scenario's Gamma, feasible at 8e-5, null SDP rate either way.
    let mrt = json(&["--scheme", "mrt"]);
    assert_eq!(mrt["status"], "infeasible");
    assert!(mrt["sdp_secrecy_rate"].is_null() && mrt["solver"].is_null());
    assert!(
        mrt["w"]["re"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_f64().unwrap() != 0.0),
        "beam reported"
    );
    let mrt = json(&["--scheme", "mrt", "--pcrb-max", "8e-5"]);
    assert_eq!(mrt["status"], "optimal");
    // Unreachable sensing threshold: infeasible is a result, exit 0.
    let v = json(&["--pcrb-max", "1e-6", "--gamma", "0.1"]);
    assert_eq!(v["status"], "infeasible");
    assert_eq!(v["secrecy_rate"], 0.0);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for extra in [
        vec!["--pcrb-max", "-1"],
        vec!["--gamma", "0"],
        vec!["--gamma", "nan"],
        vec!["--scheme", "mrt", "--gamma", "1"],
        vec!["--scheme", "zf"],
    ] {
        let out = isac(&extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}");
        assert!(!stderr.contains("panicked"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_isac"))
        .args(["secure-beamforming", "--scenario", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}
