//! Operations with several differentiable outputs, one gradient operation for all of them (a
//! kernel on the cubecl devices, host loops on the CPU ones). Burn's autodiff gives a node one output and one
//! gradient, so such an operation is one node (its parents: the operation's inputs) whose own
//! output nobody reads, and one node per output whose parent it is. An output's backward step
//! only hands its upstream gradient over ([`Slots`]); the operation's node is one level
//! shallower, so its step runs after every output's (Burn executes the tape deepest level
//! first) and finds in the slots the gradient of every output that a loss read.

use std::sync::{Arc, Mutex, PoisonError};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};

/// Where the outputs' nodes leave their upstream gradients for the operation's node.
pub(crate) struct Slots<B: Backend, const N: usize>(Arc<Mutex<[Option<FloatTensor<B>>; N]>>);

impl<B: Backend, const N: usize> Clone for Slots<B, N> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<B: Backend, const N: usize> std::fmt::Debug for Slots<B, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slots")
    }
}

impl<B: Backend, const N: usize> Slots<B, N> {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(std::array::from_fn(|_| None))))
    }

    /// Which outputs have a gradient and the gradients, `stand_in` where an output has none
    /// (a loss never read it, so neither may the gradient kernel); `None` where no output has
    /// one. Empties the slots.
    pub(crate) fn gradients(
        &self,
        stand_in: &FloatTensor<B>,
    ) -> Option<([bool; N], [FloatTensor<B>; N])> {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let upstream = std::mem::replace(&mut *slots, std::array::from_fn(|_| None));
        let present = upstream.each_ref().map(Option::is_some);
        present.contains(&true).then(|| {
            (
                present,
                upstream.map(|g| g.unwrap_or_else(|| stand_in.clone())),
            )
        })
    }

    fn put(&self, output: usize, gradient: FloatTensor<B>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)[output] = Some(gradient);
    }
}

/// The differentiable outputs `outputs` of the operation whose node is `operation` (tracked or
/// not), each a node that hands its gradient to `slots`.
pub(crate) fn outputs<B: Backend, C: CheckpointStrategy, const N: usize>(
    operation: &FloatTensor<Autodiff<B, C>>,
    outputs: [FloatTensor<B>; N],
    slots: &Slots<B, N>,
) -> [FloatTensor<Autodiff<B, C>>; N] {
    let mut index = 0;
    outputs.map(|output| {
        let i = index;
        index += 1;
        let parent = operation.clone().into_parts().1;
        match HandOver::<N>
            .prepare::<C>([parent])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((slots.clone(), i), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    })
}

/// The backward step of an output's node.
#[derive(Debug)]
struct HandOver<const N: usize>;

impl<B: Backend, const N: usize> Backward<B, 1> for HandOver<N> {
    type State = (Slots<B, N>, usize);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (slots, output) = ops.state;
        slots.put(output, grads.consume::<B>(&ops.node));
    }
}
