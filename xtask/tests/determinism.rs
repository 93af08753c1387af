//! The same seed gives the same outputs whatever the thread count: `cargo xtask reproduce
//! --quick` (every experiment) at `RAYON_NUM_THREADS=1` and `=2` writes identical files.
//!
//! Wall-clock quantities are the only thing left out, by name: a sidecar's `seconds`, CSV
//! columns ending in `_ms` or `seconds`, Markdown table columns whose header mentions seconds
//! or ms, and "<number> s" in prose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the quick reproduction into a fresh directory with `threads` rayon threads.
fn quick_run(threads: usize) -> PathBuf {
    let out =
        std::env::temp_dir().join(format!("isac-determinism-{}-{threads}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["reproduce", "--quick", "--out"])
        .arg(&out)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("xtask runs");
    assert!(status.success(), "reproduce --quick at {threads} threads");
    out
}

fn is_timing(header: &str) -> bool {
    let h = header.trim().to_lowercase();
    h.ends_with("_ms") || h.contains("seconds") || h.contains("(ms)")
}

/// "0.62 s" and the like in prose, masked.
fn mask_prose(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let next = words.get(i + 1).copied().unwrap_or("");
            let unit = next.trim_end_matches(['.', ',', ';', ')']) == "s";
            if unit && w.parse::<f64>().is_ok() {
                "#"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A file's text with its wall-clock quantities masked.
fn normalised(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|x| x.to_str()) {
        Some("json") => {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v["seconds"] = serde_json::Value::Null;
            v.to_string()
        }
        Some("csv") => {
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
            let keep: Vec<bool> = header.iter().map(|h| !is_timing(h)).collect();
            std::iter::once(header.join(","))
                .chain(lines.map(|l| {
                    l.split(',')
                        .zip(&keep)
                        .map(|(c, &k)| if k { c } else { "#" })
                        .collect::<Vec<_>>()
                        .join(",")
                }))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Some("md") => {
            let mut timing_columns: Vec<bool> = Vec::new();
            text.lines()
                .map(|l| {
                    if !l.starts_with('|') {
                        timing_columns.clear();
                        return mask_prose(l);
                    }
                    let cells: Vec<&str> = l.split('|').collect();
                    if timing_columns.is_empty() {
                        timing_columns = cells.iter().map(|c| is_timing(c)).collect();
                    }
                    cells
                        .iter()
                        .zip(timing_columns.iter().chain(std::iter::repeat(&false)))
                        .map(|(c, &t)| if t { "#" } else { c })
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => text,
    }
}

/// Every output file (not the caches), relative path to normalised text.
fn outputs(out: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    for paper in ["hou2023", "tuan2025"] {
        for entry in std::fs::read_dir(out.join(paper)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.insert(path.strip_prefix(out).unwrap().into(), normalised(&path));
            }
        }
    }
    files.insert("results.md".into(), normalised(&out.join("results.md")));
    files
}

#[test]
fn every_output_is_identical_at_one_and_two_threads() {
    let (one, two) = (quick_run(1), quick_run(2));
    let (a, b) = (outputs(&one), outputs(&two));
    // 17 experiments: csv, svg, json and section each, fig3's Rician triple, the Eve study's
    // learned CSV, results.md.
    assert_eq!(a.len(), 17 * 4 + 3 + 1 + 1, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, text) in &a {
        assert!(
            b[path] == *text,
            "{} differs between 1 and 2 threads",
            path.display()
        );
    }
    std::fs::remove_dir_all(one).unwrap();
    std::fs::remove_dir_all(two).unwrap();
}

#[test]
fn the_normaliser_masks_timings_only() {
    assert_eq!(
        mask_prose("sweep of 12 scheme runs in 0.62 s (rayon). Took 1.5 s."),
        "sweep of 12 scheme runs in # s (rayon). Took # s."
    );
    assert_eq!(mask_prose("6.29 nats at 22 dB"), "6.29 nats at 22 dB");
    assert!(is_timing("train_step_ms") && is_timing(" seconds ") && is_timing(" train step (ms) "));
    assert!(!is_timing("sum_secrecy_nats") && !is_timing("samples"));
}
