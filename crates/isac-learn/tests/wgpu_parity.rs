//! The GPU path against the CPU one (cargo feature `wgpu`; CI runs it on Mesa's software Vulkan,
//! lavapipe): the same seeded models train a few Adam steps on `wgpu` and on `flex`, and their
//! losses and transmitted frames agree within float tolerance, for the FC encoder and for DTTE.
//! On the GPU the fused CPU operations run as cubecl kernels (the layers, the budgeted beams and
//! FJ candidate, the secrecy rates, received signals and angle FIM in one operation, the parts of
//! the loss) or as composed tensor operations (ISAC_FJ_PLUS's jamming mix), so this also checks
//! those paths against the CPU's host loops end to end. The file builds without the feature too (the test then says it skipped),
//! so the GPU test keeps compiling against the API every build checks.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use isac_channel::scenario::FriendlyJammingScenario;
use isac_learn::autoencoder::{Batch, Conditions, Scheme, Setup, Task, TrainedAutoencoder};
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

/// After [`STEPS`] steps on `train`, moved to `eval`: the loss on fixed held-out draws there, and
/// every entry of the transmitted beams and jamming columns.
fn trained(setup: &Setup, train: &Device, eval: &Device) -> (f64, Vec<f64>) {
    let model = TrainedAutoencoder::train(setup.clone(), STEPS, &[], 0, train, &|| {})
        .unwrap()
        .to_device(eval)
        .model;
    let frames = 8;
    let conditions = vec![
        Conditions {
            p_db: 20.0,
            crlb_db: -30.0,
        };
        frames
    ];
    let indices: Vec<u64> = (0..frames as u64).collect();
    let batch = Batch::new(setup, &indices, &conditions, 3, eval).unwrap();
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

/// Held by each test while it runs: kernel launches are counted process-wide, so a test counting
/// them must not overlap another's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The wgpu device, held by this test alone, or `None` (the test then says it skipped) where none
/// answers and CI did not ask for one.
fn wgpu_or_skip() -> Option<(Device, MutexGuard<'static, ()>)> {
    let alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    match ModelDevice::Wgpu.open() {
        Ok(device) => Some((device, alone)),
        // CI installs a Vulkan driver; a developer's machine without one still builds and says so.
        Err(e) if std::env::var_os("ISAC_REQUIRE_WGPU").is_none() => {
            eprintln!("skipped: {e} (set ISAC_REQUIRE_WGPU=1 to fail instead)");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// The two models the tests train: a single-carrier FC and a multicarrier DTTE ISAC_FJ_PLUS.
fn cases() -> [(Scheme, EncoderKind, usize); 2] {
    [
        (Scheme::IsacFj, EncoderKind::Fc, 1),
        (Scheme::IsacFjPlus, EncoderKind::Dtte, 4),
    ]
}

#[test]
fn training_on_wgpu_matches_flex() {
    let Some((gpu, _alone)) = wgpu_or_skip() else {
        return;
    };
    let cpu = ModelDevice::Flex.open().unwrap();
    for (scheme, encoder, n) in cases() {
        let s = setup(scheme, encoder, n);
        let what = format!("{} {} N = {n}", scheme.name(), encoder.name());
        // The bench's kernel count (`cargo xtask bench --json`) sees the GPU's launches only.
        let launches = KernelLaunches::watch().expect("a wgpu build counts kernel launches");
        let (loss_cpu, tx_cpu) = trained(&s, &cpu, &cpu);
        assert_eq!(launches.count(), 0, "{what}: flex launched GPU kernels");
        let (loss_gpu, tx_gpu) = trained(&s, &gpu, &gpu);
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

/// Models trained side by side, each on a lane of its own (as `reproduce` trains on wgpu), are
/// the models trained one after another on the shared device, bit for bit, once moved back to it.
/// Two jobs at once hold two lanes where the limit allows (CI sets `ISAC_WGPU_LANES=2` on its two
/// cores, whose own limit is one lane), the first of them the shared device; a free lane is reused.
#[test]
fn wgpu_models_trained_side_by_side_on_lanes_match_the_shared_device() {
    let Some((gpu, _alone)) = wgpu_or_skip() else {
        return;
    };
    let setups = cases().map(|(scheme, encoder, n)| setup(scheme, encoder, n));
    let alone: Vec<_> = setups.iter().map(|s| trained(s, &gpu, &gpu)).collect();
    let side_by_side: Vec<_> = std::thread::scope(|scope| {
        let jobs: Vec<_> = setups
            .iter()
            .map(|s| {
                scope.spawn(|| {
                    ModelDevice::Wgpu
                        .on_lane(|lane| trained(s, lane, &gpu))
                        .unwrap()
                })
            })
            .collect();
        jobs.into_iter().map(|job| job.join().unwrap()).collect()
    });
    assert_eq!(alone, side_by_side);
    let two = ModelDevice::Wgpu.lane_limit() >= 2;
    let lane = |job: &dyn Fn(&Device)| ModelDevice::Wgpu.on_lane(job).unwrap();
    lane(&|a| {
        assert_eq!(a, &gpu, "the first lane is not the shared device");
        lane(&|b| {
            assert_eq!(
                a != b,
                two,
                "lanes {a:?} and {b:?} with room for two: {two}"
            )
        });
    });
    let first = ModelDevice::Wgpu.on_lane(Device::clone).unwrap();
    let again = ModelDevice::Wgpu.on_lane(Device::clone).unwrap();
    assert_eq!(again, first, "a free lane was not reused");
}
