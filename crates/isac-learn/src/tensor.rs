//! Moving values between Rust vectors and Burn tensors.

use burn::tensor::{Device, Tensor, TensorData};

use crate::LearnError;

/// A float tensor with `shape` holding `values` (row-major).
pub(crate) fn from_values<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Result<Tensor<D>, LearnError> {
    let expected: usize = shape.iter().product();
    if values.len() != expected {
        return Err(LearnError::Size {
            what: "tensor values",
            expected,
            got: values.len(),
        });
    }
    Ok(Tensor::from_data(TensorData::new(values, shape), device))
}

/// The values of a float tensor, row-major, as f32.
pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, LearnError> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| LearnError::Numerical(format!("cannot read tensor data: {e:?}")))
}
