//! Test helpers shared by the fused operations' tests: random complex tensors and the
//! comparison of a fused operation's outputs and gradients with the composed ones.

use burn::tensor::Device;
use isac_channel::rng::stream;
use rand_distr::{Distribution, StandardNormal};

use crate::tensor::from_values;
use crate::{ComplexTensor, CpuDevice};

/// The autodiff devices that run the fused operations with hand-written kernels: every CPU
/// device and, in a build with the cargo feature `wgpu`, the wgpu device where an adapter
/// answers (required, not skipped, when `ISAC_REQUIRE_WGPU` is set, as in CI).
pub(crate) fn kernel_devices() -> Vec<Device> {
    let mut devices: Vec<Device> = CpuDevice::all()
        .into_iter()
        .map(CpuDevice::autodiff)
        .collect();
    if cfg!(feature = "wgpu") {
        match crate::ModelDevice::Wgpu.open() {
            Ok(gpu) => {
                assert!(
                    crate::cube::supports(&gpu),
                    "the wgpu device runs the kernels"
                );
                devices.push(gpu.autodiff());
            }
            Err(e) if std::env::var_os("ISAC_REQUIRE_WGPU").is_none() => {
                eprintln!("wgpu skipped: {e}")
            }
            Err(e) => panic!("{e}"),
        }
    }
    devices
}

/// A complex tensor of `shape` with i.i.d. standard normal parts from the stream `seed`.
pub(crate) fn random_complex(shape: [usize; 3], seed: u64, device: &Device) -> ComplexTensor<3> {
    let mut rng = stream(seed, [0x7e57, 0, 0]);
    let len = shape.iter().product();
    let mut part = || {
        let v: Vec<f32> = (0..len).map(|_| StandardNormal.sample(&mut rng)).collect();
        from_values(v, shape, device).expect("matching length")
    };
    ComplexTensor {
        re: part(),
        im: part(),
    }
}

/// `t` as a leaf that records gradients.
pub(crate) fn tracked(t: &ComplexTensor<3>) -> ComplexTensor<3> {
    ComplexTensor {
        re: t.re.clone().require_grad(),
        im: t.im.clone().require_grad(),
    }
}

/// Every fused output within `1e-4` of the largest composed value of its group (none of which
/// may be all but zero, so the comparison cannot pass vacuously).
pub(crate) fn assert_agree(fused: &[Vec<f32>], composed: &[Vec<f32>], what: &str) {
    assert_eq!(fused.len(), composed.len());
    for (g, (f, c)) in fused.iter().zip(composed).enumerate() {
        assert_eq!(f.len(), c.len(), "{what}, group {g}");
        let scale = c.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(scale > 1e-3, "{what}, group {g}: {c:?}");
        for (a, e) in f.iter().zip(c) {
            assert!(
                (a - e).abs() < 1e-4 * scale,
                "{what}, group {g}: {a} vs {e}"
            );
        }
    }
}
