use super::*;
use crate::CpuDevice;
use crate::tensor::from_values;
use isac_channel::rng::stream;
use proptest::prelude::*;

fn layer(in_f: &[usize], out_f: &[usize], rank: usize, seed: u64, device: &Device) -> TtLinear {
    TtLinearConfig::new(in_f.to_vec(), out_f.to_vec(), rank)
        .init(&mut stream(seed, [0; 3]), device)
        .unwrap()
}

/// Gives the bias a random value, so that tests see it.
fn with_random_bias(l: TtLinear, seed: u64) -> TtLinear {
    let m = l.config().d_output();
    let mut w = values(l.weights.val()).unwrap();
    let start = w.len() - m;
    w[start..].copy_from_slice(&normal(&mut stream(seed, [1, 0, 0]), m, 0.3));
    l.with_weights(w).unwrap()
}

#[test]
fn balanced_factors_multiply_back() {
    assert_eq!(balanced_factors(78, 2), vec![6, 13]);
    assert_eq!(balanced_factors(256, 2), vec![16, 16]);
    assert_eq!(balanced_factors(96, 2), vec![8, 12]);
    assert_eq!(balanced_factors(64, 3), vec![4, 4, 4]);
    for n in 1..300 {
        for q in 1..4 {
            let f = balanced_factors(n, q);
            assert_eq!(f.len(), q);
            assert_eq!(f.iter().product::<usize>(), n, "{n} {q} {f:?}");
        }
    }
}

#[test]
fn parameter_count_is_eq_37_and_matches_burn() {
    let device = CpuDevice::Flex.device();
    let l = layer(&[6, 13], &[16, 16], 8, 1, &device);
    // r0 m1 n1 r1 + r1 m2 n2 r2 + M = 1*16*6*8 + 8*16*13*1 + 256.
    assert_eq!(l.config().parameters(), 768 + 1664 + 256);
    assert_eq!(l.num_params(), l.config().parameters());
    let l3 = layer(&[2, 3, 4], &[4, 2, 3], 5, 1, &device);
    assert_eq!(l3.num_params(), 2 * 4 * 5 + 5 * 3 * 2 * 5 + 5 * 4 * 3 + 24);
}

#[test]
fn glorot_matched_initialisation() {
    // Empirical variance of the dense W against 2 / (N + M), over independent seeds.
    let device = CpuDevice::Flex.device();
    let (in_f, out_f) = ([4, 4, 4], [4, 4, 4]);
    let mut sum2 = 0.0;
    let mut count = 0.0;
    for seed in 0..20 {
        let w = layer(&in_f, &out_f, 4, seed, &device).to_dense().unwrap();
        for row in &w {
            for x in row {
                sum2 += x * x;
                count += 1.0;
            }
        }
    }
    let target = 2.0 / 128.0;
    let var = sum2 / count;
    assert!((var / target - 1.0).abs() < 0.15, "{var} vs {target}");
}

fn check_forward_equals_dense(
    device: &Device,
    in_f: &[usize],
    out_f: &[usize],
    rank: usize,
    seed: u64,
) {
    let l = with_random_bias(layer(in_f, out_f, rank, seed, device), seed);
    let worst = l.dense_max_abs_error(7, seed).unwrap();
    assert!(worst < 1e-5, "{in_f:?} -> {out_f:?} rank {rank}: {worst}");
}

#[test]
fn dense_check_agrees_with_the_independent_dense_forward() {
    let device = CpuDevice::Flex.device();
    let l = with_random_bias(layer(&[6, 13], &[16, 8], 8, 5, &device), 5);
    let e = l.dense_max_abs_error(16, 1).unwrap();
    assert!(e > 0.0 && e < 1e-5, "{e}");
}

#[test]
fn forward_equals_dense_on_every_cpu_device() {
    for d in CpuDevice::all() {
        check_forward_equals_dense(&d.device(), &[6, 13], &[16, 16], 8, 3);
        check_forward_equals_dense(&d.device(), &[2, 3, 4], &[4, 2, 3], 5, 4);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn forward_equals_dense_for_random_shapes(
        in_f in prop::collection::vec(1usize..5, 1..4),
        out_seed in prop::collection::vec(1usize..5, 3),
        rank in 1usize..5, seed in 0u64..1000,
    ) {
        let out_f: Vec<usize> = out_seed[..in_f.len()].to_vec();
        check_forward_equals_dense(&CpuDevice::Flex.device(), &in_f, &out_f, rank, seed);
    }
}

#[test]
fn gradients_match_finite_differences() {
    // L = sum(c * y) is linear in each core entry and in each input, so a central difference
    // with a large step is exact up to rounding: an independent check of autodiff through the
    // reshapes and transposes of the contraction.
    let device = CpuDevice::Flex.autodiff();
    let (in_f, out_f) = ([2, 3, 4], [3, 2, 2]);
    let l = with_random_bias(layer(&in_f, &out_f, 3, 11, &device), 11);
    let (n, m, batch) = (24, 12, 3);
    let x = normal(&mut stream(11, [3, 0, 0]), batch * n, 1.0);
    let c = normal(&mut stream(11, [4, 0, 0]), batch * m, 1.0);
    let loss_of = |l: &TtLinear, x: Vec<f32>| {
        let y = l.forward(from_values(x, [batch, n], &device).unwrap());
        (y * from_values(c.clone(), [batch, m], &device).unwrap()).sum()
    };
    let xt = from_values(x.clone(), [batch, n], &device)
        .unwrap()
        .require_grad();
    let loss = (l.forward(xt.clone()) * from_values(c.clone(), [batch, m], &device).unwrap()).sum();
    let grads = loss.backward();
    let h = 0.5f32;
    let scalar = |t: Tensor<1>| f64::from(values(t).unwrap()[0]);

    // Input gradient.
    let gx = values(xt.grad(&grads).unwrap()).unwrap();
    for i in [0, 5, 23, 47, 71] {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp[i] += h;
        xm[i] -= h;
        let fd = (scalar(loss_of(&l, xp)) - scalar(loss_of(&l, xm))) / (2.0 * f64::from(h));
        assert!(
            (fd - f64::from(gx[i])).abs() < 1e-3 * (1.0 + fd.abs()),
            "x[{i}]: {fd} vs {}",
            gx[i]
        );
    }
    // Core and bias gradients: every entry of the flat weights.
    let g = values(l.weights.val().grad(&grads).unwrap()).unwrap();
    let base = values(l.weights.val()).unwrap();
    assert_eq!(g.len(), base.len());
    for i in 0..base.len() {
        let perturbed = |delta: f32| {
            let mut v = base.clone();
            v[i] += delta;
            scalar(loss_of(&l.with_weights(v).unwrap(), x.clone()))
        };
        let fd = (perturbed(h) - perturbed(-h)) / (2.0 * f64::from(h));
        assert!(
            (fd - f64::from(g[i])).abs() < 1e-3 * (1.0 + fd.abs()),
            "weights[{i}]: {fd} vs {}",
            g[i]
        );
    }
}

#[test]
fn flop_count_matches_a_hand_count() {
    // [13, 6] -> [8, 16], rank 8, first core first: core 1 multiplies (8 * 8) x 13 by 13 x 6
    // once; core 2 multiplies 16 x (8 * 6) by (8 * 6) x 1 for each of the 8 outputs of core 1.
    let c = TtLinearConfig::new(vec![13, 6], vec![8, 16], 8);
    assert_eq!(c.flops(), 2 * (64 * 13 * 6 + 8 * 16 * 48) + 128);
}

/// The fused operation (raw faer kernels, hand-written backward) against the same contraction
/// in Burn tensor operations (and Burn's bias add and ReLU) differentiated by Burn's autodiff,
/// on every CPU device.
#[test]
fn fused_operation_equals_composed_operations_with_gradients() {
    for device in CpuDevice::all() {
        assert_forward_equals_composed(
            &device.autodiff(),
            &[
                (&[5][..], &[7][..], 1, false, true),
                (&[5], &[7], 1, true, true),
                (&[13, 6], &[8, 16], 8, false, true),
                (&[13, 6], &[8, 16], 8, true, true),
                (&[2, 3, 4], &[3, 2, 2], 3, false, true),
            ],
        );
    }
}

/// On the cubecl devices a layer is one kernel each way (`tt/dense.rs`), after one that forms
/// the dense weights of a layer of several cores (`tt/materialised.rs`): against the composed
/// path on the wgpu device (CI: lavapipe), with and without the ReLU and the bias, the FC
/// encoder's first layer, layers of two and three cores, and DTTE's core.
#[test]
fn the_wgpu_dense_layer_equals_the_composed_one_with_gradients() {
    for device in crate::testing::kernel_devices()
        .into_iter()
        .filter(crate::cube::supports)
    {
        assert_forward_equals_composed(
            &device,
            &[
                (&[5][..], &[7][..], 1, false, true),
                (&[5], &[7], 1, true, true),
                (&[5], &[7], 1, true, false),
                (&[78], &[256], 1, true, true),
                (&[2, 3], &[2, 2], 2, false, false),
                (&[2, 3, 4], &[3, 2, 2], 3, true, true),
                (&[6, 13], &[8, 16], 8, true, true),
            ],
        );
    }
}

/// A layer of a test: `(in_factors, out_factors, rank, relu, bias)`.
type Case<'a> = (&'a [usize], &'a [usize], usize, bool, bool);

/// [`TtLinear::forward`] against [`TtLinear::forward_composed`] with Burn's bias add and ReLU,
/// outputs and gradients, on the autodiff device `device`, for every layer of `cases`.
fn assert_forward_equals_composed(device: &Device, cases: &[Case<'_>]) {
    for &(in_f, out_f, rank, with_relu, with_bias) in cases {
        let l = TtLinearConfig::new(in_f.to_vec(), out_f.to_vec(), rank)
            .with_relu(with_relu)
            .with_bias(with_bias)
            .init(&mut stream(5, [0; 3]), device)
            .unwrap();
        let l = if with_bias { with_random_bias(l, 5) } else { l };
        let (n, m, batch) = (l.config().d_input(), l.config().d_output(), 9);
        let c = from_values(
            normal(&mut stream(5, [4, 0, 0]), batch * m, 1.0),
            [batch, m],
            device,
        )
        .unwrap();
        let x = from_values(
            normal(&mut stream(5, [3, 0, 0]), batch * n, 1.0),
            [batch, n],
            device,
        )
        .unwrap();
        let run = |fused: bool| {
            let x = x.clone().require_grad();
            let y = if fused {
                l.forward(x.clone())
            } else {
                let y = l.forward_composed(x.clone());
                let y = match l.bias() {
                    Some(b) => y + b.unsqueeze_dim(0),
                    None => y,
                };
                if with_relu { relu(y) } else { y }
            };
            let grads = (y.clone() * c.clone()).sum().backward();
            let gw = l.weights.val().grad(&grads).unwrap();
            assert_eq!(gw.dims(), l.weights.val().dims());
            vec![
                values(y).unwrap(),
                values(x.grad(&grads).unwrap()).unwrap(),
                values(gw).unwrap(),
            ]
        };
        let (fused, composed) = (run(true), run(false));
        if with_relu {
            // Both sides of the kink are exercised.
            assert!(fused[0].contains(&0.0) && fused[0].iter().any(|v| *v > 0.0));
        }
        for (fused, composed) in fused.iter().zip(composed) {
            assert_eq!(fused.len(), composed.len());
            for (a, b) in fused.iter().zip(&composed) {
                assert!(
                    (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                    "{in_f:?}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn a_layer_without_bias_and_an_empty_batch_work_fused() {
    let device = CpuDevice::Flex.autodiff();
    let l = TtLinearConfig::new(vec![3, 2], vec![2, 2], 2)
        .with_bias(false)
        .init(&mut stream(1, [0; 3]), &device)
        .unwrap();
    assert!(l.dense_max_abs_error(4, 2).unwrap() < 1e-5);
    let y = l.forward(Tensor::zeros([0, 6], &device));
    assert_eq!(y.dims(), [0, 4]);
    let grads = y.sum().backward();
    assert_eq!(
        values(l.weights.val().grad(&grads).unwrap()).unwrap(),
        vec![0.0; l.config().parameters()]
    );
}

#[test]
fn the_dense_check_refuses_a_matrix_too_large_to_form() {
    let device = CpuDevice::Flex.device();
    // 4096 x 4097 entries: one more column than the limit allows.
    let big = layer(&[4097], &[4096], 1, 1, &device);
    assert!(big.to_dense().unwrap_err().to_string().contains("dense W"));
    assert!(big.dense_max_abs_error(1, 1).is_err());
}

/// A dense layer draws `W^T` (`[d_in, d_out]`) row-major from `U(-b, b)`, `b = sqrt(6 / (d_in +
/// d_out))`, as Burn's `Linear` did, and starts with a zero bias; several cores are refused.
#[test]
fn a_dense_layer_is_glorot_uniform_over_w_transposed() {
    let device = CpuDevice::Flex.device();
    let (n, m) = (7, 5);
    let l = TtLinearConfig::new(vec![n], vec![m], 1)
        .dense_glorot_uniform(&mut stream(3, [0; 3]), &device)
        .unwrap();
    let draws = crate::init::uniform(&mut stream(3, [0; 3]), n * m, 0.5f64.sqrt());
    let w = l.to_dense().unwrap();
    for (i, row) in w.iter().enumerate() {
        for (j, wij) in row.iter().enumerate() {
            assert_eq!(*wij, f64::from(draws[j * m + i]), "W[{i}][{j}]");
        }
    }
    assert_eq!(values(l.bias().unwrap()).unwrap(), vec![0.0; m]);
    assert!(
        TtLinearConfig::new(vec![2, 2], vec![2, 2], 2)
            .dense_glorot_uniform(&mut stream(3, [0; 3]), &device)
            .is_err()
    );
}
