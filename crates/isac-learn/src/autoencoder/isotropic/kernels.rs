//! The kernels of [`IsotropicJamming`] and [`IsotropicJammingGradient`], in f32: one unit per
//! entry of `V` forward (each sums its row's candidate power, `Nt` loads), one unit per row
//! backward (its `Nt x Nt` sum of `Re(conj(G) P)`, then its candidate's entries and share).
//! Layouts (row-major, made contiguous first): the candidate `[BN, Nt, 1]`, the projectors and
//! `V` `[BN, Nt, Nt]`, the share and the mask `[BN, 1, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::FLOOR;
use super::{Isotropic, IsotropicJamming, IsotropicJammingGradient};
use crate::cube::{contiguous, elementwise, empty_like_rows};

/// Compile-time choices of [`Isotropic`], and which parts of `V` have a gradient (backward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Flags {
    share: bool,
    sense: bool,
    present: [bool; 2],
}

/// Row `row`'s `(zeta q, sqrt(zeta q / D + f), mask)`.
#[cube]
fn row_terms(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    share: &Tensor<f32>,
    sense: &Tensor<f32>,
    row: usize,
    nt: usize,
    null_dimension: f32,
    #[comptime] flags: Flags,
) -> (f32, f32, f32) {
    let mut zeta = 0.0f32;
    for n in 0..nt {
        let at = row * nt + n;
        zeta += cr[at] * cr[at] + ci[at] * ci[at];
    }
    let mut power = zeta;
    if comptime!(flags.share) {
        power *= share[row];
    }
    let mut mask = 1.0f32;
    if comptime!(flags.sense) {
        mask = sense[row];
    }
    let floor = FLOOR / null_dimension;
    (zeta, f32::sqrt(power / null_dimension + floor), mask)
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn isotropic_jamming_kernel(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    share: &Tensor<f32>,
    sense: &Tensor<f32>,
    vr: &mut Tensor<f32>,
    vi: &mut Tensor<f32>,
    null_dimension: f32,
    #[comptime] flags: Flags,
) {
    let nt = pr.shape(1);
    if ABSOLUTE_POS >= pr.shape(0) * nt * nt {
        terminate!();
    }
    let row = ABSOLUTE_POS / (nt * nt);
    let (_, root, mask) = row_terms(cr, ci, share, sense, row, nt, null_dimension, flags);
    let a = (root - f32::sqrt(FLOOR / null_dimension)) * mask;
    vr[ABSOLUTE_POS] = pr[ABSOLUTE_POS] * a;
    vi[ABSOLUTE_POS] = pi[ABSOLUTE_POS] * a;
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn isotropic_jamming_gradient_kernel(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    share: &Tensor<f32>,
    sense: &Tensor<f32>,
    gr: &Tensor<f32>,
    gi: &Tensor<f32>,
    gcr: &mut Tensor<f32>,
    gci: &mut Tensor<f32>,
    gq: &mut Tensor<f32>,
    null_dimension: f32,
    #[comptime] flags: Flags,
) {
    let nt = pr.shape(1);
    let row = ABSOLUTE_POS;
    if row >= pr.shape(0) {
        terminate!();
    }
    // `dL/da`.
    let mut da = 0.0f32;
    for e in 0..nt * nt {
        let at = row * nt * nt + e;
        if comptime!(flags.present[0]) {
            da += gr[at] * pr[at];
        }
        if comptime!(flags.present[1]) {
            da += gi[at] * pi[at];
        }
    }
    let (zeta, root, mask) = row_terms(cr, ci, share, sense, row, nt, null_dimension, flags);
    let u = da * mask / (2.0f32 * null_dimension * root);
    let mut q = 1.0f32;
    if comptime!(flags.share) {
        q = share[row];
        gq[row] = u * zeta;
    }
    for n in 0..nt {
        let at = row * nt + n;
        gcr[at] = 2.0f32 * q * u * cr[at];
        gci[at] = 2.0f32 * q * u * ci[at];
    }
}

impl Isotropic {
    fn flags(self, present: [bool; 2]) -> Flags {
        Flags {
            share: self.share,
            sense: self.sense,
            present,
        }
    }
}

impl IsotropicJamming for CubeBackend {
    fn isotropic_jamming(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        share: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let t = [candidate_re, candidate_im, proj_re, proj_im, share, sense].map(contiguous);
        let shape = TensorMetadata::shape(&t[2]);
        let [vr, vi] = [0, 1].map(|_| empty_like_rows(&t[2], shape.clone()));
        let (count, dim) = elementwise(&vr, shape.num_elements());
        let client = vr.client.clone();
        let [cr, ci, pr, pi, q, m] = t.map(CubeTensor::into_tensor_arg);
        isotropic_jamming_kernel::launch(
            &client,
            count,
            dim,
            cr,
            ci,
            pr,
            pi,
            q,
            m,
            vr.clone().into_tensor_arg(),
            vi.clone().into_tensor_arg(),
            settings.null_dimension as f32,
            settings.flags([true; 2]),
        );
        (vr, vi)
    }
}

impl IsotropicJammingGradient for CubeBackend {
    fn isotropic_jamming_gradient(
        candidate_re: FloatTensor<Self>,
        candidate_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        share: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        upstream_re: FloatTensor<Self>,
        upstream_im: FloatTensor<Self>,
        settings: Isotropic,
        present: [bool; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let t = [
            candidate_re,
            candidate_im,
            proj_re,
            proj_im,
            share,
            sense,
            upstream_re,
            upstream_im,
        ]
        .map(contiguous);
        let [gcr, gci] = [0, 1].map(|_| empty_like_rows(&t[0], TensorMetadata::shape(&t[0])));
        let gq = empty_like_rows(&t[4], TensorMetadata::shape(&t[4]));
        let rows = TensorMetadata::shape(&t[2])[0];
        let (count, dim) = elementwise(&gcr, rows);
        let client = gcr.client.clone();
        let [cr, ci, pr, pi, q, m, gr, gi] = t.map(CubeTensor::into_tensor_arg);
        isotropic_jamming_gradient_kernel::launch(
            &client,
            count,
            dim,
            cr,
            ci,
            pr,
            pi,
            q,
            m,
            gr,
            gi,
            gcr.clone().into_tensor_arg(),
            gci.clone().into_tensor_arg(),
            gq.clone().into_tensor_arg(),
            settings.null_dimension as f32,
            settings.flags(present),
        );
        (gcr, gci, gq)
    }
}
