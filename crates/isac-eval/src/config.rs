//! The evaluation layer's section of a paper-003 scenario file, `[evaluation]`: the figures'
//! sweeps and held-out draws, typed and validated here (`isac-channel` keeps it as written).

use isac_channel::ChannelError;
use isac_channel::scenario::{
    FriendlyJammingScenario, at_least, check, check_db, check_each, parse_section, positive_list,
};
use isac_learn::autoencoder::Task;
use serde::{Deserialize, Serialize};

use crate::EvalError;

/// `[evaluation]`: the sweeps of the figures and the held-out draws (our choices, see docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationSection {
    /// SNR axis `P_max / sigma^2` in dB (Figs. 3, 7, 8); training draws P uniformly over its range.
    pub snr_db: Vec<f64>,
    /// CRLB thresholds in dB of rad^2 (Fig. 6); training draws CRLB_0 uniformly over their range.
    pub crlb_db: Vec<f64>,
    /// Powers whose convergence Fig. 5 tracks, dB.
    pub convergence_p_db: Vec<f64>,
    /// Subcarrier counts N of Fig. 7.
    pub subcarrier_counts: Vec<usize>,
    /// Held-out channel realisations per point.
    pub draws: usize,
    /// Share of the power in isotropic artificial noise for DL_AN and ZF_AN.
    pub an_power_fraction: f64,
    /// Bit widths of the TT-Q encoders compared in Fig. 9 and Table III.
    pub tt_q_bits: Vec<u32>,
    /// Communication-only shares of the subcarriers in the non-overlapping allocation (Fig. 11).
    pub comm_fractions: Vec<f64>,
}

impl EvaluationSection {
    /// The scenario's `[evaluation]`, parsed and validated.
    pub fn from_scenario(s: &FriendlyJammingScenario) -> Result<Self, EvalError> {
        let section: Self = parse_section("evaluation", &s.file().evaluation)?;
        section.validate()?;
        Ok(section)
    }

    /// Every key in range (an error names the key and its value).
    pub fn validate(&self) -> Result<(), ChannelError> {
        let v = self;
        for (key, list) in [
            ("evaluation.snr_db", &v.snr_db),
            ("evaluation.crlb_db", &v.crlb_db),
            ("evaluation.convergence_p_db", &v.convergence_p_db),
        ] {
            if list.is_empty() {
                return Err(ChannelError::invalid(key, "[]", "needs at least one value"));
            }
            for &x in list {
                check_db(key, x)?;
            }
        }
        positive_list("evaluation.subcarrier_counts", &v.subcarrier_counts)?;
        at_least("evaluation.draws", v.draws, 2)?;
        check_each(
            "evaluation.comm_fractions",
            &v.comm_fractions,
            |x| (0.0..=1.0).contains(&x),
            "each must be in [0, 1]",
        )?;
        if v.tt_q_bits.iter().any(|b| !(2..=32).contains(b)) {
            return Err(ChannelError::invalid(
                "evaluation.tt_q_bits",
                format!("{:?}", v.tt_q_bits),
                "each must be in 2..=32",
            ));
        }
        check(
            "evaluation.an_power_fraction",
            v.an_power_fraction,
            |x| (0.0..1.0).contains(&x),
            "must be in [0, 1)",
        )?;

        Ok(())
    }

    /// What a learned model of the figures serves: `P` over the SNR axis, `CRLB_0` over the
    /// thresholds of Fig. 6, and DL_AN with ZF_AN's AN share.
    pub fn task(&self) -> Task {
        Task::spanning(&self.snr_db, &self.crlb_db, self.an_power_fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = isac_channel::scenario::shipped::TUAN2025_TOML;

    fn error_of(text: &str) -> String {
        let s = FriendlyJammingScenario::from_toml(text).expect("valid physics");
        EvaluationSection::from_scenario(&s)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_shipped_section_parses_and_its_task_spans_the_grids() {
        let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
        let e = EvaluationSection::from_scenario(&s).unwrap();
        assert_eq!(e.draws, 300);
        let t = e.task();
        assert_eq!(t.p_db, (0.0, 30.0));
        assert_eq!(t.crlb_db, (-65.0, -30.0));
        assert_eq!(t.an_fraction, 0.5);
    }

    #[test]
    fn bad_keys_and_values_are_named_on_one_line() {
        for (from, to, named) in [
            ("draws = 300", "draws = 300\nrepeats = 2", "repeats"),
            ("draws = 300", "", "draws"),
            ("draws = 300", "draws = 1", "evaluation.draws"),
            (
                "snr_db = [0.0, 5.0,",
                "snr_db = [1e9, 5.0,",
                "evaluation.snr_db",
            ),
            (
                "crlb_db = [-65.0, ",
                "crlb_db = [nan, ",
                "evaluation.crlb_db",
            ),
            (
                "subcarrier_counts = [1, 16, 32, 64]",
                "subcarrier_counts = [0]",
                "evaluation.subcarrier_counts",
            ),
            (
                "an_power_fraction = 0.5",
                "an_power_fraction = 1.0",
                "evaluation.an_power_fraction",
            ),
            (
                "tt_q_bits = [4, 6, 8]",
                "tt_q_bits = [1]",
                "evaluation.tt_q_bits",
            ),
            (
                "comm_fractions = [0.0, 0.25, 0.5]",
                "comm_fractions = [1.5]",
                "evaluation.comm_fractions",
            ),
        ] {
            assert!(SHIPPED.contains(from), "{from}");
            let msg = error_of(&SHIPPED.replacen(from, to, 1));
            assert!(msg.contains(named) && !msg.contains('\n'), "{named}: {msg}");
        }
    }
}
