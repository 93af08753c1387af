//! Unit conversions used by the scenario files.

/// Power ratio from decibels: `10^(db / 10)`.
pub fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// Power in watts from dBm: `10^((dbm - 30) / 10)`.
pub fn dbm_to_watts(dbm: f64) -> f64 {
    db_to_linear(dbm - 30.0)
}

/// Power ratio in decibels: `10 log10(x)`.
pub fn linear_to_db(x: f64) -> f64 {
    10.0 * x.log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_values() {
        // Sec. VI of Hou & Zhang: 20 dBm = 0.1 W, -60 dBm = 1e-9 W, 10 dB path loss = 0.1.
        assert!((dbm_to_watts(20.0) - 0.1).abs() < 1e-15);
        assert!((dbm_to_watts(-60.0) - 1e-9).abs() < 1e-22);
        assert!((db_to_linear(-10.0) - 0.1).abs() < 1e-15);
        assert!((linear_to_db(db_to_linear(-37.5)) + 37.5).abs() < 1e-12);
    }
}
