use super::*;
use proptest::prelude::*;

/// `<dy, W x + b>` in f64: linear in x and in every single parameter.
fn pairing(shape: &TtShape, params: &[f32], x: &[f64], dy: &[f32], batch: usize) -> f64 {
    let w = shape.dense(params);
    let (n, m) = (shape.d_input(), shape.d_output());
    let (_, bias) = shape.split(params);
    (0..batch)
        .flat_map(|b| (0..m).map(move |i| (b, i)))
        .map(|(b, i)| {
            let y: f64 = (0..n).map(|j| w[i][j] * x[b * n + j]).sum::<f64>()
                + bias.map_or(0.0, |bias| f64::from(bias[i]));
            f64::from(dy[b * m + i]) * y
        })
        .sum()
}

fn case() -> impl Strategy<Value = (TtShape, Vec<f32>, Vec<f32>, Vec<f32>, usize)> {
    (
        1usize..=3,
        1usize..=3,
        0usize..=4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(q, rank, batch, bias, relu)| {
            (
                prop::collection::vec(1usize..=4, q),
                prop::collection::vec(1usize..=4, q),
                Just((rank, batch, bias, relu)),
            )
        })
        .prop_flat_map(|(in_factors, out_factors, (rank, batch, bias, relu))| {
            let q = in_factors.len();
            let ranks: Vec<usize> = (0..=q)
                .map(|k| if k == 0 || k == q { 1 } else { rank })
                .collect();
            let shape = TtShape::new(in_factors, out_factors, ranks, bias, relu);
            let params = shape.parameters();
            let (n, m) = (shape.d_input(), shape.d_output());
            let value = || -1.0f32..1.0;
            (
                Just(shape),
                prop::collection::vec(value(), params),
                prop::collection::vec(value(), batch * n),
                prop::collection::vec(value(), batch * m),
                Just(batch),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn forward_equals_the_dense_matrix((shape, params, x, _dy, batch) in case()) {
        let (y, tape) = forward(&shape, x.clone(), batch, &params);
        prop_assert_eq!(tape.states.len(), shape.in_factors.len());
        prop_assert_eq!(tape.output.is_some(), shape.relu);
        let w = shape.dense(&params);
        let (_, bias) = shape.split(&params);
        let (n, m) = (shape.d_input(), shape.d_output());
        for b in 0..batch {
            for i in 0..m {
                let expected: f64 = (0..n).map(|j| w[i][j] * f64::from(x[b * n + j])).sum::<f64>()
                    + bias.map_or(0.0, |bias| f64::from(bias[i]));
                let expected = if shape.relu { expected.max(0.0) } else { expected };
                prop_assert!((f64::from(y[b * m + i]) - expected).abs() < 1e-5, "{:?}", shape);
            }
        }
    }

    /// `<dy, W x + b>` is linear in x and in each parameter, so a unit step gives its exact
    /// partial derivative (up to rounding). After a ReLU the gradients are those of the linear
    /// layer for `dy` zeroed where the output is zero. Both routes to the core gradients of a
    /// two-core layer (the chain and `dL/dW`) are checked, whichever `backward` picks.
    #[test]
    fn backward_equals_exact_differences((shape, params, x, dy, batch) in case()) {
        let (y, tape) = forward(&shape, x.clone(), batch, &params);
        let (grads, dx) = backward(&shape, batch, &params, tape.clone(), dy.clone(), true);
        let (grads_without_dx, none) =
            backward(&shape, batch, &params, tape.clone(), dy.clone(), false);
        prop_assert!(none.is_none());
        let dy: Vec<f32> = if shape.relu {
            dy.iter().zip(&y).map(|(&d, &y)| if y > 0.0 { d } else { 0.0 }).collect()
        } else {
            dy
        };
        let linear = TtShape { relu: false, ..shape.clone() };
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let base = pairing(&linear, &params, &x64, &dy, batch);
        let exact: Vec<f64> = (0..params.len())
            .map(|i| {
                let mut p = params.clone();
                p[i] += 1.0;
                pairing(&linear, &p, &x64, &dy, batch) - base
            })
            .collect();
        let mut routes = vec![("backward", grads), ("backward without dx", grads_without_dx)];
        if shape.in_factors.len() == 2 && batch > 0 {
            let (cores, _) = shape.split(&params);
            routes.push(("dL/dW", through_dense_gradient(&shape, batch, &cores, &tape.states[0], &dy)));
            routes.push(("chain", chain(&shape, batch, &cores, tape.states.clone(), &dy, false).0));
        }
        let core_len = params.len() - if shape.bias { shape.d_output() } else { 0 };
        for (route, g) in routes {
            let whole = route.starts_with("backward");
            prop_assert_eq!(g.len(), if whole { params.len() } else { core_len }, "{}", route);
            for (i, (gi, e)) in g.iter().zip(&exact).enumerate() {
                prop_assert!((f64::from(*gi) - e).abs() < 1e-4, "{}: param {}: {} vs {}", route, i, gi, e);
            }
        }
        let dx = dx.expect("asked for");
        for i in 0..x.len() {
            let mut xp = x64.clone();
            xp[i] += 1.0;
            let exact = pairing(&linear, &params, &xp, &dy, batch) - base;
            prop_assert!((f64::from(dx[i]) - exact).abs() < 1e-4, "x {}: {} vs {}", i, dx[i], exact);
        }
    }
}

/// The cost rule picks `dL/dW` for the DTTE's core at batch 128 (fewer multiply-adds) and the
/// chain where `M N` is large against the contraction.
#[test]
fn the_cheaper_route_to_the_core_gradients_is_chosen() {
    let dtte = TtShape::new(vec![13, 6], vec![8, 16], vec![1, 8, 1], true, true);
    assert_eq!(
        dtte.chain_macs(128),
        2 * 8 * 16 * 48 * 128 + 64 * 13 * 6 * 128
    );
    assert_eq!(dtte.dense_gradient_macs(128), Some((128 + 16) * 128 * 78));
    assert!(dtte.dense_gradient_macs(128).unwrap() < dtte.chain_macs(128));
    let wide = TtShape::new(vec![64, 64], vec![64, 64], vec![1, 2, 1], false, false);
    assert!(wide.dense_gradient_macs(128).unwrap() > wide.chain_macs(128));
    let three = TtShape::new(vec![2, 2, 2], vec![2, 2, 2], vec![1, 2, 2, 1], false, false);
    assert_eq!(three.dense_gradient_macs(128), None);
}

#[test]
fn swap_middle_moves_the_two_middle_axes() {
    let data: Vec<f32> = (0..2 * 3 * 4 * 5).map(|i| i as f32).collect();
    let out = swap_middle(&data, [2, 3, 4, 5]);
    for (i0, i1, i2, i3) in [(0, 0, 0, 0), (1, 2, 3, 4), (0, 1, 2, 3), (1, 0, 3, 1)] {
        assert_eq!(
            out[((i0 * 4 + i2) * 3 + i1) * 5 + i3],
            data[((i0 * 3 + i1) * 4 + i2) * 5 + i3]
        );
    }
}

#[test]
fn transpose_is_its_own_inverse_on_uneven_tiles() {
    let (rows, cols) = (37, 19);
    let data: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
    let t = transpose(&data, rows, cols);
    assert_eq!(t[5 * rows + 3], data[3 * cols + 5]);
    assert_eq!(transpose(&t, cols, rows), data);
}
