//! The kernel of [`AdamUpdate`], in f32: one unit per entry of the group's parameters laid end
//! to end, each parameter and both its moments written from one read of its four operands (made
//! contiguous first). A group larger than the device binds takes several launches.

use burn::backend::TensorMetadata;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::group::{Group, Moved, MovedGroup, Operands};
use super::{AdamUpdate, Scalars};
use crate::cube::{contiguous, elementwise, empty_like_rows};

/// Storage buffers one parameter binds: four operands and three results.
const BINDINGS_PER_PARAM: u32 = 7;

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn adam_update_kernel(
    params: Sequence<&Tensor<f32>>,
    grads: Sequence<&Tensor<f32>>,
    m1s: Sequence<&Tensor<f32>>,
    m2s: Sequence<&Tensor<f32>>,
    mut params_out: Sequence<&mut Tensor<f32>>,
    mut m1s_out: Sequence<&mut Tensor<f32>>,
    mut m2s_out: Sequence<&mut Tensor<f32>>,
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    scale: f32,
    eps: f32,
    lr: f32,
) {
    let count = params.len().comptime();
    let mut start = 0usize;
    #[unroll]
    for k in 0..count {
        let len = params[k].len();
        if ABSOLUTE_POS >= start && ABSOLUTE_POS < start + len {
            let i = ABSOLUTE_POS - start;
            let g = grads[k][i];
            let first = m1s[k][i] * b1 + g * c1;
            let second = m2s[k][i] * b2 + g * g * c2;
            let p = params[k][i] - first * scale / (f32::sqrt(second) + eps) * lr;
            let m1_out = m1s_out.index_mut(k);
            m1_out[i] = first;
            let m2_out = m2s_out.index_mut(k);
            m2_out[i] = second;
            let p_out = params_out.index_mut(k);
            p_out[i] = p;
        }
        start += len;
    }
}

impl AdamUpdate for CubeBackend {
    fn adam_update(group: Group<Self>, scalars: Scalars) -> MovedGroup<Self> {
        let operands = group.into_vec();
        let client = operands[0].param.client.clone();
        let max_bindings = client.properties().hardware.max_bindings;
        let per_launch = (max_bindings / BINDINGS_PER_PARAM).max(1) as usize;
        let mut moved = Vec::with_capacity(operands.len());
        let mut operands = operands.into_iter().peekable();
        while operands.peek().is_some() {
            moved.extend(launch(
                operands.by_ref().take(per_launch).collect(),
                scalars,
            ));
        }
        MovedGroup::new(moved)
    }
}

/// One launch over `operands`.
fn launch(operands: Vec<Operands<CubeBackend>>, scalars: Scalars) -> Vec<Moved<CubeBackend>> {
    let operands: Vec<[CubeTensor; 4]> = operands
        .into_iter()
        .map(|o| [o.param, o.grad, o.m1, o.m2].map(contiguous))
        .collect();
    let moved: Vec<[CubeTensor; 3]> = operands
        .iter()
        .map(|[param, ..]| [(); 3].map(|()| empty_like_rows(param, TensorMetadata::shape(param))))
        .collect();
    let items = operands
        .iter()
        .map(|[param, ..]| TensorMetadata::shape(param).num_elements())
        .sum();
    let (count, dim) = elementwise(&operands[0][0], items);
    let client = operands[0][0].client.clone();
    let sequence = |tensors: &[[CubeTensor; 4]], i: usize| -> SequenceArg<&'static Tensor<f32>> {
        tensors
            .iter()
            .map(|t| t[i].clone().into_tensor_arg())
            .collect()
    };
    let output = |i: usize| -> SequenceArg<&'static mut Tensor<f32>> {
        moved
            .iter()
            .map(|t| t[i].clone().into_tensor_arg())
            .collect()
    };
    let [b1, c1, b2, c2, scale, eps, lr] = scalars;
    adam_update_kernel::launch(
        &client,
        count,
        dim,
        sequence(&operands, 0),
        sequence(&operands, 1),
        sequence(&operands, 2),
        sequence(&operands, 3),
        output(0),
        output(1),
        output(2),
        b1,
        c1,
        b2,
        c2,
        scale,
        eps,
        lr,
    );
    moved
        .into_iter()
        .map(|[param, m1, m2]| Moved { param, m1, m2 })
        .collect()
}
