//! The kernels of [`LossTotal`] and [`LossTotalGradient`], in f32. Forward, one summing cube
//! ([`cube_sum`]), each unit taking a strided share of the rows' terms. Backward, one unit per
//! rate. Layouts (row-major, made contiguous first): the rates
//! `[BN, 2, K]`, the cross-entropies `[BN, K]`, the hinge and the upstream gradient `[1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::{LossTotal, LossTotalGradient};
use crate::cube::{CUBE_WIDTH, contiguous, cube_sum, elementwise, empty_like_rows, one_cube};

#[cube(launch)]
fn loss_total_kernel(
    rates: &Tensor<f32>,
    losses: &Tensor<f32>,
    hinge: &Tensor<f32>,
    out: &mut Tensor<f32>,
    ce_weight: f32,
    crlb_weight: f32,
) {
    let rows = rates.shape(0);
    let users = rates.shape(2);
    let terms = rows * users;
    let unit = UNIT_POS as usize;
    // Each row's gap counts `-1 / BN`, each cross-entropy `w_ce / (BN K)`.
    let gap_weight = -1.0f32 / rows as f32;
    let ce_share = ce_weight / terms as f32;
    let mut share = 0.0f32;
    for j in 0..terms.div_ceil(CUBE_WIDTH) {
        let i = j * CUBE_WIDTH + unit;
        if i < terms {
            let at = (i / users) * 2 * users + i % users;
            share += gap_weight * (rates[at] - rates[at + users]) + ce_share * losses[i];
        }
    }
    let total = cube_sum(share);
    if unit == 0 {
        out[0] = total + crlb_weight * hinge[0];
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn loss_total_gradient_kernel(
    upstream: &Tensor<f32>,
    g_rates: &mut Tensor<f32>,
    g_losses: &mut Tensor<f32>,
    g_hinge: &mut Tensor<f32>,
    ce_weight: f32,
    crlb_weight: f32,
) {
    let rows = g_rates.shape(0);
    let users = g_rates.shape(2);
    if ABSOLUTE_POS >= rows * 2 * users {
        terminate!();
    }
    let u = upstream[0];
    let gap = u / rows as f32;
    // Users' rates count `-u / BN`, Eve's `u / BN`.
    let eve = (ABSOLUTE_POS / users) % 2 == 1;
    g_rates[ABSOLUTE_POS] = select(eve, gap, -gap);
    if ABSOLUTE_POS < rows * users {
        g_losses[ABSOLUTE_POS] = u * ce_weight / (rows * users) as f32;
    }
    if ABSOLUTE_POS == 0 {
        g_hinge[0] = u * crlb_weight;
    }
}

impl LossTotal for CubeBackend {
    fn loss_total(
        rates: FloatTensor<Self>,
        losses: FloatTensor<Self>,
        hinge: FloatTensor<Self>,
        ce_weight: f32,
        crlb_weight: f32,
    ) -> FloatTensor<Self> {
        let [rates, losses, hinge] = [rates, losses, hinge].map(contiguous);
        let out = empty_like_rows(&rates, Shape::new([1]));
        let (count, dim) = one_cube();
        loss_total_kernel::launch(
            &out.client,
            count,
            dim,
            rates.into_tensor_arg(),
            losses.into_tensor_arg(),
            hinge.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            ce_weight,
            crlb_weight,
        );
        out
    }
}

impl LossTotalGradient for CubeBackend {
    fn loss_total_gradient(
        rates: FloatTensor<Self>,
        losses: FloatTensor<Self>,
        hinge: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        ce_weight: f32,
        crlb_weight: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [g_rates, g_losses, g_hinge] =
            [&rates, &losses, &hinge].map(|t| empty_like_rows(t, TensorMetadata::shape(t)));
        let upstream = contiguous(upstream);
        let items = TensorMetadata::shape(&g_rates).num_elements();
        let (count, dim) = elementwise(&g_rates, items);
        let args = [&g_rates, &g_losses, &g_hinge].map(|t| t.clone().into_tensor_arg());
        let [gr, gl, gh] = args;
        loss_total_gradient_kernel::launch(
            &g_rates.client,
            count,
            dim,
            upstream.into_tensor_arg(),
            gr,
            gl,
            gh,
            ce_weight,
            crlb_weight,
        );
        (g_rates, g_losses, g_hinge)
    }
}
