//! Complex tensors as pairs of real Burn tensors (Burn has no complex dtype), with the few
//! operations the secrecy-rate loss needs, each written once and tested against faer.

use burn::tensor::{Device, Tensor, TensorData};
use faer::{MatRef, c64};
use isac_bounds::null_space_projector;

use crate::LearnError;

/// `re + j im`, both of the same shape.
#[derive(Debug, Clone)]
pub struct ComplexTensor<const D: usize> {
    /// Real part.
    pub re: Tensor<D>,
    /// Imaginary part.
    pub im: Tensor<D>,
}

impl<const D: usize> ComplexTensor<D> {
    /// Batched matrix product over the last two dimensions:
    /// `(a + jb)(c + jd) = (ac - bd) + j(ad + bc)`.
    pub fn matmul(&self, other: &Self) -> Self {
        Self {
            re: self.re.clone().matmul(other.re.clone()) - self.im.clone().matmul(other.im.clone()),
            im: self.re.clone().matmul(other.im.clone()) + self.im.clone().matmul(other.re.clone()),
        }
    }

    /// The conjugate transpose of the last two dimensions.
    pub fn adjoint(&self) -> Self {
        Self {
            re: self.re.clone().swap_dims(D - 2, D - 1),
            im: self.im.clone().swap_dims(D - 2, D - 1).neg(),
        }
    }

    /// `|z|^2` elementwise.
    pub fn abs2(&self) -> Tensor<D> {
        self.re.clone().square() + self.im.clone().square()
    }
}

impl ComplexTensor<3> {
    /// `matrices` (all `rows x cols`) stacked into `[len, rows, cols]` real and imaginary parts.
    pub fn from_matrices(
        matrices: &[MatRef<'_, c64>],
        device: &Device,
    ) -> Result<Self, LearnError> {
        let (rows, cols) = matrices.first().map_or((0, 0), |m| (m.nrows(), m.ncols()));
        if let Some(m) = matrices
            .iter()
            .find(|m| (m.nrows(), m.ncols()) != (rows, cols))
        {
            return Err(LearnError::Size {
                what: "stacked matrix",
                expected: rows * cols,
                got: m.nrows() * m.ncols(),
            });
        }
        let part = |f: fn(c64) -> f64| -> Vec<f32> {
            matrices
                .iter()
                .flat_map(|m| {
                    (0..rows).flat_map(move |i| (0..cols).map(move |j| f(m[(i, j)]) as f32))
                })
                .collect()
        };
        let shape = [matrices.len(), rows, cols];
        Ok(Self {
            re: Tensor::from_data(TensorData::new(part(|z| z.re), shape), device),
            im: Tensor::from_data(TensorData::new(part(|z| z.im), shape), device),
        })
    }

    /// The orthogonal projectors onto the null spaces of the estimated users' channels
    /// (`[B, Nt, Nt]`, computed in f64 by `isac_bounds::null_space_projector`). They are data, not
    /// parameters: `P v` projects a batch of learned FJ beams `[B, Nt, 1]` differentiably.
    pub fn null_space_projectors(
        channels: &[MatRef<'_, c64>],
        device: &Device,
    ) -> Result<Self, LearnError> {
        let projectors = channels
            .iter()
            .map(|h| null_space_projector(*h))
            .collect::<Result<Vec<_>, _>>()?;
        let views: Vec<MatRef<'_, c64>> = projectors.iter().map(|p| p.as_ref()).collect();
        Self::from_matrices(&views, device)
    }
}

/// Per-sample rates in nats of K users and of Eve on each user's stream, for user beams and one
/// friendly-jamming beam (paper 003 eq. 28 with Eve's leakage), differentiable for training.
///
/// Shapes: `users` `[B, K, Nt]` (row k is `h_k^H`), `beams` `[B, Nt, K]` (column k is `f_k`, power
/// included), `jamming` `[B, Nt, 1]` (`sqrt(zeta) v`), `eve` `[B, Nt, Ne]` (`H_E`). Eve's
/// interference-plus-noise `A = sigma_E^2 I + u u^H` with `u = H_E^H v` is inverted in closed form
/// (Sherman-Morrison), so her rate is `ln(1 + (|g|^2 - |u^H g|^2 / (sigma_E^2 + |u|^2)) / sigma_E^2)`
/// with `g = H_E^H f_k`. Returns `([B, K] user rates, [B, K] Eve rates)`.
pub fn secrecy_rates(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    noise_user: f64,
    noise_eve: f64,
) -> (Tensor<2>, Tensor<2>) {
    let [b, k, _] = users.re.dims();
    // Users: S[b, i, j] = h_i^H f_j.
    let gains = users.matmul(beams).abs2(); // [B, K, K]
    let total: Tensor<3> = gains.clone().sum_dim(2); // [B, K, 1]
    let eye = Tensor::<2>::eye(k, &gains.device()).unsqueeze_dim::<3>(0); // [1, K, K]
    let signal: Tensor<3> = (gains * eye).sum_dim(2); // [B, K, 1]
    let jam = users.matmul(jamming).abs2(); // [B, K, 1]
    let sinr = signal.clone() / (total - signal + jam).add_scalar(noise_user);
    let user = sinr.log1p().reshape([b, k]);

    // Eve: g = H_E^H F ([B, Ne, K]), u = H_E^H v ([B, Ne, 1]).
    let eve_h = eve.adjoint();
    let g = eve_h.matmul(beams);
    let u = eve_h.matmul(jamming);
    let g2: Tensor<3> = g.abs2().sum_dim(1); // [B, 1, K]
    let u2: Tensor<3> = u.abs2().sum_dim(1); // [B, 1, 1]
    let ug = u.adjoint().matmul(&g).abs2(); // [B, 1, K]
    let q = (g2 - ug / u2.add_scalar(noise_eve)).div_scalar(noise_eve);
    let eve_rate = q.log1p().reshape([b, k]);
    (user, eve_rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuDevice;
    use crate::tensor::values;
    use faer::Mat;
    use isac_channel::rng::{complex_normal, stream};

    fn random(rows: usize, cols: usize, seed: u64) -> Mat<c64> {
        let mut rng = stream(seed, [0; 3]);
        Mat::from_fn(rows, cols, |_, _| complex_normal(&mut rng, 1.0))
    }

    #[test]
    fn products_match_faer_and_projected_beams_spare_the_users() {
        let device = CpuDevice::Flex.device();
        let (b, k, nt) = (5, 2, 16);
        let hs: Vec<Mat<c64>> = (0..b).map(|i| random(k, nt, i)).collect();
        let vs: Vec<Mat<c64>> = (0..b).map(|i| random(nt, 1, 100 + i)).collect();
        let h = ComplexTensor::from_matrices(
            &hs.iter().map(|m| m.as_ref()).collect::<Vec<_>>(),
            &device,
        )
        .unwrap();
        let v = ComplexTensor::from_matrices(
            &vs.iter().map(|m| m.as_ref()).collect::<Vec<_>>(),
            &device,
        )
        .unwrap();
        // H v against faer, and (H v)^H H v = |H v|^2 through adjoint.
        let hv = h.matmul(&v);
        let (re, im) = (
            values(hv.re.clone()).unwrap(),
            values(hv.im.clone()).unwrap(),
        );
        for (i, (hm, vm)) in hs.iter().zip(&vs).enumerate() {
            let r = hm * vm;
            for u in 0..k {
                let z = c64::new(f64::from(re[i * k + u]), f64::from(im[i * k + u]));
                assert!((z - r[(u, 0)]).norm() < 1e-4 * (1.0 + r[(u, 0)].norm()));
            }
        }
        let norm2 = values(hv.adjoint().matmul(&hv).re).unwrap();
        let abs2 = values(hv.abs2().sum_dim(1)).unwrap();
        for (a, b) in norm2.iter().zip(&abs2) {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()));
        }
        // Projected beams leave no trace at the users (f32: relative to |v|).
        let refs: Vec<MatRef<'_, c64>> = hs.iter().map(|m| m.as_ref()).collect();
        let p = ComplexTensor::null_space_projectors(&refs, &device).unwrap();
        let leak = values(h.matmul(&p.matmul(&v)).abs2()).unwrap();
        let power = values(v.abs2()).unwrap().iter().sum::<f32>() / b as f32;
        assert!(leak.iter().all(|x| *x < 1e-9 * power), "{leak:?}");
    }
}
