//! Training steps of the FC, DTTE and pure-TT encoders at batch 128 on every CPU device:
//! forward, exact power normalisation, a squared-error loss, backward and one Adam step. The
//! same at batch 1024 on flex shows how much of a step is per-step overhead. Every layer of
//! every encoder runs on the same fused kernel (dense layers are single-core TT layers), so the
//! DTTE / FC ratio compares architectures, not GEMM engines.

use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use isac_channel::rng::stream;
use isac_learn::{CpuDevice, Encoder, EncoderKind, EncoderShape, FusedAdam, normalize_power};
use rand::RngExt;

/// mimalloc keeps freed pages for reuse: Burn allocates tens of MB per training step, which the
/// system allocator returns to the OS and faults back in (FIM estimator 4.3 s -> 1.9 s). Built
/// without transparent huge pages (the workspace's `no_thp`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn train_step(c: &mut Criterion) {
    for (batch, devices) in [(128, CpuDevice::all()), (1024, vec![CpuDevice::Flex])] {
        bench_batch(c, batch, &devices);
    }
}

fn bench_batch(c: &mut Criterion, batch: usize, devices: &[CpuDevice]) {
    let scenario = isac_channel::scenario::shipped::tuan2025().expect("shipped scenario");
    let shape = EncoderShape::new(
        scenario.users(),
        scenario.tx().elements(),
        scenario.modulation_order(),
    );
    let section = isac_learn::LearnConfig::from_scenario(&scenario)
        .expect("shipped [encoder]")
        .encoder;
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
        for kind in EncoderKind::ALL {
            let encoder =
                Encoder::new(kind, shape, &section, &mut stream(1, [0; 3]), &dev).expect("encoder");
            let mut optimizer = FusedAdam::default().init();
            let mut model = Some(encoder);
            group.bench_function(format!("{}/{}", device.name(), kind.name()), |b| {
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
        }
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
