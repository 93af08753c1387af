//! Complex tensors as pairs of real Burn tensors (Burn has no complex dtype), with the few
//! operations the secrecy-rate loss needs, each written once and tested against faer.

mod beam_gradients;
mod product;
pub(crate) mod received;
#[cfg(feature = "wgpu")]
mod received_from;
pub(crate) mod secrecy;

use burn::backend::Dispatch;
use burn::tensor::{Device, Tensor, TensorData};
use faer::{MatRef, c64};
use isac_design::null_space_projector;

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
    /// The conjugate transpose of the last two dimensions.
    pub fn adjoint(&self) -> Self {
        Self {
            re: self.re.clone().swap_dims(D - 2, D - 1),
            im: self.im.clone().swap_dims(D - 2, D - 1).neg(),
        }
    }

    /// Whether either part records gradients (is a parameter or depends on one).
    pub fn requires_grad(&self) -> bool {
        self.re.is_require_grad() || self.im.is_require_grad()
    }

    /// `|z|^2` elementwise.
    pub fn abs2(&self) -> Tensor<D> {
        self.re.clone().square() + self.im.clone().square()
    }
}

impl ComplexTensor<3> {
    /// Batched matrix product over the last two dimensions:
    /// `(a + jb)(c + jd) = (ac - bd) + j(ad + bc)`. On the CPU devices, for operands with the same
    /// batch length, each part is one fused operation with its own backward pass
    /// (`complex/product.rs`); elsewhere [`ComplexTensor::matmul_composed`].
    pub fn matmul(&self, other: &Self) -> Self {
        let (a, b) = (self.re.dims(), other.re.dims());
        if a[0] != b[0] || !crate::host::supports(&self.re.device()) {
            return self.matmul_composed(other);
        }
        let pair = |a1: &Tensor<3>, b1: &Tensor<3>, a2: &Tensor<3>, b2: &Tensor<3>, negate| {
            Tensor::from_dispatch(<Dispatch as product::ProductPair>::product_pair(
                a1.clone().into_dispatch(),
                b1.clone().into_dispatch(),
                a2.clone().into_dispatch(),
                b2.clone().into_dispatch(),
                negate,
            ))
        };
        Self {
            re: pair(&self.re, &other.re, &self.im, &other.im, true),
            im: pair(&self.re, &other.im, &self.im, &other.re, false),
        }
    }

    /// [`ComplexTensor::matmul`] in Burn tensor operations, for any device and broadcasting
    /// like Burn's `matmul`. (Burn runs one GEMM per matrix; broadcast elementwise products
    /// summed over the inner dimension measured 1.5-1.9x slower on flex, forward and backward,
    /// at the shapes of a training step.)
    pub fn matmul_composed(&self, other: &Self) -> Self {
        Self {
            re: self.re.clone().matmul(other.re.clone()) - self.im.clone().matmul(other.im.clone()),
            im: self.re.clone().matmul(other.im.clone()) + self.im.clone().matmul(other.re.clone()),
        }
    }

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
    /// (`[B, Nt, Nt]`, computed in f64 by `isac_design::null_space_projector`). They are data, not
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

/// Per-sample rates in nats of K users and of Eve on each user's stream, for user beams and
/// J jamming columns (paper 003 eq. 28 with Eve's leakage), differentiable for training.
///
/// Shapes: `users` `[B, K, Nt]` (row k is `h_k^H`), `beams` `[B, Nt, K]` (column k is `f_k`, power
/// included), `jamming` `[B, Nt, J]` (columns `V` with jamming covariance `Q = V V^H`: one column
/// `sqrt(zeta) v` for a steered FJ beam, a scaled null-space projector for isotropic AN), `eve`
/// `[B, Nt, Ne]` (`H_E`). Eve's rate on stream k is `ln(1 + g^H A^-1 g)` with `g = H_E^H f_k` and
/// `A = sigma_E^2 I + U U^H`, `U = H_E^H V`; the quadratic form comes from an `L D L^H`
/// factorisation of the `Ne x Ne` matrix `A` (every pivot is at least `sigma_E^2 > 0`, so no
/// division can blow up): `g^H A^-1 g = sum_i |z_i|^2 / d_i` with `L z = g`. Returns
/// `([B, K] user rates, [B, K] Eve rates)`.
///
/// On the CPU devices and (cargo feature `wgpu`) the cubecl devices, when neither channel
/// requires a gradient, this is one fused operation with its own backward pass (a Cholesky
/// solve for Eve per sample, f64 host loops or one f32 kernel each way: `complex/secrecy.rs`);
/// elsewhere [`secrecy_rates_composed`].
pub fn secrecy_rates(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    noise_user: f64,
    noise_eve: f64,
) -> (Tensor<2>, Tensor<2>) {
    let Some(rates) = stacked_secrecy_rates(users, beams, jamming, eve, noise_user, noise_eve)
    else {
        return secrecy_rates_composed(users, beams, jamming, eve, noise_user, noise_eve);
    };
    let [b, k, _] = users.re.dims();
    let part = |i: usize| rates.clone().narrow(1, i, 1).reshape([b, k]);
    (part(0), part(1))
}

/// The secrecy rate gaps `R_k - E_k`, `[B, K]`: user rate minus Eve's rate on each stream of
/// [`secrecy_rates`] (the same arguments). From the fused operation it is one weighted sum of its
/// stacked output instead of two slices (on a GPU each slice of a tracked tensor is a copy
/// forward and a fill and a slice assignment backward), with the same values.
pub fn secrecy_rate_gaps(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    noise_user: f64,
    noise_eve: f64,
) -> Tensor<2> {
    match stacked_secrecy_rates(users, beams, jamming, eve, noise_user, noise_eve) {
        Some(rates) => secrecy_gaps_of(rates),
        None => {
            let (user, eve) =
                secrecy_rates_composed(users, beams, jamming, eve, noise_user, noise_eve);
            user - eve
        }
    }
}

/// The gaps `R_k - E_k` (`[B, K]`) of the fused operation's stacked rates `[B, 2, K]`.
pub(crate) fn secrecy_gaps_of(rates: Tensor<3>) -> Tensor<2> {
    let [b, _, k] = rates.dims();
    let signs = Tensor::<3>::from_data(
        TensorData::new(vec![1.0f32, -1.0], [1, 2, 1]),
        &rates.device(),
    );
    (rates * signs).sum_dim(1).reshape([b, k])
}

/// The fused operation's rates `[B, 2, K]` (users', then Eve's), or `None` where the composed
/// path must run (a device without the fused operation, or channels that require gradients).
pub(crate) fn stacked_secrecy_rates(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    noise_user: f64,
    noise_eve: f64,
) -> Option<Tensor<3>> {
    if users.requires_grad() || eve.requires_grad() || !crate::cube::runs_fused(&users.re.device())
    {
        return None;
    }
    let parts = [users, beams, jamming, eve].map(|t| [t.re.clone(), t.im.clone()]);
    let [[ur, ui], [fr, fi], [vr, vi], [er, ei]] = parts.map(|p| p.map(|t| t.into_dispatch()));
    Some(Tensor::from_dispatch(
        <Dispatch as secrecy::SecrecyRates>::secrecy_rates(
            ur, ui, fr, fi, vr, vi, er, ei, noise_user, noise_eve,
        ),
    ))
}

/// [`secrecy_rates`] in Burn tensor operations, for any device; Eve's quadratic form comes from
/// an `L D L^H` factorisation unrolled into tensor operations.
///
/// Written for a GPU, where a step costs about one submission per kernel: no tracked tensor is
/// sliced (a slice is a copy kernel forward and a fill and a slice assignment backward). Eve's
/// rows come from the rows of her channel, which is data: `r_i = h_{E,i}^H [F, V]`, one product
/// per antenna for the beams and the jamming columns together; the jamming columns, masked, are
/// `u_i`, so `A_ij = u_i u_j^H` is a reduction; and every beam and jamming column gets Eve's
/// quadratic form, of which the beams' are kept.
pub fn secrecy_rates_composed(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    noise_user: f64,
    noise_eve: f64,
) -> (Tensor<2>, Tensor<2>) {
    let [b, k, _] = users.re.dims();
    let device = users.re.device();
    let x = ComplexTensor::cat_columns(&[beams.clone(), jamming.clone()]); // [B, Nt, K + J]
    let columns = x.re.dims()[2];
    let mask = |keep: &dyn Fn(usize, usize) -> bool, rows: usize| {
        let values = (0..rows * columns)
            .map(|i| f32::from(u8::from(keep(i / columns, i % columns))))
            .collect();
        Tensor::<3>::from_data(TensorData::new(values, [1, rows, columns]), &device)
    };
    // Users: |h_i^H x_j|^2 for every beam and jamming column; user i's own beam is column i.
    let gains = users.matmul_composed(&x).abs2(); // [B, K, K + J]
    let total: Tensor<3> = gains.clone().sum_dim(2); // [B, K, 1]
    let signal: Tensor<3> = (gains * mask(&|i, j| i == j, k)).sum_dim(2); // [B, K, 1]
    let sinr = signal.clone() / (total - signal).add_scalar(noise_user);
    let user = sinr.log1p().reshape([b, k]);

    let jamming_mask = mask(&|_, j| j >= k, 1); // [1, 1, K + J]
    let eve_h = eve.adjoint(); // [B, Ne, Nt], data
    let rows: Vec<ComplexTensor<3>> = (0..eve_h.re.dims()[1])
        .map(|i| {
            let h = ComplexTensor {
                re: eve_h.re.clone().narrow(1, i, 1),
                im: eve_h.im.clone().narrow(1, i, 1),
            };
            h.matmul_composed(&x) // [B, 1, K + J]
        })
        .collect();
    let u: Vec<ComplexTensor<3>> = rows.iter().map(|r| r.times(&jamming_mask)).collect();
    // A_ij = u_i u_j^H, [B, 1, 1] (plus sigma_E^2 on the diagonal below).
    let entry = |i: usize, j: usize| {
        let p = u[i].mul(&u[j].conj());
        ComplexTensor {
            re: p.re.sum_dim(2),
            im: p.im.sum_dim(2),
        }
    };
    let q = inverse_quadratic_form(entry, noise_eve, &rows); // [B, 1, K + J]
    let eve_rate = q.narrow(2, 0, k).log1p().reshape([b, k]);
    (user, eve_rate)
}

/// Every user's received signal after its automatic gain control, `[B, K, 2]` (real and
/// imaginary parts of `y_k`): `y_k = (h_k^H x + n_k) / sqrt(sum_j |h_k^H f_j|^2 + |h_k^H V|^2 +
/// sigma^2)` for the transmitted `x = sum_j f_j + V s`, so the decoders see the same scale at
/// every power. Shapes as [`secrecy_rates`], plus `symbols` `[B, J, 1]` (the jamming symbols `s`)
/// and `noise` `[B, K, 1]`.
///
/// On the CPU devices and (cargo feature `wgpu`) the cubecl devices, when neither the channels,
/// the symbols nor the noise require a gradient, this is one fused operation with its own
/// backward pass (`complex/received.rs`: host loops or one kernel each way); elsewhere
/// [`received_signal_composed`].
pub fn received_signal(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    symbols: &ComplexTensor<3>,
    noise: &ComplexTensor<3>,
    noise_power: f64,
) -> Tensor<3> {
    if [users, symbols, noise].iter().any(|t| t.requires_grad())
        || !crate::cube::runs_fused(&users.re.device())
    {
        return received_signal_composed(users, beams, jamming, symbols, noise, noise_power);
    }
    let parts = [users, beams, jamming, symbols, noise].map(|t| [t.re.clone(), t.im.clone()]);
    let [[ur, ui], [fr, fi], [vr, vi], [sr, si], [nr, ni]] =
        parts.map(|p| p.map(|t| t.into_dispatch()));
    Tensor::from_dispatch(<Dispatch as received::ReceivedSignal>::received_signal(
        ur,
        ui,
        fr,
        fi,
        vr,
        vi,
        sr,
        si,
        nr,
        ni,
        noise_power,
    ))
}

/// [`received_signal`] in Burn tensor operations, for any device.
pub fn received_signal_composed(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    symbols: &ComplexTensor<3>,
    noise: &ComplexTensor<3>,
    noise_power: f64,
) -> Tensor<3> {
    // `h_k^H [F, V]`, and `h_k^H x` as its columns weighted by `[1, .., 1, s]`: one product.
    let x = ComplexTensor::cat_columns(&[beams.clone(), jamming.clone()]);
    let g = users.matmul_composed(&x); // [B, K, K + J]
    let [rows, _, k] = beams.re.dims();
    let device = beams.re.device();
    let weights = ComplexTensor {
        re: Tensor::cat(
            vec![
                Tensor::ones([rows, 1, k], &device),
                symbols.re.clone().swap_dims(1, 2),
            ],
            2,
        ),
        im: Tensor::cat(
            vec![
                Tensor::zeros([rows, 1, k], &device),
                symbols.im.clone().swap_dims(1, 2),
            ],
            2,
        ),
    };
    let sent = g.mul(&weights);
    let power: Tensor<3> = g.abs2().sum_dim(2).add_scalar(noise_power);
    let y = ComplexTensor {
        re: sent.re.sum_dim(2),
        im: sent.im.sum_dim(2),
    }
    .add(noise)
    .times(&power.sqrt().recip());
    Tensor::cat(vec![y.re, y.im], 2)
}

/// The transmitted vector `x = sum_j f_j + V s`, `[B, Nt, 1]`.
pub(crate) fn transmitted(
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    symbols: &ComplexTensor<3>,
) -> ComplexTensor<3> {
    ComplexTensor {
        re: beams.re.clone().sum_dim(2),
        im: beams.im.clone().sum_dim(2),
    }
    .add(&jamming.matmul(symbols))
}

/// `[B, K, 2]`: `(h_k^H x + n_k)` for a transmitted vector `sent` (`[B, Nt, 1]`, which hardware
/// impairments may have changed), scaled by the automatic gain control of [`received_signal`],
/// whose powers come from the beams and jamming columns.
pub(crate) fn received_from(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    sent: &ComplexTensor<3>,
    noise: &ComplexTensor<3>,
    noise_power: f64,
) -> Tensor<3> {
    #[cfg(feature = "wgpu")]
    if crate::cube::supports(&users.re.device()) && !users.requires_grad() && !noise.requires_grad()
    {
        let parts = [users, beams, jamming, sent, noise].map(|t| [t.re.clone(), t.im.clone()]);
        let [[ur, ui], [fr, fi], [vr, vi], [xr, xi], [nr, ni]] =
            parts.map(|p| p.map(|t| t.into_dispatch()));
        return Tensor::from_dispatch(<Dispatch as received_from::ReceivedFrom>::received_from(
            ur,
            ui,
            fr,
            fi,
            vr,
            vi,
            xr,
            xi,
            nr,
            ni,
            noise_power,
        ));
    }
    received_from_composed(users, beams, jamming, sent, noise, noise_power)
}

/// [`received_from`] in Burn tensor operations, for any device.
pub(crate) fn received_from_composed(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    sent: &ComplexTensor<3>,
    noise: &ComplexTensor<3>,
    noise_power: f64,
) -> Tensor<3> {
    let power: Tensor<3> = (users.matmul(beams).abs2().sum_dim(2)
        + users.matmul(jamming).abs2().sum_dim(2))
    .add_scalar(noise_power);
    let y = users.matmul(sent).add(noise).times(&power.sqrt().recip());
    Tensor::cat(vec![y.re, y.im], 2)
}

/// `g^H (s I + A)^-1 g` for every column of `g` (its rows `g_i`, `[B, 1, C]` each), `A`
/// Hermitian PSD (its entries `entry(i, j)` for `j <= i`, `[B, 1, 1]` each; only the real part
/// of a diagonal entry is read), by `L D L^H` of `s I + A` and forward substitution; `[B, 1, C]`.
fn inverse_quadratic_form(
    entry: impl Fn(usize, usize) -> ComplexTensor<3>,
    s: f64,
    g: &[ComplexTensor<3>],
) -> Tensor<3> {
    let n = g.len();
    // l[i][j] (j < i) and d[i], each [B, 1, 1].
    let mut l: Vec<Vec<ComplexTensor<3>>> = Vec::with_capacity(n);
    let mut d: Vec<Tensor<3>> = Vec::with_capacity(n);
    for i in 0..n {
        let mut row: Vec<ComplexTensor<3>> = Vec::with_capacity(i);
        for j in 0..i {
            let mut x = entry(i, j);
            for m in 0..j {
                x = x.add(&row[m].mul(&l[j][m].conj()).times(&d[m]).scale_by(-1.0));
            }
            row.push(x.times(&d[j].clone().recip()));
        }
        let mut di = entry(i, i).re.add_scalar(s);
        for (m, lim) in row.iter().enumerate() {
            di = di - lim.abs2() * d[m].clone();
        }
        d.push(di);
        l.push(row);
    }
    // L z = g, then sum_i |z_i|^2 / d_i.
    let mut z: Vec<ComplexTensor<3>> = Vec::with_capacity(n);
    let mut q: Option<Tensor<3>> = None;
    for (i, gi) in g.iter().enumerate() {
        let mut zi = gi.clone();
        for (m, zm) in z.iter().enumerate() {
            zi = zi.add(&l[i][m].mul(zm).scale_by(-1.0));
        }
        let term = zi.abs2() / d[i].clone();
        q = Some(match q {
            Some(acc) => acc + term,
            None => term,
        });
        z.push(zi);
    }
    q.expect("Eve has at least one antenna")
}

impl<const D: usize> ComplexTensor<D> {
    /// `self + other`.
    pub fn add(&self, other: &Self) -> Self {
        Self {
            re: self.re.clone() + other.re.clone(),
            im: self.im.clone() + other.im.clone(),
        }
    }

    /// `self * t` for a real tensor `t` broadcast over both parts.
    pub fn times(&self, t: &Tensor<D>) -> Self {
        Self {
            re: self.re.clone() * t.clone(),
            im: self.im.clone() * t.clone(),
        }
    }

    /// Elementwise complex product (broadcasting like Burn's `*`).
    pub fn mul(&self, other: &Self) -> Self {
        Self {
            re: self.re.clone() * other.re.clone() - self.im.clone() * other.im.clone(),
            im: self.re.clone() * other.im.clone() + self.im.clone() * other.re.clone(),
        }
    }

    /// The elementwise conjugate.
    pub fn conj(&self) -> Self {
        Self {
            re: self.re.clone(),
            im: self.im.clone().neg(),
        }
    }

    /// `self * s` for a real scalar.
    pub fn scale_by(&self, s: f64) -> Self {
        Self {
            re: self.re.clone().mul_scalar(s),
            im: self.im.clone().mul_scalar(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuDevice;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex, tracked};
    use faer::Mat;
    use isac_channel::rng::{complex_normal, stream};

    fn random(rows: usize, cols: usize, seed: u64) -> Mat<c64> {
        let mut rng = stream(seed, [0; 3]);
        Mat::from_fn(rows, cols, |_, _| complex_normal(&mut rng, 1.0))
    }

    /// The fused product (host loops, hand-written backward) against Burn's composed
    /// operations differentiated by Burn, values and both operands' gradients, on every CPU
    /// device: shapes with one column, one inner index, a batch of one, transposed views as
    /// operands, and one tensor on both sides (`U U^H`, whose gradients add up).
    #[test]
    fn the_fused_product_equals_the_composed_one_with_gradients() {
        for device in CpuDevice::all() {
            let device = device.autodiff();
            for (b, m, p, n) in [(3, 2, 16, 2), (4, 16, 16, 1), (2, 3, 1, 2), (1, 5, 4, 3)] {
                let x = random_complex([b, m, p], 1, &device);
                let y = random_complex([b, p, n], 2, &device);
                let weights = random_complex([b, m, n], 3, &device);
                let run = |fused: bool| {
                    let (x, y) = (tracked(&x), tracked(&y));
                    // The second operand enters as the adjoint of a view, like Eve's channel.
                    let yh = y.adjoint().adjoint();
                    let (c, uu) = if fused {
                        (x.matmul(&yh), x.matmul(&x.adjoint()))
                    } else {
                        (x.matmul_composed(&yh), x.matmul_composed(&x.adjoint()))
                    };
                    let loss = (c.re.clone() * weights.re.clone()
                        + c.im.clone() * weights.im.clone())
                    .sum()
                        + uu.re.clone().sum().mul_scalar(0.5)
                        - uu.im.clone().sum().mul_scalar(0.25);
                    let grads = loss.backward();
                    [
                        c.re,
                        c.im,
                        uu.re,
                        uu.im,
                        x.re.grad(&grads).unwrap(),
                        x.im.grad(&grads).unwrap(),
                        y.re.grad(&grads).unwrap(),
                        y.im.grad(&grads).unwrap(),
                    ]
                    .map(|t| values(t).unwrap())
                };
                assert_agree(
                    &run(true),
                    &run(false),
                    &format!("{device:?} {b} {m} {p} {n}"),
                );
            }
        }
    }

    /// The fused secrecy rates (f64 host loops, Cholesky, hand-written backward) against the
    /// composed tensor operations (f32, unrolled `L D L^H`) differentiated by Burn: rates and
    /// the gradients of the beams and the jamming columns, for one to four Eve antennas, one
    /// user or two, one steered column or a mixed block of 17, on every device with kernels
    /// (the wgpu device's are cubecl kernels in f32: CI runs this test on lavapipe).
    #[test]
    fn the_fused_secrecy_rates_equal_the_composed_ones_with_gradients_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            for (b, k, j, ne) in [(3, 2, 1, 2), (2, 1, 17, 1), (4, 2, 17, 4), (2, 2, 3, 3)] {
                let nt = 16;
                let users = random_complex([b, k, nt], 1, &device);
                let beams = random_complex([b, nt, k], 2, &device).scale_by(0.5);
                let jamming = random_complex([b, nt, j], 3, &device).scale_by(0.3);
                let eve = random_complex([b, nt, ne], 4, &device);
                let weights =
                    [5, 6].map(|seed| random_complex([b, k, 1], seed, &device).re.reshape([b, k]));
                let run = |fused: bool| {
                    let (f, v) = (tracked(&beams), tracked(&jamming));
                    let rates = if fused {
                        secrecy_rates
                    } else {
                        secrecy_rates_composed
                    };
                    let (user, leak) = rates(&users, &f, &v, &eve, 0.7, 0.4);
                    let loss = (user.clone() * weights[0].clone()).sum()
                        + (leak.clone() * weights[1].clone()).sum();
                    let grads = loss.backward();
                    [
                        user,
                        leak,
                        f.re.grad(&grads).unwrap().reshape([b, nt * k]),
                        f.im.grad(&grads).unwrap().reshape([b, nt * k]),
                        v.re.grad(&grads).unwrap().reshape([b, nt * j]),
                        v.im.grad(&grads).unwrap().reshape([b, nt * j]),
                    ]
                    .map(|t| values(t).unwrap())
                };
                assert_agree(&run(true), &run(false), &format!("{device:?} {k} {j} {ne}"));
            }
        }
    }

    /// The fused received signals (f64 host loops, hand-written backward) against the composed
    /// tensor operations differentiated by Burn: signals and the gradients of the beams and the
    /// jamming columns, for one user or two and one, sixteen or seventeen jamming columns, on
    /// every device with kernels (the wgpu device's are cubecl kernels: CI runs this test on
    /// lavapipe).
    #[test]
    fn the_fused_received_signals_equal_the_composed_ones_with_gradients_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            for (b, k, j) in [(3, 2, 1), (2, 1, 16), (4, 2, 17)] {
                let nt = 16;
                let users = random_complex([b, k, nt], 1, &device);
                let beams = random_complex([b, nt, k], 2, &device).scale_by(0.5);
                let jamming = random_complex([b, nt, j], 3, &device).scale_by(0.3);
                let symbols = random_complex([b, j, 1], 4, &device);
                let noise = random_complex([b, k, 1], 5, &device).scale_by(0.8);
                let weights = random_complex([b, k, 2], 6, &device).re;
                let run = |fused: bool| {
                    let (f, v) = (tracked(&beams), tracked(&jamming));
                    let signal = if fused {
                        received_signal
                    } else {
                        received_signal_composed
                    };
                    let y = signal(&users, &f, &v, &symbols, &noise, 0.7);
                    let grads = (y.clone() * weights.clone()).sum().backward();
                    [
                        y.reshape([b, 2 * k]),
                        f.re.grad(&grads).unwrap().reshape([b, nt * k]),
                        f.im.grad(&grads).unwrap().reshape([b, nt * k]),
                        v.re.grad(&grads).unwrap().reshape([b, nt * j]),
                        v.im.grad(&grads).unwrap().reshape([b, nt * j]),
                    ]
                    .map(|t| values(t).unwrap())
                };
                assert_agree(&run(true), &run(false), &format!("{device:?} {k} {j}"));
            }
        }
    }

    /// The received signals from an impaired transmitted vector: the wgpu kernels against the
    /// composed operations on the same device, signals and the gradients of the beams, the
    /// jamming columns and the transmitted vector (the CPU devices run the composed path only;
    /// CI runs this on lavapipe; a build without the feature has nothing to compare).
    #[cfg(feature = "wgpu")]
    #[test]
    fn the_wgpu_received_signals_from_a_sent_vector_equal_the_composed_ones_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (b, k, j) in [(3, 2, 1), (2, 1, 16), (4, 2, 17)] {
                let nt = 16;
                let users = random_complex([b, k, nt], 1, &device);
                let beams = random_complex([b, nt, k], 2, &device).scale_by(0.5);
                let jamming = random_complex([b, nt, j], 3, &device).scale_by(0.3);
                let sent = random_complex([b, nt, 1], 4, &device);
                let noise = random_complex([b, k, 1], 5, &device).scale_by(0.8);
                let weights = random_complex([b, k, 2], 6, &device).re;
                let run = |fused: bool| {
                    let (f, v, x) = (tracked(&beams), tracked(&jamming), tracked(&sent));
                    let signal = if fused {
                        received_from
                    } else {
                        received_from_composed
                    };
                    let y = signal(&users, &f, &v, &x, &noise, 0.7);
                    let grads = (y.clone() * weights.clone()).sum().backward();
                    [
                        y.reshape([b, 2 * k]),
                        f.re.grad(&grads).unwrap().reshape([b, nt * k]),
                        f.im.grad(&grads).unwrap().reshape([b, nt * k]),
                        v.re.grad(&grads).unwrap().reshape([b, nt * j]),
                        v.im.grad(&grads).unwrap().reshape([b, nt * j]),
                        x.re.grad(&grads).unwrap().reshape([b, nt]),
                        x.im.grad(&grads).unwrap().reshape([b, nt]),
                    ]
                    .map(|t| values(t).unwrap())
                };
                assert_agree(&run(true), &run(false), &format!("{device:?} {k} {j}"));
            }
        }
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
