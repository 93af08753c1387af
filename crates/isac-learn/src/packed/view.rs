//! The view of one part of a packed buffer (cargo feature `wgpu`): a tensor of the part's shape
//! over the buffer's memory from the part's start, contiguous, with no launch. Where the device
//! needs a larger offset alignment than the packer's (none known), the part is copied instead.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::{Shape, Tensor};
use burn_cubecl::CubeBackend;
use burn_cubecl::tensor::CubeTensor;

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;

/// Where the part starts in the buffer (entries) and its shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct View {
    start: usize,
    shape: Shape,
}

/// The extension: the part `view` of the packed buffer `packed` (`[L]`), which no gradient
/// reaches (a batch's data).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait PackedView: Backend {
    #[fusion(meta = |packed, view| TensorSpec::new(view.shape.clone(), packed.dtype))]
    fn packed_view(packed: FloatTensor<Self>, view: View) -> FloatTensor<Self>;
}

// Data: the view is a leaf that records nothing.
impl<B: PackedView, C: CheckpointStrategy> PackedView for Autodiff<B, C> {
    fn packed_view(packed: FloatTensor<Self>, view: View) -> FloatTensor<Self> {
        <FloatTensor<Self>>::new(B::packed_view(packed.into_primitive(), view))
    }
}

impl PackedView for CubeBackend {
    fn packed_view(packed: FloatTensor<Self>, view: View) -> FloatTensor<Self> {
        let len = view.shape.num_elements();
        let total = TensorMetadata::shape(&packed).num_elements();
        let bytes = |entries: usize| (entries * packed.dtype.size()) as u64;
        let (start, end) = (bytes(view.start), bytes(total - view.start - len));
        let alignment = packed.client.properties().memory.alignment;
        if !start.is_multiple_of(alignment) {
            let range = view.start..view.start + len;
            let part = burn_cubecl::kernel::slice(packed, std::slice::from_ref(&range));
            return burn_cubecl::ops::reshape(part, view.shape);
        }
        let handle = packed.handle.clone().offset_start(start).offset_end(end);
        CubeTensor::new_contiguous(
            packed.client.clone(),
            packed.device.clone(),
            view.shape,
            handle,
            packed.dtype,
        )
    }
}

/// The part of `packed` that starts at entry `start`, of shape `shape` (contiguous).
pub(super) fn packed_view<const D: usize>(
    packed: &Tensor<1>,
    start: usize,
    shape: [usize; D],
) -> Tensor<D> {
    let view = View {
        start,
        shape: Shape::new(shape),
    };
    let part = <Dispatch as PackedView>::packed_view(packed.clone().into_dispatch(), view);
    Tensor::from_dispatch(part)
}
