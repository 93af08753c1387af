//! Release benchmarks of the SDR design on the paper setting (Gamma = 2.68e-5).
//! Goals (issue): median SDP solve <= 5 ms; one full Gamma optimisation <= 0.3 s.

use criterion::{Criterion, criterion_group, criterion_main};
use isac_channel::scenario::SecureIsacScenario;
use isac_sdr::{Formulation, Scheme, SecureBeamformingProblem, run_scheme};
use std::hint::black_box;

fn scenario() -> SecureIsacScenario {
    isac_channel::scenario::shipped::hou2023().unwrap()
}

fn bench(c: &mut Criterion) {
    let s = scenario();
    let problem =
        SecureBeamformingProblem::new(&s, 2.68e-5, Formulation::Preconditioned, true).unwrap();
    let mut group = c.benchmark_group("sdr_paper_setting");
    group.sample_size(30);
    group.bench_function("one SDP solve (gamma = 0.02)", |b| {
        b.iter(|| problem.solve(black_box(0.02)).unwrap())
    });
    group.sample_size(10);
    group.bench_function("one Gamma optimisation (gamma search + recovery)", |b| {
        b.iter(|| run_scheme(&s, Scheme::Proposed, black_box(2.68e-5), None).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
