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
    /// layer for `dy` zeroed where the output is zero.
    #[test]
    fn backward_equals_exact_differences((shape, params, x, dy, batch) in case()) {
        let (y, tape) = forward(&shape, x.clone(), batch, &params);
        let (grads, dx) = backward(&shape, batch, &params, tape.clone(), dy.clone(), true);
        let linear = TtShape { relu: false, ..shape.clone() };
        let dy: Vec<f32> = if shape.relu {
            dy.iter().zip(&y).map(|(&d, &y)| if y > 0.0 { d } else { 0.0 }).collect()
        } else {
            dy
        };
        let shape = linear;
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let base = pairing(&shape, &params, &x64, &dy, batch);
        prop_assert_eq!(grads.len(), params.len());
        for i in 0..params.len() {
            let mut p = params.clone();
            p[i] += 1.0;
            let exact = pairing(&shape, &p, &x64, &dy, batch) - base;
            prop_assert!((f64::from(grads[i]) - exact).abs() < 1e-4, "param {}: {} vs {}", i, grads[i], exact);
        }
        let dx = dx.expect("asked for");
        for i in 0..x.len() {
            let mut xp = x64.clone();
            xp[i] += 1.0;
            let exact = pairing(&shape, &params, &xp, &dy, batch) - base;
            prop_assert!((f64::from(dx[i]) - exact).abs() < 1e-4, "x {}: {} vs {}", i, dx[i], exact);
        }
        let (grads_without_dx, none) = backward(&shape, batch, &params, tape, dy, false);
        prop_assert!(none.is_none());
        prop_assert_eq!(grads_without_dx, grads);
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
