//! The GPU path against the CPU one (cargo feature `wgpu`; CI runs it on Mesa's software Vulkan,
//! lavapipe): the same seeded models train a few Adam steps on `wgpu` and on `flex`, and their
//! losses and transmitted frames agree within float tolerance, for the FC encoder and for DTTE.
//! On the GPU the fused CPU operations run as cubecl kernels (the layers, the budgeted beams and
//! FJ candidate, the secrecy rates, received signals and angle FIM in one operation, the parts of
//! the loss) or as composed tensor operations (ISAC_FJ_PLUS's jamming mix), so this also checks
//! those paths against the CPU's host loops end to end. The file builds without the feature too (the test then says it skipped),
//! so the GPU test keeps compiling against the API every build checks.

use std::path::Path;

use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::autoencoder::{Batch, Conditions, Scheme, Setup, Task, Trainer};
use isac_learn::{Device, EncoderKind, KernelLaunches, LearnConfig, ModelDevice};

/// Adam steps taken on each device before the comparison.
const STEPS: usize = 3;

fn setup(scheme: Scheme, encoder: EncoderKind, subcarriers: usize) -> Setup {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/tuan2025.toml");
    let mut f = FriendlyJammingScenario::from_path(&path)
        .unwrap()
        .file()
        .clone();
    f.set_subcarriers(subcarriers);
    let scenario = FriendlyJammingScenario::from_file(f).unwrap();
    Setup {
        scheme,
        encoder,
        fim_scale: scenario.fim_scale(),
        config: LearnConfig::from_scenario(&scenario).unwrap(),
        // The span of the shipped `[evaluation]` grids (isac-eval owns that section).
        task: Task::spanning(&[0.0, 30.0], &[-65.0, -30.0], 0.5),
        scenario,
    }
}

/// After [`STEPS`] steps on `device`: the loss on fixed held-out draws, and every entry of the
/// transmitted beams and jamming columns.
fn trained(setup: &Setup, device: &Device) -> (f64, Vec<f64>) {
    let mut trainer = Trainer::new(setup.clone(), device).unwrap();
    for _ in 0..STEPS {
        trainer.step().unwrap();
    }
    let model = trainer.model();
    let frames = 8;
    let conditions = vec![
        Conditions {
            p_db: 20.0,
            crlb_db: -30.0,
        };
        frames
    ];
    let indices: Vec<u64> = (0..frames as u64).collect();
    let batch = Batch::new(setup, &indices, &conditions, 3, device).unwrap();
    let loss = model.loss(setup, &batch).total.into_scalar::<f32>();
    let mut entries = Vec::new();
    for row in model.transmit(setup, &batch).rows().unwrap() {
        for f in &row.beams {
            entries.extend(f.iter().flat_map(|z| [z.re, z.im]));
        }
        entries.extend(
            row.jamming
                .col_iter()
                .flat_map(|c| c.iter().flat_map(|z| [z.re, z.im]).collect::<Vec<_>>()),
        );
    }
    (f64::from(loss), entries)
}

#[test]
fn training_on_wgpu_matches_flex() {
    let gpu = match ModelDevice::Wgpu.open() {
        Ok(device) => device,
        // CI installs a Vulkan driver; a developer's machine without one still builds and says so.
        Err(e) if std::env::var_os("ISAC_REQUIRE_WGPU").is_none() => {
            eprintln!("skipped: {e} (set ISAC_REQUIRE_WGPU=1 to fail instead)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let cpu = ModelDevice::Flex.open().unwrap();
    for (scheme, encoder, n) in [
        (Scheme::IsacFj, EncoderKind::Fc, 1),
        (Scheme::IsacFjPlus, EncoderKind::Dtte, 4),
    ] {
        let s = setup(scheme, encoder, n);
        let what = format!("{} {} N = {n}", scheme.name(), encoder.name());
        // The bench's kernel count (`cargo xtask bench --json`) sees the GPU's launches only.
        let launches = KernelLaunches::watch().expect("a wgpu build counts kernel launches");
        let (loss_cpu, tx_cpu) = trained(&s, &cpu);
        assert_eq!(launches.count(), 0, "{what}: flex launched GPU kernels");
        let (loss_gpu, tx_gpu) = trained(&s, &gpu);
        assert!(launches.count() > 0, "{what}: no wgpu kernel was counted");
        assert!(
            (loss_cpu - loss_gpu).abs() <= 1e-3 * (1.0 + loss_cpu.abs()),
            "{what}: loss flex {loss_cpu} vs wgpu {loss_gpu}"
        );
        assert_eq!(tx_cpu.len(), tx_gpu.len());
        let scale = tx_cpu.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let worst = tx_cpu
            .iter()
            .zip(&tx_gpu)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            worst <= 1e-3 * scale,
            "{what}: transmitted entries differ by {worst:e} (largest entry {scale:e})"
        );
    }
}
