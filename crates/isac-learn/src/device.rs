use std::fmt;
use std::str::FromStr;

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

impl FromStr for CpuDevice {
    type Err = LearnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::all()
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::all().iter().map(|d| d.name()).collect();
                LearnError::invalid("device", s, format!("must be one of {}", names.join(", ")))
            })
    }
}
