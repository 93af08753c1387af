//! The kernels of [`EncodedPlanes`] and [`EncodedPlanesGradient`]: one unit per output entry
//! forward and one per entry of the encoder's output backward, in f32. The plane and the beam
//! structure are compile-time choices. Layouts (row-major, made contiguous first): the encoder's
//! output `[BN, W]`, the ZF directions `[BN, Nt, K]`, the projectors `[BN, Nt, Nt]`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::{EncodedPlanes, EncodedPlanesGradient, plane_shape};
use crate::cube::{contiguous, cx, elementwise, empty_like_rows, mul};

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn encoded_plane_kernel(
    e: &Tensor<f32>,
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    gain_scale: f32,
    #[comptime] plane: usize,
    #[comptime] zero_forcing: bool,
) {
    let (k, nt) = (k as usize, nt as usize);
    let cols = out.shape(2);
    if ABSOLUTE_POS >= out.shape(0) * nt * cols {
        terminate!();
    }
    let row = ABSOLUTE_POS / (nt * cols);
    let n = (ABSOLUTE_POS / cols) % nt;
    let col = ABSOLUTE_POS % cols;
    let base = row * e.shape(1);
    if comptime!(plane < 2) {
        if comptime!(zero_forcing) {
            // `g = sum_m u[m] / sqrt(Nt)`, then `z[n] g`.
            let mut g_re = 0.0f32;
            let mut g_im = 0.0f32;
            for m in 0..nt {
                g_re += e[base + col * nt + m];
                g_im += e[base + (k + 1 + col) * nt + m];
            }
            let at = (row * nt + n) * k + col;
            let f = mul(cx(zr[at], zi[at]), cx(g_re * gain_scale, g_im * gain_scale));
            if comptime!(plane == 0) {
                out[ABSOLUTE_POS] = f.re;
            } else {
                out[ABSOLUTE_POS] = f.im;
            }
        } else {
            out[ABSOLUTE_POS] = e[base + (plane * (k + 1) + col) * nt + n];
        }
    } else {
        // `(P c)[n]`.
        let mut re = 0.0f32;
        let mut im = 0.0f32;
        for m in 0..nt {
            let at = (row * nt + n) * nt + m;
            let p = mul(
                cx(pr[at], pi[at]),
                cx(e[base + k * nt + m], e[base + (2 * k + 1) * nt + m]),
            );
            re += p.re;
            im += p.im;
        }
        if comptime!(plane == 2) {
            out[ABSOLUTE_POS] = re;
        } else {
            out[ABSOLUTE_POS] = im;
        }
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn encoded_plane_gradient_kernel(
    zr: &Tensor<f32>,
    zi: &Tensor<f32>,
    pr: &Tensor<f32>,
    pi: &Tensor<f32>,
    upstream: &Tensor<f32>,
    out: &mut Tensor<f32>,
    k: u32,
    nt: u32,
    gain_scale: f32,
    #[comptime] plane: usize,
    #[comptime] zero_forcing: bool,
) {
    let (k, nt) = (k as usize, nt as usize);
    let width = out.shape(1);
    if ABSOLUTE_POS >= out.shape(0) * width {
        terminate!();
    }
    let row = ABSOLUTE_POS / width;
    let w = ABSOLUTE_POS % width;
    // Entry `m` of column `col` (`K` is the candidate), real (`part` 0) or imaginary part.
    let block = w / nt;
    let m = w % nt;
    let part = block / (k + 1);
    let col = block % (k + 1);
    // `(a, b)`: the weights of the real and imaginary parts of `z` or `P` (module docs).
    let same = part == comptime!(plane % 2);
    let a = select(same, 1.0f32, 0.0f32);
    let b = select(same, 0.0f32, select(part == 0, 1.0f32, -1.0f32));
    let mut value = 0.0f32;
    if part < 2 {
        if comptime!(plane < 2) {
            if col < k {
                if comptime!(zero_forcing) {
                    let mut sum = 0.0f32;
                    for n in 0..nt {
                        let at = (row * nt + n) * k + col;
                        sum += upstream[at] * (a * zr[at] + b * zi[at]);
                    }
                    value = sum * gain_scale;
                } else if same {
                    value = upstream[(row * nt + m) * k + col];
                }
            }
        } else if col == k {
            let mut sum = 0.0f32;
            for n in 0..nt {
                let at = (row * nt + n) * nt + m;
                sum += upstream[row * nt + n] * (a * pr[at] + b * pi[at]);
            }
            value = sum;
        }
    }
    out[ABSOLUTE_POS] = value;
}

impl EncodedPlanes for CubeBackend {
    fn encoded_plane(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        plane: usize,
        users: usize,
        antennas: usize,
        zero_forcing: bool,
        gain_scale: f32,
    ) -> FloatTensor<Self> {
        let [e, zr, zi, pr, pi] = [encoded, zf_re, zf_im, proj_re, proj_im].map(contiguous);
        let rows = TensorMetadata::shape(&e)[0];
        let out = empty_like_rows(&e, plane_shape(rows, plane, users, antennas));
        let (count, dim) = elementwise(&out, TensorMetadata::shape(&out).num_elements());
        let [e, zr, zi, pr, pi] = [e, zr, zi, pr, pi].map(CubeTensor::into_tensor_arg);
        encoded_plane_kernel::launch(
            &out.client,
            count,
            dim,
            e,
            zr,
            zi,
            pr,
            pi,
            out.clone().into_tensor_arg(),
            users as u32,
            antennas as u32,
            gain_scale,
            plane,
            zero_forcing,
        );
        out
    }
}

impl EncodedPlanesGradient for CubeBackend {
    fn encoded_plane_gradient(
        encoded: FloatTensor<Self>,
        zf_re: FloatTensor<Self>,
        zf_im: FloatTensor<Self>,
        proj_re: FloatTensor<Self>,
        proj_im: FloatTensor<Self>,
        upstream: FloatTensor<Self>,
        plane: usize,
        users: usize,
        antennas: usize,
        zero_forcing: bool,
        gain_scale: f32,
    ) -> FloatTensor<Self> {
        let [zr, zi, pr, pi, g] = [zf_re, zf_im, proj_re, proj_im, upstream].map(contiguous);
        let out = empty_like_rows(&encoded, TensorMetadata::shape(&encoded));
        let (count, dim) = elementwise(&out, TensorMetadata::shape(&out).num_elements());
        let [zr, zi, pr, pi, g] = [zr, zi, pr, pi, g].map(CubeTensor::into_tensor_arg);
        encoded_plane_gradient_kernel::launch(
            &out.client,
            count,
            dim,
            zr,
            zi,
            pr,
            pi,
            g,
            out.clone().into_tensor_arg(),
            users as u32,
            antennas as u32,
            gain_scale,
            plane,
            zero_forcing,
        );
        out
    }
}
