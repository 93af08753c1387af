//! No-panic property tests of every subcommand, run in-process: arbitrary argument values,
//! scenario files with one key replaced by an arbitrary value (or removed, or an unknown key
//! added), covariance files of arbitrary sizes and entries. Each run must end in a result or a
//! bad-input error (exit 2): never a panic, never an internal error (exit 1).
//!
//! Integers come from a small range (what a run can afford inside a test) and from far beyond
//! the scenario caps (`MAX_COUNT`, `MAX_ELEMENTS`), so both the valid path and the limits run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use clap::Parser;
use proptest::prelude::*;
use toml::Value;

use super::{Cli, run};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");

/// Exit code of `isac ARGS` (0 result, 2 bad input, 1 internal error), or the panic message.
fn exit_code(args: &[String]) -> Result<u8, String> {
    let argv = std::iter::once("isac".to_string()).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return Ok(if e.use_stderr() { 2 } else { 0 }),
    };
    catch_unwind(AssertUnwindSafe(|| run(cli)))
        .map(|r| r.map_or_else(|e| e.exit_code(), |()| 0))
        .map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
}

/// A result or bad input, and nothing else.
fn assert_handled(args: &[String]) -> Result<(), TestCaseError> {
    match exit_code(args) {
        Ok(0 | 2) => Ok(()),
        Ok(code) => Err(TestCaseError::fail(format!("exit {code} for {args:?}"))),
        Err(panic) => Err(TestCaseError::fail(format!("panic `{panic}` for {args:?}"))),
    }
}

/// A file in a per-process temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(name: &str, text: &str) -> TempFile {
    let dir = std::env::temp_dir().join(format!("isac-cli-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    TempFile(path)
}

/// Every key path of a TOML table that holds a value (not a table).
fn leaves(table: &toml::Table, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for (k, v) in table {
        let mut path = prefix.to_vec();
        path.push(k.clone());
        match v {
            Value::Table(t) => leaves(t, &path, out),
            _ => out.push(path),
        }
    }
}

/// An arbitrary TOML value: integers small or beyond every cap, any float, text, booleans,
/// arrays.
fn value() -> impl Strategy<Value = Value> {
    let integer = prop_oneof![
        (-3i64..13).prop_map(Value::Integer),
        prop::sample::select(vec![1 << 24, (1 << 24) + 1, 1 << 40, i64::MAX, i64::MIN])
            .prop_map(Value::Integer),
    ];
    let float = prop_oneof![
        prop::num::f64::ANY.prop_map(Value::Float),
        (-100.0..100.0f64).prop_map(Value::Float),
    ];
    prop_oneof![
        3 => integer.clone(),
        3 => float.clone(),
        1 => ".{0,6}".prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Boolean),
        1 => prop::collection::vec(integer, 0..4).prop_map(Value::Array),
        1 => prop::collection::vec(float, 0..4).prop_map(Value::Array),
    ]
}

/// What happens to the shipped scenario.
#[derive(Debug, Clone)]
enum Mutation {
    /// Numbers (or a list's numbers) times a factor: mostly valid, so the runs go deep.
    Scale(prop::sample::Index, f64),
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    Unknown(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<prop::sample::Index>(), 0.25..4.0f64).prop_map(|(i, f)| Mutation::Scale(i, f)),
        6 => (any::<prop::sample::Index>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Remove),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Unknown),
    ]
}

/// The shipped scenario `name` with `m` applied, written to a temporary file.
fn mutated_scenario(name: &str, m: &Mutation) -> TempFile {
    let text = std::fs::read_to_string(Path::new(SCENARIOS).join(name)).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    let mut paths = Vec::new();
    leaves(&table, &[], &mut paths);
    let scaled = |v: &Value, f: f64| -> Value {
        let one = |v: &Value| match v {
            Value::Integer(x) => Value::Integer((*x as f64 * f).round() as i64),
            Value::Float(x) => Value::Float(x * f),
            other => other.clone(),
        };
        match v {
            Value::Array(a) => Value::Array(a.iter().map(one).collect()),
            other => one(other),
        }
    };
    let (index, change) = match m {
        Mutation::Scale(i, f) => {
            let path = i.get(&paths);
            let old = path.iter().fold(None, |t: Option<&Value>, k| match t {
                None => table.get(k),
                Some(v) => v.get(k),
            });
            (i, Some(Some(scaled(old.unwrap(), *f))))
        }
        Mutation::Replace(i, v) => (i, Some(Some(v.clone()))),
        Mutation::Remove(i) => (i, Some(None)),
        Mutation::Unknown(i) => (i, None),
    };
    let path = index.get(&paths);
    let (last, parents) = path.split_last().unwrap();
    let mut t = &mut table;
    for p in parents {
        t = t.get_mut(p).and_then(Value::as_table_mut).unwrap();
    }
    match change {
        Some(Some(v)) => {
            t.insert(last.clone(), v);
        }
        Some(None) => {
            t.remove(last);
        }
        None => {
            t.insert("not_a_key".into(), Value::Integer(1));
        }
    }
    temp_file(
        &format!("{name}-{}.toml", unique()),
        &toml::to_string(&table).unwrap(),
    )
}

/// A fresh number per file, so parallel test threads never share one.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn shipped(name: &str) -> String {
    format!("{SCENARIOS}/{name}")
}

/// An `n x m` covariance file: `{"re": [[..]], "im": [[..]]}` with arbitrary entries, or the
/// isotropic covariance of that size (valid when `n = m = Nt`).
fn covariance() -> impl Strategy<Value = String> {
    let entry = prop_oneof![
        3 => -2.0..2.0f64,
        1 => prop::num::f64::ANY,
    ];
    let matrix = |n: usize, m: usize, entry: BoxedStrategy<f64>| {
        prop::collection::vec(prop::collection::vec(entry, m..=m), n..=n)
    };
    prop_oneof![
        (0usize..10, 0usize..10).prop_flat_map(move |(n, m)| {
            (
                matrix(n, m, entry.clone().boxed()),
                matrix(n, m, entry.clone().boxed()),
            )
                .prop_map(|(re, im)| serde_json::json!({"re": re, "im": im}).to_string())
        }),
        (1usize..10, 0.0..1.0f64).prop_map(|(n, p)| {
            let re: Vec<Vec<f64>> = (0..n)
                .map(|i| (0..n).map(|j| if i == j { p } else { 0.0 }).collect())
                .collect();
            let im = vec![vec![0.0; n]; n];
            serde_json::json!({"re": re, "im": im}).to_string()
        }),
        ".{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn pcrb_never_panics(m in mutation(), cov in covariance(), json in any::<bool>()) {
        let scenario = mutated_scenario("hou2023.toml", &m);
        let cov_file = temp_file(&format!("cov-{}.json", unique()), &cov);
        let mut a = args(&["pcrb", "--scenario"]);
        a.push(scenario.arg());
        a.push("--covariance".into());
        a.push(cov_file.arg());
        if json {
            a.push("--json".into());
        }
        assert_handled(&a)?;
        // The same covariance against the shipped scenario reaches the size checks.
        a[2] = shipped("hou2023.toml");
        assert_handled(&a)?;
    }

    #[test]
    fn arbitrary_command_lines_never_panic(words in prop::collection::vec(prop_oneof![
        Just("pcrb".to_string()), Just("secure-beamforming".to_string()),
        Just("fim-estimate".to_string()), Just("encoders".to_string()),
        Just("--scenario".to_string()), Just("--json".to_string()),
        Just("--gamma".to_string()), Just("--pcrb-max".to_string()),
        Just("--scheme".to_string()), ".{0,8}",
    ], 0..6)) {
        // Without a file argument nothing long runs: every line is parsed, most are rejected.
        if !words.iter().any(|w| w == "fim-estimate" || w == "secure-beamforming" || w == "encoders") {
            assert_handled(&words)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn secure_beamforming_never_panics(
        m in mutation(),
        pcrb_max in prop::option::of(prop::num::f64::ANY),
        gamma in prop::option::of(prop_oneof![prop::num::f64::ANY, 1e-3..1e3f64]),
        scheme in prop::sample::select(vec!["proposed", "no-an", "mrt", "other"]),
    ) {
        let scenario = mutated_scenario("hou2023.toml", &m);
        let mut a = args(&["secure-beamforming", "--json", "--scheme", scheme, "--scenario"]);
        a.push(scenario.arg());
        if let Some(g) = pcrb_max {
            a.push(format!("--pcrb-max={g}"));
        }
        if let Some(g) = gamma {
            a.push(format!("--gamma={g}"));
        }
        assert_handled(&a)?;
    }

    #[test]
    fn encoders_never_panic(m in mutation()) {
        let scenario = mutated_scenario("tuan2025.toml", &m);
        let mut a = args(&["encoders", "--json", "--scenario"]);
        a.push(scenario.arg());
        assert_handled(&a)?;
    }
}

proptest! {
    // A valid fim-estimate run trains its discriminators (about 2 s): few cases.
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn fim_estimate_never_panics(m in mutation()) {
        let scenario = mutated_scenario("tuan2025.toml", &m);
        let mut a = args(&["fim-estimate", "--json", "--scenario"]);
        a.push(scenario.arg());
        assert_handled(&a)?;
    }
}

/// The long flags named in a README line (`--name`, up to the first non-flag character).
fn flags_in(line: &str) -> std::collections::BTreeSet<String> {
    line.split("--")
        .skip(1)
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!("--{name}")
        })
        .collect()
}

/// The README stays in sync with `--help`: each subcommand has a section whose heading lists
/// exactly its flags, and one call in the five-minute tour.
#[test]
fn readme_documents_every_subcommand_with_its_flags() {
    use clap::CommandFactory;
    let readme = include_str!("../../README.md");
    let tour = &readme
        [readme.find("## Five-minute tour").unwrap()..readme.find("## The two commands").unwrap()];
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name();
        let heading = readme
            .lines()
            .find(|l| {
                l.starts_with(&format!("### `isac {name} ")) || *l == format!("### `isac {name}`")
            })
            .unwrap_or_else(|| panic!("README has no section for `isac {name}`"));
        let actual: std::collections::BTreeSet<String> = sub
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| *l != "help")
            .map(|l| format!("--{l}"))
            .collect();
        assert_eq!(flags_in(heading), actual, "README heading of `isac {name}`");
        assert!(
            tour.contains(&format!("isac {name}")),
            "tour lacks `isac {name}`"
        );
    }
}
