use super::*;

const SHIPPED: &str = crate::scenario::shipped::TUAN2025_TOML;

fn error_of(text: &str) -> String {
    FriendlyJammingScenario::from_toml(text)
        .unwrap_err()
        .to_string()
}

#[test]
fn shipped_scenario_has_table_ii_values() {
    let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
    assert_eq!(s.tx().elements(), 16);
    assert_eq!(s.rx().elements(), 4);
    assert_eq!(s.users(), 2);
    assert_eq!(s.subcarriers(), 64);
    assert!((s.p_max() - 1000.0).abs() < 1e-9);
    assert!((s.crlb_max() - 1e-3).abs() < 1e-15);
    let (t, p) = s.target();
    assert!((t - 10f64.to_radians()).abs() < 1e-15 && (p - 15f64.to_radians()).abs() < 1e-15);
    assert!((s.fim_scale() - 0.01).abs() < 1e-15);
    assert_eq!(s.file().channel.csi_error_vars, vec![0.0, 0.05, 0.1, 0.2]);
}

#[test]
fn unknown_and_missing_keys_are_named() {
    let msg = error_of(&SHIPPED.replace("users = 2", "users = 2\nwidth = 3"));
    assert!(msg.contains("width") && !msg.contains('\n'), "{msg}");
    let msg = error_of(&SHIPPED.replace("snapshots = 200", ""));
    assert!(msg.contains("snapshots"), "{msg}");
    let msg = error_of(&SHIPPED.replace("[evaluation]", "[evaluaton]"));
    assert!(msg.contains("evaluaton") && !msg.contains('\n'), "{msg}");
}

#[test]
fn out_of_range_values_name_key_and_value() {
    for (from, to, key) in [
        ("users = 2", "users = 16", "system.users"),
        ("users = 2", "users = 0", "system.users"),
        ("tx_shape = [4, 4]", "tx_shape = [0, 4]", "system.tx_shape"),
        (
            "comm_subcarriers = 32",
            "comm_subcarriers = 65",
            "system.comm_subcarriers",
        ),
        ("taps = 64", "taps = 65", "channel.taps"),
        ("taps = 64", "taps = 0", "channel.taps"),
        (
            "band_subcarriers = 64",
            "band_subcarriers = 0",
            "system.band_subcarriers",
        ),
        ("p_max_db = 30.0", "p_max_db = nan", "system.p_max_db"),
        (
            "target_deg = [10.0, 15.0]",
            "target_deg = [10.0, 95.0]",
            "system.target_deg",
        ),
        (
            "csi_error_var = 0.0",
            "csi_error_var = -0.1",
            "channel.csi_error_var",
        ),
        (
            "[0.0, 0.05, 0.1, 0.2]",
            "[0.0, -1.0]",
            "channel.csi_error_vars",
        ),
        (
            "iq_epsilon = 0.0",
            "iq_epsilon = 1.0",
            "impairments.iq_epsilon",
        ),
        (
            "echo_gain_db = -20.0",
            "echo_gain_db = -1e200",
            "sensing.echo_gain_db",
        ),
    ] {
        let text = SHIPPED.replace(from, to);
        assert_ne!(text, SHIPPED, "{from}");
        let msg = error_of(&text);
        assert!(msg.contains(key), "{key}: {msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

#[test]
fn bad_enums_are_one_line_errors() {
    for (from, to) in [
        ("crlb = \"joint\"", "crlb = \"both\""),
        ("eve_model = \"rayleigh\"", "eve_model = \"nakagami\""),
    ] {
        let msg = error_of(&SHIPPED.replace(from, to));
        assert!(msg.contains("line") && !msg.contains('\n'), "{msg}");
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
            let _ = FriendlyJammingScenario::from_toml(&text);
        }

        /// Every float key replaced by an arbitrary float: a one-line error, or a scenario whose
        /// derived quantities are finite and positive.
        #[test]
        fn arbitrary_floats_are_validated(which in 0usize..11, value in prop::num::f64::ANY) {
            let keys = ["spacing_wavelengths = 0.5", "noise_power = 1.0", "p_max_db = 30.0",
                "crlb_max_db = -30.0", "echo_gain_db = -20.0", "eve_k_factor_db = 10.0",
                "csi_error_var = 0.0", "aoa_error_std_deg = 0.0", "iq_phase_deg = 1.0",
                "iq_epsilon = 0.02", "eve_offset_deg = 0.0"];
            let key = keys[which].split(" = ").next().unwrap();
            let literal = crate::scenario::toml_float(value);
            let text = SHIPPED.replacen(keys[which], &format!("{key} = {literal}"), 1);
            match FriendlyJammingScenario::from_toml(&text) {
                Ok(s) => {
                    prop_assert!(s.p_max().is_normal() && s.crlb_max().is_normal() && s.fim_scale().is_normal());
                }
                Err(e) => prop_assert!(!e.to_string().contains('\n')),
            }
        }

        /// Arbitrary sizes: a typed error or a scenario, never a panic.
        #[test]
        fn arbitrary_sizes_are_validated(which in 0usize..7, value in 0usize..100_000) {
            let keys = ["users = 2", "eve_antennas = 2", "subcarriers = 64", "taps = 64",
                "comm_subcarriers = 32", "band_subcarriers = 64", "snapshots = 200"];
            let key = keys[which].split(" = ").next().unwrap();
            let text = SHIPPED.replacen(keys[which], &format!("{key} = {value}"), 1);
            if let Err(e) = FriendlyJammingScenario::from_toml(&text) {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }
}

#[test]
fn misspelt_model_choices_are_rejected_with_the_valid_spellings() {
    for (from, to, valid) in [
        (
            "allocation = \"overlapping\"",
            "allocation = \"hybird\"",
            "`hybrid`",
        ),
        (
            "power_model = \"per_subcarrier\"",
            "power_model = \"fixed-band\"",
            "`fixed_band`",
        ),
        (
            "phase_model = \"per_antenna\"",
            "phase_model = \"comon\"",
            "`common`",
        ),
    ] {
        assert!(SHIPPED.contains(from), "{from}");
        let msg = error_of(&SHIPPED.replace(from, to));
        let wrong = to.split('"').nth(1).unwrap();
        assert!(
            msg.contains(wrong) && msg.contains(valid) && msg.contains("line "),
            "{msg}"
        );
    }
}

#[test]
fn the_new_model_choices_parse_and_the_fixed_band_must_hold_n() {
    let s = FriendlyJammingScenario::from_toml(
        &SHIPPED
            .replace("allocation = \"overlapping\"", "allocation = \"hybrid\"")
            .replace(
                "power_model = \"per_subcarrier\"",
                "power_model = \"fixed_band\"",
            )
            .replace("phase_model = \"per_antenna\"", "phase_model = \"common\""),
    )
    .unwrap();
    let f = s.file();
    assert_eq!(f.system.allocation, Allocation::Hybrid);
    assert_eq!(f.system.power_model, PowerModel::FixedBand);
    assert_eq!(f.impairments.phase_model, PhaseModel::Common);
    // N = B = 64: the whole band, every subcarrier at P_max, rates over 64 slots.
    assert!((s.subcarrier_power(30.0) - 1000.0).abs() < 1e-9);
    assert_eq!(s.rate_slots(), 64);
    let mut f = f.clone();
    f.set_subcarriers(16);
    let s = FriendlyJammingScenario::from_file(f.clone()).unwrap();
    assert!((s.subcarrier_power(30.0) - 4000.0).abs() < 1e-9);
    f.system.band_subcarriers = 8;
    let msg = FriendlyJammingScenario::from_file(f)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("system.subcarriers") && msg.contains("band_subcarriers"),
        "{msg}"
    );
}

#[test]
fn the_physics_alone_is_a_scenario_and_other_layers_sections_are_kept_as_written() {
    // A team that uses only the channel layer writes only its sections.
    let physics = SHIPPED.split("\n[fim_estimator]").next().unwrap();
    let s = FriendlyJammingScenario::from_toml(physics).unwrap();
    assert!(s.file().training.is_empty() && s.file().evaluation.is_empty());
    assert_eq!(s.users(), 2);
    // The shipped file keeps [training] for isac-learn, typed there.
    let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
    #[derive(serde::Deserialize)]
    struct Part {
        batch_size: usize,
    }
    let mut training = s.file().training.clone();
    training.retain(|k, _| k == "batch_size");
    let part: Part = crate::scenario::parse_section("training", &training).unwrap();
    assert_eq!(part.batch_size, 128);
    let msg = crate::scenario::parse_section::<Part>("training", &toml::Table::new())
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("[training]") && msg.contains("batch_size") && !msg.contains('\n'),
        "{msg}"
    );
}
