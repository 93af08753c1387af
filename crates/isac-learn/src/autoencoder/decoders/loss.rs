//! The decoders' cross-entropy on the cubecl devices (cargo feature `wgpu`): from the received
//! signals `[BN, K, 2]`, every user's 2-layer MLP, log-softmax and cross-entropy against the
//! one-hot messages `[BN, K M]`, as `[BN, K]` losses in one launch (one unit per row and user);
//! backward in two launches, one unit per row and user (the received signals' gradient, and
//! the hidden activations and the logits' gradient kept in scratch tensors), then one unit per
//! parameter entry summing over the rows. The composed path ([`super::Decoders::log_probabilities`]
//! and Burn's cross-entropy) runs two batched products, the bias adds, the ReLU, the
//! log-softmax's reductions and their backward passes: about 50 launches a step.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

mod kernels;

/// The extension: every row's and user's cross-entropy `[BN, K]` for the received signals `y`
/// (`[BN, K, 2]`), the decoders' weights `w1` `[K, 2, H]`, `b1` `[K, 1, H]`, `w2` `[K, H, M]`,
/// `b2` `[K, 1, M]` and the one-hot messages `[BN, K M]`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait DecoderLoss: Backend {
    #[fusion(dtype = y, shape = burn::tensor::Shape::new([y[0], y[1]]))]
    fn decoder_losses(
        y: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        one_hot: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// The backward pass of [`DecoderLoss`]: the gradients of `y`, `w1`, `b1`, `w2`, `b2` for the
/// upstream gradient `[BN, K]`.
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait DecoderLossGradient: Backend {
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |y, w1, b1, w2, b2, _one_hot, _g| (
        y.clone(), w1.clone(), b1.clone(), w2.clone(), b2.clone()
    ))]
    fn decoder_losses_gradient(
        y: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        one_hot: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

// Training: one autodiff node whose parents are the received signals and the four weights.
impl<B: DecoderLoss + DecoderLossGradient, C: CheckpointStrategy> DecoderLoss for Autodiff<B, C> {
    fn decoder_losses(
        y: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        one_hot: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let [y, w1, b1, w2, b2] = [y, w1, b1, w2, b2].map(|t| t.into_parts());
        let one_hot = one_hot.into_parts().0;
        let inner = [y.0, w1.0, b1.0, w2.0, b2.0];
        let [a, b, c, d, e] = inner.clone();
        let out = B::decoder_losses(a, b, c, d, e, one_hot.clone());
        match LossBackward
            .prepare::<C>([y.1, w1.1, b1.1, w2.1, b2.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((inner, one_hot), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the node whose parents are `y`, `w1`, `b1`, `w2`, `b2`.
#[derive(Debug)]
struct LossBackward;

impl<B: DecoderLoss + DecoderLossGradient> Backward<B, 5> for LossBackward {
    type State = ([FloatTensor<B>; 5], FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let upstream = grads.consume::<B>(&ops.node);
        let ([y, w1, b1, w2, b2], one_hot) = ops.state;
        let (gy, gw1, gb1, gw2, gb2) =
            B::decoder_losses_gradient(y, w1, b1, w2, b2, one_hot, upstream);
        for (parent, g) in ops.parents.into_iter().zip([gy, gw1, gb1, gw2, gb2]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// Every row's and user's cross-entropy `[BN, K]`, or `None` where the composed path must run
/// (not a cubecl device, or the messages require gradients).
pub(super) fn decoder_losses(
    y: &Tensor<3>,
    weights: [Tensor<3>; 4],
    one_hot: &Tensor<2>,
) -> Option<Tensor<2>> {
    if one_hot.is_require_grad() || !crate::cube::supports(&y.device()) {
        return None;
    }
    let [w1, b1, w2, b2] = weights.map(|w| w.into_dispatch());
    Some(Tensor::from_dispatch(
        <Dispatch as DecoderLoss>::decoder_losses(
            y.clone().into_dispatch(),
            w1,
            b1,
            w2,
            b2,
            one_hot.clone().into_dispatch(),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::super::Decoders;
    use super::*;
    use crate::tensor::{from_values, values};
    use crate::testing::{assert_agree, kernel_devices, random_complex};

    /// The kernels against the composed operations on the wgpu device (CI: lavapipe): the mean
    /// cross-entropy and the gradients of the received signals and of the four weights.
    #[test]
    fn the_wgpu_decoder_cross_entropy_equals_the_composed_one_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, k, h, m) in [(5, 2, 8, 4), (3, 1, 16, 16)] {
                let y = random_complex([rows, k, 2], 1, &device).re;
                let [w1, b1, w2, b2] = [[k, 2, h], [k, 1, h], [k, h, m], [k, 1, m]]
                    .into_iter()
                    .enumerate()
                    .map(|(i, shape)| random_complex(shape, 2 + i as u64, &device).re)
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap();
                let hot: Vec<f32> = (0..rows * k * m)
                    .map(|i| f32::from(u8::from(i % m == (i / m * 7 + 3) % m)))
                    .collect();
                let one_hot = from_values(hot, [rows, k * m], &device).unwrap();
                let run = |kernel: bool| {
                    let y = y.clone().require_grad();
                    let [w1, b1, w2, b2] =
                        [&w1, &b1, &w2, &b2].map(|w| Param::from_tensor(w.clone().require_grad()));
                    let d = Decoders { w1, b1, w2, b2 };
                    let ce = if kernel {
                        decoder_losses(&y, [&d.w1, &d.b1, &d.w2, &d.b2].map(|w| w.val()), &one_hot)
                            .expect("a cubecl device runs the kernels")
                            .mean()
                    } else {
                        d.cross_entropy_composed(&y, &one_hot)
                    };
                    let grads = ce.clone().mul_scalar(1.3).backward();
                    let flat = |t: Tensor<3>| {
                        let n: usize = t.dims().iter().product();
                        values(t.reshape([n])).unwrap()
                    };
                    vec![
                        values(ce).unwrap(),
                        flat(y.grad(&grads).unwrap()),
                        flat(d.w1.val().grad(&grads).unwrap()),
                        flat(d.b1.val().grad(&grads).unwrap()),
                        flat(d.w2.val().grad(&grads).unwrap()),
                        flat(d.b2.val().grad(&grads).unwrap()),
                    ]
                };
                let what = format!("{rows} rows, K = {k}, H = {h}, M = {m}");
                let (kernel, composed) = (run(true), run(false));
                assert_agree(&kernel, &composed, &what);
            }
        }
    }
}
