//! The first step of [`super::Autoencoder::transmit`] on the cubecl devices (cargo feature
//! `wgpu`): from the encoder's output `e` (`[BN, W]`, its first `2 (K + 1) Nt` entries `[Re, Im]
//! x [u_1 .. u_K, c] x Nt`), the beams before the power budget (ZF structure: `f_k = z_k g_k`,
//! `g_k = sum_n u_k[n] / sqrt(Nt)`; free: `f_k = u_k`) and the FJ candidate `P c` (`P` the
//! null-space projector). Each of their four real planes is one operation with one kernel each
//! way, instead of the slices of the encoder's output (a copy forward, a fill and a slice
//! assignment backward each), the gain's reduction, the complex product's GEMMs and their
//! backward passes. The CPU devices keep the composed path.
//!
//! Gradients (upstream `G` of one plane): a beam plane gives `u_k`'s entries `s sum_n G[n, k]
//! (a Re z_k[n] + b Im z_k[n])` (ZF) or `G` itself (free); a candidate plane gives `c[m]`'s
//! entries `sum_n G[n] (a Re P[n, m] + b Im P[n, m])`, with `(a, b) = (1, 0)` for a real part
//! of a real plane or an imaginary part of an imaginary plane, `(0, -1)` for an imaginary part
//! of a real plane and `(0, 1)` for a real part of an imaginary plane.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::{Shape, Tensor};

use crate::ComplexTensor;

mod kernels;

/// Which plane: `Re f`, `Im f` (`[BN, Nt, K]`), `Re P c`, `Im P c` (`[BN, Nt, 1]`).
const PLANES: [usize; 4] = [0, 1, 2, 3];

/// The shape of plane `plane` for an encoder output of `rows` rows.
fn plane_shape(rows: usize, plane: usize, users: usize, antennas: usize) -> Shape {
    Shape::new([rows, antennas, if plane < 2 { users } else { 1 }])
}

/// The extension: plane `plane` of the beams (ZF structure if `zero_forcing`, scaled by
/// `gain_scale`) or of the FJ candidate, for `encoded` `[BN, W]`, the unit ZF directions
/// `[BN, Nt, K]` and the projectors `[BN, Nt, Nt]` (real and imaginary parts).
#[backend_extension(Cube, Fusion, Autodiff)]
pub(crate) trait EncodedPlanes: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = encoded, shape = plane_shape(encoded[0], *plane, *users, *antennas))]
    fn encoded_plane(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        plane: usize,
        users: usize,
        antennas: usize,
        zero_forcing: bool,
        gain_scale: f32,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`EncodedPlanes`]: the gradient of `encoded` (zero outside the plane's
/// block) for the upstream gradient of plane `plane`.
#[backend_extension(Cube, Fusion)]
pub(crate) trait EncodedPlanesGradient: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = encoded, shape = encoded)]
    fn encoded_plane_gradient(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        plane: usize,
        users: usize,
        antennas: usize,
        zero_forcing: bool,
        gain_scale: f32,
    ) -> FloatTensor<Self>;
}

/// Everything but the tensors: the plane and the sizes.
#[derive(Debug, Clone, Copy)]
struct Settings {
    plane: usize,
    users: usize,
    antennas: usize,
    zero_forcing: bool,
    gain_scale: f32,
}

// Training: one autodiff node whose parent is the encoder's output.
impl<B: EncodedPlanes + EncodedPlanesGradient, C: CheckpointStrategy> EncodedPlanes
    for Autodiff<B, C>
{
    fn encoded_plane(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        plane: usize,
        users: usize,
        antennas: usize,
        zero_forcing: bool,
        gain_scale: f32,
    ) -> FloatTensor<Self> {
        let s = Settings {
            plane,
            users,
            antennas,
            zero_forcing,
            gain_scale,
        };
        let [e, zr, zi, pr, pi] = [encoded, zf_re, zf_im, proj_re, proj_im].map(|t| t.into_parts());
        let inner = [e.0, zr.0, zi.0, pr.0, pi.0];
        let [a, b, c, d, f] = inner.clone();
        let out = B::encoded_plane(
            a,
            b,
            c,
            d,
            f,
            plane,
            users,
            antennas,
            zero_forcing,
            gain_scale,
        );
        match PlaneBackward.prepare::<C>([e.1]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((inner, s), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parent is the encoder's output.
#[derive(Debug)]
struct PlaneBackward;

impl<B: EncodedPlanes + EncodedPlanesGradient> Backward<B, 1> for PlaneBackward {
    type State = ([FloatTensor<B>; 5], Settings);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let ([e, zr, zi, pr, pi], s) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            let g = B::encoded_plane_gradient(
                e,
                zr,
                zi,
                pr,
                pi,
                upstream,
                s.plane,
                s.users,
                s.antennas,
                s.zero_forcing,
                s.gain_scale,
            );
            grads.register::<B>(node.id, g);
        }
    }
}

/// The beams before the power budget and the FJ candidate from the encoder's output `encoded`,
/// one operation per real plane; `None` where the composed path must run (not a cubecl device,
/// or the channels' data require gradients).
pub(super) fn encoded_planes(
    encoded: &Tensor<2>,
    zero_forcing: Option<&ComplexTensor<3>>,
    projectors: &ComplexTensor<3>,
    users: usize,
    antennas: usize,
) -> Option<(ComplexTensor<3>, ComplexTensor<3>)> {
    let data_tracked =
        projectors.requires_grad() || zero_forcing.is_some_and(|z| z.requires_grad());
    if data_tracked || !crate::cube::supports(&encoded.device()) {
        return None;
    }
    // The free structure never reads the ZF directions: the projectors stand in for them.
    let zf = zero_forcing.unwrap_or(projectors);
    let gain_scale = (1.0 / (antennas as f64).sqrt()) as f32;
    let [beams_re, beams_im, candidate_re, candidate_im] = PLANES.map(|plane| {
        Tensor::<3>::from_dispatch(<Dispatch as EncodedPlanes>::encoded_plane(
            encoded.clone().into_dispatch(),
            zf.re.clone().into_dispatch(),
            zf.im.clone().into_dispatch(),
            projectors.re.clone().into_dispatch(),
            projectors.im.clone().into_dispatch(),
            plane,
            users,
            antennas,
            zero_forcing.is_some(),
            gain_scale,
        ))
    });
    Some((
        ComplexTensor {
            re: beams_re,
            im: beams_im,
        },
        ComplexTensor {
            re: candidate_re,
            im: candidate_im,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): the four
    /// planes and the gradient of the encoder's output, for the ZF and the free structure and
    /// an output with one more entry (ISAC_FJ_PLUS's share).
    #[test]
    fn the_wgpu_encoded_planes_equal_the_composed_ones_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, k, nt, extra) in [(3, 2, 16, 0), (2, 1, 8, 1)] {
                let width = 2 * (k + 1) * nt;
                let encoded = random_complex([rows, width + extra, 1], 1, &device)
                    .re
                    .reshape([rows, width + extra]);
                let zf = random_complex([rows, nt, k], 2, &device);
                let projectors = random_complex([rows, nt, nt], 3, &device);
                let weights = [4, 5].map(|seed| random_complex([rows, nt, k + 1], seed, &device));
                for zero_forcing in [Some(&zf), None] {
                    let run = |kernel: bool| {
                        let e = encoded.clone().require_grad();
                        let (f, c) = if kernel {
                            encoded_planes(&e, zero_forcing, &projectors, k, nt)
                                .expect("a cubecl device runs the kernels")
                        } else {
                            super::super::encoded_planes_composed(
                                &e,
                                width,
                                zero_forcing,
                                &projectors,
                                k,
                                nt,
                            )
                        };
                        let x = ComplexTensor::cat_columns(&[f, c]);
                        let loss = (x.re.clone() * weights[0].re.clone()).sum()
                            + (x.im.clone() * weights[1].im.clone()).sum();
                        let grads = loss.backward();
                        [
                            x.re.reshape([rows * nt * (k + 1)]),
                            x.im.reshape([rows * nt * (k + 1)]),
                            e.grad(&grads).unwrap().reshape([rows * (width + extra)]),
                        ]
                        .map(|t| values(t).unwrap())
                    };
                    let what = format!("{rows} {k} {nt} {}", zero_forcing.is_some());
                    let (kernel, composed) = (run(true), run(false));
                    // The gradient's extra entry (never read) is zero on both paths.
                    assert_agree(&kernel, &composed, &what);
                }
            }
        }
    }
}
