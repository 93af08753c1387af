//! [`BudgetedPlanes`] and [`BudgetedPlanesGradient`] on the CPU devices: host loops over each
//! sample's rows (the formulas are the module docs of `budget.rs`), accumulating in f64 but for
//! the gains' sums and the products `P c`, which run in f32 over partial sums as the kernels do
//! ([`complex_dot`]). Composed,
//! the same step ran some forty Burn operations forward and backward (slices of the encoder's
//! output and their zero-filled gradients, the gains' reductions, the complex and broadcast
//! products and their reductions back to the frame scale): 1.5 ms of a 6.7 ms loss and gradient
//! at N = 64.

// The extension macro expands code naming NdArray, deprecated in Burn 0.22 and kept reachable on
// purpose (see `CpuDevice`): its deprecation warning cannot be silenced on the items alone.
#![allow(deprecated)]

use std::borrow::Cow;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use faer::c64;

use super::super::FLOOR;
use super::{Budget, BudgetedPlanes, BudgetedPlanesGradient, plane_shapes};
use crate::host::{HostTensor, upload};

/// The operands on host memory, row-major (module docs of `budget/kernels.rs` for the layouts).
struct Operands<'a> {
    e: Cow<'a, [f32]>,
    zr: Cow<'a, [f32]>,
    zi: Cow<'a, [f32]>,
    pr: Cow<'a, [f32]>,
    pi: Cow<'a, [f32]>,
    budget: Cow<'a, [f32]>,
    comm: Cow<'a, [f32]>,
    sense: Cow<'a, [f32]>,
    /// Entries per row of the encoder's output (`W` and any after it).
    entries: usize,
    settings: Budget,
}

/// One row's operands: the first `2 (K + 1) Nt` entries of the encoder's output (`[Re, Im] x
/// [u_1 .. u_K, c] x Nt`), the ZF directions (`Nt x K`), the projector (`Nt x Nt`) and the
/// masks squared (1 without).
struct Row<'a> {
    e: &'a [f32],
    zr: &'a [f32],
    zi: &'a [f32],
    pr: &'a [f32],
    pi: &'a [f32],
    comm: f64,
    sense: f64,
}

/// What a sample's rows give the budget: each row's ZF gains `g_k` and direction norms `|z_k|^2`
/// (ZF only), its FJ candidate `P c`, and the sample's mean row power and scale.
struct Frame {
    gains: Vec<c64>,
    norms: Vec<f64>,
    candidate: Vec<c64>,
    /// `f_b`.
    power: f64,
    /// `s_b = sqrt(P_b / max(f_b, FLOOR))`.
    scale: f64,
}

impl<'a> Operands<'a> {
    fn new<B: HostTensor>(inputs: &'a [FloatTensor<B>; 8], settings: Budget) -> Self {
        let entries = TensorMetadata::shape(&inputs[0])[1];
        let [e, zr, zi, pr, pi, budget, comm, sense] = inputs.each_ref().map(B::view);
        Self {
            e,
            zr,
            zi,
            pr,
            pi,
            budget,
            comm,
            sense,
            entries,
            settings,
        }
    }

    fn samples(&self) -> usize {
        self.budget.len()
    }

    /// The number of values in each of the four planes.
    fn plane_sizes(&self) -> [usize; 4] {
        let rows = self.samples() * self.settings.subcarriers;
        plane_shapes(rows, &self.settings).map(|shape| shape.num_elements())
    }

    fn row(&self, row: usize) -> Row<'_> {
        let Budget {
            users: k,
            antennas: nt,
            zero_forcing,
            ..
        } = self.settings;
        let width = 2 * (k + 1) * nt;
        let zf = if zero_forcing { nt * k } else { 0 };
        let square = |present: bool, mask: &[f32]| {
            if present {
                f64::from(mask[row]).powi(2)
            } else {
                1.0
            }
        };
        Row {
            e: &self.e[row * self.entries..row * self.entries + width],
            zr: &self.zr[row * zf..(row + 1) * zf],
            zi: &self.zi[row * zf..(row + 1) * zf],
            pr: &self.pr[row * nt * nt..(row + 1) * nt * nt],
            pi: &self.pi[row * nt * nt..(row + 1) * nt * nt],
            comm: square(self.settings.comm_mask, &self.comm),
            sense: square(self.settings.sense_mask, &self.sense),
        }
    }

    /// Sample `b`'s gains, candidates, power and scale.
    fn frame(&self, b: usize) -> Frame {
        let Budget {
            users: k,
            antennas: nt,
            subcarriers,
            zero_forcing,
            column,
            ..
        } = self.settings;
        let root = (nt as f64).sqrt();
        let mut f = Frame {
            gains: Vec::with_capacity(if zero_forcing { subcarriers * k } else { 0 }),
            norms: Vec::with_capacity(if zero_forcing { subcarriers * k } else { 0 }),
            candidate: Vec::with_capacity(subcarriers * nt),
            power: 0.0,
            scale: 0.0,
        };
        let mut total = 0.0;
        for (i, row) in (b * subcarriers..(b + 1) * subcarriers).enumerate() {
            let r = self.row(row);
            let (re, im) = r.e.split_at((k + 1) * nt);
            let mut beams = 0.0;
            if zero_forcing {
                // `|z_k|^2`, antenna by antenna (the directions are `Nt x K`, row-major).
                f.norms.resize((i + 1) * k, 0.0);
                let norms = &mut f.norms[i * k..];
                for (zr, zi) in r.zr.chunks_exact(k).zip(r.zi.chunks_exact(k)) {
                    for (col, norm) in norms.iter_mut().enumerate() {
                        *norm += f64::from(zr[col]).powi(2) + f64::from(zi[col]).powi(2);
                    }
                }
            }
            for col in 0..k {
                let (ur, ui) = (&re[col * nt..][..nt], &im[col * nt..][..nt]);
                if zero_forcing {
                    let g = c64::new(lane_sum(ur, |x| x), lane_sum(ui, |x| x)) / root;
                    beams += f.norms[i * k + col] * g.norm_sqr();
                    f.gains.push(g);
                } else {
                    beams += lane_sum(ur, |x| x * x) + lane_sum(ui, |x| x * x);
                }
            }
            let (cr, ci) = (&re[k * nt..][..nt], &im[k * nt..][..nt]);
            let mut fj = 0.0;
            for n in 0..nt {
                let y = complex_dot([&r.pr[n * nt..][..nt], &r.pi[n * nt..][..nt]], [cr, ci]);
                fj += y.norm_sqr();
                f.candidate.push(y);
            }
            total += r.comm * beams + if column { r.sense * fj } else { 0.0 };
        }
        f.power = total / subcarriers as f64;
        f.scale = (f64::from(self.budget[b]) / f.power.max(FLOOR.into())).sqrt();
        f
    }
}

/// `sum_m a[m] b[m]` of complex vectors given as real and imaginary parts, in f32 (as the
/// kernels and the composed path) over [`LANES`] partial sums, which the compiler keeps in
/// vector registers (in f64 with one chain of sums, this product was most of the operation's
/// time; as four of `crate::host::dot`, whose eight partial sums end in one chain, 0.80 ms
/// against 0.66 for the operation both ways at N = 64).
fn complex_dot([ar, ai]: [&[f32]; 2], [br, bi]: [&[f32]; 2]) -> c64 {
    let (mut re, mut im) = ([0.0f32; LANES], [0.0f32; LANES]);
    let full = ar.len() / LANES * LANES;
    for at in (0..full).step_by(LANES) {
        let lanes = |x: &[f32]| -> [f32; LANES] { x[at..at + LANES].try_into().expect("LANES") };
        let (ar, ai, br, bi) = (lanes(ar), lanes(ai), lanes(br), lanes(bi));
        for l in 0..LANES {
            re[l] += ar[l] * br[l] - ai[l] * bi[l];
            im[l] += ar[l] * bi[l] + ai[l] * br[l];
        }
    }
    for (l, m) in (full..ar.len()).enumerate() {
        re[l] += ar[m] * br[m] - ai[m] * bi[m];
        im[l] += ar[m] * bi[m] + ai[m] * br[m];
    }
    c64::new(tree_sum(re).into(), tree_sum(im).into())
}

/// The sum of the lanes in pairs, halving (a sequential sum of the lanes took longer than the
/// products).
fn tree_sum(mut x: [f32; LANES]) -> f32 {
    const { assert!(LANES == 16, "the halvings below") };
    for half in [8, 4, 2, 1] {
        for l in 0..half {
            x[l] += x[l + half];
        }
    }
    x[0]
}

/// Partial sums of [`complex_dot`].
const LANES: usize = 16;

/// `sum_m f(x[m])`, in f32 over [`LANES`] partial sums as [`complex_dot`].
fn lane_sum(x: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a += f(v);
    }
    tree_sum(acc).into()
}

/// The four planes (unmasked; [`super::super::AllocationMasks::apply`] follows), from host loops.
fn forward<B: HostTensor>(inputs: [FloatTensor<B>; 8], settings: Budget) -> [FloatTensor<B>; 4] {
    let device = TensorMetadata::device(&inputs[0]);
    let op = Operands::new::<B>(&inputs, settings);
    let Budget {
        users: k,
        antennas: nt,
        subcarriers,
        zero_forcing,
        column,
        ..
    } = settings;
    let mut planes = op.plane_sizes().map(Vec::with_capacity);
    for b in 0..op.samples() {
        let f = op.frame(b);
        let column_scale = if column { f.scale } else { 1.0 };
        for (i, row) in (b * subcarriers..(b + 1) * subcarriers).enumerate() {
            let r = op.row(row);
            for n in 0..nt {
                for col in 0..k {
                    let beam = if zero_forcing {
                        let at = n * k + col;
                        c64::new(r.zr[at].into(), r.zi[at].into()) * f.gains[i * k + col]
                    } else {
                        c64::new(r.e[col * nt + n].into(), r.e[(k + 1 + col) * nt + n].into())
                    } * f.scale;
                    planes[0].push(beam.re as f32);
                    planes[1].push(beam.im as f32);
                }
                let y = f.candidate[i * nt + n] * column_scale;
                planes[2].push(y.re as f32);
                planes[3].push(y.im as f32);
            }
        }
    }
    let rows = op.samples() * subcarriers;
    let mut shapes = plane_shapes(rows, &settings).into_iter();
    planes.map(|values| {
        let shape = shapes.next().expect("four shapes");
        upload::<B, 3>(values, [shape[0], shape[1], shape[2]], &device)
    })
}

/// The gradient of the encoder's output for the planes' upstream gradients (`present[i]`
/// whether plane `i` has one), from host loops.
fn gradient<B: HostTensor>(
    inputs: [FloatTensor<B>; 8],
    upstream: [FloatTensor<B>; 4],
    settings: Budget,
    present: [bool; 4],
) -> FloatTensor<B> {
    let device = TensorMetadata::device(&inputs[0]);
    let op = Operands::new::<B>(&inputs, settings);
    let Budget {
        users: k,
        antennas: nt,
        subcarriers,
        zero_forcing,
        column,
        ..
    } = settings;
    let rows = op.samples() * subcarriers;
    // A plane without a gradient (a stand-in tensor) reads as zeros.
    let sizes = op.plane_sizes();
    let g: [Cow<'_, [f32]>; 4] = std::array::from_fn(|p| {
        if present[p] {
            B::view(&upstream[p])
        } else {
            Cow::Owned(vec![0.0; sizes[p]])
        }
    });
    let (entries, root) = (op.entries, (nt as f64).sqrt());
    let (half, width) = ((k + 1) * nt, 2 * (k + 1) * nt);
    let mut out = vec![0.0f32; rows * entries];
    // One sample's `G'` and `dp / de` over its rows' first `width` entries.
    let mut plane = vec![0.0f64; subcarriers * width];
    let mut power = vec![0.0f64; subcarriers * width];
    for b in 0..op.samples() {
        let f = op.frame(b);
        let mut d = 0.0;
        for (i, row) in (b * subcarriers..(b + 1) * subcarriers).enumerate() {
            let r = op.row(row);
            let (plane, power) = (
                &mut plane[i * width..(i + 1) * width],
                &mut power[i * width..(i + 1) * width],
            );
            let (g0, g1) = (
                &g[0][row * nt * k..][..nt * k],
                &g[1][row * nt * k..][..nt * k],
            );
            for col in 0..k {
                let (re, im) = (
                    col * nt..(col + 1) * nt,
                    half + col * nt..half + (col + 1) * nt,
                );
                if zero_forcing {
                    // Every entry of `u_k` enters through the gain alone: `conj(z_k) . G`.
                    let (mut sr, mut si) = (0.0, 0.0);
                    for n in 0..nt {
                        let at = n * k + col;
                        let (zr, zi) = (f64::from(r.zr[at]), f64::from(r.zi[at]));
                        let (gr, gi) = (f64::from(g0[at]), f64::from(g1[at]));
                        sr += gr * zr + gi * zi;
                        si += gi * zr - gr * zi;
                    }
                    let gain = f.gains[i * k + col];
                    let w = 2.0 * r.comm * f.norms[i * k + col] / root;
                    plane[re.clone()].fill(sr / root);
                    plane[im.clone()].fill(si / root);
                    power[re].fill(w * gain.re);
                    power[im].fill(w * gain.im);
                } else {
                    for m in 0..nt {
                        let at = m * k + col;
                        plane[col * nt + m] = g0[at].into();
                        plane[half + col * nt + m] = g1[at].into();
                        power[col * nt + m] = 2.0 * r.comm * f64::from(r.e[col * nt + m]);
                        power[half + col * nt + m] =
                            2.0 * r.comm * f64::from(r.e[half + col * nt + m]);
                    }
                }
            }
            // The candidate `P c`: `G'_c = P^H G` and `dp / dc = 2 P^H P c`, row by row of `P`.
            let (c_re, c_im) = (k * nt..(k + 1) * nt, half + k * nt..width);
            plane[c_re.clone()].fill(0.0);
            plane[c_im.clone()].fill(0.0);
            power[c_re.clone()].fill(0.0);
            power[c_im.clone()].fill(0.0);
            let (g2, g3) = (&g[2][row * nt..][..nt], &g[3][row * nt..][..nt]);
            let (back_re, back_im) = plane[c_re.start..].split_at_mut(half);
            let (again_re, again_im) = power[c_re.start..].split_at_mut(half);
            for n in 0..nt {
                let (pr, pi) = (&r.pr[n * nt..][..nt], &r.pi[n * nt..][..nt]);
                let (gr, gi) = (f64::from(g2[n]), f64::from(g3[n]));
                let y = f.candidate[i * nt + n];
                for m in 0..nt {
                    let (a, b) = (f64::from(pr[m]), f64::from(pi[m]));
                    back_re[m] += a * gr + b * gi;
                    back_im[m] += a * gi - b * gr;
                    again_re[m] += 2.0 * r.sense * (a * y.re + b * y.im);
                    again_im[m] += 2.0 * r.sense * (a * y.im - b * y.re);
                }
            }
            for block in scaled_blocks(k, nt, column) {
                d += plane[block.clone()]
                    .iter()
                    .zip(&r.e[block])
                    .map(|(g, &e)| g * f64::from(e))
                    .sum::<f64>();
            }
        }
        // `-(s D / (2 N f))`, the factor of `dp_n / de`.
        let factor = if f.power > f64::from(FLOOR) {
            -f.scale * d / (2.0 * subcarriers as f64 * f.power)
        } else {
            0.0
        };
        for i in 0..subcarriers {
            let row = b * subcarriers + i;
            let target = &mut out[row * entries..row * entries + width];
            let (plane, power) = (
                &plane[i * width..(i + 1) * width],
                &power[i * width..(i + 1) * width],
            );
            for (t, g) in target.iter_mut().zip(plane) {
                *t = *g as f32;
            }
            for block in scaled_blocks(k, nt, column) {
                for ((t, g), p) in target[block.clone()]
                    .iter_mut()
                    .zip(&plane[block.clone()])
                    .zip(&power[block])
                {
                    *t = (f.scale * g + factor * p) as f32;
                }
            }
        }
    }
    let shape = TensorMetadata::shape(&inputs[0]);
    upload::<B, 2>(out, [shape[0], shape[1]], &device)
}

/// The ranges of a row's first `2 (K + 1) Nt` entries that the budget scales: the beams' and,
/// where the budget covers it, the FJ candidate's, real parts then imaginary parts.
fn scaled_blocks(
    k: usize,
    nt: usize,
    column: bool,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let scaled = if column { k + 1 } else { k };
    [0, (k + 1) * nt]
        .into_iter()
        .map(move |start| start..start + scaled * nt)
}

/// Implements both extensions for a CPU backend with the host loops.
macro_rules! host_extensions {
    ($backend:ty) => {
        impl BudgetedPlanes for $backend {
            fn budgeted_planes(
                encoded: FloatTensor<Self>,
                zf_re: FloatTensor<Self>,
                zf_im: FloatTensor<Self>,
                proj_re: FloatTensor<Self>,
                proj_im: FloatTensor<Self>,
                budget: FloatTensor<Self>,
                comm: FloatTensor<Self>,
                sense: FloatTensor<Self>,
                settings: Budget,
            ) -> (
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
                FloatTensor<Self>,
            ) {
                let inputs = [encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense];
                let [fr, fi, cr, ci] = forward::<Self>(inputs, settings);
                (fr, fi, cr, ci)
            }
        }

        impl BudgetedPlanesGradient for $backend {
            fn budgeted_planes_gradient(
                encoded: FloatTensor<Self>,
                zf_re: FloatTensor<Self>,
                zf_im: FloatTensor<Self>,
                proj_re: FloatTensor<Self>,
                proj_im: FloatTensor<Self>,
                budget: FloatTensor<Self>,
                comm: FloatTensor<Self>,
                sense: FloatTensor<Self>,
                upstream_beams_re: FloatTensor<Self>,
                upstream_beams_im: FloatTensor<Self>,
                upstream_column_re: FloatTensor<Self>,
                upstream_column_im: FloatTensor<Self>,
                settings: Budget,
                present: [bool; 4],
            ) -> FloatTensor<Self> {
                gradient::<Self>(
                    [encoded, zf_re, zf_im, proj_re, proj_im, budget, comm, sense],
                    [
                        upstream_beams_re,
                        upstream_beams_im,
                        upstream_column_re,
                        upstream_column_im,
                    ],
                    settings,
                    present,
                )
            }
        }
    };
}

host_extensions!(Flex);
#[cfg(feature = "ndarray")]
host_extensions!(burn::backend::NdArray);
