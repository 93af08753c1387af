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

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["jamming-optimum", "--scenario", SCENARIO, "--json"];
    all.extend(args.iter().copied());
    let out = isac(&all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn at_low_snr_the_optimum_sits_on_the_crlb_and_below_reach_it_is_infeasible() {
    // 4 dB: the ZF beams and the unconstrained optimum miss CRLB_0 = -30 dB, a constrained one
    // meets it with equality.
    let v = json(&["--snr-db", "4", "--draws", "150"]);
    assert_eq!(v["status"], "optimal", "{v}");
    assert!(v["gap_nats"].as_f64().unwrap() <= 1e-4);
    let crlb = v["crlb"].as_f64().unwrap();
    assert!(crlb <= -30.0 + 1e-6 && crlb > -30.05, "{crlb}");
    // -3 dB: no jamming covariance of the budget reaches CRLB_0; a result, not an error.
    let v = json(&["--snr-db", "-3", "--draws", "50"]);
    assert_eq!(v["status"], "infeasible", "{v}");
    assert!(v["crlb"].as_f64().unwrap() > -30.0);
    // No certificate: an infinite gap is `null`, and the table says what stands in.
    assert!(v["gap_nats"].is_null(), "{v}");
    let out = isac(&[
        "jamming-optimum",
        "--scenario",
        SCENARIO,
        "--snr-db",
        "-3",
        "--draws",
        "50",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("the unconstrained optimum"),
        "{text}"
    );
}

#[test]
fn optimising_the_split_moves_the_budget_and_loses_nothing_on_held_out_draws() {
    let fixed = json(&["--snr-db", "20", "--draws", "200"]);
    let split = json(&["--snr-db", "20", "--draws", "200", "--optimise-split"]);
    let num = |v: &serde_json::Value, f: &str| v[f].as_f64().unwrap();
    assert_eq!(split["status"], "optimal");
    let share = num(&split, "jamming_power") / 100.0;
    assert!(
        share > 0.02 && share < 0.98 && (share - 0.5).abs() > 1e-3,
        "{share}"
    );
    assert!(
        num(&split, "sum_secrecy_nats")
            >= num(&fixed, "sum_secrecy_nats")
                - num(&split, "sum_secrecy_nats_ci95")
                - num(&fixed, "sum_secrecy_nats_ci95")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Whatever the arguments, the subcommand ends with a result (0) or one line on stderr and
    /// exit 2, never a panic.
    #[test]
    fn any_arguments_end_in_a_result_or_one_line(
        snr in proptest::sample::select(vec!["20", "-400", "nan", "inf", "1e309", "abc", "", "-0"]),
        draws in proptest::sample::select(vec!["0", "1", "3", "12", "-5", "1e3", "100001", "x"]),
        extra in proptest::sample::select(vec!["", "--optimise-split", "--json", "--bogus"]),
        scenario in proptest::sample::select(vec![SCENARIO, "/no/such.toml", "Cargo.toml"]),
    ) {
        let mut args = vec!["jamming-optimum", "--scenario", scenario, "--snr-db", snr, "--draws", draws];
        if !extra.is_empty() {
            args.push(extra);
        }
        let out = isac(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => proptest::prop_assert!(!out.stdout.is_empty()),
            Some(2) => proptest::prop_assert!(
                !err.trim().is_empty() && err.trim().lines().count() == 1,
                "{args:?}: {err}"
            ),
            other => proptest::prop_assert!(false, "{args:?}: exit {other:?}: {err}"),
        }
    }
}
