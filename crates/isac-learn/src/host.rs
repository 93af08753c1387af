//! Host-memory kernels as Burn operations (backend extensions with hand-written backward
//! passes, see `tt/op.rs` and `complex/product.rs`): which devices run them, and how their
//! tensors move between Burn and plain `f32` slices.

// `NdArray` is deprecated in Burn 0.22 and kept reachable on purpose (see `CpuDevice`).
#![allow(deprecated)]

use std::borrow::Cow;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, Flex};
use burn::tensor::{Device, TensorData, try_read_sync};

/// Whether `device` runs the host-memory operations (the CPU backends and their autodiff
/// devices); elsewhere (GPU devices) callers compose Burn tensor operations instead.
pub(crate) fn supports(device: &Device) -> bool {
    match device.as_dispatch().clone().inner() {
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Reading a float tensor's values on host memory, row-major, as f32. Burn's generic
/// `into_data` copies a tensor that is still shared (a parameter, an activation the graph keeps)
/// element by element on NdArray (~25 ns per value): these read the storage directly.
pub(crate) trait HostTensor: Backend {
    /// The values, borrowed where the storage is contiguous f32 (copied otherwise).
    fn view(t: &FloatTensor<Self>) -> Cow<'_, [f32]>;

    /// The values, owned.
    fn read(t: FloatTensor<Self>) -> Vec<f32> {
        Self::view(&t).into_owned()
    }
}

impl HostTensor for Flex {
    fn view(t: &FloatTensor<Self>) -> Cow<'_, [f32]> {
        match t.as_slice::<f32>() {
            Some(values) => Cow::Borrowed(values),
            None => Cow::Owned(read_generic::<Self>(t.clone())),
        }
    }
}

#[cfg(feature = "ndarray")]
impl HostTensor for burn::backend::NdArray {
    fn view(t: &FloatTensor<Self>) -> Cow<'_, [f32]> {
        if let burn::backend::ndarray::NdArrayTensor::F32(storage) = t {
            let view = storage.view();
            return match view.to_slice() {
                Some(values) => Cow::Borrowed(values),
                None => Cow::Owned(view.iter().copied().collect()),
            };
        }
        Cow::Owned(read_generic::<Self>(t.clone()))
    }
}

/// Any backend's tensor through `into_data` (a CPU backend reads synchronously).
fn read_generic<B: Backend>(t: FloatTensor<B>) -> Vec<f32> {
    try_read_sync(B::float_into_data(t))
        .expect("CPU tensors read synchronously")
        .expect("CPU tensors read without error")
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

/// `values` as a float tensor of `shape` on `device`.
pub(crate) fn upload<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, shape), device)
}

/// `y += a x`.
pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `x . y` in eight partial sums (so the compiler can keep them in one vector register).
pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (xs, ys) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail: f32 = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in xs.zip(ys) {
        for l in 0..LANES {
            acc[l] += a[l] * b[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}
