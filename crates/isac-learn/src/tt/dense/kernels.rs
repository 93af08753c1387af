//! The kernels of [`DenseLayer`] and [`DenseLayerGradient`], in f32: one unit per output entry
//! forward; backward, one unit per entry of the larger of `dx` (`[batch, N]`) and the weights'
//! gradient (`M N + M`), each writing its entry of both. Layouts (row-major, made contiguous
//! first): `x` `[batch, N]`, `y` and its gradient `[batch, M]`, the flat weights `W` `[M, N]`
//! then the bias.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::{DenseLayer, DenseLayerGradient};
use crate::cube::{contiguous, elementwise, empty_like_rows};

#[cube(launch)]
fn dense_layer_kernel(
    x: &Tensor<f32>,
    w: &Tensor<f32>,
    y: &mut Tensor<f32>,
    #[comptime] bias: bool,
    #[comptime] relu: bool,
) {
    let (m, n) = (y.shape(1), x.shape(1));
    if ABSOLUTE_POS >= y.shape(0) * m {
        terminate!();
    }
    let b = ABSOLUTE_POS / m;
    let i = ABSOLUTE_POS % m;
    let mut sum = 0.0f32;
    for j in 0..n {
        sum += w[i * n + j] * x[b * n + j];
    }
    if comptime!(bias) {
        sum += w[m * n + i];
    }
    if comptime!(relu) {
        sum = f32::max(sum, 0.0f32);
    }
    y[ABSOLUTE_POS] = sum;
}

/// The upstream gradient of `y[b, i]`, zero where the ReLU is inactive.
#[cube]
fn masked(y: &Tensor<f32>, g: &Tensor<f32>, at: usize, #[comptime] relu: bool) -> f32 {
    let mut value = g[at];
    if comptime!(relu) {
        value = select(y[at] > 0.0f32, value, 0.0f32);
    }
    value
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn dense_layer_gradient_kernel(
    x: &Tensor<f32>,
    w: &Tensor<f32>,
    y: &Tensor<f32>,
    g: &Tensor<f32>,
    dx: &mut Tensor<f32>,
    dw: &mut Tensor<f32>,
    #[comptime] bias: bool,
    #[comptime] relu: bool,
    #[comptime] input_grad: bool,
) {
    let (batch, n, m) = (x.shape(0), x.shape(1), y.shape(1));
    if comptime!(input_grad) && ABSOLUTE_POS < batch * n {
        let b = ABSOLUTE_POS / n;
        let j = ABSOLUTE_POS % n;
        let mut sum = 0.0f32;
        for i in 0..m {
            sum += masked(y, g, b * m + i, relu) * w[i * n + j];
        }
        dx[ABSOLUTE_POS] = sum;
    }
    if ABSOLUTE_POS < m * n {
        let i = ABSOLUTE_POS / n;
        let j = ABSOLUTE_POS % n;
        let mut sum = 0.0f32;
        for b in 0..batch {
            sum += masked(y, g, b * m + i, relu) * x[b * n + j];
        }
        dw[ABSOLUTE_POS] = sum;
    } else if comptime!(bias) && ABSOLUTE_POS < m * n + m {
        let i = ABSOLUTE_POS - m * n;
        let mut sum = 0.0f32;
        for b in 0..batch {
            sum += masked(y, g, b * m + i, relu);
        }
        dw[ABSOLUTE_POS] = sum;
    }
}

impl DenseLayer for CubeBackend {
    fn dense_layer(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        outputs: usize,
        bias: bool,
        relu: bool,
    ) -> FloatTensor<Self> {
        let [x, w] = [x, weights].map(contiguous);
        let y = empty_like_rows(&x, Shape::new([TensorMetadata::shape(&x)[0], outputs]));
        let (count, dim) = elementwise(&y, TensorMetadata::shape(&y).num_elements());
        dense_layer_kernel::launch(
            &y.client,
            count,
            dim,
            x.into_tensor_arg(),
            w.into_tensor_arg(),
            y.clone().into_tensor_arg(),
            bias,
            relu,
        );
        y
    }
}

impl DenseLayerGradient for CubeBackend {
    fn dense_layer_gradient(
        x: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        y: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        bias: bool,
        relu: bool,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [x, w, y, g] = [x, weights, y, upstream].map(contiguous);
        let dx = empty_like_rows(&x, TensorMetadata::shape(&x));
        let dw = empty_like_rows(&w, TensorMetadata::shape(&w));
        let units = TensorMetadata::shape(&dx)
            .num_elements()
            .max(TensorMetadata::shape(&dw).num_elements());
        let (count, dim) = elementwise(&dw, units);
        dense_layer_gradient_kernel::launch(
            &dw.client,
            count,
            dim,
            x.into_tensor_arg(),
            w.into_tensor_arg(),
            y.into_tensor_arg(),
            g.into_tensor_arg(),
            dx.clone().into_tensor_arg(),
            dw.clone().into_tensor_arg(),
            bias,
            relu,
            input_grad,
        );
        (dx, dw)
    }
}
