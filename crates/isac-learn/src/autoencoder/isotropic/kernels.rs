//! The kernels of [`IsotropicJamming`] and [`IsotropicJammingGradient`], in f32: one unit per
//! entry of `V` forward (each sums its row's candidate power, `Nt` loads), one unit per row
//! backward (its `Nt x Nt` sum of `Re(conj(G) P)`, then its candidate's entries and the row of
//! the encoder's output). Layouts (row-major, made contiguous first): the candidate `[BN, Nt,
//! 1]`, the projectors `[BN, Nt, Nt]`, `V` `[BN, Nt, C]` (`C = Nt + 1` with the mix's steered
//! column first, else `Nt`), the encoder's output `[BN, W]`, the mask `[BN, 1, 1]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::super::FLOOR;
use super::{Isotropic, IsotropicJamming, IsotropicJammingGradient, Power};
use crate::cube::{contiguous, elementwise, empty_like_rows};

/// Compile-time choices of [`Isotropic`], and which parts of `V` have a gradient (backward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Flags {
    mixed: bool,
    budget: bool,
    sense: bool,
    present: [bool; 2],
}

/// What a row's entries share.
#[derive(CubeType)]
struct Row {
    /// `zeta = |c|^2`.
    zeta: f32,
    /// `beta` and `q = 1 - beta` (0 and 1 without the mix).
    beta: f32,
    q: f32,
    /// `sqrt(q zeta / D + f)`.
    root: f32,
    /// The isotropic amplitude `a`.
    a: f32,
    mask: f32,
}

#[cube]
#[allow(clippy::too_many_arguments)]
fn row_terms(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    encoded: &Tensor<f32>,
    sense: &Tensor<f32>,
    row: usize,
    rows: usize,
    nt: usize,
    null_dimension: f32,
    share: f32,
    #[comptime] flags: Flags,
) -> Row {
    let mut mask = 1.0f32;
    if comptime!(flags.sense) {
        mask = sense[row];
    }
    let mut zeta = 0.0f32;
    let mut beta = 0.0f32;
    let mut root = 0.0f32;
    let a = if comptime!(flags.budget) {
        let budget = encoded[row / (rows / encoded.shape(0))];
        f32::sqrt(share * budget / null_dimension) * mask
    } else {
        for n in 0..nt {
            let at = row * nt + n;
            zeta += cr[at] * cr[at] + ci[at] * ci[at];
        }
        if comptime!(flags.mixed) {
            let width = encoded.shape(1);
            let logit = encoded[row * width + width - 1];
            beta = 1.0f32 / (1.0f32 + f32::exp(-logit));
        }
        let floor = FLOOR / null_dimension;
        root = f32::sqrt((1.0f32 - beta) * zeta / null_dimension + floor);
        (root - f32::sqrt(floor)) * mask
    };
    Row {
        zeta,
        beta,
        q: 1.0f32 - beta,
        root,
        a,
        mask,
    }
}

/// The number of columns before the isotropic block: 1 (the steered column) in the mix, else 0.
#[cube]
fn steered_columns(#[comptime] flags: Flags) -> usize {
    let mut columns = 0usize;
    if comptime!(flags.mixed) {
        columns = 1;
    }
    columns
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn isotropic_jamming_kernel(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    encoded: &Tensor<f32>,
    sense: &Tensor<f32>,
    vr: &mut Tensor<f32>,
    vi: &mut Tensor<f32>,
    null_dimension: f32,
    share: f32,
    #[comptime] flags: Flags,
) {
    let nt = pr.shape(1);
    let off = steered_columns(flags);
    let columns = nt + off;
    if ABSOLUTE_POS >= pr.shape(0) * nt * columns {
        terminate!();
    }
    let row = ABSOLUTE_POS / (nt * columns);
    let n = (ABSOLUTE_POS / columns) % nt;
    let j = ABSOLUTE_POS % columns;
    let rows = pr.shape(0);
    let t = row_terms(
        cr,
        ci,
        encoded,
        sense,
        row,
        rows,
        nt,
        null_dimension,
        share,
        flags,
    );
    if j < off {
        let root_beta = f32::sqrt(t.beta);
        vr[ABSOLUTE_POS] = root_beta * cr[row * nt + n];
        vi[ABSOLUTE_POS] = root_beta * ci[row * nt + n];
    } else {
        let at = (row * nt + n) * nt + j - off;
        vr[ABSOLUTE_POS] = pr[at] * t.a;
        vi[ABSOLUTE_POS] = pi[at] * t.a;
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn isotropic_jamming_gradient_kernel(
    cr: &Tensor<f32>,
    ci: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    encoded: &Tensor<f32>,
    sense: &Tensor<f32>,
    gr: &Tensor<f32>,
    gi: &Tensor<f32>,
    gcr: &mut Tensor<f32>,
    gci: &mut Tensor<f32>,
    ge: &mut Tensor<f32>,
    null_dimension: f32,
    #[comptime] flags: Flags,
) {
    let nt = pr.shape(1);
    let row = ABSOLUTE_POS;
    if row >= pr.shape(0) {
        terminate!();
    }
    let off = steered_columns(flags);
    let columns = nt + off;
    // `dL/da`, and the steered column's `g`.
    let mut da = 0.0f32;
    let mut g = 0.0f32;
    for n in 0..nt {
        let start = (row * nt + n) * columns;
        for m in 0..nt {
            let at = (row * nt + n) * nt + m;
            if comptime!(flags.present[0]) {
                da += gr[start + off + m] * pr[at];
            }
            if comptime!(flags.present[1]) {
                da += gi[start + off + m] * pi[at];
            }
        }
        if comptime!(flags.mixed && flags.present[0]) {
            g += gr[start] * cr[row * nt + n];
        }
        if comptime!(flags.mixed && flags.present[1]) {
            g += gi[start] * ci[row * nt + n];
        }
    }
    // Never DL_AN's budgets (data: no gradient), so no share.
    let rows = pr.shape(0);
    let t = row_terms(
        cr,
        ci,
        encoded,
        sense,
        row,
        rows,
        nt,
        null_dimension,
        1.0f32,
        flags,
    );
    let u = da * t.mask / (2.0f32 * null_dimension * t.root);
    let root_beta = f32::sqrt(t.beta);
    for n in 0..nt {
        let at = row * nt + n;
        let mut steered_re = 0.0f32;
        let mut steered_im = 0.0f32;
        if comptime!(flags.mixed && flags.present[0]) {
            steered_re = root_beta * gr[at * columns];
        }
        if comptime!(flags.mixed && flags.present[1]) {
            steered_im = root_beta * gi[at * columns];
        }
        gcr[at] = 2.0f32 * t.q * u * cr[at] + steered_re;
        gci[at] = 2.0f32 * t.q * u * ci[at] + steered_im;
    }
    if comptime!(flags.mixed) {
        let width = encoded.shape(1);
        for w in 0..width - 1 {
            ge[row * width + w] = 0.0f32;
        }
        let slope = t.beta * t.q;
        ge[row * width + width - 1] = g * root_beta * t.q / 2.0f32 - u * t.zeta * slope;
    }
}

impl Isotropic {
    fn flags(self, present: [bool; 2]) -> Flags {
        Flags {
            mixed: self.power == Power::Mixed,
            budget: self.power == Power::Budget,
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
        encoded: FloatTensor<Self>,
        sense: FloatTensor<Self>,
        share: f32,
        settings: Isotropic,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let t = [candidate_re, candidate_im, proj_re, proj_im, encoded, sense].map(contiguous);
        let shape = settings.jamming_shape(&TensorMetadata::shape(&t[2]));
        let [vr, vi] = [0, 1].map(|_| empty_like_rows(&t[2], shape.clone()));
        let (count, dim) = elementwise(&vr, shape.num_elements());
        let client = vr.client.clone();
        let [cr, ci, pr, pi, e, m] = t.map(CubeTensor::into_tensor_arg);
        isotropic_jamming_kernel::launch(
            &client,
            count,
            dim,
            cr,
            ci,
            pr,
            pi,
            e,
            m,
            vr.clone().into_tensor_arg(),
            vi.clone().into_tensor_arg(),
            settings.null_dimension as f32,
            share,
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
        encoded: FloatTensor<Self>,
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
            encoded,
            sense,
            upstream_re,
            upstream_im,
        ]
        .map(contiguous);
        let [gcr, gci] = [0, 1].map(|_| empty_like_rows(&t[0], TensorMetadata::shape(&t[0])));
        let ge = empty_like_rows(&t[4], TensorMetadata::shape(&t[4]));
        let rows = TensorMetadata::shape(&t[2])[0];
        let (count, dim) = elementwise(&gcr, rows);
        let client = gcr.client.clone();
        let [cr, ci, pr, pi, e, m, gr, gi] = t.map(CubeTensor::into_tensor_arg);
        isotropic_jamming_gradient_kernel::launch(
            &client,
            count,
            dim,
            cr,
            ci,
            pr,
            pi,
            e,
            m,
            gr,
            gi,
            gcr.clone().into_tensor_arg(),
            gci.clone().into_tensor_arg(),
            ge.clone().into_tensor_arg(),
            settings.null_dimension as f32,
            settings.flags(present),
        );
        (gcr, gci, ge)
    }
}
