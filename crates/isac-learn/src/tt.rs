//! Tensor-train (TT) linear layer, eqs. (36)-(37).
//!
//! `W(m_1..m_q, n_1..n_q) = G_1[m_1, n_1] G_2[m_2, n_2] ... G_q[m_q, n_q]` with
//! `G_k[m, n]` an `r_{k-1} x r_k` matrix, `r_0 = r_q = 1`. Core `k` is stored as the
//! `(m_k r_k) x (r_{k-1} n_k)` matrix `C_k[(m, b), (a, n)] = G_k[m, n][a, b]`, the layout the
//! contraction multiplies with, so the forward pass is `q` matrix products and never forms `W`.
//! Inputs and outputs are flattened row-major (`n_q` and `m_q` fastest).
//!
//! A single core (`q = 1`) is a dense layer `W x + b`: the encoders build every dense layer this
//! way, so all their layers run on the same fused kernel. A layer may end in a ReLU, applied
//! inside the same operation.

use burn::backend::Dispatch;
use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use isac_channel::rng::Stream;

use crate::LearnError;
use crate::init::{normal, param, uniform};
use crate::tensor::{from_values, values};
use contraction::TtShape;

mod contraction;
#[cfg(feature = "wgpu")]
mod dense;
#[cfg(feature = "wgpu")]
mod materialised;
mod op;

/// Largest `M x N` that [`TtLinear::to_dense`] forms (2^24 entries, 128 MB of f64).
pub const MAX_DENSE_ENTRIES: usize = 1 << 24;

/// Shape of a [`TtLinear`]: `N = prod in_factors` inputs, `M = prod out_factors` outputs.
#[derive(Config, Debug, PartialEq)]
pub struct TtLinearConfig {
    /// `n_1..n_q`.
    pub in_factors: Vec<usize>,
    /// `m_1..m_q` (same length as `in_factors`).
    pub out_factors: Vec<usize>,
    /// Inner TT rank `r_1 = .. = r_{q-1}`.
    pub rank: usize,
    /// Whether the layer adds a bias of length `M`.
    #[config(default = true)]
    pub bias: bool,
    /// Whether a ReLU follows, `y = max(W x + b, 0)`.
    #[config(default = false)]
    pub relu: bool,
}

/// `y = W x + b` with `W` in tensor-train format, optionally followed by a ReLU.
#[derive(Module, Debug)]
pub struct TtLinear {
    /// Every core `C_k` (`[(m_k r_k), (r_{k-1} n_k)]`, row-major, core 1 first), then the bias
    /// (`[M]`) if the layer has one, as one flat parameter: the fused operation takes one
    /// weight tensor and the optimiser updates one tensor per layer (Adam is elementwise, so
    /// this changes no update). [`TtLinear::core`] and [`TtLinear::bias`] view the parts.
    pub weights: Param<Tensor<1>>,
    #[module(skip)]
    shape: TtShape,
}

/// `n = f_1 f_2 .. f_q` with factors as equal as the divisors allow, largest last
/// (`balanced_factors(78, 2) = [6, 13]`, `balanced_factors(256, 2) = [16, 16]`).
pub fn balanced_factors(n: usize, q: usize) -> Vec<usize> {
    if q <= 1 {
        return vec![n];
    }
    // The largest divisor not above the q-th root, then recurse on the rest.
    let root = (n as f64).powf(1.0 / q as f64).round() as usize;
    let first = (1..=root.max(1))
        .rev()
        .find(|d| n.is_multiple_of(*d))
        .unwrap_or(1);
    let mut rest = balanced_factors(n / first, q - 1);
    rest.insert(0, first);
    rest.sort_unstable();
    rest
}

impl TtLinearConfig {
    /// The TT ranks `r_0..r_q` (`r_0 = r_q = 1`).
    pub fn ranks(&self) -> Vec<usize> {
        let q = self.in_factors.len();
        (0..=q)
            .map(|k| if k == 0 || k == q { 1 } else { self.rank })
            .collect()
    }

    /// `N`.
    pub fn d_input(&self) -> usize {
        self.in_factors.iter().product()
    }

    /// `M`.
    pub fn d_output(&self) -> usize {
        self.out_factors.iter().product()
    }

    /// Parameters, eq. (37) plus the bias: `sum_k r_{k-1} m_k n_k r_k (+ M)`.
    pub fn parameters(&self) -> usize {
        self.shape().parameters()
    }

    fn shape(&self) -> TtShape {
        TtShape::new(
            self.in_factors.clone(),
            self.out_factors.clone(),
            self.ranks(),
            self.bias,
            self.relu,
        )
    }

    /// FLOPs of one forward pass per sample (a multiply-add counts 2): for core `k` the
    /// contraction multiplies `(m_k r_k) x (r_{k-1} n_k)` by `(r_{k-1} n_k) x N_>k`, `M_<k`
    /// times (the outputs already produced).
    pub fn flops(&self) -> usize {
        let r = self.ranks();
        let q = self.in_factors.len();
        let macs: usize = (0..q)
            .map(|k| {
                let m_before: usize = self.out_factors[..k].iter().product();
                let n_after: usize = self.in_factors[k + 1..].iter().product();
                m_before * self.out_factors[k] * r[k + 1] * r[k] * self.in_factors[k] * n_after
            })
            .sum();
        2 * macs + if self.bias { self.d_output() } else { 0 }
    }

    fn validate(&self) -> Result<(), LearnError> {
        let q = self.in_factors.len();
        if q == 0 || self.out_factors.len() != q {
            return Err(LearnError::invalid(
                "tt.out_factors",
                format!(
                    "{:?} for in_factors {:?}",
                    self.out_factors, self.in_factors
                ),
                "needs the same non-zero number of factors as in_factors",
            ));
        }
        if self
            .in_factors
            .iter()
            .chain(&self.out_factors)
            .any(|&f| f == 0)
            || self.rank == 0
        {
            return Err(LearnError::invalid(
                "tt",
                format!("{self:?}"),
                "factors and rank must be >= 1",
            ));
        }
        Ok(())
    }

    /// Initialises the cores so that `W` has the Glorot variance `2 / (N + M)`: with uniform
    /// inner rank `r`, each entry of `W` sums `r^(q-1)` products of `q` core entries, so the
    /// per-core std is `(2 / (N + M) * r^(1-q))^(1/(2q))` (docs/conventions.md, "Learning"). The bias starts at zero.
    pub fn init(&self, rng: &mut Stream, device: &Device) -> Result<TtLinear, LearnError> {
        self.validate()?;
        let q = self.in_factors.len() as f64;
        let glorot = 2.0 / (self.d_input() + self.d_output()) as f64;
        let std = (glorot * (self.rank as f64).powf(1.0 - q)).powf(1.0 / (2.0 * q));
        let shape = self.shape();
        let mut weights = normal(rng, shape.core_lengths().iter().sum(), std);
        weights.resize(shape.parameters(), 0.0);
        Ok(TtLinear::from_weights(shape, weights, device))
    }

    /// A dense layer (one core) `[d_in] -> [d_out]` with Glorot-uniform `W` and zero bias; the
    /// draws fill `W^T` (`[d_in, d_out]`) row-major.
    pub(crate) fn dense_glorot_uniform(
        &self,
        rng: &mut Stream,
        device: &Device,
    ) -> Result<TtLinear, LearnError> {
        self.validate()?;
        let shape = self.shape();
        let (n, m) = (self.d_input(), self.d_output());
        if shape.ranks.len() != 2 {
            return Err(LearnError::invalid(
                "tt",
                format!("{self:?}"),
                "a dense layer has one core",
            ));
        }
        let w_t = uniform(rng, n * m, (6.0 / (n + m) as f64).sqrt());
        let mut weights: Vec<f32> = (0..m * n).map(|k| w_t[(k % n) * m + k / n]).collect();
        weights.resize(shape.parameters(), 0.0);
        Ok(TtLinear::from_weights(shape, weights, device))
    }
}

impl TtLinear {
    fn from_weights(shape: TtShape, weights: Vec<f32>, device: &Device) -> Self {
        let len = weights.len();
        Self {
            weights: param(weights, [len], device),
            shape,
        }
    }

    /// The configuration this layer was built from.
    pub fn config(&self) -> TtLinearConfig {
        let s = &self.shape;
        TtLinearConfig::new(
            s.in_factors.clone(),
            s.out_factors.clone(),
            s.ranks
                .get(1)
                .copied()
                .filter(|_| s.ranks.len() > 2)
                .unwrap_or(1),
        )
        .with_bias(s.bias)
        .with_relu(s.relu)
    }

    /// Core `k` (0-based) as the matrix `C_k`, `[(m_k r_k), (r_{k-1} n_k)]`: a view of
    /// [`TtLinear::weights`] (gradients flow to it).
    pub fn core(&self, k: usize) -> Tensor<2> {
        let start: usize = self.shape.core_lengths()[..k].iter().sum();
        let shape = self.shape.core_shape(k);
        self.weights
            .val()
            .slice(start..start + shape[0] * shape[1])
            .reshape(shape)
    }

    /// The bias `[M]`, if the layer has one: a view of [`TtLinear::weights`].
    pub fn bias(&self) -> Option<Tensor<1>> {
        let len = self.shape.parameters();
        self.shape
            .bias
            .then(|| self.weights.val().slice(len - self.shape.d_output()..len))
    }

    /// The same layer with `weights` (flat, laid out as [`TtLinear::weights`]), e.g. quantised
    /// cores.
    pub fn with_weights(&self, weights: Vec<f32>) -> Result<Self, LearnError> {
        if weights.len() != self.shape.parameters() {
            return Err(LearnError::invalid(
                "tt.weights",
                format!("{} values", weights.len()),
                format!("{} (cores, then the bias)", self.shape.parameters()),
            ));
        }
        Ok(Self::from_weights(
            self.shape.clone(),
            weights,
            &self.weights.val().device(),
        ))
    }

    /// Lengths of the flat cores, in order (the bias follows them in [`TtLinear::weights`]).
    pub fn core_lengths(&self) -> Vec<usize> {
        self.shape.core_lengths()
    }

    /// `[batch, N] -> [batch, M]`: `y = W x + b` (then the ReLU, if any) by contracting the
    /// cores with the input, first core first, the batch kept as the fastest index of every
    /// intermediate state (see `tt/contraction.rs`); `W` is never formed. On the CPU devices
    /// this is one fused operation with its own backward pass, on the cubecl devices one too
    /// (`tt/dense.rs`, a layer of several cores on the dense weights formed from its cores by
    /// `tt/materialised.rs`), elsewhere [`TtLinear::forward_composed`] and Burn's bias
    /// add and ReLU.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        #[cfg(feature = "wgpu")]
        if let Some(y) = dense::dense_layer(&self.shape, self.weights.val(), &x) {
            return y;
        }
        if !crate::host::supports(&x.device()) {
            let y = self.forward_composed(x);
            let y = match self.bias() {
                Some(b) => y + b.unsqueeze_dim(0),
                None => y,
            };
            return if self.shape.relu { relu(y) } else { y };
        }
        let s = &self.shape;
        Tensor::from_dispatch(<Dispatch as op::TtContraction>::tt_linear(
            x.into_dispatch(),
            self.weights.val().into_dispatch(),
            s.in_factors.clone(),
            s.out_factors.clone(),
            s.ranks.clone(),
            s.bias,
            s.relu,
        ))
    }

    /// The contraction of [`TtLinear::forward`] (without the bias and the ReLU) in Burn tensor
    /// operations, for any device: the state before core `k` is `[m_1 .. m_{k-1}, (r_{k-1} n_k),
    /// (n_{k+1} .. n_q batch)]` and each core is one batched product with it.
    pub fn forward_composed(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, n] = x.dims();
        let s = &self.shape;
        let q = s.in_factors.len();
        let mut state: Tensor<3> =
            x.transpose()
                .reshape([1, s.in_factors[0], n / s.in_factors[0] * batch]);
        for k in 0..q {
            state = self.core(k).unsqueeze::<3>().matmul(state);
            if k + 1 < q {
                let [blocks, _, cols] = state.dims();
                let next = s.in_factors[k + 1];
                state = state.reshape([
                    blocks * s.out_factors[k],
                    s.ranks[k + 1] * next,
                    cols / next,
                ]);
            }
        }
        state.reshape([s.d_output(), batch]).transpose()
    }

    /// `max |forward(x) - (W x + b)|` (against `max(W x + b, 0)` after a ReLU) over `batch`
    /// seeded N(0, 1) inputs: the agreement of the contraction with the dense matrix of
    /// eq. (36), for reports.
    pub fn dense_max_abs_error(&self, batch: usize, seed: u64) -> Result<f64, LearnError> {
        let w = self.to_dense()?; // first: it checks the size
        let device = self.weights.val().device();
        let n = self.shape.d_input();
        let x = normal(
            &mut isac_channel::rng::stream(seed, [0x5454, 0, 0]),
            batch * n,
            1.0,
        );
        let y = values(self.forward(from_values(x.clone(), [batch, n], &device)?))?;
        let b = match self.bias() {
            Some(b) => values(b)?,
            None => vec![0.0; self.shape.d_output()],
        };
        let m = w.len();
        Ok((0..batch * m)
            .map(|k| {
                let (s, i) = (k / m, k % m);
                let dense: f64 = w[i]
                    .iter()
                    .zip(&x[s * n..(s + 1) * n])
                    .map(|(wij, &xj)| wij * f64::from(xj))
                    .sum::<f64>()
                    + f64::from(b[i]);
                let dense = if self.shape.relu {
                    dense.max(0.0)
                } else {
                    dense
                };
                (f64::from(y[k]) - dense).abs()
            })
            .fold(0.0, f64::max))
    }

    /// The dense `M x N` matrix `W` of eq. (36), in f64, by multiplying the `r x r` core slices
    /// for every index pair (rows and columns row-major: `m_q` and `n_q` fastest); for tests and
    /// TT-Q error reports, never used in `forward`.
    pub fn to_dense(&self) -> Result<Vec<Vec<f64>>, LearnError> {
        let shape = &self.shape;
        let (m, n) = (shape.d_output(), shape.d_input());
        if m.saturating_mul(n) > MAX_DENSE_ENTRIES {
            return Err(LearnError::invalid(
                "tt",
                format!("{m} x {n} (dense W)"),
                format!("the dense check forms W, so at most {MAX_DENSE_ENTRIES} entries"),
            ));
        }
        Ok(shape.dense(&values(self.weights.val())?))
    }
}

#[cfg(test)]
mod tests;
