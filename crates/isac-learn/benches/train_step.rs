//! Training steps of the FC, DTTE and pure-TT encoders at batch 128 on every CPU device:
//! forward, exact power normalisation, a squared-error loss, backward and one Adam step. The
//! same at batch 1024 on flex shows how much of a step is per-step overhead.
//!
//! Controls `FC-fused` and `DTTE-fused`: the FC, and the DTTE's head, built from single-core TT
//! layers, i.e. dense layers on the same fused faer kernel as the TT cores, so the DTTE / FC
//! ratio can also be read with one GEMM engine for every layer (the encoders themselves use
//! Burn's `Linear` for their dense layers).

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use isac_channel::rng::stream;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::{
    CpuDevice, Encoder, EncoderKind, EncoderShape, TtLinear, TtLinearConfig, normalize_power,
};
use rand::RngExt;

/// mimalloc keeps freed pages for reuse: Burn allocates tens of MB per training step, which the
/// system allocator returns to the OS and faults back in (FIM estimator 4.3 s -> 1.9 s).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn train_step(c: &mut Criterion) {
    for (batch, devices) in [(128, CpuDevice::all()), (1024, vec![CpuDevice::Flex])] {
        bench_batch(c, batch, &devices);
    }
}

fn bench_batch(c: &mut Criterion, batch: usize, devices: &[CpuDevice]) {
    let scenario =
        FriendlyJammingScenario::from_toml(include_str!("../../../scenarios/tuan2025.toml"))
            .expect("shipped scenario");
    let sys = &scenario.file().system;
    let shape = EncoderShape::new(sys.users, scenario.tx().elements(), sys.modulation_order);
    let mut group = c.benchmark_group(format!("encoder_train_step_batch{batch}"));
    for &device in devices {
        let dev = device.autodiff();
        let mut rng = stream(7, [0; 3]);
        let mut data =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random::<f32>() - 0.5).collect() };
        let x = Tensor::<2>::from_data(
            TensorData::new(data(batch * shape.input), [batch, shape.input]),
            &dev,
        );
        let target = Tensor::<3>::from_data(
            TensorData::new(data(batch * shape.output), [batch, 1, shape.output]),
            &dev,
        );
        let mut run = |name: &str, model: Model| {
            let mut optimizer = AdamConfig::new().init();
            let mut model = Some(model);
            group.bench_function(format!("{}/{name}", device.name()), |b| {
                b.iter(|| {
                    let m = model.take().expect("model");
                    let y = normalize_power(
                        m.forward(x.clone()).reshape([batch, 1, shape.output]),
                        1.0,
                    );
                    let loss = (y - target.clone()).square().mean();
                    let grads = GradientsParams::from_grads(loss.backward(), &m);
                    model = Some(optimizer.step(1e-3, m, grads));
                })
            });
        };
        for kind in EncoderKind::ALL {
            let encoder = Encoder::new(
                kind,
                shape,
                &scenario.file().encoder,
                &mut stream(1, [0; 3]),
                &dev,
            )
            .expect("encoder");
            run(kind.name(), Model::Encoder(encoder));
        }
        let section = &scenario.file().encoder;
        let dense = |d_in: usize, d_out: usize| {
            TtLinearConfig::new(vec![d_in], vec![d_out], 1)
                .init(&mut stream(1, [0; 3]), &dev)
                .expect("dense layer")
        };
        let mut widths = vec![shape.input];
        widths.extend(&section.fc_hidden);
        widths.push(shape.output);
        let layers = widths.windows(2).map(|w| dense(w[0], w[1])).collect();
        run("FC-fused", Model::Fused(layers));
        let dtte = Encoder::new(
            EncoderKind::Dtte,
            shape,
            section,
            &mut stream(1, [0; 3]),
            &dev,
        )
        .expect("encoder");
        let core = dtte.tt_layers()[0]
            .config()
            .init(&mut stream(1, [0; 3]), &dev)
            .expect("TT core");
        let head = [
            section.dtte_core_width,
            section.dtte_head_hidden,
            shape.output,
        ];
        let mut layers = vec![core];
        layers.extend(head.windows(2).map(|w| dense(w[0], w[1])));
        run("DTTE-fused", Model::Fused(layers));
    }
    group.finish();
}

/// A benched model: an encoder, or the `FC-fused` control.
#[derive(burn::module::Module, Debug)]
enum Model {
    Encoder(Encoder),
    Fused(Vec<TtLinear>),
}

impl Model {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Encoder(e) => e.forward(x),
            Self::Fused(layers) => layers.iter().enumerate().fold(x, |x, (i, layer)| {
                let y = layer.forward(x);
                if i + 1 < layers.len() { relu(y) } else { y }
            }),
        }
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
