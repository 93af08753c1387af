//! TT-Q: uniform post-training quantisation of TT cores (Sec. III-E).

use crate::TtLinearConfig;

/// `g -> Delta round(g / Delta)` with `Delta = max |g| / (2^(bits-1) - 1)`: a symmetric
/// `bits`-bit grid per core. At 32 bits the cores keep their f32 values (f32 storage is already
/// 32 bits), so TT-Q(32) is the unquantised model.
pub fn quantize_uniform(values: &[f32], bits: u32) -> Vec<f32> {
    let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if bits >= 32 || max == 0.0 {
        return values.to_vec();
    }
    let levels = f64::from((1u32 << (bits.max(2) - 1)) - 1);
    let delta = f64::from(max) / levels;
    values
        .iter()
        .map(|&g| (delta * (f64::from(g) / delta).round()) as f32)
        .collect()
}

/// Memory of a TT layer whose cores are stored at `bits` bits (plus one f32 scale per core) and
/// whose bias stays f32.
pub fn tt_q_bytes(config: &TtLinearConfig, bits: u32) -> usize {
    let bias = if config.bias { config.d_output() } else { 0 };
    let core_values = config.parameters() - bias;
    (core_values * bits as usize).div_ceil(8) + 4 * config.in_factors.len() + 4 * bias
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn error_is_at_most_half_a_step_and_levels_are_few(
            v in prop::collection::vec(-3.0f32..3.0, 1..200), bits in 2u32..16,
        ) {
            let q = quantize_uniform(&v, bits);
            let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let delta = f64::from(max) / f64::from((1u32 << (bits - 1)) - 1);
            for (a, b) in v.iter().zip(&q) {
                // Half a step, plus the rounding of the grid point to f32.
                let rounding = f64::from(f32::EPSILON) * f64::from(a.abs().max(b.abs()));
                prop_assert!((f64::from(*a) - f64::from(*b)).abs() <= 0.5 * delta * (1.0 + 1e-9) + rounding);
            }
            let mut levels: Vec<i64> = q.iter().map(|x| if delta > 0.0 { (f64::from(*x) / delta).round() as i64 } else { 0 }).collect();
            levels.sort_unstable();
            levels.dedup();
            prop_assert!(levels.len() < (1usize << bits));
        }
    }

    #[test]
    fn thirty_two_bits_is_the_identity_and_memory_shrinks_with_bits() {
        let v = vec![0.1f32, -1e-8, 2.5, 1e-30];
        assert_eq!(quantize_uniform(&v, 32), v);
        let c = TtLinearConfig::new(vec![6, 13], vec![8, 12], 8);
        let sizes: Vec<usize> = [2, 4, 8, 16, 32]
            .iter()
            .map(|&b| tt_q_bytes(&c, b))
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
        // At 32 bits: every value as f32 plus the per-core scales.
        assert_eq!(sizes[4], 4 * c.parameters() + 8);
    }
}
