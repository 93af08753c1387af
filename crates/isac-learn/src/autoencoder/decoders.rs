//! The users' decoders (Table II: `[Re y, Im y] -> 128 -> ReLU -> M` per user) with their weights
//! stacked along a leading user dimension, so that each layer of every user is one batched
//! product (on a GPU, a step's launches are what bound it; one MLP per user cost twice the
//! kernels).

use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Tensor};
use isac_channel::rng::Stream;

use crate::init::{param, uniform};

#[cfg(feature = "wgpu")]
mod loss;

/// Every user's 2-layer MLP: `log_softmax(relu(x W1_u + b1_u) W2_u + b2_u)`.
#[derive(Module, Debug)]
pub(super) struct Decoders {
    /// `[K, 2, H]` and `[K, 1, H]`.
    w1: Param<Tensor<3>>,
    b1: Param<Tensor<3>>,
    /// `[K, H, M]` and `[K, 1, M]`.
    w2: Param<Tensor<3>>,
    b2: Param<Tensor<3>>,
}

impl Decoders {
    /// `users` decoders of `hidden` units for `m` messages: Glorot-uniform weights, drawn user
    /// by user (first layer, then second) from `rng`, and zero biases.
    pub(super) fn new(
        rng: &mut Stream,
        users: usize,
        hidden: usize,
        m: usize,
        device: &Device,
    ) -> Self {
        let glorot = |d_in: usize, d_out: usize| (6.0 / (d_in + d_out) as f64).sqrt();
        let (mut w1, mut w2) = (Vec::new(), Vec::new());
        for _ in 0..users {
            w1.extend(uniform(rng, 2 * hidden, glorot(2, hidden)));
            w2.extend(uniform(rng, hidden * m, glorot(hidden, m)));
        }
        Self {
            w1: param(w1, [users, 2, hidden], device),
            b1: param(vec![0.0; users * hidden], [users, 1, hidden], device),
            w2: param(w2, [users, hidden, m], device),
            b2: param(vec![0.0; users * m], [users, 1, m], device),
        }
    }

    /// `[K, BN, M]`: every user's log-probabilities of its message from the received signals
    /// `[BN, K, 2]`.
    pub(super) fn log_probabilities(&self, y: &Tensor<3>) -> Tensor<3> {
        let x = y.clone().swap_dims(0, 1); // [K, BN, 2]
        let hidden = relu(x.matmul(self.w1.val()) + self.b1.val());
        log_softmax(hidden.matmul(self.w2.val()) + self.b2.val(), 2)
    }

    /// Every user's cross-entropy against the one-hot messages `one_hot` (`[BN, K M]`), averaged
    /// over users and rows, from the received signals `[BN, K, 2]`: one kernel each way on the
    /// cubecl devices (`decoders/loss.rs`), composed elsewhere.
    pub(super) fn cross_entropy(&self, y: &Tensor<3>, one_hot: &Tensor<2>) -> Tensor<1> {
        #[cfg(feature = "wgpu")]
        if let Some(losses) = self.losses(y, one_hot) {
            return losses.mean();
        }
        self.cross_entropy_composed(y, one_hot)
    }

    /// Every row's and user's cross-entropy `[BN, K]` from the kernel of `decoders/loss.rs`, or
    /// `None` where the composed path must run (not a cubecl device).
    #[cfg(feature = "wgpu")]
    pub(super) fn losses(&self, y: &Tensor<3>, one_hot: &Tensor<2>) -> Option<Tensor<2>> {
        loss::decoder_losses(
            y,
            [&self.w1, &self.b1, &self.w2, &self.b2].map(|w| w.val()),
            one_hot,
        )
    }

    /// [`Decoders::cross_entropy`] in Burn tensor operations.
    fn cross_entropy_composed(&self, y: &Tensor<3>, one_hot: &Tensor<2>) -> Tensor<1> {
        let log_p = self.log_probabilities(y);
        let [k, bn, m] = log_p.dims();
        let one_hot = one_hot.clone().reshape([bn, k, m]).swap_dims(0, 1);
        -(log_p * one_hot).sum_dim(2).mean()
    }
}
