//! The papers' scenario files, shipped inside this crate so that a crate that depends on
//! `isac-channel` alone (its examples, doc tests and benches too) can load them without the
//! workspace. They are the files of the workspace's `scenarios/` directory (a link to this
//! crate's `scenarios/`), which the CLI and `cargo xtask reproduce` read.

use super::{FriendlyJammingScenario, SecureIsacScenario};
use crate::ChannelError;

/// `scenarios/hou2023.toml`: paper 000's Sec. VI setting.
pub const HOU2023_TOML: &str = include_str!("../../scenarios/hou2023.toml");

/// `scenarios/tuan2025.toml`: paper 003's Table II setting.
pub const TUAN2025_TOML: &str = include_str!("../../scenarios/tuan2025.toml");

/// Paper 000's scenario, validated.
pub fn hou2023() -> Result<SecureIsacScenario, ChannelError> {
    SecureIsacScenario::from_toml(HOU2023_TOML)
}

/// Paper 003's scenario, validated.
pub fn tuan2025() -> Result<FriendlyJammingScenario, ChannelError> {
    FriendlyJammingScenario::from_toml(TUAN2025_TOML)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped text is the workspace's file (the link resolves to it) and both validate.
    #[test]
    fn the_shipped_scenarios_are_the_workspace_files_and_validate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for (name, text) in [
            ("hou2023.toml", HOU2023_TOML),
            ("tuan2025.toml", TUAN2025_TOML),
        ] {
            assert_eq!(
                std::fs::read_to_string(dir.join(name)).unwrap(),
                text,
                "{name}"
            );
        }
        assert_eq!(hou2023().unwrap().tx().elements(), 8);
        assert_eq!(tuan2025().unwrap().tx().elements(), 16);
    }
}
