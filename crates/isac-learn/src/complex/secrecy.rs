//! The secrecy rates of [`super::secrecy_rates`] as one Burn operation with a hand-written
//! backward pass (a backend extension): per sample, in f64 on host memory, the users' SINRs and
//! Eve's log-det leakage with a Cholesky solve, instead of some two hundred small tensor
//! operations (complex products, an `L D L^H` unrolled entry by entry) and their autodiff
//! bookkeeping.
//!
//! Gradients (`G_Z = dL/dRe Z + j dL/dIm Z`): with `A = U F`, `B = U V` (users), `S_ij =
//! |A_ij|^2`, `T_i = sum_j S_ij + sum_c |B_ic|^2` and `r_i = ln(T_i + s_u) - ln(T_i - S_ii +
//! s_u)`, `G_A[i, j] = 2 (c1_i - [j != i] c2_i) A_ij` and `G_B[i, c] = 2 (c1_i - c2_i) B_ic`
//! with `c1_i = dr_i / (T_i + s_u)`, `c2_i = dr_i / (T_i - S_ii + s_u)`. With `E = H_E^H`, `G =
//! E F`, `W = E V`, `M = s_E I + W W^H`, `x_k = M^-1 g_k` and `q_k = g_k^H x_k`, Eve's rate
//! `ln(1 + q_k)` gives `G_G[:, k] = 2 w_k x_k` and `G_W = -2 sum_k w_k x_k x_k^H W` with `w_k =
//! de_k / (1 + q_k)`. Then `G_F = U^H G_A + E^H G_G` and `G_V = U^H G_B + E^H G_W`. The users'
//! and Eve's channels are data: the operation gives no gradient to them, and
//! [`super::secrecy_rates`] takes the composed path if either requires one.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};
use faer::c64;

use super::beam_gradients::{BeamGradients, accumulate, axpy, load_sample, product_row};
use crate::host::{HostTensor, upload};

#[cfg(feature = "wgpu")]
pub(crate) mod kernels;

/// The extension: `[B, 2, K]`, the users' rates (`[:, 0, :]`) and Eve's (`[:, 1, :]`) in nats,
/// for `users` `[B, K, Nt]`, `beams` `[B, Nt, K]`, `jamming` `[B, Nt, J]` and `eve` `[B, Nt, Ne]`
/// (real and imaginary parts), noise powers `noise_user`, `noise_eve`. CPU devices run host
/// loops; with the cargo feature `wgpu`, cubecl devices run one kernel (`secrecy/kernels.rs`).
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion"),
    Autodiff
)]
pub(crate) trait SecrecyRates: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = users_re, shape = burn::tensor::Shape::new([users_re[0], 2, users_re[1]]))]
    fn secrecy_rates(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        noise_user: f64,
        noise_eve: f64,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`SecrecyRates`]: for upstream gradients `[B, 2, K]`, `(Re G_F, Im
/// G_F, Re G_V, Im G_V)`, shaped as `F` and `V`.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion")
)]
pub(crate) trait SecrecyRatesGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |_ur, _ui, fr, fi, vr, vi, _er, _ei, _g, _nu, _ne| (
        fr.clone(), fi.clone(), vr.clone(), vi.clone()
    ))]
    fn secrecy_rates_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_user: f64,
        noise_eve: f64,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

/// Implements both extensions for a CPU backend with the host loops.
macro_rules! host_extensions {
    ($backend:ty) => {
        impl SecrecyRates for $backend {
            fn secrecy_rates(
                users_re: FloatTensor<Self>,
                users_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
                eve_re: FloatTensor<Self>,
                eve_im: FloatTensor<Self>,
                noise_user: f64,
                noise_eve: f64,
            ) -> FloatTensor<Self> {
                forward::<Self>(
                    [
                        users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, eve_re,
                        eve_im,
                    ],
                    [noise_user, noise_eve],
                )
            }
        }

        impl SecrecyRatesGradient for $backend {
            fn secrecy_rates_gradient(
                users_re: FloatTensor<Self>,
                users_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
                eve_re: FloatTensor<Self>,
                eve_im: FloatTensor<Self>,
                upstream: FloatTensor<Self>,
                noise_user: f64,
                noise_eve: f64,
            ) -> (
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
            ) {
                let [fr, fi, vr, vi] = gradient::<Self>(
                    [
                        users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, eve_re,
                        eve_im,
                    ],
                    upstream,
                    [noise_user, noise_eve],
                );
                (fr, fi, vr, vi)
            }
        }
    };
}

host_extensions!(Flex);
#[cfg(feature = "ndarray")]
host_extensions!(burn::backend::NdArray);

// Training: one autodiff node on any backend with both extensions.
impl<B: SecrecyRates + SecrecyRatesGradient, C: CheckpointStrategy> SecrecyRates
    for Autodiff<B, C>
{
    fn secrecy_rates(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        noise_user: f64,
        noise_eve: f64,
    ) -> FloatTensor<Self> {
        tracked::<B, C>(
            [
                users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, eve_re, eve_im,
            ],
            [noise_user, noise_eve],
        )
    }
}

/// The rates on the device of the users' channels, from host loops.
fn forward<B: HostTensor>(inputs: [FloatTensor<B>; 8], noise: [f64; 2]) -> FloatTensor<B> {
    let device = TensorMetadata::device(&inputs[0]);
    let shape = Shape::of::<B>(&inputs);
    let host = inputs.each_ref().map(B::view);
    let mut rates = Vec::with_capacity(shape.batch * 2 * shape.k);
    let mut s = Sample::new(shape);
    for b in 0..shape.batch {
        s.load(&host, b);
        s.solve(noise);
        rates.extend(s.user.iter().chain(&s.eve).map(|r| *r as f32));
    }
    upload::<B, 3>(rates, [shape.batch, 2, shape.k], &device)
}

/// `[Re G_F, Im G_F, Re G_V, Im G_V]` for the upstream gradients `[B, 2, K]`, from host loops.
fn gradient<B: HostTensor>(
    inputs: [FloatTensor<B>; 8],
    upstream: FloatTensor<B>,
    noise: [f64; 2],
) -> [FloatTensor<B>; 4] {
    let device = TensorMetadata::device(&upstream);
    let shape = Shape::of::<B>(&inputs);
    let (k, nt, j) = (shape.k, shape.nt, shape.j);
    let upstream = B::view(&upstream);
    let host = inputs.each_ref().map(B::view);
    let mut gradients = BeamGradients::new(shape.batch, nt, k, j);
    let mut s = Sample::new(shape);
    for b in 0..shape.batch {
        s.load(&host, b);
        s.solve(noise);
        let d = &upstream[b * 2 * k..(b + 1) * 2 * k];
        s.backward(&d[..k], &d[k..], noise);
        gradients.store(b, &s.grad_f, &s.grad_v);
    }
    gradients
        .planes()
        .map(|(values, shape)| upload::<B, 3>(values, shape, &device))
}

/// Records [`SecrecyRates::secrecy_rates`] of `B` as one autodiff node whose parents are the
/// beams and the jamming columns.
fn tracked<B: SecrecyRates + SecrecyRatesGradient, C: CheckpointStrategy>(
    inputs: [FloatTensor<Autodiff<B, C>>; 8],
    noise: [f64; 2],
) -> FloatTensor<Autodiff<B, C>> {
    let [ur, ui, fr, fi, vr, vi, er, ei] = inputs.map(|t| t.into_parts());
    let inner = [ur.0, ui.0, fr.0, fi.0, vr.0, vi.0, er.0, ei.0];
    let [a, b, c, d, e, f, g, h] = inner.clone();
    let rates = B::secrecy_rates(a, b, c, d, e, f, g, h, noise[0], noise[1]);
    match RatesBackward
        .prepare::<C>([fr.1, fi.1, vr.1, vi.1])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            Saved {
                inputs: inner,
                noise,
            },
            rates,
        ),
        OpsKind::UnTracked(prep) => prep.finish(rates),
    }
}

/// What the backward step keeps: the operands (shared handles) and the noise powers; it
/// recomputes each sample's intermediates, which costs less than storing them.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    inputs: [FloatTensor<B>; 8],
    noise: [f64; 2],
}

/// The backward step of the node whose parents are `[Re F, Im F, Re V, Im V]`.
#[derive(Debug)]
struct RatesBackward;

impl<B: SecrecyRates + SecrecyRatesGradient> Backward<B, 4> for RatesBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Saved<B>, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let Saved { inputs, noise } = ops.state;
        let [a, b, c, d, e, f, g, h] = inputs;
        let (fr, fi, vr, vi) =
            B::secrecy_rates_gradient(a, b, c, d, e, f, g, h, upstream, noise[0], noise[1]);
        for (parent, t) in ops.parents.into_iter().zip([fr, fi, vr, vi]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, t);
            }
        }
    }
}

/// Batch length, users `K`, antennas `Nt`, jamming columns `J`, Eve's antennas `Ne`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    k: usize,
    nt: usize,
    j: usize,
    ne: usize,
}

impl Shape {
    fn of<B: Backend>(inputs: &[FloatTensor<B>; 8]) -> Self {
        let users = TensorMetadata::shape(&inputs[0]);
        let jamming = TensorMetadata::shape(&inputs[4]);
        let eve = TensorMetadata::shape(&inputs[6]);
        Self {
            batch: users[0],
            k: users[1],
            nt: users[2],
            j: jamming[2],
            ne: eve[2],
        }
    }
}

/// One sample's operands (complex, row-major), intermediates and gradients.
struct Sample {
    shape: Shape,
    /// `U` `[K, Nt]`, `F` `[Nt, K]`, `V` `[Nt, J]`, `H_E` `[Nt, Ne]`.
    u: Vec<c64>,
    f: Vec<c64>,
    v: Vec<c64>,
    h_e: Vec<c64>,
    /// `A = U F` `[K, K]`, `B = U V` `[K, J]`, `G = E F` `[Ne, K]`, `W = E V` `[Ne, J]`.
    a: Vec<c64>,
    b: Vec<c64>,
    g: Vec<c64>,
    w: Vec<c64>,
    /// The Cholesky factor of `M` `[Ne, Ne]` (lower), `x_k = M^-1 g_k` as rows `[K, Ne]`.
    chol: Vec<c64>,
    x: Vec<c64>,
    /// `T_i`, the users' rates, `q_k` and Eve's rates.
    total: Vec<f64>,
    user: Vec<f64>,
    q: Vec<f64>,
    eve: Vec<f64>,
    /// `G_A`, `G_B`, `G_G`, `G_W` (the intermediates' gradients), `G_F` `[Nt, K]` and `G_V`
    /// `[Nt, J]`.
    grad_a: Vec<c64>,
    grad_b: Vec<c64>,
    grad_g: Vec<c64>,
    grad_w: Vec<c64>,
    grad_f: Vec<c64>,
    grad_v: Vec<c64>,
}

impl Sample {
    fn new(shape: Shape) -> Self {
        let Shape { k, nt, j, ne, .. } = shape;
        let zeros = |len: usize| vec![c64::new(0.0, 0.0); len];
        Self {
            shape,
            u: zeros(k * nt),
            f: zeros(nt * k),
            v: zeros(nt * j),
            h_e: zeros(nt * ne),
            a: zeros(k * k),
            b: zeros(k * j),
            g: zeros(ne * k),
            w: zeros(ne * j),
            chol: zeros(ne * ne),
            x: zeros(k * ne),
            total: vec![0.0; k],
            user: vec![0.0; k],
            q: vec![0.0; k],
            eve: vec![0.0; k],
            grad_a: zeros(k * k),
            grad_b: zeros(k * j),
            grad_g: zeros(ne * k),
            grad_w: zeros(ne * j),
            grad_f: zeros(nt * k),
            grad_v: zeros(nt * j),
        }
    }

    /// Sample `b`'s operands from the host views `[Re U, Im U, Re F, Im F, Re V, Im V, Re H_E,
    /// Im H_E]`.
    fn load(&mut self, host: &[std::borrow::Cow<'_, [f32]>; 8], b: usize) {
        load_sample(&mut self.u, &host[0], &host[1], b);
        load_sample(&mut self.f, &host[2], &host[3], b);
        load_sample(&mut self.v, &host[4], &host[5], b);
        load_sample(&mut self.h_e, &host[6], &host[7], b);
    }

    /// The rates and the intermediates the backward pass reuses.
    fn solve(&mut self, [noise_user, noise_eve]: [f64; 2]) {
        let Shape { k, nt, j, ne, .. } = self.shape;
        // Users: A = U F, B = U V, then the SINRs.
        for i in 0..k {
            let row = &self.u[i * nt..(i + 1) * nt];
            product_row(row, &self.f, k, &mut self.a[i * k..(i + 1) * k]);
            product_row(row, &self.v, j, &mut self.b[i * j..(i + 1) * j]);
            let t: f64 = self.a[i * k..(i + 1) * k]
                .iter()
                .chain(&self.b[i * j..(i + 1) * j])
                .map(|z| z.norm_sqr())
                .sum();
            self.total[i] = t;
            let signal = self.a[i * k + i].norm_sqr();
            self.user[i] = (t + noise_user).ln() - (t - signal + noise_user).ln();
        }
        // Eve: G = E F, W = E V with E = H_E^H (row l of E is column l of H_E, conjugated).
        for l in 0..ne {
            let (g, w) = (
                &mut self.g[l * k..(l + 1) * k],
                &mut self.w[l * j..(l + 1) * j],
            );
            g.fill(c64::new(0.0, 0.0));
            w.fill(c64::new(0.0, 0.0));
            for n in 0..nt {
                let e = self.h_e[n * ne + l].conj();
                axpy(e, &self.f[n * k..(n + 1) * k], g);
                axpy(e, &self.v[n * j..(n + 1) * j], w);
            }
        }
        // M = s_E I + W W^H = L L^H (lower Cholesky; every pivot is at least s_E > 0).
        for r in 0..ne {
            for c in 0..=r {
                let mut m: c64 = (0..j)
                    .map(|t| self.w[r * j + t] * self.w[c * j + t].conj())
                    .sum();
                if r == c {
                    m += noise_eve;
                }
                for t in 0..c {
                    m -= self.chol[r * ne + t] * self.chol[c * ne + t].conj();
                }
                self.chol[r * ne + c] = if r == c {
                    c64::new(m.re.max(noise_eve * 1e-12).sqrt(), 0.0)
                } else {
                    m / self.chol[c * ne + c].re
                };
            }
        }
        // x_k = M^-1 g_k (forward then backward substitution), q_k = g_k^H x_k.
        for kk in 0..k {
            let x = &mut self.x[kk * ne..(kk + 1) * ne];
            for r in 0..ne {
                let l_row = &self.chol[r * ne..r * ne + r];
                let z: c64 = l_row.iter().zip(&x[..r]).map(|(l, x)| l * x).sum();
                x[r] = (self.g[r * k + kk] - z) / self.chol[r * ne + r].re;
            }
            for r in (0..ne).rev() {
                let z: c64 = (r + 1..ne)
                    .zip(&x[r + 1..])
                    .map(|(t, x)| self.chol[t * ne + r].conj() * x)
                    .sum();
                x[r] = (x[r] - z) / self.chol[r * ne + r].re;
            }
            let q: f64 = (0..ne)
                .map(|r| (self.g[r * k + kk].conj() * x[r]).re)
                .sum::<f64>()
                .max(0.0);
            self.q[kk] = q;
            self.eve[kk] = q.ln_1p();
        }
    }

    /// `G_F`, `G_V` for the upstream gradients of the users' rates `du` and Eve's `de` (after
    /// [`Sample::solve`]).
    fn backward(&mut self, du: &[f32], de: &[f32], [noise_user, _]: [f64; 2]) {
        let Shape { k, nt, j, ne, .. } = self.shape;
        for (i, &du) in du.iter().enumerate() {
            let d = f64::from(du);
            let t = self.total[i];
            let c1 = d / (t + noise_user);
            let c2 = d / (t - self.a[i * k + i].norm_sqr() + noise_user);
            for c in 0..k {
                let coef = if c == i { c1 } else { c1 - c2 };
                self.grad_a[i * k + c] = self.a[i * k + c] * (2.0 * coef);
            }
            for c in 0..j {
                self.grad_b[i * j + c] = self.b[i * j + c] * (2.0 * (c1 - c2));
            }
        }
        // G_G[:, k] = 2 w_k x_k; G_W = -2 sum_k w_k x_k (W^H x_k)^H.
        self.grad_w.fill(c64::new(0.0, 0.0));
        for (kk, &de) in de.iter().enumerate() {
            let wk = f64::from(de) / (1.0 + self.q[kk]);
            let x = &self.x[kk * ne..(kk + 1) * ne];
            for c in 0..j {
                // conj(y_c) = sum_m W[m, c] conj(x_m).
                let y_conj: c64 = (0..ne).map(|m| self.w[m * j + c] * x[m].conj()).sum();
                for (l, xl) in x.iter().enumerate() {
                    self.grad_w[l * j + c] -= xl * y_conj * (2.0 * wk);
                }
            }
            for (l, xl) in x.iter().enumerate() {
                self.grad_g[l * k + kk] = xl * (2.0 * wk);
            }
        }
        // G_F = U^H G_A + H_E G_G, G_V = U^H G_B + H_E G_W.
        self.grad_f.fill(c64::new(0.0, 0.0));
        self.grad_v.fill(c64::new(0.0, 0.0));
        let (gf, gv) = (&mut self.grad_f, &mut self.grad_v);
        let (u, h_e) = (&self.u, &self.h_e);
        accumulate(
            |n, i| u[i * nt + n].conj(),
            k,
            [&self.grad_a, &self.grad_b],
            [k, j],
            [gf, gv],
        );
        accumulate(
            |n, l| h_e[n * ne + l],
            ne,
            [&self.grad_g, &self.grad_w],
            [k, j],
            [gf, gv],
        );
    }
}
