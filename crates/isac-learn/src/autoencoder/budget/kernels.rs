//! The kernels of [`FrameScale`] and [`FrameScaleGradient`], in f32, one unit per row both
//! ways (each sums its sample's rows). Layouts (row-major, made contiguous first): the beams
//! `[BN, Nt, K]`, the FJ column `[BN, Nt, 1]`, the budgets `[B, 1]`, the scale and its upstream
//! gradient `[BN, 1, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::FLOOR;
use super::{FrameScale, FrameScaleGradient};
use crate::cube::{contiguous, elementwise, empty_like_rows};

/// `(f_b, s_b)`: the mean over the rows of sample `b` of the power of the beams and the FJ
/// column, and the scale `sqrt(P_b / max(f_b, FLOOR))` of eq. (27).
#[cube]
#[allow(clippy::too_many_arguments)]
fn frame(
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    budget: &Tensor<f32>,
    b: usize,
    subcarriers: usize,
) -> (f32, f32) {
    let beam_entries = fr.shape(1) * fr.shape(2);
    let column_entries = cr.shape(1);
    let mut total = 0.0f32;
    for n in 0..subcarriers {
        let row = b * subcarriers + n;
        for e in 0..beam_entries {
            let at = row * beam_entries + e;
            total += fr[at] * fr[at] + fi[at] * fi[at];
        }
        for e in 0..column_entries {
            let at = row * column_entries + e;
            total += cr[at] * cr[at] + ci[at] * ci[at];
        }
    }
    let f = total / subcarriers as f32;
    (f, f32::sqrt(budget[b] / f32::max(f, FLOOR)))
}

#[cube(launch)]
fn frame_scale_kernel(
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    budget: &Tensor<f32>,
    out: &mut Tensor<f32>,
    subcarriers: u32,
) {
    if ABSOLUTE_POS >= out.shape(0) {
        terminate!();
    }
    let subcarriers = subcarriers as usize;
    let b = ABSOLUTE_POS / subcarriers;
    let (_, s) = frame(fr, fi, cr, ci, budget, b, subcarriers);
    out[ABSOLUTE_POS] = s;
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn frame_scale_gradient_kernel(
    fr: &Tensor<f32>,
    fi: &Tensor<f32>,
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    budget: &Tensor<f32>,
    upstream: &Tensor<f32>,
    gfr: &mut Tensor<f32>,
    gfi: &mut Tensor<f32>,
    gcr: &mut Tensor<f32>,
    gci: &mut Tensor<f32>,
    subcarriers: u32,
) {
    if ABSOLUTE_POS >= upstream.shape(0) {
        terminate!();
    }
    let subcarriers = subcarriers as usize;
    let b = ABSOLUTE_POS / subcarriers;
    let (f, s) = frame(fr, fi, cr, ci, budget, b, subcarriers);
    let mut g = 0.0f32;
    for n in 0..subcarriers {
        g += upstream[b * subcarriers + n];
    }
    // `-(s / (N f)) sum_n g_n`, the factor of every entry of the sample.
    let factor = select(f > FLOOR, -s * g / (subcarriers as f32 * f), 0.0f32);
    let beam_entries = fr.shape(1) * fr.shape(2);
    for e in 0..beam_entries {
        let at = ABSOLUTE_POS * beam_entries + e;
        gfr[at] = factor * fr[at];
        gfi[at] = factor * fi[at];
    }
    let column_entries = cr.shape(1);
    for e in 0..column_entries {
        let at = ABSOLUTE_POS * column_entries + e;
        gcr[at] = factor * cr[at];
        gci[at] = factor * ci[at];
    }
}

impl FrameScale for CubeBackend {
    fn frame_scale(
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        column_re: FloatTensor<Self>,
        column_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        subcarriers: usize,
    ) -> FloatTensor<Self> {
        let planes = [beams_re, beams_im, column_re, column_im, budget].map(contiguous);
        let rows = TensorMetadata::shape(&planes[0])[0];
        let out = empty_like_rows(&planes[0], Shape::new([rows, 1, 1]));
        let (count, dim) = elementwise(&out, rows);
        let [fr, fi, cr, ci, p] = planes.map(CubeTensor::into_tensor_arg);
        frame_scale_kernel::launch(
            &out.client,
            count,
            dim,
            fr,
            fi,
            cr,
            ci,
            p,
            out.clone().into_tensor_arg(),
            subcarriers as u32,
        );
        out
    }
}

impl FrameScaleGradient for CubeBackend {
    fn frame_scale_gradient(
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        column_re: FloatTensor<Self>,
        column_im: FloatTensor<Self>,
        budget: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        subcarriers: usize,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let inputs = [beams_re, beams_im, column_re, column_im, budget, upstream].map(contiguous);
        let [gfr, gfi, gcr, gci] =
            [0, 1, 2, 3].map(|i| empty_like_rows(&inputs[i], TensorMetadata::shape(&inputs[i])));
        let rows = TensorMetadata::shape(&inputs[0])[0];
        let (count, dim) = elementwise(&gfr, rows);
        let [fr, fi, cr, ci, p, g] = inputs.map(CubeTensor::into_tensor_arg);
        frame_scale_gradient_kernel::launch(
            &gfr.client,
            count,
            dim,
            fr,
            fi,
            cr,
            ci,
            p,
            g,
            gfr.clone().into_tensor_arg(),
            gfi.clone().into_tensor_arg(),
            gcr.clone().into_tensor_arg(),
            gci.clone().into_tensor_arg(),
            subcarriers as u32,
        );
        (gfr, gfi, gcr, gci)
    }
}
