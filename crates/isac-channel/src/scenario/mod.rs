//! Scenario files: TOML with `deny_unknown_fields`, validated into typed values.
//!
//! Each paper setting has a raw `*File` type (serde, exactly the keys of the file) and a
//! validated type built from it. Validation errors name the key and the bad value.
//!
//! One file per scenario, one owner per section: this crate types and validates the physics
//! (`[system]`, `[sensing]`, `[channel]`, `[impairments]`); sections that configure learning or
//! evaluation are kept as written and typed by the layer that uses them, with
//! [`parse_section`] and the key checks below ([`check`], [`at_least`], ...).

pub mod friendly_jamming;
mod secure_isac;
pub mod shipped;

pub use friendly_jamming::FriendlyJammingScenario;
pub use secure_isac::{
    ArraySection, PowerSection, QbarConvention, SecureIsacFile, SecureIsacScenario, SensingSection,
    TargetSection, UserSection,
};

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::ChannelError;

/// Reads and parses a TOML file into `T`, mapping every failure to a one-line [`ChannelError`].
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ChannelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ChannelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_toml(&text, path)
}

/// Parses TOML text; `origin` only labels errors.
pub fn parse_toml<T: DeserializeOwned>(text: &str, origin: &Path) -> Result<T, ChannelError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let message = e.message().trim().replace('\n', " ");
        ChannelError::Parse {
            path: origin.to_path_buf(),
            message: match line {
                Some(l) => format!("line {l}: {message}"),
                None => message,
            },
        }
    })
}

/// `Ok(x)` if `x` is finite and satisfies `ok`, else an error naming `key`.
pub fn check(
    key: &str,
    x: f64,
    ok: impl Fn(f64) -> bool,
    requirement: &str,
) -> Result<f64, ChannelError> {
    if x.is_finite() && ok(x) {
        Ok(x)
    } else {
        Err(ChannelError::invalid(key, x, requirement))
    }
}

/// `Ok(x)` if `x` is finite and `>= 0`, else an error naming `key`.
pub fn non_negative(key: &str, x: f64) -> Result<f64, ChannelError> {
    check(key, x, |x| x >= 0.0, "must be >= 0")
}

/// `Ok(())` if every entry of `list` is finite and satisfies `ok`, else an error naming `key`
/// and the first bad entry.
pub fn check_each(
    key: &str,
    list: &[f64],
    ok: impl Fn(f64) -> bool,
    requirement: &str,
) -> Result<(), ChannelError> {
    for &x in list {
        check(key, x, &ok, requirement)?;
    }
    Ok(())
}

/// A value in dB (or dBm, offset by 30) whose linear power `10^(x/10)` must be a normal,
/// finite double: a finite dB value far out of range would overflow to inf or underflow to 0.
pub fn check_db(key: &str, db: f64) -> Result<(), ChannelError> {
    check(
        key,
        db,
        |x| (x / 10.0).abs() < 300.0,
        "must be finite and within +-3000 dB",
    )
    .map(|_| ())
}

/// The largest count any key may hold (sizes, samples, iterations, draws): far above any
/// realistic setting, it turns an absurd value into an error instead of an allocation failure.
pub const MAX_COUNT: usize = 1 << 24;

/// `Ok(())` if the count `x` is in `min..=MAX_COUNT`, else an error naming `key`.
pub fn at_least(key: &str, x: usize, min: usize) -> Result<(), ChannelError> {
    if (min..=MAX_COUNT).contains(&x) {
        Ok(())
    } else {
        Err(ChannelError::invalid(
            key,
            x,
            format!("must be in {min}..={MAX_COUNT}"),
        ))
    }
}

/// A non-empty list of sizes, each in `1..=MAX_COUNT`.
pub fn positive_list(key: &str, list: &[usize]) -> Result<(), ChannelError> {
    if list.is_empty() || list.iter().any(|&x| x == 0 || x > MAX_COUNT) {
        return Err(ChannelError::invalid(
            key,
            format!("{list:?}"),
            format!("needs at least one entry, each in 1..={MAX_COUNT}"),
        ));
    }
    Ok(())
}

/// `x` in the open interval (0, 1).
pub fn open_unit(key: &str, x: f64) -> Result<f64, ChannelError> {
    check(key, x, |x| x > 0.0 && x < 1.0, "must be in (0, 1)")
}

/// A section that another layer owns (kept by this crate as written), parsed into that layer's
/// type `T`; errors name the section and the key, on one line.
pub fn parse_section<T: DeserializeOwned>(
    name: &str,
    table: &toml::Table,
) -> Result<T, ChannelError> {
    T::deserialize(toml::Value::Table(table.clone())).map_err(|e| ChannelError::Section {
        section: name.to_string(),
        message: e.message().trim().replace('\n', " "),
    })
}

/// `value` as a TOML float literal (`nan`, `inf`, `-inf` or exponent form), for fuzz tests.
#[cfg(test)]
pub(crate) fn toml_float(value: f64) -> String {
    if value.is_nan() {
        "nan".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{value:e}")
    }
}
