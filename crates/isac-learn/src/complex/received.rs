//! The users' received signals of [`super::received_signal`] as one Burn operation with a
//! hand-written backward pass (a backend extension): per sample, in f64 on host memory, `A = U F`,
//! `B = U V`, `z_i = sum_j A_ij + sum_c B_ic s_c + n_i` and the automatic gain control `y_i =
//! z_i / r_i` with `r_i = sqrt(T_i + sigma^2)`, `T_i = sum_j |A_ij|^2 + sum_c |B_ic|^2`, instead
//! of some thirty small tensor operations and their autodiff bookkeeping.
//!
//! Gradients (`G_Z = dL/dRe Z + j dL/dIm Z`, upstream `g_i = G_{y_i}`): `G_{z_i} = g_i / r_i`
//! and `t_i = dL/dT_i = -Re(conj(g_i) z_i) / (2 r_i^3)`, so `G_A[i, j] = G_{z_i} + 2 t_i A_ij` and
//! `G_B[i, c] = G_{z_i} conj(s_c) + 2 t_i B_ic`; then `G_F = U^H G_A` and `G_V = U^H G_B`. The
//! channels, symbols and noise are data: the operation gives no gradient to them, and
//! [`super::received_signal`] composes Burn operations if any of them requires one.

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

use super::beam_gradients::{BeamGradients, accumulate, load_sample, product_row};
use crate::host::{HostTensor, upload};

#[cfg(feature = "wgpu")]
pub(crate) mod kernels;

/// The extension: `[B, K, 2]`, the real and imaginary parts of every user's `y_i`, for `users`
/// `[B, K, Nt]`, `beams` `[B, Nt, K]`, `jamming` `[B, Nt, J]`, `symbols` `[B, J, 1]` and `noise`
/// `[B, K, 1]` (real and imaginary parts), receiver noise power `noise_power`. CPU devices run
/// host loops; with the cargo feature `wgpu`, cubecl devices run one kernel (`received/kernels.rs`).
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion"),
    Autodiff
)]
pub(crate) trait ReceivedSignal: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = users_re, shape = burn::tensor::Shape::new([users_re[0], users_re[1], 2]))]
    fn received_signal(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`ReceivedSignal`]: for upstream gradients `[B, K, 2]`, `(Re G_F, Im
/// G_F, Re G_V, Im G_V)`, shaped as `F` and `V`.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion")
)]
pub(crate) trait ReceivedSignalGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |_ur, _ui, fr, fi, vr, vi, _sr, _si, _nr, _ni, _g, _p| (
        fr.clone(), fi.clone(), vr.clone(), vi.clone()
    ))]
    fn received_signal_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_power: f64,
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
        impl ReceivedSignal for $backend {
            fn received_signal(
                users_re: FloatTensor<Self>,
                users_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
                symbols_re: FloatTensor<Self>,
                symbols_im: FloatTensor<Self>,
                noise_re: FloatTensor<Self>,
                noise_im: FloatTensor<Self>,
                noise_power: f64,
            ) -> FloatTensor<Self> {
                forward::<Self>(
                    [
                        users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, symbols_re,
                        symbols_im, noise_re, noise_im,
                    ],
                    noise_power,
                )
            }
        }

        impl ReceivedSignalGradient for $backend {
            fn received_signal_gradient(
                users_re: FloatTensor<Self>,
                users_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
                symbols_re: FloatTensor<Self>,
                symbols_im: FloatTensor<Self>,
                noise_re: FloatTensor<Self>,
                noise_im: FloatTensor<Self>,
                upstream: FloatTensor<Self>,
                noise_power: f64,
            ) -> (
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
            ) {
                let [fr, fi, vr, vi] = gradient::<Self>(
                    [
                        users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, symbols_re,
                        symbols_im, noise_re, noise_im,
                    ],
                    upstream,
                    noise_power,
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
impl<B: ReceivedSignal + ReceivedSignalGradient, C: CheckpointStrategy> ReceivedSignal
    for Autodiff<B, C>
{
    fn received_signal(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self> {
        tracked::<B, C>(
            [
                users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, symbols_re,
                symbols_im, noise_re, noise_im,
            ],
            noise_power,
        )
    }
}

/// The received signals on the device of the users' channels, from host loops.
fn forward<B: HostTensor>(inputs: [FloatTensor<B>; 10], noise_power: f64) -> FloatTensor<B> {
    let device = TensorMetadata::device(&inputs[0]);
    let shape = Shape::of::<B>(&inputs);
    let host = inputs.each_ref().map(B::view);
    let mut out = Vec::with_capacity(shape.batch * shape.k * 2);
    let mut s = Sample::new(shape);
    for b in 0..shape.batch {
        s.load(&host, b);
        s.solve(noise_power);
        for (z, r) in s.z.iter().zip(&s.r) {
            out.push((z.re / r) as f32);
            out.push((z.im / r) as f32);
        }
    }
    upload::<B, 3>(out, [shape.batch, shape.k, 2], &device)
}

/// `[Re G_F, Im G_F, Re G_V, Im G_V]` for the upstream gradients `[B, K, 2]`, from host loops.
fn gradient<B: HostTensor>(
    inputs: [FloatTensor<B>; 10],
    upstream: FloatTensor<B>,
    noise_power: f64,
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
        s.solve(noise_power);
        s.backward(&upstream[b * 2 * k..(b + 1) * 2 * k]);
        gradients.store(b, &s.grad_f, &s.grad_v);
    }
    gradients
        .planes()
        .map(|(values, shape)| upload::<B, 3>(values, shape, &device))
}

/// Records [`ReceivedSignal::received_signal`] of `B` as one autodiff node whose parents are
/// the beams and the jamming columns.
fn tracked<B: ReceivedSignal + ReceivedSignalGradient, C: CheckpointStrategy>(
    inputs: [FloatTensor<Autodiff<B, C>>; 10],
    noise_power: f64,
) -> FloatTensor<Autodiff<B, C>> {
    let [ur, ui, fr, fi, vr, vi, sr, si, nr, ni] = inputs.map(|t| t.into_parts());
    let inner = [ur.0, ui.0, fr.0, fi.0, vr.0, vi.0, sr.0, si.0, nr.0, ni.0];
    let [a, b, c, d, e, f, g, h, i, j] = inner.clone();
    let signals = B::received_signal(a, b, c, d, e, f, g, h, i, j, noise_power);
    match SignalBackward
        .prepare::<C>([fr.1, fi.1, vr.1, vi.1])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            Saved {
                inputs: inner,
                noise_power,
            },
            signals,
        ),
        OpsKind::UnTracked(prep) => prep.finish(signals),
    }
}

/// What the backward step keeps: the operands (shared handles) and the noise power; it
/// recomputes each sample's intermediates, which costs less than storing them.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    inputs: [FloatTensor<B>; 10],
    noise_power: f64,
}

/// The backward step of the node whose parents are `[Re F, Im F, Re V, Im V]`.
#[derive(Debug)]
struct SignalBackward;

impl<B: ReceivedSignal + ReceivedSignalGradient> Backward<B, 4> for SignalBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Saved<B>, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let Saved {
            inputs,
            noise_power,
        } = ops.state;
        let [a, b, c, d, e, f, g, h, i, j] = inputs;
        let (fr, fi, vr, vi) =
            B::received_signal_gradient(a, b, c, d, e, f, g, h, i, j, upstream, noise_power);
        for (parent, t) in ops.parents.into_iter().zip([fr, fi, vr, vi]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, t);
            }
        }
    }
}

/// Batch length, users `K`, antennas `Nt`, jamming columns `J`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    k: usize,
    nt: usize,
    j: usize,
}

impl Shape {
    fn of<B: Backend>(inputs: &[FloatTensor<B>; 10]) -> Self {
        let users = TensorMetadata::shape(&inputs[0]);
        let jamming = TensorMetadata::shape(&inputs[4]);
        Self {
            batch: users[0],
            k: users[1],
            nt: users[2],
            j: jamming[2],
        }
    }
}

/// One sample's operands (complex, row-major), intermediates and gradients.
struct Sample {
    shape: Shape,
    /// `U` `[K, Nt]`, `F` `[Nt, K]`, `V` `[Nt, J]`, `s` `[J]`, `n` `[K]`.
    u: Vec<c64>,
    f: Vec<c64>,
    v: Vec<c64>,
    s: Vec<c64>,
    n: Vec<c64>,
    /// `A = U F` `[K, K]`, `B = U V` `[K, J]`, `z` `[K]` and the gains `r` `[K]`.
    a: Vec<c64>,
    b: Vec<c64>,
    z: Vec<c64>,
    r: Vec<f64>,
    /// `G_A`, `G_B`, and `G_F` `[Nt, K]`, `G_V` `[Nt, J]`.
    grad_a: Vec<c64>,
    grad_b: Vec<c64>,
    grad_f: Vec<c64>,
    grad_v: Vec<c64>,
}

impl Sample {
    fn new(shape: Shape) -> Self {
        let Shape { k, nt, j, .. } = shape;
        let zeros = |len: usize| vec![c64::new(0.0, 0.0); len];
        Self {
            shape,
            u: zeros(k * nt),
            f: zeros(nt * k),
            v: zeros(nt * j),
            s: zeros(j),
            n: zeros(k),
            a: zeros(k * k),
            b: zeros(k * j),
            z: zeros(k),
            r: vec![0.0; k],
            grad_a: zeros(k * k),
            grad_b: zeros(k * j),
            grad_f: zeros(nt * k),
            grad_v: zeros(nt * j),
        }
    }

    /// Sample `b`'s operands from the host views `[Re U, Im U, Re F, Im F, Re V, Im V, Re s,
    /// Im s, Re n, Im n]`.
    fn load(&mut self, host: &[std::borrow::Cow<'_, [f32]>; 10], b: usize) {
        load_sample(&mut self.u, &host[0], &host[1], b);
        load_sample(&mut self.f, &host[2], &host[3], b);
        load_sample(&mut self.v, &host[4], &host[5], b);
        load_sample(&mut self.s, &host[6], &host[7], b);
        load_sample(&mut self.n, &host[8], &host[9], b);
    }

    /// `A`, `B`, `z` and `r`.
    fn solve(&mut self, noise_power: f64) {
        let Shape { k, nt, j, .. } = self.shape;
        for i in 0..k {
            let row = &self.u[i * nt..(i + 1) * nt];
            let (a, b) = (
                &mut self.a[i * k..(i + 1) * k],
                &mut self.b[i * j..(i + 1) * j],
            );
            product_row(row, &self.f, k, a);
            product_row(row, &self.v, j, b);
            let total: f64 = a.iter().chain(b.iter()).map(|z| z.norm_sqr()).sum();
            self.r[i] = (total + noise_power).sqrt();
            self.z[i] = a.iter().sum::<c64>()
                + b.iter().zip(&self.s).map(|(b, s)| b * s).sum::<c64>()
                + self.n[i];
        }
    }

    /// `G_F`, `G_V` for the upstream gradients `[Re, Im]` of every user's `y_i` (after
    /// [`Sample::solve`]).
    fn backward(&mut self, upstream: &[f32]) {
        let Shape { k, nt, j, .. } = self.shape;
        for i in 0..k {
            let g = c64::new(f64::from(upstream[2 * i]), f64::from(upstream[2 * i + 1]));
            let r = self.r[i];
            let grad_z = g / r;
            let t2 = -(g.conj() * self.z[i]).re / (r * r * r);
            for c in 0..k {
                self.grad_a[i * k + c] = grad_z + self.a[i * k + c] * t2;
            }
            for c in 0..j {
                self.grad_b[i * j + c] = grad_z * self.s[c].conj() + self.b[i * j + c] * t2;
            }
        }
        // G_F = U^H G_A, G_V = U^H G_B.
        self.grad_f.fill(c64::new(0.0, 0.0));
        self.grad_v.fill(c64::new(0.0, 0.0));
        let u = &self.u;
        accumulate(
            |n, i| u[i * nt + n].conj(),
            k,
            [&self.grad_a, &self.grad_b],
            [k, j],
            [&mut self.grad_f, &mut self.grad_v],
        );
    }
}
