//! [`super::received_from`] on the cubecl devices (cargo feature `wgpu`) as one Burn operation
//! with a hand-written backward pass: `y_i = (u_i x + n_i) / r_i` for the transmitted vector
//! `x` (`sent`, which hardware impairments changed), `r_i = sqrt(T_i + sigma^2)` and `T_i =
//! sum_c |A_ic|^2 + sum_c |B_ic|^2` (`A = U F`, `B = U V`), one kernel each way instead of the
//! composed path's products and reductions (the CPU devices keep the composed path: this
//! operation runs only on frames with hardware impairments).
//!
//! Gradients (upstream `g_i`): `G_{z_i} = g_i / r_i`, `t2_i = -Re(conj(g_i) z_i) / r_i^3`, so
//! `G_x = U^H G_z`, `G_F = U^H (t2 A)` and `G_V = U^H (t2 B)`. The channels and the noise are
//! data.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, backend_extension};

mod kernels;

/// The extension: `[B, K, 2]` for `users` `[B, K, Nt]`, `beams` `[B, Nt, K]`, `jamming` `[B,
/// Nt, J]`, `sent` `[B, Nt, 1]` and `noise` `[B, K, 1]` (real and imaginary parts).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait ReceivedFrom: Backend {
    #[allow(clippy::too_many_arguments)]
    #[fusion(dtype = users_re, shape = burn::tensor::Shape::new([users_re[0], users_re[1], 2]))]
    fn received_from(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        sent_re: FloatTensor<Self>,
        sent_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self>;
}

/// The gradient planes `(Re G_F, Im G_F, Re G_V, Im G_V, Re G_x, Im G_x)` of [`ReceivedFrom`]
/// for upstream gradients `[B, K, 2]`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait ReceivedFromGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |_ur, _ui, fr, fi, vr, vi, xr, xi, _nr, _ni, _g, _p| (
        fr.clone(), fi.clone(), vr.clone(), vi.clone(), xr.clone(), xi.clone()
    ))]
    fn received_from_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        sent_re: FloatTensor<Self>,
        sent_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        noise_power: f64,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

// Training: one autodiff node whose parents are the beams, the jamming columns and `x`.
impl<B: ReceivedFrom + ReceivedFromGradient, C: CheckpointStrategy> ReceivedFrom
    for Autodiff<B, C>
{
    fn received_from(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        sent_re: FloatTensor<Self>,
        sent_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        noise_power: f64,
    ) -> FloatTensor<Self> {
        let inputs = [
            users_re, users_im, beams_re, beams_im, jamming_re, jamming_im, sent_re, sent_im,
            noise_re, noise_im,
        ];
        let [ur, ui, fr, fi, vr, vi, xr, xi, nr, ni] = inputs.map(|t| t.into_parts());
        let inner = [ur.0, ui.0, fr.0, fi.0, vr.0, vi.0, xr.0, xi.0, nr.0, ni.0];
        let [a, b, c, d, e, f, g, h, i, j] = inner.clone();
        let signals = B::received_from(a, b, c, d, e, f, g, h, i, j, noise_power);
        match FromBackward
            .prepare::<C>([fr.1, fi.1, vr.1, vi.1, xr.1, xi.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((inner, noise_power), signals),
            OpsKind::UnTracked(prep) => prep.finish(signals),
        }
    }
}

/// The backward step of the node whose parents are `[Re F, Im F, Re V, Im V, Re x, Im x]`; it
/// keeps the operands (shared handles) and the noise power.
#[derive(Debug)]
struct FromBackward;

impl<B: ReceivedFrom + ReceivedFromGradient> Backward<B, 6> for FromBackward {
    type State = ([FloatTensor<B>; 10], f64);

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let ([a, b, c, d, e, f, g, h, i, j], noise_power) = ops.state;
        let (fr, fi, vr, vi, xr, xi) =
            B::received_from_gradient(a, b, c, d, e, f, g, h, i, j, upstream, noise_power);
        for (parent, t) in ops.parents.into_iter().zip([fr, fi, vr, vi, xr, xi]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, t);
            }
        }
    }
}
