use burn::tensor::Tensor;

/// Exact power normalisation, eq. (27): scales each sample `x[b]` (`[N, D]`: N subcarriers of
/// D reals, the real and imaginary parts of every transmitted vector) so that its power averaged
/// over subcarriers, `1/N sum_n ||x[b, n]||^2`, equals `budget`. N = 1 is the single-carrier
/// budget. An all-zero sample stays zero (it has no direction to scale).
pub fn normalize_power(x: Tensor<3>, budget: f64) -> Tensor<3> {
    let power = x.clone().square().sum_dim(2).mean_dim(1); // [B, 1, 1]
    let scale = power
        .clamp_min(f32::MIN_POSITIVE)
        .recip()
        .mul_scalar(budget)
        .sqrt();
    x * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuDevice;
    use crate::init::normal;
    use crate::tensor::{from_values, values};
    use isac_channel::rng::stream;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn every_sample_meets_the_budget_exactly(
            batch in 1usize..40, n in 1usize..9, d in 1usize..40,
            log_scale in -6.0f64..6.0, budget_db in -20.0f64..40.0, seed in 0u64..1000,
        ) {
            let device = CpuDevice::Flex.device();
            let x = normal(&mut stream(seed, [0; 3]), batch * n * d, 10f64.powf(log_scale));
            let budget = isac_channel::units::db_to_linear(budget_db);
            let y = values(normalize_power(from_values(x, [batch, n, d], &device).unwrap(), budget)).unwrap();
            for b in 0..batch {
                let p: f64 = y[b * n * d..(b + 1) * n * d].iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / n as f64;
                prop_assert!((p / budget - 1.0).abs() < 1e-5, "sample {b}: {p} vs {budget}");
            }
        }
    }

    #[test]
    fn direction_is_kept() {
        let device = CpuDevice::Flex.device();
        let x = vec![3.0, 4.0, 0.0, 0.0];
        let y = values(normalize_power(
            from_values(x, [1, 1, 4], &device).unwrap(),
            100.0,
        ))
        .unwrap();
        assert_eq!(y, vec![6.0, 8.0, 0.0, 0.0]);
    }
}
