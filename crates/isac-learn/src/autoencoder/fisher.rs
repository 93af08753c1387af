//! The per-row entries of the angle FIM of a transmission (the sums behind
//! [`super::crlb_hinge`]): `J_ab = Re sum_x (D_a x)^H (D_b x)` over the columns `x` of `X = [F,
//! V]` (beams and jamming columns), for `a, b` in `{theta, phi}`, with `D_a = dG/da` the sensing
//! operators.
//!
//! `G = b a^H` makes each operator rank 2, `D_a = b_a a^H + b a_a^H` (`a_a = da/da`, `b_a =
//! db/da`, [`SensingFactors`]), so `D_a x = b_a u + b w_a` with `u = a^H x` and `w_a = a_a^H x`:
//! three products of length `Nt` per column instead of two `Nr x Nt` matrix-vector products.
//! With the receive array's Gram entries `P_ab = b_a^H b_b`, `q_a = b_a^H b` and `r = b^H b`,
//! `(D_a x)^H (D_b x) = conj(u) (P_ab u + q_a w_b) + conj(w_a) (conj(q_b) u + r w_b)`.
//!
//! On the CPU devices this is one Burn operation with a hand-written backward pass (a backend
//! extension over host loops): for upstream gradients `g_ab`, `s_t = 2 g_tt y_t + g_tp y_p` and
//! `s_p = 2 g_pp y_p + g_tp y_t` (`y_a = D_a x`), `G_x = sum_a D_a^H s_a = a (b_t^H s_t + b_p^H
//! s_p) + a_t (b^H s_t) + a_p (b^H s_p)`, every product again from the Gram entries. Elsewhere
//! it composes Burn operations ([`angle_fim_composed`]); a test checks both against each other,
//! with gradients, and the entries against the dense operators in f64.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Tensor, TensorData};
use faer::c64;

use crate::ComplexTensor;
use crate::host::{HostTensor, upload};

#[cfg(feature = "wgpu")]
pub(crate) mod kernels;

/// The sensing operators `D_theta`, `D_phi` of every row in factored form: `G = b a^H` with `a`
/// the transmit and `b` the receive steering vector, so `D_a = b_a a^H + b a_a^H`.
#[derive(Debug, Clone)]
pub struct SensingFactors {
    /// `[a, da/dtheta, da/dphi]` at the row's estimated angles, `[BN, Nt, 3]`.
    pub transmit: ComplexTensor<3>,
    /// `[b, db/dtheta, db/dphi]`, `[BN, Nr, 3]`.
    pub receive: ComplexTensor<3>,
}

impl SensingFactors {
    fn requires_grad(&self) -> bool {
        self.transmit.requires_grad() || self.receive.requires_grad()
    }
}

/// `[J_tt, J_pp, J_tp]`, `[BN, 1]` each, of every row for the sensing operators `sensing`, beams
/// `[BN, Nt, K]` and jamming columns `[BN, Nt, J]` (the tests' view of [`angle_fim_rows`]).
#[cfg(test)]
pub(super) fn angle_fim(
    sensing: &SensingFactors,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
) -> [Tensor<2>; 3] {
    match angle_fim_rows(sensing, beams, jamming) {
        Some(rows) => [0, 1, 2].map(|i| rows.clone().narrow(1, i, 1)),
        None => angle_fim_composed(sensing, beams, jamming),
    }
}

/// [`angle_fim`] as one `[BN, 3]` tensor from the fused operation, or `None` where the composed
/// path must run (a device without the fused operation, or sensing factors that require
/// gradients).
pub(super) fn angle_fim_rows(
    sensing: &SensingFactors,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
) -> Option<Tensor<2>> {
    if sensing.requires_grad() || !crate::cube::runs_fused(&beams.re.device()) {
        return None;
    }
    let parts =
        [&sensing.transmit, &sensing.receive, beams, jamming].map(|t| [t.re.clone(), t.im.clone()]);
    let [[tr, ti], [rr, ri], [fr, fi], [vr, vi]] = parts.map(|p| p.map(|t| t.into_dispatch()));
    Some(Tensor::from_dispatch(<Dispatch as AngleFim>::angle_fim(
        tr, ti, rr, ri, fr, fi, vr, vi,
    )))
}

/// [`angle_fim`] in Burn tensor operations, for any device. Written for a GPU, where a step costs
/// about one submission per kernel, so no tracked tensor is sliced: `y_a = b_a u + b w_a` is one
/// product `E_a z` of `z = [u; w_theta; w_phi]` with the data `E_theta = [b_theta, b, 0]`,
/// `E_phi = [b_phi, 0, b]` (the receive factors with their columns rearranged).
pub(super) fn angle_fim_composed(
    sensing: &SensingFactors,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
) -> [Tensor<2>; 3] {
    let rows = beams.re.dims()[0];
    let x = ComplexTensor::cat_columns(&[beams.clone(), jamming.clone()]);
    // `[u; w_theta; w_phi]` for every column, `[BN, 3, K + J]`.
    let z = sensing.transmit.adjoint().matmul_composed(&x);
    // Column c of `E_a` is column `from[c]` of `[b, b_theta, b_phi]` (none: zero).
    let rearranged = |from: [Option<usize>; 3]| {
        let mut p = [0.0f32; 9];
        for (c, r) in from.iter().enumerate() {
            if let Some(r) = r {
                p[r * 3 + c] = 1.0;
            }
        }
        let p = Tensor::<3>::from_data(TensorData::new(p.to_vec(), [1, 3, 3]), &x.re.device());
        ComplexTensor {
            re: sensing.receive.re.clone().matmul(p.clone()),
            im: sensing.receive.im.clone().matmul(p),
        }
    };
    let yt = rearranged([Some(1), Some(0), None]).matmul_composed(&z); // [BN, Nr, K + J]
    let yp = rearranged([Some(2), None, Some(0)]).matmul_composed(&z);
    let total = |t: Tensor<3>| -> Tensor<2> { t.reshape([rows as i32, -1]).sum_dim(1) };
    [
        total(yt.abs2()),
        total(yp.abs2()),
        total(yt.re * yp.re + yt.im * yp.im),
    ]
}

/// The extension: [`angle_fim`] (`[BN, 3]`) for the real and imaginary parts of the transmit
/// and receive factors, `F` and `V`. CPU devices run host loops; with the cargo feature `wgpu`,
/// cubecl devices run one kernel (`fisher/kernels.rs`), lazily under Burn's fusion.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion"),
    Autodiff
)]
pub(crate) trait AngleFim: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = beams_re, shape = burn::tensor::Shape::new([beams_re[0], 3]))]
    fn angle_fim(
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`AngleFim`]: for upstream gradients `[BN, 3]` (of `J_tt`, `J_pp`,
/// `J_tp`), `(Re G_F, Im G_F, Re G_V, Im G_V)`, shaped as `F` and `V`.
#[backend_extension(
    Flex,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Fusion: cfg(feature = "fusion")
)]
pub(crate) trait AngleFimGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |_tr, _ti, _rr, _ri, fr, fi, vr, vi, _g| (
        fr.clone(), fi.clone(), vr.clone(), vi.clone()
    ))]
    fn angle_fim_gradient(
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
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
        impl AngleFim for $backend {
            fn angle_fim(
                transmit_re: FloatTensor<Self>,
                transmit_im: FloatTensor<Self>,
                receive_re: FloatTensor<Self>,
                receive_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                forward::<Self>([
                    transmit_re,
                    transmit_im,
                    receive_re,
                    receive_im,
                    beams_re,
                    beams_im,
                    jamming_re,
                    jamming_im,
                ])
            }
        }

        impl AngleFimGradient for $backend {
            fn angle_fim_gradient(
                transmit_re: FloatTensor<Self>,
                transmit_im: FloatTensor<Self>,
                receive_re: FloatTensor<Self>,
                receive_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
                upstream: FloatTensor<Self>,
            ) -> (
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
            ) {
                let [fr, fi, vr, vi] = gradient::<Self>(
                    [
                        transmit_re,
                        transmit_im,
                        receive_re,
                        receive_im,
                        beams_re,
                        beams_im,
                        jamming_re,
                        jamming_im,
                    ],
                    upstream,
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
impl<B: AngleFim + AngleFimGradient, C: CheckpointStrategy> AngleFim for Autodiff<B, C> {
    fn angle_fim(
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        tracked::<B, C>([
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
            beams_re,
            beams_im,
            jamming_re,
            jamming_im,
        ])
    }
}

/// Rows `BN`, receive antennas `Nr`, transmit antennas `Nt`, beams `K`, jamming columns `J`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    rows: usize,
    nr: usize,
    nt: usize,
    k: usize,
    j: usize,
}

impl Shape {
    fn of<B: Backend>(inputs: &[FloatTensor<B>; 8]) -> Self {
        Self {
            rows: TensorMetadata::shape(&inputs[0])[0],
            nt: TensorMetadata::shape(&inputs[0])[1],
            nr: TensorMetadata::shape(&inputs[2])[1],
            k: TensorMetadata::shape(&inputs[4])[2],
            j: TensorMetadata::shape(&inputs[6])[2],
        }
    }
}

fn forward<B: HostTensor>(inputs: [FloatTensor<B>; 8]) -> FloatTensor<B> {
    let shape = Shape::of::<B>(&inputs);
    let host = inputs.each_ref().map(B::view);
    let mut out = Vec::with_capacity(shape.rows * 3);
    let mut row = Row::new(shape);
    for r in 0..shape.rows {
        row.load(&host, r);
        let mut fim = [0.0f64; 3];
        for c in 0..shape.k + shape.j {
            let e = row.echoes(c);
            fim[0] += e.inner(0, 0);
            fim[1] += e.inner(1, 1);
            fim[2] += e.inner(0, 1);
        }
        out.extend(fim.map(|v| v as f32));
    }
    upload::<B, 2>(out, [shape.rows, 3], &TensorMetadata::device(&inputs[0]))
}

/// The gradients `[Re G_F, Im G_F, Re G_V, Im G_V]` for the upstream gradients `[BN, 3]`, on
/// host memory.
fn gradient<B: HostTensor>(
    inputs: [FloatTensor<B>; 8],
    upstream: FloatTensor<B>,
) -> [FloatTensor<B>; 4] {
    let device = TensorMetadata::device(&upstream);
    let s = Shape::of::<B>(&inputs);
    let (upstream, host) = (B::view(&upstream), inputs.each_ref().map(B::view));
    // `[Re G_F, Im G_F]` (`[rows, Nt, K]`) and `[Re G_V, Im G_V]` (`[rows, Nt, J]`).
    let zeros = |width: usize| [0, 1].map(|_| vec![0.0f32; s.rows * s.nt * width]);
    let mut planes = [zeros(s.k), zeros(s.j)];
    let mut row = Row::new(s);
    for r in 0..s.rows {
        row.load(&host, r);
        let [g_tt, g_pp, g_tp] = [0, 1, 2].map(|i| f64::from(upstream[r * 3 + i]));
        for c in 0..s.k + s.j {
            let coefficients = row.echoes(c).gradient(g_tt, g_pp, g_tp);
            let (block, col, width) = if c < s.k {
                (&mut planes[0], c, s.k)
            } else {
                (&mut planes[1], c - s.k, s.j)
            };
            for n in 0..s.nt {
                let g: c64 = (0..3).map(|v| row.transmit[v][n] * coefficients[v]).sum();
                let at = (r * s.nt + n) * width + col;
                block[0][at] = g.re as f32;
                block[1][at] = g.im as f32;
            }
        }
    }
    let [[fr, fi], [vr, vi]] = planes;
    [(fr, s.k), (fi, s.k), (vr, s.j), (vi, s.j)]
        .map(|(values, width)| upload::<B, 3>(values, [s.rows, s.nt, width], &device))
}

/// Records [`AngleFim::angle_fim`] of `B` as one autodiff node whose parents are the beams and
/// the jamming columns.
fn tracked<B: AngleFim + AngleFimGradient, C: CheckpointStrategy>(
    inputs: [FloatTensor<Autodiff<B, C>>; 8],
) -> FloatTensor<Autodiff<B, C>> {
    let [tr, ti, rr, ri, fr, fi, vr, vi] = inputs.map(|t| t.into_parts());
    let inner = [tr.0, ti.0, rr.0, ri.0, fr.0, fi.0, vr.0, vi.0];
    let [a, b, c, d, e, f, g, h] = inner.clone();
    let fim = B::angle_fim(a, b, c, d, e, f, g, h);
    match FimBackward
        .prepare::<C>([fr.1, fi.1, vr.1, vi.1])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(inner, fim),
        OpsKind::UnTracked(prep) => prep.finish(fim),
    }
}

/// The backward step of the node whose parents are `[Re F, Im F, Re V, Im V]`; it keeps the
/// operands (shared handles) and recomputes each column's products.
#[derive(Debug)]
struct FimBackward;

impl<B: AngleFim + AngleFimGradient> Backward<B, 4> for FimBackward {
    type State = [FloatTensor<B>; 8];

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let [a, b, c, d, e, f, g, h] = ops.state;
        let (fr, fi, vr, vi) = B::angle_fim_gradient(a, b, c, d, e, f, g, h, upstream);
        for (parent, t) in ops.parents.into_iter().zip([fr, fi, vr, vi]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, t);
            }
        }
    }
}

/// One row's factors (the transmit vectors and the receive array's Gram entries) and columns
/// of `X`.
struct Row {
    shape: Shape,
    /// `[a, a_t, a_p]`, `Nt` each.
    transmit: [Vec<c64>; 3],
    /// `P_ab = b_a^H b_b` (`a, b` in theta, phi).
    p: [[c64; 2]; 2],
    /// `q_a = b_a^H b`.
    q: [c64; 2],
    /// `r = b^H b`.
    r: f64,
    /// `X` column by column: `[K + J][Nt]`.
    x: Vec<c64>,
}

/// One column's products `u = a^H x`, `w_a = a_a^H x` with its row's Gram entries.
struct Echoes<'a> {
    row: &'a Row,
    u: c64,
    w: [c64; 2],
}

impl Echoes<'_> {
    /// `b_a^H y_b = P_ab u + q_a w_b`.
    fn derivative_times(&self, a: usize, b: usize) -> c64 {
        self.row.p[a][b] * self.u + self.row.q[a] * self.w[b]
    }

    /// `b^H y_b = conj(q_b) u + r w_b`.
    fn steering_times(&self, b: usize) -> c64 {
        self.row.q[b].conj() * self.u + self.w[b] * self.row.r
    }

    /// `Re y_a^H y_b = Re(conj(u) b_a^H y_b + conj(w_a) b^H y_b)`.
    fn inner(&self, a: usize, b: usize) -> f64 {
        (self.u.conj() * self.derivative_times(a, b) + self.w[a].conj() * self.steering_times(b)).re
    }

    /// The coefficients `[b_t^H s_t + b_p^H s_p, b^H s_t, b^H s_p]` of `a`, `a_t`, `a_p` in
    /// `G_x` for upstream gradients `g_tt`, `g_pp`, `g_tp`.
    fn gradient(&self, g_tt: f64, g_pp: f64, g_tp: f64) -> [c64; 3] {
        // `s_a = sum_b m[a][b] y_b`.
        let m = [[2.0 * g_tt, g_tp], [g_tp, 2.0 * g_pp]];
        let along = |f: &dyn Fn(usize) -> c64, a: usize| f(0) * m[a][0] + f(1) * m[a][1];
        [
            along(&|b| self.derivative_times(0, b), 0) + along(&|b| self.derivative_times(1, b), 1),
            along(&|b| self.steering_times(b), 0),
            along(&|b| self.steering_times(b), 1),
        ]
    }
}

impl Row {
    fn new(shape: Shape) -> Self {
        let zeros = |len: usize| vec![c64::new(0.0, 0.0); len];
        Self {
            shape,
            transmit: [0, 1, 2].map(|_| zeros(shape.nt)),
            p: [[c64::new(0.0, 0.0); 2]; 2],
            q: [c64::new(0.0, 0.0); 2],
            r: 0.0,
            x: zeros((shape.k + shape.j) * shape.nt),
        }
    }

    /// Row `r` of the host views `[Re T, Im T, Re R, Im R, Re F, Im F, Re V, Im V]`.
    fn load(&mut self, host: &[Cow<'_, [f32]>; 8], r: usize) {
        let Shape { nr, nt, k, j, .. } = self.shape;
        let at = |re: &[f32], im: &[f32], i: usize| c64::new(f64::from(re[i]), f64::from(im[i]));
        for (v, column) in self.transmit.iter_mut().enumerate() {
            for (n, z) in column.iter_mut().enumerate() {
                *z = at(&host[0], &host[1], (r * nt + n) * 3 + v);
            }
        }
        // `[b, b_t, b_p]` entry `i`.
        let receive = |i: usize| [0, 1, 2].map(|v| at(&host[2], &host[3], (r * nr + i) * 3 + v));
        let zero = c64::new(0.0, 0.0);
        let (mut p, mut q, mut norm) = ([[zero; 2]; 2], [zero; 2], 0.0);
        for i in 0..nr {
            let [b, bt, bp] = receive(i);
            let d = [bt, bp];
            for a in 0..2 {
                for c in 0..2 {
                    p[a][c] += d[a].conj() * d[c];
                }
                q[a] += d[a].conj() * b;
            }
            norm += b.norm_sqr();
        }
        (self.p, self.q, self.r) = (p, q, norm);
        let blocks = [(0, [&host[4], &host[5]], k), (k, [&host[6], &host[7]], j)];
        for (first, [re, im], width) in blocks {
            let base = r * nt * width;
            for col in 0..width {
                for n in 0..nt {
                    self.x[(first + col) * nt + n] = at(re, im, base + n * width + col);
                }
            }
        }
    }

    /// The products of column `c` of `X`.
    fn echoes(&self, c: usize) -> Echoes<'_> {
        let nt = self.shape.nt;
        let x = &self.x[c * nt..(c + 1) * nt];
        let product = |v: &[c64]| -> c64 { v.iter().zip(x).map(|(a, x)| a.conj() * x).sum() };
        Echoes {
            row: self,
            u: product(&self.transmit[0]),
            w: [product(&self.transmit[1]), product(&self.transmit[2])],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex, tracked};

    /// `t` as f64 complex matrices, one per row.
    fn matrices(t: &ComplexTensor<3>) -> Vec<faer::Mat<c64>> {
        t.to_matrices().unwrap()
    }

    /// The entries from the dense operators `D_a = b_a a^H + b a_a^H` in f64, independent of
    /// both factored forms.
    fn dense_fim(sensing: &SensingFactors, x: &ComplexTensor<3>) -> Vec<f32> {
        let (tx, rx, x) = (
            matrices(&sensing.transmit),
            matrices(&sensing.receive),
            matrices(x),
        );
        let mut out = Vec::new();
        for ((t, r), x) in tx.iter().zip(&rx).zip(&x) {
            let d = [1, 2].map(|a| r.col(a) * t.col(0).adjoint() + r.col(0) * t.col(a).adjoint());
            let y = d.map(|d| &d * x);
            let inner = |a: &faer::Mat<c64>, b: &faer::Mat<c64>| -> f64 {
                (0..a.nrows())
                    .flat_map(|i| (0..a.ncols()).map(move |j| (i, j)))
                    .map(|(i, j)| (a[(i, j)].conj() * b[(i, j)]).re)
                    .sum()
            };
            let [yt, yp] = &y;
            out.extend([inner(yt, yt), inner(yp, yp), inner(yt, yp)].map(|v| v as f32));
        }
        out
    }

    /// The fused FIM entries (host loops, hand-written backward) against the composed tensor
    /// operations differentiated by Burn: entries and the gradients of beams and jamming
    /// columns, for a steered column and a mixed block, on every device with kernels (the wgpu
    /// device's are cubecl kernels: CI runs this test on lavapipe); and the entries against the
    /// dense operators.
    #[test]
    fn the_fused_angle_fim_equals_the_composed_one_with_gradients_on_cpu_and_wgpu() {
        for device in kernel_devices() {
            for (rows, nr, nt, k, j) in [(3, 16, 16, 2, 1), (2, 4, 6, 1, 7), (1, 3, 5, 2, 2)] {
                let seed = 10 * rows as u64 + j as u64;
                let sensing = SensingFactors {
                    transmit: random_complex([rows, nt, 3], seed + 1, &device),
                    receive: random_complex([rows, nr, 3], seed + 2, &device),
                };
                let beams = random_complex([rows, nt, k], seed + 3, &device);
                let jamming = random_complex([rows, nt, j], seed + 4, &device);
                let weights = random_complex([rows, 3, 1], seed + 5, &device)
                    .re
                    .reshape([rows, 3]);
                let run = |fused: bool| {
                    let (f, v) = (tracked(&beams), tracked(&jamming));
                    let fim = Tensor::cat(
                        if fused {
                            angle_fim(&sensing, &f, &v)
                        } else {
                            angle_fim_composed(&sensing, &f, &v)
                        }
                        .to_vec(),
                        1,
                    );
                    let grads = (fim.clone() * weights.clone()).sum().backward();
                    [
                        fim.reshape([rows * 3]),
                        f.re.grad(&grads).unwrap().reshape([rows * nt * k]),
                        f.im.grad(&grads).unwrap().reshape([rows * nt * k]),
                        v.re.grad(&grads).unwrap().reshape([rows * nt * j]),
                        v.im.grad(&grads).unwrap().reshape([rows * nt * j]),
                    ]
                    .map(|t| values(t).unwrap())
                };
                let what = format!("{device:?} {rows} {j}");
                let fused = run(true);
                assert_agree(&fused, &run(false), &what);
                let x = ComplexTensor::cat_columns(&[beams.clone(), jamming.clone()]);
                assert_agree(&fused[..1], &[dense_fim(&sensing, &x)], &what);
            }
        }
    }
}
