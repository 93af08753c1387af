//! Complex tensors as pairs of real Burn tensors (Burn has no complex dtype), with the few
//! operations the secrecy-rate loss needs, each written once and tested against faer.

use burn::tensor::Tensor;

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
