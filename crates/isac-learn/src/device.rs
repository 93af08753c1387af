use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use burn::tensor::Device;

use crate::LearnError;

/// The CPU backends every model of this crate is tested on. GPU devices (`Device::cuda(0)`,
/// `Device::wgpu(..)`) run the same models unchanged once their Burn feature is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CpuDevice {
    /// Burn's pure-Rust CPU backend, the default.
    Flex,
    /// Burn's deprecated NdArray backend (cargo feature `ndarray`).
    #[cfg(feature = "ndarray")]
    NdArray,
}

impl CpuDevice {
    /// Every CPU device compiled in, default first.
    pub fn all() -> Vec<Self> {
        vec![
            Self::Flex,
            #[cfg(feature = "ndarray")]
            Self::NdArray,
        ]
    }

    /// The inference device.
    pub fn device(self) -> Device {
        match self {
            Self::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // kept reachable on purpose: both CPU backends run the same code
            Self::NdArray => Device::ndarray(),
        }
    }

    /// The same device recording gradients.
    pub fn autodiff(self) -> Device {
        self.device().autodiff()
    }

    /// `"flex"` or `"ndarray"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            #[cfg(feature = "ndarray")]
            Self::NdArray => "ndarray",
        }
    }
}

impl fmt::Display for CpuDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The devices a user can ask for (`--device flex|ndarray|wgpu`): the CPU backends and Burn's
/// wgpu GPU device. Every variant exists in every build, so a name always parses; [`Self::open`]
/// says which cargo feature a device that was not compiled in needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelDevice {
    /// Burn's pure-Rust CPU backend, the default.
    Flex,
    /// Burn's NdArray CPU backend (cargo feature `ndarray`).
    NdArray,
    /// Burn's wgpu device (Vulkan, Metal, DX12; cargo feature `wgpu`, and `fusion` for Burn's
    /// kernel fusion).
    Wgpu,
}

/// How long [`ModelDevice::open`] waits for a wgpu adapter before calling it missing.
pub const WGPU_INIT_TIMEOUT: Duration = Duration::from_secs(20);

impl ModelDevice {
    /// Every device name, compiled in or not.
    pub const ALL: [Self; 3] = [Self::Flex, Self::NdArray, Self::Wgpu];

    /// `"flex"`, `"ndarray"` or `"wgpu"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::NdArray => "ndarray",
            Self::Wgpu => "wgpu",
        }
    }

    /// The cargo feature (of `isac-learn`, forwarded by the `isac` package and xtask) that
    /// compiles the device in; `None` for the default.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Self::Flex => None,
            Self::NdArray => Some("ndarray"),
            Self::Wgpu => Some("wgpu"),
        }
    }

    /// Whether this build has the device.
    pub fn is_compiled(self) -> bool {
        match self {
            Self::Flex => true,
            Self::NdArray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// Every device this build has, default first.
    pub fn compiled() -> Vec<Self> {
        Self::ALL.into_iter().filter(|d| d.is_compiled()).collect()
    }

    /// The inference device (`.autodiff()` records gradients). A device that was not compiled
    /// in is [`LearnError::DeviceUnavailable`] naming its feature; so is `wgpu` where no adapter
    /// answers within [`WGPU_INIT_TIMEOUT`] (never a hang). The wgpu runtime is initialised once
    /// per process and shared by later calls.
    pub fn open(self) -> Result<Device, LearnError> {
        let unavailable = |reason: String| LearnError::DeviceUnavailable {
            device: self.name(),
            reason,
        };
        if !self.is_compiled() {
            return Err(unavailable(format!(
                "not compiled in; rebuild with the cargo feature `{}`",
                self.feature().unwrap_or_default()
            )));
        }
        match self {
            Self::Flex => Ok(CpuDevice::Flex.device()),
            #[cfg(feature = "ndarray")]
            Self::NdArray => Ok(CpuDevice::NdArray.device()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => wgpu::open().map_err(unavailable),
            #[allow(unreachable_patterns)]
            _ => unreachable!("is_compiled covers every device"),
        }
    }

    /// Runs `job` on a lane of the device, for work beside other work (models trained side by
    /// side). On `wgpu` a lane is a runtime of its own on the adapter, device and queue that
    /// [`Self::open`] opened: its own host threads (cubecl's server, fusion's stream), memory
    /// pools and compiled kernels, so that its steps do not wait in one server thread's queue
    /// behind another job's. The first lane is [`Self::open`]'s device; a job gets a free lane,
    /// or a new one while there are fewer than [`Self::lane_limit`], else shares the least
    /// busy. Lanes are kept for the process (Burn never releases a runtime). A lane's tensors are
    /// its own: [`burn::module::Module::to_device`] moves a model off it. On the CPU devices
    /// every job gets [`Self::open`]'s device.
    pub fn on_lane<T>(self, job: impl FnOnce(&Device) -> T) -> Result<T, LearnError> {
        let device = self.open()?;
        match self {
            #[cfg(feature = "wgpu")]
            Self::Wgpu => wgpu::on_lane(self.lane_limit(), job).map_err(|reason| {
                LearnError::DeviceUnavailable {
                    device: self.name(),
                    reason,
                }
            }),
            _ => Ok(job(&device)),
        }
    }

    /// How many lanes [`Self::on_lane`] opens at most: 1 on the CPU devices; on `wgpu`, the
    /// environment's `ISAC_WGPU_LANES` where it is a positive integer, else one per
    /// [`HOST_THREADS_PER_LANE`] cores of the host (at least one), since each lane's host
    /// threads need cores of their own.
    pub fn lane_limit(self) -> usize {
        if self != Self::Wgpu {
            return 1;
        }
        let asked = std::env::var("ISAC_WGPU_LANES").ok();
        match asked
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
        {
            Some(n) => n,
            None => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                (cores / HOST_THREADS_PER_LANE).max(1)
            }
        }
    }
}

/// Host threads a job on a wgpu lane keeps busy: the one that steps (Burn's autodiff graph),
/// fusion's stream, cubecl's server and the thread that draws the next batch.
pub const HOST_THREADS_PER_LANE: usize = 4;

impl fmt::Display for ModelDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelDevice {
    type Err = LearnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|d| d.name()).collect();
                LearnError::invalid("device", s, format!("must be one of {}", names.join(", ")))
            })
    }
}

/// Counts the GPU kernels Burn's runtime launches, on every thread, for as long as it lives: a
/// step's kernel count is what bounds it from below on a GPU, where each launch pays a submit
/// (issue 19). Exists in every build; [`KernelLaunches::watch`] is `None` without the cargo
/// feature `wgpu` (the CPU devices launch no kernels). One watch at a time per process: a
/// second replaces the first while it lives.
pub struct KernelLaunches {
    #[cfg(feature = "wgpu")]
    counter: std::sync::Arc<wgpu::LaunchCounter>,
    #[cfg(feature = "wgpu")]
    _observation: burn::cubecl::logging::LaunchObservation,
    /// Keeps the struct unconstructible outside [`Self::watch`] in every build.
    _private: (),
}

impl KernelLaunches {
    /// Starts counting; `None` where no GPU runtime is compiled in.
    pub fn watch() -> Option<Self> {
        #[cfg(feature = "wgpu")]
        {
            let counter = std::sync::Arc::new(wgpu::LaunchCounter::default());
            let _observation = burn::cubecl::logging::LaunchObservation::new(counter.clone());
            Some(Self {
                counter,
                _observation,
                _private: (),
            })
        }
        #[cfg(not(feature = "wgpu"))]
        None
    }

    /// Kernels launched since [`Self::watch`].
    pub fn count(&self) -> u64 {
        #[cfg(feature = "wgpu")]
        {
            self.counter.0.load(std::sync::atomic::Ordering::Relaxed)
        }
        #[cfg(not(feature = "wgpu"))]
        0 // no GPU runtime, no kernels (and `watch` gave no counter)
    }
}

impl fmt::Debug for KernelLaunches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelLaunches")
            .field("count", &self.count())
            .finish()
    }
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use std::sync::{Mutex, OnceLock, mpsc};

    use burn::tensor::wgpu::WgpuSetup;
    use burn::tensor::{Device, Tensor};

    use super::WGPU_INIT_TIMEOUT;

    /// The observer behind [`super::KernelLaunches`]: one relaxed increment per launch.
    #[derive(Default)]
    pub(super) struct LaunchCounter(pub(super) std::sync::atomic::AtomicU64);

    impl burn::cubecl::logging::LaunchObserver for LaunchCounter {
        fn launched(&self, _kernel: &'static str) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The process's wgpu device and the handles its runtime was set up on, or why there is
    /// none. Burn's runtime can be initialised only once per process, so the outcome is kept.
    static DEVICE: OnceLock<Result<(Device, WgpuSetup), String>> = OnceLock::new();

    /// Initialises the default adapter and reads one value back, on a thread watched by a
    /// timeout: a missing driver can stall inside the graphics stack rather than fail.
    pub(super) fn open() -> Result<Device, String> {
        opened().map(|(device, _)| device.clone())
    }

    /// The lanes opened so far, the first [`open`]'s device, each with how many jobs hold it.
    static LANES: Mutex<Vec<(Device, usize)>> = Mutex::new(Vec::new());

    /// Runs `job` on a free lane, a new one while there are fewer than `limit`, else the least
    /// busy. A new lane is a runtime of its own registered on [`open`]'s adapter, device and
    /// queue (wgpu's handles are shared between threads; cubecl gives each registration its own
    /// server, memory and kernels).
    pub(super) fn on_lane<T>(limit: usize, job: impl FnOnce(&Device) -> T) -> Result<T, String> {
        let (shared, setup) = opened()?;
        let (index, lane) = {
            let mut lanes = LANES.lock().unwrap_or_else(|e| e.into_inner());
            if lanes.is_empty() {
                lanes.push((shared.clone(), 0));
            }
            let mut index = (0..lanes.len())
                .min_by_key(|&i| lanes[i].1)
                .expect("the first lane");
            if lanes[index].1 > 0 && lanes.len() < limit {
                let lane = Device::wgpu_options()
                    .setup(setup.clone())
                    .init()
                    .map_err(|e| format!("a wgpu runtime beside the first: {e}"))?;
                lanes.push((lane, 0));
                index = lanes.len() - 1;
            }
            lanes[index].1 += 1;
            (index, lanes[index].0.clone())
        };
        let _held = Held(index);
        Ok(job(&lane))
    }

    /// A job's hold on lane `.0`, let go when the job ends (or unwinds).
    struct Held(usize);

    impl Drop for Held {
        fn drop(&mut self) {
            LANES.lock().unwrap_or_else(|e| e.into_inner())[self.0].1 -= 1;
        }
    }

    fn opened() -> Result<&'static (Device, WgpuSetup), String> {
        DEVICE
            .get_or_init(|| {
                let (send, receive) = mpsc::channel();
                std::thread::spawn(move || {
                    let outcome = Device::wgpu_options()
                        .init_with_setup()
                        .map_err(|e| format!("no wgpu adapter: {e}"))
                        .and_then(|(device, setup)| {
                            match Tensor::<1>::ones([4], &device)
                                .sum()
                                .try_into_scalar::<f32>()
                            {
                                Ok(4.0) => Ok((device, setup)),
                                Ok(sum) => Err(format!("the adapter computed 1+1+1+1 = {sum}")),
                                Err(e) => Err(format!("the adapter cannot read back: {e:?}")),
                            }
                        });
                    let _ = send.send(outcome);
                });
                match receive.recv_timeout(WGPU_INIT_TIMEOUT) {
                    Ok(outcome) => outcome,
                    Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                        "no wgpu adapter answered within {} s (is a Vulkan, Metal or DX12 driver installed?)",
                        WGPU_INIT_TIMEOUT.as_secs()
                    )),
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        Err("the wgpu runtime panicked while starting (see the message above)".into())
                    }
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_a_missing_device_names_its_feature() {
        for d in ModelDevice::ALL {
            assert_eq!(d.name().parse::<ModelDevice>().unwrap(), d);
            assert_eq!(d.feature().is_none(), d == ModelDevice::Flex);
            if d.is_compiled() {
                assert!(ModelDevice::compiled().contains(&d));
            } else {
                let e = d.open().unwrap_err().to_string();
                assert!(e.contains(d.feature().unwrap()), "{e}");
            }
        }
        let e = "gpu".parse::<ModelDevice>().unwrap_err().to_string();
        assert!(e.contains("flex, ndarray, wgpu"), "{e}");
        assert_eq!(ModelDevice::compiled()[0], ModelDevice::Flex);
        let flex = ModelDevice::Flex.open().unwrap();
        assert_eq!(flex, CpuDevice::Flex.device());
    }
}
