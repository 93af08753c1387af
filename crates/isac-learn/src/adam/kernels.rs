//! The kernel of [`AdamUpdate`], in f32: one unit per entry, the parameter and both moments
//! written from one read of the four operands (made contiguous first).

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::{AdamUpdate, Scalars};
use crate::cube::{contiguous, elementwise, empty_like_rows};

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn adam_update_kernel(
    param: &Tensor<f32>,
    grad: &Tensor<f32>,
    m1: &Tensor<f32>,
    m2: &Tensor<f32>,
    param_out: &mut Tensor<f32>,
    m1_out: &mut Tensor<f32>,
    m2_out: &mut Tensor<f32>,
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    scale: f32,
    eps: f32,
    lr: f32,
) {
    if ABSOLUTE_POS >= param.len() {
        terminate!();
    }
    let i = ABSOLUTE_POS;
    let g = grad[i];
    let first = m1[i] * b1 + g * c1;
    let second = m2[i] * b2 + g * g * c2;
    m1_out[i] = first;
    m2_out[i] = second;
    param_out[i] = param[i] - first * scale / (f32::sqrt(second) + eps) * lr;
}

impl AdamUpdate for CubeBackend {
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m1: FloatTensor<Self>,
        m2: FloatTensor<Self>,
        scalars: Scalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [param, grad, m1, m2] = [param, grad, m1, m2].map(contiguous);
        let shape = TensorMetadata::shape(&param);
        let items = shape.num_elements();
        let [param_out, m1_out, m2_out] = [(); 3].map(|()| empty_like_rows(&param, shape.clone()));
        let (count, dim) = elementwise(&param, items);
        let [b1, c1, b2, c2, scale, eps, lr] = scalars;
        let client = param.client.clone();
        adam_update_kernel::launch(
            &client,
            count,
            dim,
            param.into_tensor_arg(),
            grad.into_tensor_arg(),
            m1.into_tensor_arg(),
            m2.into_tensor_arg(),
            param_out.clone().into_tensor_arg(),
            m1_out.clone().into_tensor_arg(),
            m2_out.clone().into_tensor_arg(),
            b1,
            c1,
            b2,
            c2,
            scale,
            eps,
            lr,
        );
        (param_out, m1_out, m2_out)
    }
}
