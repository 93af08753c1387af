//! Release benchmarks of the exact PCRB on the paper setting (goal: <= 0.2 ms per covariance).

use criterion::{Criterion, criterion_group, criterion_main};
use faer::{Mat, c64};
use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};
use isac_channel::{GaussianMixturePrior, Ula};
use std::hint::black_box;

fn paper_setting() -> PcrbSetting {
    let means = [-55.0f64, -35.0, 65.0, 45.0].map(f64::to_radians).to_vec();
    PcrbSetting {
        tx: Ula::new(8, 0.5).unwrap(),
        rx: Ula::new(10, 0.5).unwrap(),
        prior: GaussianMixturePrior::new(means, vec![0.2, 0.3, 0.1, 0.4], 0.01).unwrap(),
        beta: 7.1e-4,
        noise_radar: 1e-9,
    }
}

fn covariance() -> Mat<c64> {
    let a = Mat::from_fn(8, 8, |i, j| {
        c64::new(
            ((i * 7 + j * 3) % 5) as f64 - 2.0,
            ((i + 2 * j) % 3) as f64 - 1.0,
        )
    });
    let r = &a * a.adjoint();
    let tr: f64 = (0..8).map(|i| r[(i, i)].re).sum();
    Mat::from_fn(8, 8, |i, j| r[(i, j)] * (0.1 / tr))
}

fn bench(c: &mut Criterion) {
    let r = covariance();
    let model = PcrbModel::new(paper_setting(), QuadratureSettings::default()).unwrap();
    let mut group = c.benchmark_group("pcrb_exact_paper_setting");
    group.bench_function("evaluate (prior expectations precomputed)", |b| {
        b.iter(|| model.pcrb(black_box(r.as_ref())).unwrap())
    });
    group.bench_function("from scratch (quadrature + epsilon + evaluate)", |b| {
        b.iter(|| {
            let m =
                PcrbModel::new(black_box(paper_setting()), QuadratureSettings::default()).unwrap();
            m.pcrb(black_box(r.as_ref())).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
