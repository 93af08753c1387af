//! Guards the build setting in `.cargo/config.toml`: after a faer kernel has run, scalar code
//! must not be slowed down by an AVX/SSE transition penalty (7x on this project's machines
//! without `target-cpu=x86-64-v3`, ~1.1x with it).

use std::time::{Duration, Instant};

use faer::{Mat, c64};
use isac_channel::GaussianMixturePrior;

fn median_epsilon_time(prior: &GaussianMixturePrior) -> Duration {
    let mut times: Vec<Duration> = (0..31)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(isac_bounds::epsilon(std::hint::black_box(prior)));
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[test]
fn scalar_code_is_not_slowed_down_after_a_faer_kernel() {
    let means = [-55.0f64, -35.0, 65.0, 45.0].map(f64::to_radians).to_vec();
    let prior = GaussianMixturePrior::new(means, vec![0.2, 0.3, 0.1, 0.4], 0.01).unwrap();
    let before = median_epsilon_time(&prior);
    let x = Mat::from_fn(8, 128, |i, j| c64::new((i + j) as f64, 1.0));
    std::hint::black_box(&x * x.adjoint());
    let after = median_epsilon_time(&prior);
    let ratio = after.as_secs_f64() / before.as_secs_f64();
    assert!(
        ratio < 3.0,
        "epsilon {before:?} before a faer kernel, {after:?} after ({ratio:.1}x)"
    );
}
