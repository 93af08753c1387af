use super::*;

const SHIPPED: &str = crate::scenario::shipped::HOU2023_TOML;

fn error_of(text: &str) -> String {
    SecureIsacScenario::from_toml(text).unwrap_err().to_string()
}

#[test]
fn shipped_scenario_has_the_papers_units() {
    let s = SecureIsacScenario::from_toml(SHIPPED).unwrap();
    // Values of docs/conventions.md (paper 000), computed by hand.
    assert!((s.tx_power() - 0.1).abs() < 1e-15);
    assert!((s.noise_radar() - 1e-9).abs() < 1e-22);
    assert!((s.eve_noise_term() - 1e-8).abs() < 1e-20);
    assert!((s.beta_min() - 7.1e-4).abs() < 1e-16);
    assert!((s.user_gain() - 1e-3).abs() < 1e-16);
    assert_eq!(s.tx().elements(), 8);
    assert_eq!(s.rx().elements(), 10);
    assert_eq!(s.qbar(), QbarConvention::Exact);
    let h = s.user_channel();
    let norm2: f64 = (0..8).map(|i| h[i].norm_sqr()).sum();
    assert!((norm2 - 8e-3).abs() < 1e-15);
}

#[test]
fn unknown_key_is_named() {
    let text = SHIPPED.replace("rcs_min = 0.0071", "rcs_min = 0.0071\nrcs_max = 1.0");
    let msg = error_of(&text);
    assert!(msg.contains("rcs_max"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn missing_key_is_named() {
    let msg = error_of(&SHIPPED.replace("seed = 1", ""));
    assert!(msg.contains("seed"), "{msg}");
}

#[test]
fn out_of_range_values_name_key_and_value() {
    for (from, to, key) in [
        (
            "prior_std_rad = 0.01",
            "prior_std_rad = -0.01",
            "target.prior_std_rad",
        ),
        ("rcs_min = 0.0071", "rcs_min = 0", "target.rcs_min"),
        (
            "angles_deg = [-55, -35, 65, 45]",
            "angles_deg = [-55, -35, 95, 45]",
            "target.angles_deg",
        ),
        ("angle_deg = -10", "angle_deg = -90", "user.angle_deg"),
        ("pcrb_max = 2.68e-5", "pcrb_max = 0.0", "sensing.pcrb_max"),
        ("tx_dbm = 20", "tx_dbm = nan", "power.tx_dbm"),
        ("tx_antennas = 8", "tx_antennas = 0", "array.tx_antennas"),
        (
            "spacing_wavelengths = 0.5",
            "spacing_wavelengths = inf",
            "array.spacing_wavelengths",
        ),
        (
            "[0.2, 0.3, 0.1, 0.4]",
            "[0.2, 0.3, 0.1, 0.5]",
            "target.probabilities",
        ),
        (
            "[0.2, 0.3, 0.1, 0.4]",
            "[0.2, 0.3, 0.5]",
            "target.probabilities",
        ),
        (
            "[0.2, 0.3, 0.1, 0.4]",
            "[0.2, 0.3, -0.1, 0.6]",
            "target.probabilities",
        ),
    ] {
        let text = SHIPPED.replace(from, to);
        assert_ne!(text, SHIPPED, "{from}");
        let msg = error_of(&text);
        assert!(msg.contains(key), "{key}: {msg}");
    }
}

#[test]
fn bad_enum_and_syntax_are_one_line_errors() {
    for text in [
        SHIPPED.replace("\"exact\"", "\"approx\""),
        "seed = ".to_string(),
        SHIPPED.replace("seed = 1", "seed = -1"),
    ] {
        let msg = error_of(&text);
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("line"), "{msg}");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary text is a typed error or a scenario, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = SecureIsacScenario::from_toml(&text);
        }

        /// Every numeric key replaced by an arbitrary float (NaN, inf, huge, negative): a typed
        /// error naming a key, or a scenario whose derived quantities are finite.
        #[test]
        fn arbitrary_values_are_validated(which in 0usize..10, value in prop::num::f64::ANY) {
            let keys = ["spacing_wavelengths = 0.5", "prior_std_rad = 0.01", "rcs_min = 0.0071", "path_loss_db = 30",
                "path_loss_db = 10", "angle_deg = -10", "tx_dbm = 20", "noise_radar_dbm = -60",
                "pcrb_max = 2.68e-5", "noise_eve_dbm = -60"];
            let key = keys[which].split(" = ").next().unwrap();
            let literal = crate::scenario::toml_float(value);
            let text = SHIPPED.replacen(keys[which], &format!("{key} = {literal}"), 1);
            match SecureIsacScenario::from_toml(&text) {
                Ok(s) => {
                    prop_assert!(s.tx_power().is_normal() && s.beta_min().powi(2).is_normal() && s.noise_radar().is_normal());
                    prop_assert!(s.eve_noise_term().is_normal() && s.user_gain().is_normal());
                    prop_assert!(s.pcrb_max() > 0.0 && s.prior().std() > 0.0);
                }
                Err(e) => prop_assert!(!e.to_string().contains('\n')),
            }
        }
    }
}
