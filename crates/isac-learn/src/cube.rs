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
pub(crate) use launch::{contiguous, elementwise, empty_like_rows};

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

    /// The cube count and dimension for one unit per item of `items`.
    pub(crate) fn elementwise(like: &CubeTensor, items: usize) -> (CubeCount, CubeDim) {
        let dim = CubeDim::new(&like.client, items);
        (calculate_cube_count_elemwise(&like.client, items, dim), dim)
    }
}
