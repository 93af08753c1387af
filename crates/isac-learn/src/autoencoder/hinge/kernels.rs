//! The kernels of [`CrlbHinge`] and [`CrlbHingeGradient`], in f32: forward, one summing cube
//! ([`cube_sum`]), each unit taking a strided share of the samples and summing their rows;
//! backward, one unit per FIM entry re-sums its sample's rows. Layouts (row-major, made contiguous first): the
//! entries `[BN, 3]` (`J_tt`, `J_pp`, `J_tp`), the thresholds `[B, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::super::FLOOR;
use super::{CrlbHinge, CrlbHingeGradient};
use crate::cube::{CUBE_WIDTH, contiguous, cube_sum, elementwise, empty_like_rows, one_cube};

/// One sample's hinge `sum_w relu(ln CRLB_w - ln CRLB_0)` and its derivatives in the sample's
/// FIM entries `J_tt`, `J_pp`, `J_tp`.
#[derive(CubeType, Clone, Copy)]
#[expand(derive(Clone, Copy))]
struct SampleHinge {
    value: f32,
    d_tt: f32,
    d_pp: f32,
    d_tp: f32,
}

/// `ln max(x, FLOOR)` and its derivative.
#[cube]
fn floored_ln(x: f32) -> (f32, f32) {
    let above = x > FLOOR;
    (
        f32::ln(f32::max(x, FLOOR)),
        select(above, 1.0f32 / x, 0.0f32),
    )
}

#[cube]
fn sample_hinge(
    fim: &Tensor<f32>,
    log_max: &Tensor<f32>,
    b: usize,
    subcarriers: usize,
    scale: f32,
    #[comptime] joint: bool,
) -> SampleHinge {
    let mut tt = 0.0f32;
    let mut pp = 0.0f32;
    let mut tp = 0.0f32;
    for n in 0..subcarriers {
        let row = b * subcarriers + n;
        tt += fim[row * 3];
        pp += fim[row * 3 + 1];
        tp += fim[row * 3 + 2];
    }
    tt *= scale;
    pp *= scale;
    tp *= scale;
    let (ln_tt, inv_tt) = floored_ln(tt);
    let (ln_pp, inv_pp) = floored_ln(pp);
    // `ln CRLB_t`, `ln CRLB_p` and their derivatives in `(J_tt, J_pp, J_tp)`.
    let mut lt = -ln_tt;
    let mut lp = -ln_pp;
    let mut lt_tt = -inv_tt;
    let mut lt_pp = 0.0f32;
    let mut lp_tt = 0.0f32;
    let mut lp_pp = -inv_pp;
    let mut l_tp = 0.0f32;
    if comptime!(joint) {
        // `det J = max(J_tt J_pp - J_tp^2, 1e-6 J_tt J_pp)`, floored, as on the composed path.
        let prod = tt * pp;
        let exact = prod - tp * tp;
        let floor = prod * 1e-6f32;
        let kept = exact >= floor;
        let (ln_det, inv_det) = floored_ln(f32::max(exact, floor));
        let det_tt = inv_det * select(kept, pp, pp * 1e-6f32);
        let det_pp = inv_det * select(kept, tt, tt * 1e-6f32);
        let det_tp = inv_det * select(kept, -2.0f32 * tp, 0.0f32);
        lt = ln_pp - ln_det;
        lp = ln_tt - ln_det;
        lt_tt = -det_tt;
        lt_pp = inv_pp - det_pp;
        lp_tt = inv_tt - det_tt;
        lp_pp = -det_pp;
        l_tp = -det_tp;
    }
    let threshold = log_max[b];
    let on_t = select(lt > threshold, 1.0f32, 0.0f32);
    let on_p = select(lp > threshold, 1.0f32, 0.0f32);
    SampleHinge {
        value: f32::max(lt - threshold, 0.0f32) + f32::max(lp - threshold, 0.0f32),
        d_tt: on_t * lt_tt + on_p * lp_tt,
        d_pp: on_t * lt_pp + on_p * lp_pp,
        d_tp: (on_t + on_p) * l_tp,
    }
}

#[cube(launch)]
fn crlb_hinge_kernel(
    fim: &Tensor<f32>,
    log_max: &Tensor<f32>,
    out: &mut Tensor<f32>,
    subcarriers: u32,
    scale: f32,
    #[comptime] joint: bool,
) {
    let samples = log_max.shape(0);
    let unit = UNIT_POS as usize;
    let mut share = 0.0f32;
    for j in 0..samples.div_ceil(CUBE_WIDTH) {
        let b = j * CUBE_WIDTH + unit;
        if b < samples {
            share += sample_hinge(fim, log_max, b, subcarriers as usize, scale, joint).value;
        }
    }
    let total = cube_sum(share);
    if unit == 0 {
        out[0] = total / samples as f32;
    }
}

#[cube(launch)]
fn crlb_hinge_gradient_kernel(
    fim: &Tensor<f32>,
    log_max: &Tensor<f32>,
    upstream: &Tensor<f32>,
    out: &mut Tensor<f32>,
    subcarriers: u32,
    scale: f32,
    #[comptime] joint: bool,
) {
    if ABSOLUTE_POS >= fim.shape(0) * 3 {
        terminate!();
    }
    let subcarriers = subcarriers as usize;
    let b = ABSOLUTE_POS / (3 * subcarriers);
    let entry = ABSOLUTE_POS % 3;
    let h = sample_hinge(fim, log_max, b, subcarriers, scale, joint);
    let d = select(entry == 0, h.d_tt, select(entry == 1, h.d_pp, h.d_tp));
    out[ABSOLUTE_POS] = upstream[0] * d * scale / log_max.shape(0) as f32;
}

impl CrlbHinge for CubeBackend {
    fn crlb_hinge(
        fim: FloatTensor<Self>,
        log_max: FloatTensor<Self>,
        subcarriers: usize,
        scale: f32,
        joint: bool,
    ) -> FloatTensor<Self> {
        let [fim, log_max] = [fim, log_max].map(contiguous);
        let out = empty_like_rows(&fim, Shape::new([1]));
        let (count, dim) = one_cube();
        crlb_hinge_kernel::launch(
            &out.client,
            count,
            dim,
            fim.into_tensor_arg(),
            log_max.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            subcarriers as u32,
            scale,
            joint,
        );
        out
    }
}

impl CrlbHingeGradient for CubeBackend {
    fn crlb_hinge_gradient(
        fim: FloatTensor<Self>,
        log_max: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        subcarriers: usize,
        scale: f32,
        joint: bool,
    ) -> FloatTensor<Self> {
        let [fim, log_max, upstream] = [fim, log_max, upstream].map(contiguous);
        let out = empty_like_rows(&fim, TensorMetadata::shape(&fim));
        let (count, dim) = elementwise(&out, TensorMetadata::shape(&out).num_elements());
        crlb_hinge_gradient_kernel::launch(
            &out.client,
            count,
            dim,
            fim.into_tensor_arg(),
            log_max.into_tensor_arg(),
            upstream.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            subcarriers as u32,
            scale,
            joint,
        );
        out
    }
}
