//! Points: the independent units of work of an experiment, cached on disk under the run's
//! inputs hash, so that a run can be split into shards (`--shard I/N`, each computing a
//! deterministic 1/N of the points) and joined again by rerunning with every shard's cache in
//! place (`cargo xtask merge`): the joined run loads the points instead of computing them and
//! writes the same files as a single run.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::RunContext;
use crate::EvalError;
use crate::output::write_atomic;

/// Part `index + 1` of `count`: owns the units whose key is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Part `number` (1-based, as Slurm's `SLURM_ARRAY_TASK_ID` with `--array=1-N`) of `count`.
    pub fn new(number: u64, count: u64) -> Result<Self, EvalError> {
        if count == 0 || number == 0 || number > count {
            return Err(EvalError::BadShard(format!(
                "{number}/{count}: need 1 <= I <= N"
            )));
        }
        Ok(Self {
            index: number - 1,
            count,
        })
    }

    /// 1-based part number.
    pub fn number(&self) -> u64 {
        self.index + 1
    }

    /// Number of parts.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the unit with this key is computed by this part.
    pub fn owns(&self, key: u64) -> bool {
        key % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = EvalError;

    /// Parses `I/N`.
    fn from_str(s: &str) -> Result<Self, EvalError> {
        let bad = || EvalError::BadShard(format!("`{s}`: expected I/N, e.g. 1/4"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Self::new(i, n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number(), self.count)
    }
}

/// A point on disk: its value and the inputs hash of the run that computed it.
#[derive(Serialize, Deserialize)]
struct Stored<T> {
    inputs_hash: String,
    value: T,
}

impl RunContext<'_> {
    /// Where shard-visible caches live (points, trained models): `<out>/cache/`, the directory
    /// `cargo xtask merge` joins.
    pub fn cache_dir(&self) -> PathBuf {
        self.out_dir.join("cache")
    }

    /// Whether the unit with `key` is computed here: always without sharding.
    pub fn owns(&self, key: u64) -> bool {
        self.shard.is_none_or(|s| s.owns(key))
    }

    /// `f(0), ..., f(n - 1)` of stage `stage` (unique per experiment, e.g. its name), computed
    /// in parallel, with progress. A point already computed under the same inputs hash is
    /// loaded instead; computed points are stored (only under a non-empty inputs hash, so that
    /// library callers without provenance never see stale values). With `--shard I/N` only the
    /// points `i = I - 1 (mod N)` are computed, and if any other is missing the stage ends in
    /// [`EvalError::ShardPart`] once they are stored.
    pub fn points<T, F>(&self, stage: &str, n: usize, f: F) -> Result<Vec<T>, EvalError>
    where
        T: Serialize + DeserializeOwned + Send,
        F: Fn(usize) -> Result<T, EvalError> + Sync,
    {
        let dir = self.cache_dir().join("points").join(stage);
        let hash = &self.provenance.inputs_hash;
        let path = |i: usize| dir.join(format!("{i}.json"));
        let load = |i: usize| -> Option<T> {
            if hash.is_empty() {
                return None;
            }
            let text = std::fs::read_to_string(path(i)).ok()?;
            let stored: Stored<T> = serde_json::from_str(&text).ok()?;
            (stored.inputs_hash == *hash).then_some(stored.value)
        };
        self.progress.start(n as u64, stage);
        let results: Vec<Option<T>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let value = match load(i) {
                    Some(v) => Some(v),
                    None if self.owns(i as u64) => {
                        let v = f(i)?;
                        if !hash.is_empty() {
                            let stored = Stored {
                                inputs_hash: hash.clone(),
                                value: &v,
                            };
                            let text = serde_json::to_string(&stored)
                                .map_err(|e| EvalError::Invalid(e.to_string()))?;
                            write_atomic(&path(i), text.as_bytes())?;
                        }
                        Some(v)
                    }
                    None => None,
                };
                self.progress.inc(1);
                Ok(value)
            })
            .collect::<Result<_, EvalError>>()?;
        all_units(results)
    }
}

/// Every unit's value, or [`EvalError::ShardPart`] if some (`None`) belong to other parts.
pub(super) fn all_units<T>(units: Vec<Option<T>>) -> Result<Vec<T>, EvalError> {
    let elsewhere = units.iter().filter(|u| u.is_none()).count();
    if elsewhere > 0 {
        return Err(EvalError::ShardPart {
            here: units.len() - elsewhere,
            elsewhere,
        });
    }
    Ok(units.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::Provenance;
    use proptest::prelude::*;

    fn ctx(out: &std::path::Path, shard: Option<Shard>, hash: &str) -> RunContext<'static> {
        RunContext {
            quick: true,
            provenance: Provenance {
                inputs_hash: hash.into(),
                ..Default::default()
            },
            shard,
            ..RunContext::new(out.to_path_buf(), PathBuf::new())
        }
    }

    #[test]
    fn shards_compute_disjoint_parts_whose_union_loads_without_computing() {
        let out = std::env::temp_dir().join(format!("isac-points-{}", std::process::id()));
        let square = |i: usize| Ok(i as f64 * 0.1 + 1.0 / 3.0);
        let mut here = 0;
        for number in 1..=3 {
            let shard = Shard::new(number, 3).unwrap();
            match ctx(&out, Some(shard), "h").points("stage", 8, square) {
                Err(EvalError::ShardPart { here: h, elsewhere }) => {
                    assert_eq!(h + elsewhere, 8);
                    here = h;
                }
                // The last part finds every other part's points already stored.
                Ok(v) => assert_eq!((number, v.len()), (3, 8)),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(here, 6, "parts 1 and 2 together own 6 of 8 points");
        let fail =
            |_: usize| -> Result<f64, EvalError> { Err(EvalError::Invalid("computed".into())) };
        let joined = ctx(&out, None, "h").points("stage", 8, fail).unwrap();
        let single: Vec<f64> = (0..8).map(|i| square(i).unwrap()).collect();
        assert_eq!(joined, single, "bit-identical after the round trip");
        assert!(
            ctx(&out, None, "other").points("stage", 8, fail).is_err(),
            "other inputs recompute"
        );
        std::fs::remove_dir_all(out).unwrap();
    }

    proptest! {
        #[test]
        fn parts_partition_every_key(count in 1u64..20, key in any::<u64>()) {
            let owners = (1..=count)
                .filter(|&i| Shard::new(i, count).unwrap().owns(key))
                .count();
            prop_assert_eq!(owners, 1);
        }

        #[test]
        fn any_text_parses_to_a_shard_or_a_typed_error(text in ".{0,12}") {
            if let Ok(s) = text.parse::<Shard>() {
                prop_assert!(s.number() >= 1 && s.number() <= s.count());
                prop_assert_eq!(s.to_string().parse::<Shard>().unwrap(), s);
            }
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard::new(2, 4).unwrap());
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
