//! Where the GPU devices run hand-written kernels: cubecl kernels (cargo feature `wgpu`) of the
//! operations that the CPU devices run as host loops (see [`crate::host`]), so that one such
//! operation is one launch forward and one backward instead of tens of small kernels.

use burn::tensor::Device;

/// Whether `device` is a cubecl device (Burn's wgpu device and its autodiff device) in a build
/// with the cargo feature `wgpu`; `false` in every other build.
pub(crate) fn supports(device: &Device) -> bool {
    #[cfg(feature = "wgpu")]
    {
        matches!(
            device.as_dispatch().clone().inner(),
            burn::backend::DispatchDevice::Cube(_)
        )
    }
    #[cfg(not(feature = "wgpu"))]
    {
        let _ = device;
        false
    }
}

/// Whether `device` runs the fused operations that have a kernel here as well as host loops:
/// every CPU device ([`crate::host::supports`]) and the cubecl devices ([`supports`]).
pub(crate) fn runs_fused(device: &Device) -> bool {
    crate::host::supports(device) || supports(device)
}

#[cfg(feature = "wgpu")]
pub(crate) use complex::{Cx, add, conj_mul, cx, mul, re_conj_mul, scale};
#[cfg(feature = "wgpu")]
pub(crate) use launch::{contiguous, elementwise, empty_like_rows, received_shape};
#[cfg(feature = "wgpu")]
pub(crate) use reduce::{CUBE_WIDTH, cube_sum, one_cube};
#[cfg(feature = "wgpu")]
pub(crate) use store::put;
#[cfg(feature = "wgpu")]
pub(crate) use users::{gains, user_dot, users_adjoint};

/// Complex arithmetic inside kernels.
#[cfg(feature = "wgpu")]
mod complex {
    use burn_cubecl::cubecl;
    use burn_cubecl::cubecl::prelude::*;

    /// A complex number in a kernel.
    #[derive(CubeType, Clone, Copy)]
    #[expand(derive(Clone, Copy))]
    pub(crate) struct Cx {
        pub(crate) re: f32,
        pub(crate) im: f32,
    }

    #[cube]
    pub(crate) fn cx(re: f32, im: f32) -> Cx {
        Cx { re, im }
    }

    #[cube]
    pub(crate) fn add(a: Cx, b: Cx) -> Cx {
        cx(a.re + b.re, a.im + b.im)
    }

    #[cube]
    pub(crate) fn mul(a: Cx, b: Cx) -> Cx {
        cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }

    /// `conj(a) b`.
    #[cube]
    pub(crate) fn conj_mul(a: Cx, b: Cx) -> Cx {
        cx(a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re)
    }

    /// `Re(conj(a) b)`.
    #[cube]
    pub(crate) fn re_conj_mul(a: Cx, b: Cx) -> f32 {
        a.re * b.re + a.im * b.im
    }

    #[cube]
    pub(crate) fn scale(a: Cx, s: f32) -> Cx {
        cx(a.re * s, a.im * s)
    }
}

/// The users' products `A = U F`, `B = U V` inside kernels (`U` `[B, K, Nt]`, `F` `[B, Nt,
/// K]`, `V` `[B, Nt, J]`, row-major), shared by the received-signal and secrecy kernels.
#[cfg(feature = "wgpu")]
mod users {
    use burn_cubecl::cubecl;
    use burn_cubecl::cubecl::prelude::*;

    use super::{Cx, conj_mul, cx, mul, re_conj_mul};

    /// `sum_n U[b, i, n] X[b, n, col]` for the `[B, Nt, width]` block `X`.
    #[cube]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn user_dot(
        ur: &Tensor<f32>,
        ui: &Tensor<f32>,
        xr: &Tensor<f32>,
        xi: &Tensor<f32>,
        b: usize,
        i: usize,
        k: usize,
        nt: usize,
        width: usize,
        col: usize,
    ) -> Cx {
        let mut re = 0.0f32;
        let mut im = 0.0f32;
        for n in 0..nt {
            let u = cx(ur[(b * k + i) * nt + n], ui[(b * k + i) * nt + n]);
            let p = mul(
                u,
                cx(
                    xr[(b * nt + n) * width + col],
                    xi[(b * nt + n) * width + col],
                ),
            );
            re += p.re;
            im += p.im;
        }
        cx(re, im)
    }

    /// `sum_i conj(U[b, i, n]) e_i` for one column's entries `e` of `G_A` or `G_B` (interleaved
    /// real and imaginary parts, `K` of them): entry `n` of that column of `U^H G`.
    #[cube]
    pub(crate) fn users_adjoint(
        ur: &Tensor<f32>,
        ui: &Tensor<f32>,
        entries: &Array<f32>,
        b: usize,
        n: usize,
        nt: usize,
        #[comptime] k: usize,
    ) -> Cx {
        let mut re = 0.0f32;
        let mut im = 0.0f32;
        for i in 0..k {
            let u = cx(ur[(b * k + i) * nt + n], ui[(b * k + i) * nt + n]);
            let p = conj_mul(u, cx(entries[2 * i], entries[2 * i + 1]));
            re += p.re;
            im += p.im;
        }
        cx(re, im)
    }

    /// User `i`'s gains in sample `b`: `T_i = sum_c |A_ic|^2 + sum_c |B_ic|^2`, its own
    /// `|A_ii|^2`, and the entry of `[A_i, B_i]` in column `keep` (zero past the columns).
    #[derive(CubeType, Clone, Copy)]
    #[expand(derive(Clone, Copy))]
    pub(crate) struct Gains {
        pub(crate) total: f32,
        pub(crate) own: f32,
        pub(crate) kept: Cx,
    }

    #[cube]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gains(
        ur: &Tensor<f32>,
        ui: &Tensor<f32>,
        fr: &Tensor<f32>,
        fi: &Tensor<f32>,
        vr: &Tensor<f32>,
        vi: &Tensor<f32>,
        b: usize,
        i: usize,
        k: usize,
        nt: usize,
        j: usize,
        keep: usize,
    ) -> Gains {
        let mut total = 0.0f32;
        let mut own = 0.0f32;
        let mut kept_re = 0.0f32;
        let mut kept_im = 0.0f32;
        for c in 0..k {
            let a = user_dot(ur, ui, fr, fi, b, i, k, nt, k, c);
            total += re_conj_mul(a, a);
            if c == i {
                own = re_conj_mul(a, a);
            }
            if c == keep {
                kept_re = a.re;
                kept_im = a.im;
            }
        }
        for c in 0..j {
            let a = user_dot(ur, ui, vr, vi, b, i, k, nt, j, c);
            total += re_conj_mul(a, a);
            if k + c == keep {
                kept_re = a.re;
                kept_im = a.im;
            }
        }
        Gains {
            total,
            own,
            kept: cx(kept_re, kept_im),
        }
    }
}

/// Sums over a whole batch in one cube: each of its [`CUBE_WIDTH`] units takes a strided share
/// of the items and the cube adds the shares in shared memory, so that no unit runs a serial
/// loop over the batch (on a GPU each step of such a loop waits on a load).
/// Writing an entry that another operation's gradient may already hold.
#[cfg(feature = "wgpu")]
mod store {
    use burn_cubecl::cubecl;
    use burn_cubecl::cubecl::prelude::*;

    /// `out[at] = value`, or `out[at] += value` where `accumulate` (a gradient kernel that sums
    /// several operations' gradients of one tensor, each unit owning its entries).
    #[cube]
    pub(crate) fn put(out: &mut Tensor<f32>, at: usize, value: f32, #[comptime] accumulate: bool) {
        if comptime!(accumulate) {
            out[at] += value;
        } else {
            out[at] = value;
        }
    }
}

#[cfg(feature = "wgpu")]
mod reduce {
    use burn_cubecl::cubecl;
    use burn_cubecl::cubecl::prelude::*;

    /// Units of a summing cube (a power of two).
    pub(crate) const CUBE_WIDTH: usize = 256;

    /// `log2 CUBE_WIDTH`, the levels of the sum's tree.
    const LEVELS: usize = 8;

    /// The sum of every unit's `share`, in every unit (the last level's barrier comes before
    /// the read); every unit of the cube must call it.
    #[cube]
    pub(crate) fn cube_sum(share: f32) -> f32 {
        let unit = UNIT_POS as usize;
        let mut sums = Shared::<[f32]>::new_slice(CUBE_WIDTH);
        sums[unit] = share;
        sync_cube();
        #[unroll]
        for level in 1..LEVELS + 1 {
            let stride = CUBE_WIDTH >> level;
            if unit < stride {
                let other = sums[unit + stride];
                sums[unit] += other;
            }
            sync_cube();
        }
        sums[0]
    }

    /// The cube count and dimension of one summing cube.
    pub(crate) fn one_cube() -> (CubeCount, CubeDim) {
        (
            CubeCount::Static(1, 1, 1),
            CubeDim::new_1d(CUBE_WIDTH as u32),
        )
    }
}

#[cfg(feature = "wgpu")]
mod launch {
    use burn::tensor::Shape;
    use burn_cubecl::cubecl::calculate_cube_count_elemwise;
    use burn_cubecl::cubecl::prelude::{CubeCount, CubeDim};
    use burn_cubecl::kernel::into_contiguous;
    use burn_cubecl::ops::numeric::empty_device_dtype;
    use burn_cubecl::tensor::CubeTensor;

    /// `tensor` with row-major strides (the kernels index their operands by hand).
    pub(crate) fn contiguous(tensor: CubeTensor) -> CubeTensor {
        into_contiguous(tensor)
    }

    /// An uninitialised tensor of `shape` on the device and with the dtype of `like`.
    pub(crate) fn empty_like_rows(like: &CubeTensor, shape: Shape) -> CubeTensor {
        empty_device_dtype(like.client.clone(), like.device.clone(), shape, like.dtype)
    }

    /// `[B, K, Nt, J]` of the received-signal operations' operands (`U`, `F`, `V`, then the
    /// sent vector or symbols and the noise, real and imaginary parts).
    pub(crate) fn received_shape(t: &[CubeTensor; 10]) -> [usize; 4] {
        let s = |i: usize| burn::backend::TensorMetadata::shape(&t[i]);
        [s(0)[0], s(0)[1], s(0)[2], s(4)[2]]
    }

    /// The cube count and dimension for one unit per item of `items`.
    pub(crate) fn elementwise(like: &CubeTensor, items: usize) -> (CubeCount, CubeDim) {
        let dim = CubeDim::new(&like.client, items);
        (calculate_cube_count_elemwise(&like.client, items, dim), dim)
    }
}
