//! The kernels of [`DecoderLoss`] and [`DecoderLossGradient`], in f32. The hidden width `H` and
//! the message count `M` are compile-time sizes (a unit keeps a row's hidden activations and
//! logits in local arrays). Layouts (row-major, made contiguous first): `y` `[BN, K, 2]`, `w1`
//! `[K, 2, H]`, `b1` `[K, 1, H]`, `w2` `[K, H, M]`, `b2` `[K, 1, M]`, the one-hot messages and
//! the logits' gradient `[BN, K, M]`, the hidden activations and their gradient `[BN, K, H]`,
//! the losses and their upstream gradient `[BN, K]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{DecoderLoss, DecoderLossGradient};
use crate::cube::{contiguous, elementwise, empty_like_rows};

/// One row's and user's forward pass: the hidden activations (into `hidden`), the logits (into
/// `logits`) and their log-sum-exp.
#[cube]
#[allow(clippy::too_many_arguments)]
fn forward_row(
    y: &Tensor<f32>,
    w1: &Tensor<f32>,
    b1: &Tensor<f32>,
    w2: &Tensor<f32>,
    b2: &Tensor<f32>,
    at: usize,
    k: usize,
    hidden: &mut Array<f32>,
    logits: &mut Array<f32>,
    #[comptime] h_size: usize,
    #[comptime] m_size: usize,
) -> f32 {
    let y0 = y[at * 2];
    let y1 = y[at * 2 + 1];
    for m in 0..m_size {
        logits[m] = b2[k * m_size + m];
    }
    for h in 0..h_size {
        let pre =
            y0 * w1[(k * 2) * h_size + h] + y1 * w1[(k * 2 + 1) * h_size + h] + b1[k * h_size + h];
        let a = f32::max(pre, 0.0f32);
        hidden[h] = a;
        for m in 0..m_size {
            logits[m] += a * w2[(k * h_size + h) * m_size + m];
        }
    }
    let mut top = logits[0];
    for m in 1..m_size {
        top = f32::max(top, logits[m]);
    }
    let mut sum = 0.0f32;
    for m in 0..m_size {
        sum += f32::exp(logits[m] - top);
    }
    top + f32::ln(sum)
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn decoder_losses_kernel(
    y: &Tensor<f32>,
    w1: &Tensor<f32>,
    b1: &Tensor<f32>,
    w2: &Tensor<f32>,
    b2: &Tensor<f32>,
    one_hot: &Tensor<f32>,
    out: &mut Tensor<f32>,
    #[comptime] h_size: usize,
    #[comptime] m_size: usize,
) {
    let users = y.shape(1);
    if ABSOLUTE_POS >= y.shape(0) * users {
        terminate!();
    }
    let k = ABSOLUTE_POS % users;
    let mut hidden = Array::<f32>::new(h_size);
    let mut logits = Array::<f32>::new(m_size);
    let lse = forward_row(
        y,
        w1,
        b1,
        w2,
        b2,
        ABSOLUTE_POS,
        k,
        &mut hidden,
        &mut logits,
        h_size,
        m_size,
    );
    let mut ce = 0.0f32;
    for m in 0..m_size {
        ce -= one_hot[ABSOLUTE_POS * m_size + m] * (logits[m] - lse);
    }
    out[ABSOLUTE_POS] = ce;
}

/// Stage 1 of the backward pass, one unit per row and user: the logits' gradient `delta`, the
/// hidden activations `a` and their gradient `gh` (into the scratch tensors), and `y`'s gradient.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn decoder_rows_gradient_kernel(
    y: &Tensor<f32>,
    w1: &Tensor<f32>,
    b1: &Tensor<f32>,
    w2: &Tensor<f32>,
    b2: &Tensor<f32>,
    one_hot: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gy: &mut Tensor<f32>,
    delta: &mut Tensor<f32>,
    a: &mut Tensor<f32>,
    gh: &mut Tensor<f32>,
    #[comptime] h_size: usize,
    #[comptime] m_size: usize,
) {
    let users = y.shape(1);
    if ABSOLUTE_POS >= y.shape(0) * users {
        terminate!();
    }
    let k = ABSOLUTE_POS % users;
    let mut hidden = Array::<f32>::new(h_size);
    let mut logits = Array::<f32>::new(m_size);
    let lse = forward_row(
        y,
        w1,
        b1,
        w2,
        b2,
        ABSOLUTE_POS,
        k,
        &mut hidden,
        &mut logits,
        h_size,
        m_size,
    );
    let mut mass = 0.0f32;
    for m in 0..m_size {
        mass += one_hot[ABSOLUTE_POS * m_size + m];
    }
    // d(-sum_m t_m (z_m - lse)) / dz_m = p_m sum_j t_j - t_m.
    let g = upstream[ABSOLUTE_POS];
    for m in 0..m_size {
        let p = f32::exp(logits[m] - lse);
        logits[m] = g * (p * mass - one_hot[ABSOLUTE_POS * m_size + m]);
        delta[ABSOLUTE_POS * m_size + m] = logits[m];
    }
    let mut gy0 = 0.0f32;
    let mut gy1 = 0.0f32;
    for h in 0..h_size {
        let mut back = 0.0f32;
        for m in 0..m_size {
            back += logits[m] * w2[(k * h_size + h) * m_size + m];
        }
        let on = select(hidden[h] > 0.0f32, back, 0.0f32);
        a[ABSOLUTE_POS * h_size + h] = hidden[h];
        gh[ABSOLUTE_POS * h_size + h] = on;
        gy0 += on * w1[(k * 2) * h_size + h];
        gy1 += on * w1[(k * 2 + 1) * h_size + h];
    }
    gy[ABSOLUTE_POS * 2] = gy0;
    gy[ABSOLUTE_POS * 2 + 1] = gy1;
}

/// Stage 2, one unit per entry of `w1`, `b1`, `w2`, `b2` in turn: its sum over the rows.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn decoder_weights_gradient_kernel(
    y: &Tensor<f32>,
    delta: &Tensor<f32>,
    a: &Tensor<f32>,
    gh: &Tensor<f32>,
    gw1: &mut Tensor<f32>,
    gb1: &mut Tensor<f32>,
    gw2: &mut Tensor<f32>,
    gb2: &mut Tensor<f32>,
    #[comptime] h_size: usize,
    #[comptime] m_size: usize,
) {
    let (rows, users) = (y.shape(0), y.shape(1));
    let n_w1 = users * 2 * h_size;
    let n_b1 = users * h_size;
    let n_w2 = users * h_size * m_size;
    let n_b2 = users * m_size;
    let mut i = ABSOLUTE_POS;
    if i < n_w1 {
        let k = i / (2 * h_size);
        let c = (i / h_size) % 2;
        let h = i % h_size;
        let mut sum = 0.0f32;
        for r in 0..rows {
            let at = r * users + k;
            sum += y[at * 2 + c] * gh[at * h_size + h];
        }
        gw1[i] = sum;
    } else {
        i -= n_w1;
        if i < n_b1 {
            let k = i / h_size;
            let h = i % h_size;
            let mut sum = 0.0f32;
            for r in 0..rows {
                sum += gh[(r * users + k) * h_size + h];
            }
            gb1[i] = sum;
        } else {
            i -= n_b1;
            if i < n_w2 {
                let k = i / (h_size * m_size);
                let h = (i / m_size) % h_size;
                let m = i % m_size;
                let mut sum = 0.0f32;
                for r in 0..rows {
                    let at = r * users + k;
                    sum += a[at * h_size + h] * delta[at * m_size + m];
                }
                gw2[i] = sum;
            } else {
                i -= n_w2;
                if i < n_b2 {
                    let k = i / m_size;
                    let m = i % m_size;
                    let mut sum = 0.0f32;
                    for r in 0..rows {
                        sum += delta[(r * users + k) * m_size + m];
                    }
                    gb2[i] = sum;
                }
            }
        }
    }
}

/// `(H, M)` from `w2` (`[K, H, M]`).
fn sizes(w2: &CubeTensor) -> (usize, usize) {
    let s = TensorMetadata::shape(w2);
    (s[1], s[2])
}

impl DecoderLoss for CubeBackend {
    fn decoder_losses(
        y: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        one_hot: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let inputs = [y, w1, b1, w2, b2, one_hot].map(contiguous);
        let (h_size, m_size) = sizes(&inputs[3]);
        let ys = TensorMetadata::shape(&inputs[0]);
        let out = empty_like_rows(&inputs[0], Shape::new([ys[0], ys[1]]));
        let (count, dim) = elementwise(&out, ys[0] * ys[1]);
        let [y, w1, b1, w2, b2, t] = inputs.map(CubeTensor::into_tensor_arg);
        decoder_losses_kernel::launch(
            &out.client,
            count,
            dim,
            y,
            w1,
            b1,
            w2,
            b2,
            t,
            out.clone().into_tensor_arg(),
            h_size,
            m_size,
        );
        out
    }
}

impl DecoderLossGradient for CubeBackend {
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
    ) {
        let inputs = [y, w1, b1, w2, b2, one_hot, upstream].map(contiguous);
        let (h_size, m_size) = sizes(&inputs[3]);
        let ys = TensorMetadata::shape(&inputs[0]);
        let units = ys[0] * ys[1];
        let like = |i: usize| empty_like_rows(&inputs[i], TensorMetadata::shape(&inputs[i]));
        let [gy, gw1, gb1, gw2, gb2] = [0, 1, 2, 3, 4].map(like);
        let delta = empty_like_rows(&inputs[0], Shape::new([units, m_size]));
        let [a, gh] = [0, 1].map(|_| empty_like_rows(&inputs[0], Shape::new([units, h_size])));
        let arg = |t: &CubeTensor| t.clone().into_tensor_arg();
        let (count, dim) = elementwise(&gy, units);
        decoder_rows_gradient_kernel::launch(
            &gy.client,
            count,
            dim,
            arg(&inputs[0]),
            arg(&inputs[1]),
            arg(&inputs[2]),
            arg(&inputs[3]),
            arg(&inputs[4]),
            arg(&inputs[5]),
            arg(&inputs[6]),
            arg(&gy),
            arg(&delta),
            arg(&a),
            arg(&gh),
            h_size,
            m_size,
        );
        let weights = ys[1] * (2 * h_size + h_size + h_size * m_size + m_size);
        let (count, dim) = elementwise(&gw1, weights);
        decoder_weights_gradient_kernel::launch(
            &gw1.client,
            count,
            dim,
            arg(&inputs[0]),
            arg(&delta),
            arg(&a),
            arg(&gh),
            arg(&gw1),
            arg(&gb1),
            arg(&gw2),
            arg(&gb2),
            h_size,
            m_size,
        );
        (gy, gw1, gb1, gw2, gb2)
    }
}
