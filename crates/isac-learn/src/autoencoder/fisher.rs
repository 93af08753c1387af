//! The per-row entries of the angle FIM of a transmission (the sums behind [`super::log_crlbs`]):
//! `J_ab = Re sum_x (D_a x)^H (D_b x)` over the columns `x` of `X = [F, V]` (beams and jamming
//! columns), for `a, b` in `{theta, phi}`, with `D_theta`, `D_phi` the sensing operators.
//!
//! On the CPU devices this is one Burn operation with a hand-written backward pass (a backend
//! extension over f32 host loops): `G_x = D_theta^H (2 g_tt y_t + g_tp y_p) + D_phi^H (2 g_pp y_p
//! + g_tp y_t)` for `y_a = D_a x` and upstream gradients `g_ab`. Elsewhere it composes Burn
//! operations ([`angle_fim_composed`]); a test checks both against each other, with gradients.

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
use burn::tensor::Tensor;

use crate::ComplexTensor;
use crate::host::{HostTensor, axpy, dot, upload};

/// `[BN, 3]`: `J_tt`, `J_pp`, `J_tp` of every row for the sensing operators `sensing`
/// (`[BN, Nr, Nt]` each), beams `[BN, Nt, K]` and jamming columns `[BN, Nt, J]`.
pub(super) fn angle_fim(
    sensing: &[ComplexTensor<3>; 2],
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
) -> Tensor<2> {
    if sensing.iter().any(ComplexTensor::requires_grad)
        || !crate::host::supports(&beams.re.device())
    {
        return angle_fim_composed(sensing, beams, jamming);
    }
    let [st, sp] = sensing;
    let parts = [st, sp, beams, jamming].map(|t| [t.re.clone(), t.im.clone()]);
    let [[tr, ti], [pr, pi], [fr, fi], [vr, vi]] = parts.map(|p| p.map(|t| t.into_dispatch()));
    Tensor::from_dispatch(<Dispatch as AngleFim>::angle_fim(
        tr, ti, pr, pi, fr, fi, vr, vi,
    ))
}

/// [`angle_fim`] in Burn tensor operations, for any device.
pub(super) fn angle_fim_composed(
    sensing: &[ComplexTensor<3>; 2],
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
) -> Tensor<2> {
    let rows = beams.re.dims()[0];
    let x = ComplexTensor::cat_columns(&[beams.clone(), jamming.clone()]);
    let yt = sensing[0].matmul_composed(&x);
    let yp = sensing[1].matmul_composed(&x);
    let total = |t: Tensor<3>| -> Tensor<3> { t.sum_dim(1).sum_dim(2) };
    let j_tp = total(yt.re.clone() * yp.re.clone() + yt.im.clone() * yp.im.clone());
    Tensor::cat(vec![total(yt.abs2()), total(yp.abs2()), j_tp], 1).reshape([rows, 3])
}

/// The extension: [`angle_fim`] for the real and imaginary parts of `D_theta`, `D_phi`, `F`
/// and `V`.
#[backend_extension(Flex, NdArray: cfg(feature = "ndarray"), Autodiff)]
pub(crate) trait AngleFim: Backend {
    #[allow(clippy::too_many_arguments)]
    fn angle_fim(
        theta_re: FloatTensor<Self>,
        theta_im: FloatTensor<Self>,
        phi_re: FloatTensor<Self>,
        phi_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Implements the extension for `$backend` by handing the eight tensors to `$run`.
macro_rules! fim_extension {
    ([$($generics:tt)*] $backend:ty => $run:expr) => {
        impl<$($generics)*> AngleFim for $backend {
            fn angle_fim(
                theta_re: FloatTensor<Self>,
                theta_im: FloatTensor<Self>,
                phi_re: FloatTensor<Self>,
                phi_im: FloatTensor<Self>,
                beams_re: FloatTensor<Self>,
                beams_im: FloatTensor<Self>,
                jamming_re: FloatTensor<Self>,
                jamming_im: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                $run([
                    theta_re, theta_im, phi_re, phi_im, beams_re, beams_im, jamming_re,
                    jamming_im,
                ])
            }
        }
    };
}

fim_extension!([] Flex => forward::<Flex>);
#[cfg(feature = "ndarray")]
fim_extension!([] burn::backend::NdArray => forward::<burn::backend::NdArray>);
fim_extension!([B: HostTensor, C: CheckpointStrategy] Autodiff<B, C> => tracked::<B, C>);

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
        let d = TensorMetadata::shape(&inputs[0]);
        Self {
            rows: d[0],
            nr: d[1],
            nt: d[2],
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
    let mut y = [Split::zeros(shape.nr), Split::zeros(shape.nr)];
    for r in 0..shape.rows {
        row.load(&host, r);
        let mut fim = [0.0f64; 3];
        for c in 0..shape.k + shape.j {
            row.echoes(c, &mut y);
            let [yt, yp] = &y;
            fim[0] += yt.norm2();
            fim[1] += yp.norm2();
            fim[2] += yt.inner(yp);
        }
        out.extend(fim.map(|v| v as f32));
    }
    upload::<B, 2>(out, [shape.rows, 3], &TensorMetadata::device(&inputs[0]))
}

/// Records [`forward`] as one autodiff node whose parents are the beams and the jamming columns.
fn tracked<B: HostTensor, C: CheckpointStrategy>(
    inputs: [FloatTensor<Autodiff<B, C>>; 8],
) -> FloatTensor<Autodiff<B, C>> {
    let [tr, ti, pr, pi, fr, fi, vr, vi] = inputs.map(|t| t.into_parts());
    let inner = [tr.0, ti.0, pr.0, pi.0, fr.0, fi.0, vr.0, vi.0];
    let fim = forward::<B>(inner.clone());
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
/// operands (shared handles) and recomputes the echoes.
#[derive(Debug)]
struct FimBackward;

impl<B: HostTensor> Backward<B, 4> for FimBackward {
    type State = [FloatTensor<B>; 8];

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let device = TensorMetadata::device(&grad);
        let inputs = ops.state;
        let s = Shape::of::<B>(&inputs);
        let (upstream, host) = (B::view(&grad), inputs.each_ref().map(B::view));
        let cols = s.k + s.j;
        // The gradient of every column, column-major per row: `[rows, K + J, Nt]`.
        let (mut g_re, mut g_im) = (
            vec![0.0f32; s.rows * cols * s.nt],
            vec![0.0f32; s.rows * cols * s.nt],
        );
        let mut row = Row::new(s);
        let mut y = [Split::zeros(s.nr), Split::zeros(s.nr)];
        let (mut a, mut b) = (Split::zeros(s.nr), Split::zeros(s.nr));
        for r in 0..s.rows {
            row.load(&host, r);
            let [g_tt, g_pp, g_tp] = [0, 1, 2].map(|i| upstream[r * 3 + i]);
            for c in 0..cols {
                row.echoes(c, &mut y);
                let [yt, yp] = &y;
                a.combine(2.0 * g_tt, yt, g_tp, yp);
                b.combine(2.0 * g_pp, yp, g_tp, yt);
                let at = (r * cols + c) * s.nt;
                let (gr, gi) = (&mut g_re[at..at + s.nt], &mut g_im[at..at + s.nt]);
                row.adjoint_apply(0, &a, gr, gi);
                row.adjoint_apply(1, &b, gr, gi);
            }
        }
        let [pfr, pfi, pvr, pvi] = ops.parents;
        for (parent, plane, offset, width) in [
            (pfr, &g_re, 0, s.k),
            (pfi, &g_im, 0, s.k),
            (pvr, &g_re, s.k, s.j),
            (pvi, &g_im, s.k, s.j),
        ] {
            if let Some(node) = parent {
                // Back to `[rows, Nt, width]` (row-major) from the column-major planes.
                let mut values = vec![0.0f32; s.rows * s.nt * width];
                for r in 0..s.rows {
                    for c in 0..width {
                        let from = &plane[(r * cols + offset + c) * s.nt..][..s.nt];
                        for (n, v) in from.iter().enumerate() {
                            values[(r * s.nt + n) * width + c] = *v;
                        }
                    }
                }
                let t = upload::<B, 3>(values, [s.rows, s.nt, width], &device);
                grads.register::<B>(node.id, t);
            }
        }
    }
}

/// A complex vector as split real and imaginary parts.
struct Split {
    re: Vec<f32>,
    im: Vec<f32>,
}

impl Split {
    fn zeros(len: usize) -> Self {
        Self {
            re: vec![0.0; len],
            im: vec![0.0; len],
        }
    }

    /// `|y|^2`.
    fn norm2(&self) -> f64 {
        f64::from(dot(&self.re, &self.re) + dot(&self.im, &self.im))
    }

    /// `Re y^H z`.
    fn inner(&self, z: &Self) -> f64 {
        f64::from(dot(&self.re, &z.re) + dot(&self.im, &z.im))
    }

    /// `self = s x + t z`, in place (the backward pass runs it for every column of every row).
    fn combine(&mut self, s: f32, x: &Self, t: f32, z: &Self) {
        for (out, x) in [(&mut self.re, &x.re), (&mut self.im, &x.im)] {
            out.iter_mut().zip(x).for_each(|(o, v)| *o = s * v);
        }
        axpy(t, &z.re, &mut self.re);
        axpy(t, &z.im, &mut self.im);
    }
}

/// One row's sensing operators (borrowed) and columns of `X` (copied column-major).
struct Row<'a> {
    shape: Shape,
    /// `[Re D_t, Im D_t, Re D_p, Im D_p]` of every row, and the row's offset into them.
    operators: [&'a [f32]; 4],
    offset: usize,
    /// `X` column by column: `[K + J, Nt]`.
    x: Split,
}

impl<'a> Row<'a> {
    fn new(shape: Shape) -> Self {
        Self {
            shape,
            operators: [&[]; 4],
            offset: 0,
            x: Split::zeros((shape.k + shape.j) * shape.nt),
        }
    }

    /// Row `r` of the host views `[Re D_t, Im D_t, Re D_p, Im D_p, Re F, Im F, Re V, Im V]`.
    fn load(&mut self, host: &'a [Cow<'a, [f32]>; 8], r: usize) {
        let Shape { nr, nt, k, j, .. } = self.shape;
        self.operators = [&host[0], &host[1], &host[2], &host[3]].map(|v| &v[..]);
        self.offset = r * nr * nt;
        let blocks = [(0, [&host[4], &host[5]], k), (k, [&host[6], &host[7]], j)];
        for (first, parts, width) in blocks {
            let [re, im] = parts.map(|p| &p[r * nt * width..][..nt * width]);
            for col in 0..width {
                let at = (first + col) * nt;
                for n in 0..nt {
                    self.x.re[at + n] = re[n * width + col];
                    self.x.im[at + n] = im[n * width + col];
                }
            }
        }
    }

    /// `[D_t x, D_p x]` for column `c` of `X`, into `out` (`Nr` each).
    fn echoes(&self, c: usize, out: &mut [Split; 2]) {
        let Shape { nr, nt, .. } = self.shape;
        let (xr, xi) = (&self.x.re[c * nt..][..nt], &self.x.im[c * nt..][..nt]);
        for (a, y) in out.iter_mut().enumerate() {
            let (dr, di) = (self.operators[2 * a], self.operators[2 * a + 1]);
            for i in 0..nr {
                let at = self.offset + i * nt;
                let (dr, di) = (&dr[at..at + nt], &di[at..at + nt]);
                y.re[i] = dot(dr, xr) - dot(di, xi);
                y.im[i] = dot(dr, xi) + dot(di, xr);
            }
        }
    }

    /// `g += D_a^H y` (`a = 0` for theta, `1` for phi) into split parts.
    fn adjoint_apply(&self, a: usize, y: &Split, g_re: &mut [f32], g_im: &mut [f32]) {
        let Shape { nr, nt, .. } = self.shape;
        let (dr, di) = (self.operators[2 * a], self.operators[2 * a + 1]);
        for i in 0..nr {
            let at = self.offset + i * nt;
            let (dr, di) = (&dr[at..at + nt], &di[at..at + nt]);
            // conj(d) y = (dr ar + di ai) + j (dr ai - di ar).
            axpy(y.re[i], dr, g_re);
            axpy(y.im[i], di, g_re);
            axpy(y.im[i], dr, g_im);
            axpy(-y.re[i], di, g_im);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuDevice;
    use crate::tensor::values;
    use crate::testing::{assert_agree, random_complex, tracked};

    /// The fused FIM entries (f32 host loops, hand-written backward) against the composed
    /// tensor operations differentiated by Burn: entries and the gradients of beams and
    /// jamming columns, for a steered column and a mixed block, on every CPU device.
    #[test]
    fn the_fused_angle_fim_equals_the_composed_one_with_gradients() {
        for device in CpuDevice::all() {
            let device = device.autodiff();
            for (rows, nr, nt, k, j) in [(3, 16, 16, 2, 1), (2, 4, 6, 1, 7), (1, 3, 5, 2, 2)] {
                let seed = 10 * rows as u64 + j as u64;
                let sensing = [1, 2].map(|i| random_complex([rows, nr, nt], seed + i, &device));
                let beams = random_complex([rows, nt, k], seed + 3, &device);
                let jamming = random_complex([rows, nt, j], seed + 4, &device);
                let weights = random_complex([rows, 3, 1], seed + 5, &device)
                    .re
                    .reshape([rows, 3]);
                let run = |fused: bool| {
                    let (f, v) = (tracked(&beams), tracked(&jamming));
                    let fim = if fused {
                        angle_fim(&sensing, &f, &v)
                    } else {
                        angle_fim_composed(&sensing, &f, &v)
                    };
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
                assert_agree(&run(true), &run(false), &format!("{device:?} {rows} {j}"));
            }
        }
    }
}
