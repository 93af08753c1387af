//! Seeded parameter initialisation: every weight comes from a ChaCha stream, not Burn's RNG.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use isac_channel::rng::Stream;
use rand::RngExt;
use rand_distr::{Distribution, Normal};

/// `n` draws of `N(0, std^2)` as f32.
pub(crate) fn normal(rng: &mut Stream, n: usize, std: f64) -> Vec<f32> {
    let d = Normal::new(0.0, std).unwrap_or_else(|_| Normal::new(0.0, 0.0).expect("std 0"));
    (0..n).map(|_| d.sample(rng) as f32).collect()
}

/// `n` draws of `U(-bound, bound)` as f32.
pub(crate) fn uniform(rng: &mut Stream, n: usize, bound: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((2.0 * rng.random::<f64>() - 1.0) * bound) as f32)
        .collect()
}

/// A trainable parameter holding `values` with `shape`.
pub(crate) fn param<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    Param::from_data(TensorData::new(values, shape), device)
}
