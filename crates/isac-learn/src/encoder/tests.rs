use super::*;
use crate::CpuDevice;
use crate::init::normal;
use crate::tensor::from_values;
use isac_channel::rng::stream;
use isac_channel::scenario::FriendlyJammingScenario;

const SHIPPED: &str = isac_channel::scenario::shipped::TUAN2025_TOML;

fn setting() -> (EncoderShape, EncoderSection) {
    let s = FriendlyJammingScenario::from_toml(SHIPPED).unwrap();
    (
        EncoderShape::new(s.users(), s.tx().elements(), s.modulation_order()),
        crate::LearnConfig::from_scenario(&s).unwrap().encoder,
    )
}

#[test]
fn table_ii_shape() {
    let (shape, _) = setting();
    assert_eq!(
        shape,
        EncoderShape {
            input: 78,
            output: 96
        }
    );
}

#[test]
fn summaries_count_what_the_modules_hold() {
    let (shape, section) = setting();
    let device = CpuDevice::Flex.device();
    for kind in EncoderKind::ALL {
        let e = Encoder::new(kind, shape, &section, &mut stream(1, [0; 3]), &device).unwrap();
        let s = Encoder::summary(kind, shape, &section, None);
        assert_eq!(e.num_params(), s.parameters, "{kind:?}");
        assert_eq!(s.bytes, 4 * s.parameters);
    }
    let fc = Encoder::summary(EncoderKind::Fc, shape, &section, None);
    // 78-256-128-96 by hand.
    assert_eq!(
        fc.parameters,
        78 * 256 + 256 + 256 * 128 + 128 + 128 * 96 + 96
    );
    assert_eq!(
        fc.flops,
        2 * (78 * 256 + 256 * 128 + 128 * 96) + 256 + 128 + 96
    );
}

#[test]
fn compression_ordering_of_table_iii() {
    let (shape, section) = setting();
    let [fc, dtte, tt] = EncoderKind::ALL.map(|k| Encoder::summary(k, shape, &section, None));
    assert!(fc.parameters > 2 * dtte.parameters && dtte.parameters > 5 * tt.parameters);
    assert!(fc.flops > 2 * dtte.flops && dtte.flops > tt.flops);
    let q8 = Encoder::summary(EncoderKind::Tt, shape, &section, Some(8));
    assert_eq!(q8.name, "TT-Q8");
    assert!(q8.bytes < tt.bytes / 3, "{} vs {}", q8.bytes, tt.bytes);
    assert!(fc.bytes > 100 * q8.bytes / 2);
}

#[test]
fn forward_shapes_and_tt_q_32_is_the_model() {
    let (shape, section) = setting();
    let device = CpuDevice::Flex.device();
    let x = from_values(
        normal(&mut stream(2, [0; 3]), 5 * 78, 1.0),
        [5, 78],
        &device,
    )
    .unwrap();
    for kind in EncoderKind::ALL {
        let e = Encoder::new(kind, shape, &section, &mut stream(3, [0; 3]), &device).unwrap();
        let y = values(e.forward(x.clone())).unwrap();
        assert_eq!(y.len(), 5 * 96);
        let y32 = values(e.quantized(32).unwrap().forward(x.clone())).unwrap();
        assert_eq!(y, y32, "{kind:?}");
        let y4 = values(e.quantized(4).unwrap().forward(x.clone())).unwrap();
        if kind == EncoderKind::Fc {
            assert_eq!(y, y4);
        } else {
            assert_ne!(y, y4, "{kind:?}");
        }
    }
}

#[test]
fn every_cpu_device_computes_the_same_encoder_and_trains_it() {
    use burn::optim::{AdamConfig, GradientsParams};
    let (shape, section) = setting();
    let x_values = normal(&mut stream(4, [0; 3]), 16 * 78, 1.0);
    let target_values = normal(&mut stream(5, [0; 3]), 16 * 96, 1.0);
    let mut first_outputs: Vec<Vec<f32>> = Vec::new();
    for device in CpuDevice::all() {
        let dev = device.autodiff();
        let x = from_values(x_values.clone(), [16, 78], &dev).unwrap();
        let target = from_values(target_values.clone(), [16, 96], &dev).unwrap();
        let mut e = Encoder::new(
            EncoderKind::Dtte,
            shape,
            &section,
            &mut stream(6, [0; 3]),
            &dev,
        )
        .unwrap();
        first_outputs.push(values(e.forward(x.clone())).unwrap());
        let loss_of = |e: &Encoder| (e.forward(x.clone()) - target.clone()).square().mean();
        let before = values(loss_of(&e)).unwrap()[0];
        let mut optimizer = AdamConfig::new().init();
        for _ in 0..30 {
            let grads = GradientsParams::from_grads(loss_of(&e).backward(), &e);
            e = optimizer.step(1e-2, e, grads);
        }
        let after = values(loss_of(&e)).unwrap()[0];
        assert!(after < 0.8 * before, "{device}: loss {before} -> {after}");
    }
    // Same seed, same weights: the backends agree on the forward pass.
    for other in &first_outputs[1..] {
        let worst = first_outputs[0]
            .iter()
            .zip(other)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{worst}");
    }
}

/// Sizes a scenario allows (each count up to 2^24) can ask for terabytes of weights: the
/// parameter count is checked before anything is allocated, exactly at the limit.
#[test]
fn oversized_encoders_are_errors_before_allocation() {
    let (shape, section) = setting();
    let device = CpuDevice::Flex.device();
    let build = |kind, section: &EncoderSection| {
        Encoder::new(kind, shape, section, &mut stream(1, [0; 3]), &device)
    };
    for (kind, huge) in [
        (
            EncoderKind::Fc,
            EncoderSection {
                fc_hidden: vec![1 << 24, 128],
                ..section.clone()
            },
        ),
        (
            EncoderKind::Dtte,
            EncoderSection {
                tt_rank: 1 << 24,
                ..section.clone()
            },
        ),
        (
            EncoderKind::Dtte,
            EncoderSection {
                dtte_head_hidden: 1 << 24,
                ..section.clone()
            },
        ),
        (
            EncoderKind::Tt,
            EncoderSection {
                tt_rank: 1 << 24,
                ..section.clone()
            },
        ),
    ] {
        let err = build(kind, &huge).expect_err("too large");
        assert!(err.to_string().contains("at most"), "{err}");
    }
    // The largest FC below the limit builds: one hidden layer of width w has
    // 79 w + (w + 1) 96 parameters.
    let w = (MAX_PARAMETERS - 96) / (79 + 96);
    let fits = EncoderSection {
        fc_hidden: vec![w],
        ..section.clone()
    };
    assert_eq!(mlp_params(&fc_widths(shape, &fits)), 79 * w + (w + 1) * 96);
    assert!(build(EncoderKind::Fc, &fits).is_ok());
    let over = EncoderSection {
        fc_hidden: vec![w + 1],
        ..section
    };
    assert!(build(EncoderKind::Fc, &over).is_err());
}

/// The encoders against an independent f64 network built from each layer's dense `W` and bias,
/// with a ReLU after every layer but the last (the DTTE's after its TT core too).
#[test]
fn encoders_equal_the_dense_network_with_relus_between_layers() {
    let (shape, section) = setting();
    let device = CpuDevice::Flex.device();
    let batch = 6;
    let x = normal(&mut stream(8, [0; 3]), batch * shape.input, 1.0);
    for kind in [EncoderKind::Fc, EncoderKind::Dtte] {
        let e = Encoder::new(kind, shape, &section, &mut stream(9, [0; 3]), &device).unwrap();
        let layers: Vec<&TtLinear> = match &e {
            Encoder::Fc(fc) => fc.layers.iter().collect(),
            Encoder::Dtte(d) => std::iter::once(&d.core).chain(&d.head).collect(),
            Encoder::Tt(_) => unreachable!(),
        };
        let y = values(e.forward(from_values(x.clone(), [batch, shape.input], &device).unwrap()))
            .unwrap();
        for s in 0..batch {
            let mut v: Vec<f64> = x[s * shape.input..(s + 1) * shape.input]
                .iter()
                .map(|&a| f64::from(a))
                .collect();
            for (i, layer) in layers.iter().enumerate() {
                let w = layer.to_dense().unwrap();
                let b = values(layer.bias().unwrap()).unwrap();
                v = w
                    .iter()
                    .zip(&b)
                    .map(|(row, &bi)| {
                        let z = row.iter().zip(&v).map(|(a, c)| a * c).sum::<f64>() + f64::from(bi);
                        if i + 1 < layers.len() { z.max(0.0) } else { z }
                    })
                    .collect();
            }
            for (j, expected) in v.iter().enumerate() {
                let got = f64::from(y[s * shape.output + j]);
                assert!(
                    (got - expected).abs() < 1e-4,
                    "{kind:?} sample {s} output {j}: {got} vs {expected}"
                );
            }
        }
    }
}
