//! A batch's tensors in one upload on the cubecl devices: [`Packer`] lays their values end to
//! end in one buffer (each part starting on a 256-byte boundary, the storage-buffer offset
//! alignment every Vulkan device accepts), uploads it once, and each tensor is a view of its
//! range (an operation of no launch, `packed/view.rs`). Each upload is host work on cubecl's
//! server thread (a write through a staging buffer, the memory pool's search): a batch is some
//! twenty tensors a step. A buffer holds at most [`MAX_BUFFER_BYTES`] (a training batch is a
//! few MB; an evaluation batch of thousands of frames takes several buffers, as it would
//! otherwise exceed the binding size WebGPU guarantees). The CPU devices upload each tensor on
//! its own, as before.
//!
//! It must not hold values a device reads in place of their tensor: a view shares the packed
//! buffer, and the buffer lives as long as any of its views.

use burn::tensor::{Device, Tensor};

use crate::LearnError;
use crate::tensor::from_values;

#[cfg(feature = "wgpu")]
mod view;

/// Where each part starts in a packed buffer: a multiple of this many `f32` (256 bytes).
#[cfg(feature = "wgpu")]
const ALIGN: usize = 64;

/// The most a packed buffer holds (a part larger than this has a buffer of its own): half of
/// the 128 MiB storage-buffer binding that WebGPU guarantees.
#[cfg(feature = "wgpu")]
pub(crate) const MAX_BUFFER_BYTES: usize = 64 << 20;

/// The values of a batch's tensors, gathered for [`Packer::upload`].
pub(crate) struct Packer {
    device: Device,
    store: Store,
}

enum Store {
    /// Each part's values (CPU devices).
    Separate(Vec<Vec<f32>>),
    /// The parts end to end in buffers of at most `max` entries (but a larger part alone), each
    /// part from a multiple of [`ALIGN`]; each part's buffer and start.
    #[cfg(feature = "wgpu")]
    Packed {
        buffers: Vec<Vec<f32>>,
        starts: Vec<(usize, usize)>,
        max: usize,
    },
}

/// A tensor of shape `shape` that a [`Packer`] holds: taken once from what it uploads.
#[must_use]
pub(crate) struct Part<const D: usize> {
    index: usize,
    shape: [usize; D],
}

/// The real and imaginary parts of a complex tensor a [`Packer`] holds.
#[must_use]
pub(crate) struct ComplexPart {
    re: Part<3>,
    im: Part<3>,
}

impl Packer {
    /// An empty packer for `device`: packed on a cubecl device, else one tensor per part.
    pub(crate) fn new(device: &Device) -> Self {
        #[cfg(feature = "wgpu")]
        return Self::with_buffers_of(device, MAX_BUFFER_BYTES / 4);
        #[cfg(not(feature = "wgpu"))]
        Self {
            device: device.clone(),
            store: Store::Separate(Vec::new()),
        }
    }

    /// [`Self::new`] with packed buffers of at most `max` entries.
    #[cfg(feature = "wgpu")]
    fn with_buffers_of(device: &Device, max: usize) -> Self {
        let store = match crate::cube::supports(device) {
            true => Store::Packed {
                buffers: Vec::new(),
                starts: Vec::new(),
                max,
            },
            false => Store::Separate(Vec::new()),
        };
        Self {
            device: device.clone(),
            store,
        }
    }

    /// Adds the tensor of `shape` whose values are `pieces` one after the other (row-major).
    pub(crate) fn push<'a, const D: usize>(
        &mut self,
        pieces: impl IntoIterator<Item = &'a [f32]>,
        shape: [usize; D],
    ) -> Result<Part<D>, LearnError> {
        match &mut self.store {
            Store::Separate(_) => {
                let values = pieces.into_iter().collect::<Vec<_>>().concat();
                self.push_vec(values, shape)
            }
            #[cfg(feature = "wgpu")]
            Store::Packed {
                buffers,
                starts,
                max,
            } => {
                let pieces: Vec<&[f32]> = pieces.into_iter().collect();
                let got: usize = pieces.iter().map(|p| p.len()).sum();
                let new = part(starts.len(), got, shape)?;
                let fits = |b: &Vec<f32>| b.len() + got <= *max;
                if !buffers.last().is_some_and(fits) {
                    buffers.push(Vec::new());
                }
                let (index, values) = (buffers.len() - 1, buffers.last_mut().expect("pushed"));
                starts.push((index, values.len()));
                for piece in pieces {
                    values.extend_from_slice(piece);
                }
                values.resize(values.len().next_multiple_of(ALIGN), 0.0);
                Ok(new)
            }
        }
    }

    /// Adds the tensor of `shape` with the values `values` (row-major), kept as they are on a
    /// CPU device.
    pub(crate) fn push_vec<const D: usize>(
        &mut self,
        values: Vec<f32>,
        shape: [usize; D],
    ) -> Result<Part<D>, LearnError> {
        match &mut self.store {
            Store::Separate(parts) => {
                let new = part(parts.len(), values.len(), shape)?;
                parts.push(values);
                Ok(new)
            }
            #[cfg(feature = "wgpu")]
            Store::Packed { .. } => self.push([values.as_slice()], shape),
        }
    }

    /// Adds the complex tensor of `shape` whose real and imaginary values are `re` and `im`
    /// (pieces one after the other, as [`Self::push`]).
    pub(crate) fn push_complex<'a>(
        &mut self,
        re: impl IntoIterator<Item = &'a [f32]>,
        im: impl IntoIterator<Item = &'a [f32]>,
        shape: [usize; 3],
    ) -> Result<ComplexPart, LearnError> {
        Ok(ComplexPart {
            re: self.push(re, shape)?,
            im: self.push(im, shape)?,
        })
    }

    /// [`Self::push_complex`] of owned values (as [`Self::push_vec`]).
    pub(crate) fn push_complex_vec(
        &mut self,
        [re, im]: [Vec<f32>; 2],
        shape: [usize; 3],
    ) -> Result<ComplexPart, LearnError> {
        Ok(ComplexPart {
            re: self.push_vec(re, shape)?,
            im: self.push_vec(im, shape)?,
        })
    }

    /// Uploads what it holds: one buffer on a cubecl device.
    pub(crate) fn upload(self) -> Result<Uploaded, LearnError> {
        let parts = match self.store {
            Store::Separate(parts) => Parts::Separate(parts.into_iter().map(Some).collect()),
            #[cfg(feature = "wgpu")]
            Store::Packed {
                buffers, starts, ..
            } => {
                let upload = |values: Vec<f32>| {
                    let len = values.len();
                    from_values(values, [len], &self.device)
                };
                let buffers = buffers.into_iter().map(upload).collect::<Result<_, _>>()?;
                Parts::Packed { buffers, starts }
            }
        };
        Ok(Uploaded {
            device: self.device,
            parts,
        })
    }
}

/// Part `index` of shape `shape`, if `got` values fill it.
fn part<const D: usize>(
    index: usize,
    got: usize,
    shape: [usize; D],
) -> Result<Part<D>, LearnError> {
    let expected: usize = shape.iter().product();
    if got != expected {
        return Err(LearnError::Size {
            what: "tensor values",
            expected,
            got,
        });
    }
    Ok(Part { index, shape })
}

/// What [`Packer::upload`] uploaded, from which each [`Part`] is taken.
pub(crate) struct Uploaded {
    device: Device,
    parts: Parts,
}

enum Parts {
    /// Each part's values, uploaded as it is taken.
    Separate(Vec<Option<Vec<f32>>>),
    /// The packed buffers, and each part's buffer and start.
    #[cfg(feature = "wgpu")]
    Packed {
        buffers: Vec<Tensor<1>>,
        starts: Vec<(usize, usize)>,
    },
}

impl Uploaded {
    /// The tensor of `part` (a [`Part`] of the packer that uploaded this).
    pub(crate) fn take<const D: usize>(&mut self, part: Part<D>) -> Result<Tensor<D>, LearnError> {
        let missing = || LearnError::Numerical(format!("no packed part {}", part.index));
        match &mut self.parts {
            Parts::Separate(parts) => {
                let values = parts.get_mut(part.index).and_then(Option::take);
                from_values(values.ok_or_else(missing)?, part.shape, &self.device)
            }
            #[cfg(feature = "wgpu")]
            Parts::Packed { buffers, starts } => {
                let (buffer, start) = *starts.get(part.index).ok_or_else(missing)?;
                Ok(view::packed_view(&buffers[buffer], start, part.shape))
            }
        }
    }

    /// The complex tensor of `part`.
    pub(crate) fn take_complex(
        &mut self,
        part: ComplexPart,
    ) -> Result<crate::ComplexTensor<3>, LearnError> {
        Ok(crate::ComplexTensor {
            re: self.take(part.re)?,
            im: self.take(part.im)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::values;
    use crate::testing::kernel_devices;

    /// Parts of awkward lengths (1, 3, 65, 200 entries: none a multiple of the alignment, one
    /// longer than it) come back with their values on every device, read back directly and
    /// through a Burn kernel (which binds each view at its offset); on the cubecl devices from
    /// packed buffers, here of at most 128 entries: the first two parts share one, the third
    /// starts another, the fourth (larger than 128) has its own. Wrong sizes are errors.
    #[test]
    fn the_wgpu_packed_parts_keep_their_values() {
        for device in kernel_devices() {
            let shapes = [[1, 1], [3, 1], [5, 13], [20, 10]];
            let data: Vec<Vec<f32>> = shapes
                .iter()
                .enumerate()
                .map(|(i, [r, c])| (0..r * c).map(|j| (100 * i + j) as f32 + 0.5).collect())
                .collect();
            #[cfg(feature = "wgpu")]
            let mut packer = Packer::with_buffers_of(&device, 128);
            #[cfg(not(feature = "wgpu"))]
            let mut packer = Packer::new(&device);
            let parts: Vec<Part<2>> = data
                .iter()
                .zip(shapes)
                .enumerate()
                .map(|(i, (values, shape))| {
                    let (a, b) = values.split_at(values.len() / 2);
                    match i % 2 {
                        0 => packer.push([a, b], shape).unwrap(),
                        _ => packer.push_vec(values.clone(), shape).unwrap(),
                    }
                })
                .collect();
            assert!(packer.push([[1.0f32; 3].as_slice()], [2, 2]).is_err());
            assert!(packer.push_vec(vec![1.0f32; 5], [2, 2]).is_err());
            let mut up = packer.upload().unwrap();
            match &up.parts {
                Parts::Separate(_) => assert!(!crate::cube::supports(&device)),
                #[cfg(feature = "wgpu")]
                Parts::Packed { buffers, .. } => assert_eq!(buffers.len(), 3),
            }
            for ((part, expected), shape) in parts.into_iter().zip(&data).zip(shapes) {
                let t = up.take(part).unwrap();
                assert_eq!(t.dims(), shape);
                let doubled: Vec<f32> = expected.iter().map(|v| 2.0 * v).collect();
                assert_eq!(&values(t.clone()).unwrap(), expected, "{device:?}");
                assert_eq!(values(t.mul_scalar(2.0)).unwrap(), doubled, "{device:?}");
            }
        }
    }
}
