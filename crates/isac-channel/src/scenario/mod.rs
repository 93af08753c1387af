//! Scenario files: TOML with `deny_unknown_fields`, validated into typed values.
//!
//! Each paper setting has a raw `*File` type (serde, exactly the keys of the file) and a
//! validated type built from it. Validation errors name the key and the bad value.

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
pub(crate) fn check(
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

/// A value in dB (or dBm, offset by 30) whose linear power `10^(x/10)` must be a normal,
/// finite double: a finite dB value far out of range would overflow to inf or underflow to 0.
pub(crate) fn check_db(key: &str, db: f64) -> Result<(), ChannelError> {
    check(
        key,
        db,
        |x| (x / 10.0).abs() < 300.0,
        "must be finite and within +-3000 dB",
    )
    .map(|_| ())
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
