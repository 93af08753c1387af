//! End-to-end tests of `isac fim-estimate` and `isac encoders` as a user runs them.

use std::process::{Command, Output};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tuan2025.toml");

fn isac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isac"))
        .args(args)
        .output()
        .expect("run isac")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = isac(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn matrix(v: &serde_json::Value) -> [[f64; 2]; 2] {
    let m = v.as_array().expect("2 x 2 nested arrays");
    assert_eq!(m.len(), 2);
    let row = |r: &serde_json::Value| {
        let r = r.as_array().expect("row");
        assert_eq!(r.len(), 2);
        [r[0].as_f64().unwrap(), r[1].as_f64().unwrap()]
    };
    [row(&m[0]), row(&m[1])]
}

#[test]
fn fim_estimate_reports_the_contract_and_meets_ten_percent() {
    let v = json(&["fim-estimate", "--scenario", SCENARIO, "--json"]);
    for key in [
        "theta_rad",
        "phi_rad",
        "tx_shape",
        "rx_shape",
        "spacing_wavelengths",
        "beam",
        "fim_scale",
        "analytic_fim",
        "estimated_fim",
        "relative_error",
        "crlb_analytic",
        "crlb_estimated",
        "perturbations",
        "samples",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["tx_shape"], serde_json::json!([4, 4]));
    assert_eq!(v["rx_shape"], serde_json::json!([2, 2]));
    assert!((v["theta_rad"].as_f64().unwrap() - 10f64.to_radians()).abs() < 1e-12);
    assert_eq!(v["device"], "flex", "the default device");

    // Recompute the analytic FIM from the printed beam and fim_scale with an independent
    // central finite difference of the echo G(theta, phi) beam (UPA of docs/conventions.md).
    let re: Vec<f64> = serde_json::from_value(v["beam"]["re"].clone()).unwrap();
    let im: Vec<f64> = serde_json::from_value(v["beam"]["im"].clone()).unwrap();
    let power: f64 = re.iter().zip(&im).map(|(a, b)| a * a + b * b).sum();
    assert!((power - 500.0).abs() < 1e-9, "probe power {power}");
    let c = v["fim_scale"].as_f64().unwrap();
    let (th, ph) = (
        v["theta_rad"].as_f64().unwrap(),
        v["phi_rad"].as_f64().unwrap(),
    );
    let steer = |n: usize, u: [f64; 2]| -> Vec<(f64, f64)> {
        (0..n * n)
            .map(|idx| {
                let (ox, oy) = (
                    (n - 1) as f64 - 2.0 * (idx / n) as f64,
                    (n - 1) as f64 - 2.0 * (idx % n) as f64,
                );
                let p = std::f64::consts::PI * 0.5 * (ox * u[0] + oy * u[1]);
                (p.cos(), p.sin())
            })
            .collect()
    };
    let echo = |t: f64, p: f64| -> Vec<(f64, f64)> {
        let u = [p.cos() * t.sin(), p.sin()];
        let (a, b) = (steer(4, u), steer(2, u));
        // a^H beam
        let s = a
            .iter()
            .zip(re.iter().zip(&im))
            .fold((0.0, 0.0), |acc, (&(ar, ai), (&br, &bi))| {
                (acc.0 + ar * br + ai * bi, acc.1 + ar * bi - ai * br)
            });
        b.iter()
            .map(|&(br, bi)| (br * s.0 - bi * s.1, br * s.1 + bi * s.0))
            .collect()
    };
    let h = 1e-6;
    let d = |f: &dyn Fn(f64) -> Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        f(h).iter()
            .zip(f(-h))
            .map(|(p, m)| ((p.0 - m.0) / (2.0 * h), (p.1 - m.1) / (2.0 * h)))
            .collect()
    };
    let dt = d(&|e| echo(th + e, ph));
    let dp = d(&|e| echo(th, ph + e));
    let inner = |x: &[(f64, f64)], y: &[(f64, f64)]| {
        2.0 * c
            * x.iter()
                .zip(y)
                .map(|(a, b)| a.0 * b.0 + a.1 * b.1)
                .sum::<f64>()
    };
    let analytic = matrix(&v["analytic_fim"]);
    let fd = [
        [inner(&dt, &dt), inner(&dt, &dp)],
        [inner(&dp, &dt), inner(&dp, &dp)],
    ];
    for i in 0..2 {
        for j in 0..2 {
            assert!(
                (analytic[i][j] - fd[i][j]).abs() < 1e-5 * analytic[1][1].abs(),
                "{analytic:?} vs {fd:?}"
            );
        }
    }

    let estimated = matrix(&v["estimated_fim"]);
    let num: f64 = (0..4)
        .map(|k| (estimated[k / 2][k % 2] - analytic[k / 2][k % 2]).powi(2))
        .sum();
    let den: f64 = (0..4).map(|k| analytic[k / 2][k % 2].powi(2)).sum();
    let error = (num / den).sqrt();
    assert!((error - v["relative_error"].as_f64().unwrap()).abs() < 1e-9);
    assert!(error <= 0.10, "relative error {error}");
    assert!((v["crlb_analytic"]["theta"].as_f64().unwrap() - 1.0 / analytic[0][0]).abs() < 1e-12);
    let joint = &v["crlb_analytic"]["joint"];
    let det = analytic[0][0] * analytic[1][1] - analytic[0][1] * analytic[1][0];
    assert!(
        (joint["theta"].as_f64().unwrap() - analytic[1][1] / det).abs()
            < 1e-9 * analytic[1][1] / det
    );
    assert_eq!(v["perturbations"], 4);
    assert_eq!(v["samples"], 5000);
}

#[test]
fn encoders_lists_table_iii_beside_ours() {
    let v = json(&["encoders", "--json"]);
    let rows = v["encoders"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["FC", "DTTE", "TT", "TT-Q"]);
    for r in rows {
        for key in ["parameters", "flops", "bytes"] {
            assert!(r[key].as_u64().unwrap() > 0, "{r}");
        }
    }
    assert_eq!(rows[0]["paper_parameters"], 62_563);
    assert_eq!(rows[1]["paper_flops"], 57_000);
    // FC 78-256-128-96 by hand.
    assert_eq!(
        rows[0]["parameters"],
        78 * 256 + 256 + 256 * 128 + 128 + 128 * 96 + 96
    );
    assert!(rows[3]["bytes"].as_u64().unwrap() < rows[2]["bytes"].as_u64().unwrap() / 3);
    let e = v["tt_dense_max_abs_error"].as_f64().unwrap();
    assert!(e > 0.0 && e < 1e-5, "{e}");
    let text = isac(&["encoders"]);
    assert!(text.status.success() && String::from_utf8_lossy(&text.stdout).contains("DTTE"));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(SCENARIO).unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let fim = |device: &str| {
        ["fim-estimate", "--scenario", SCENARIO, "--device", device]
            .map(String::from)
            .to_vec()
    };
    let mut cases = vec![
        (fim("gpu"), "must be one of flex, ndarray, wgpu"),
        (
            vec![
                "fim-estimate".to_string(),
                "--scenario".into(),
                "/no/such/file.toml".into(),
            ],
            "cannot read",
        ),
        (
            vec![
                "fim-estimate".into(),
                "--scenario".into(),
                write(
                    "u.toml",
                    shipped.replace("hidden = 128", "hidden = 128\nwidth = 2"),
                ),
            ],
            "width",
        ),
        (
            vec![
                "fim-estimate".into(),
                "--scenario".into(),
                write("s.toml", shipped.replace("samples = 5000", "samples = 1")),
            ],
            "fim_estimator.samples",
        ),
        (
            vec![
                "fim-estimate".into(),
                "--scenario".into(),
                write("k.toml", shipped.replace("users = 2", "users = 16")),
            ],
            "system.users",
        ),
        (
            vec![
                "encoders".into(),
                "--scenario".into(),
                write("r.toml", shipped.replace("tt_rank = 8", "tt_rank = 0")),
            ],
            "encoder.tt_rank",
        ),
        (vec!["fim-estimate".into()], "--scenario"),
    ];
    // A device this build lacks names the feature that compiles it in.
    for device in isac_learn::ModelDevice::ALL {
        if !device.is_compiled() {
            cases.push((fim(device.name()), device.feature().unwrap()));
        }
    }
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = isac(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
