//! `cargo xtask bench`: criterion benches of the hot paths, then in-process timings of whole
//! workloads, each printed beside its goal.

use std::path::Path;
use std::process::Command;
use std::sync::Barrier;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use isac_channel::fading::realize;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_eval::config::EvaluationSection;
use isac_learn::autoencoder::{Scheme, Setup, Trainer};
use isac_learn::fim_estimator::{FimEstimatorSettings, Probe, estimate};
use isac_learn::{CpuDevice, Device, EncoderKind, KernelLaunches, LearnConfig, ModelDevice};
use serde_json::json;

use crate::workspace_root;

/// The criterion benches run, as (package, bench target).
const BENCHES: [(&str, &str); 3] = [
    ("isac-bounds", "pcrb"),
    ("isac-sdr", "sdr"),
    ("isac-learn", "train_step"),
];

/// Subcarrier counts of the autoencoder-step timing: the single-carrier batch of 128 samples
/// and 8 frames of 64 subcarriers (issue 19's two operating points).
const STEP_SUBCARRIERS: [usize; 2] = [1, 64];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip the criterion benches and print the in-process timings as one JSON object on stdout
    /// (`autoencoder_step_ms`: device -> {"n1", "n64"}; whole-workload seconds).
    #[arg(long)]
    json: bool,
    /// With `--json`: only the autoencoder step (`rayon_threads`, `autoencoder_step_ms`,
    /// `kernel_launches_per_step`), not the whole workloads.
    #[arg(long, requires = "json")]
    steps_only: bool,
}

pub fn run(args: &Args) -> Result<()> {
    if args.json {
        return print_json(args.steps_only);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = workspace_root();
    for (package, bench) in BENCHES {
        let status = Command::new(&cargo)
            .current_dir(&root)
            .args(["bench", "-p", package, "--bench", bench])
            .status()
            .context("running cargo bench")?;
        if !status.success() {
            bail!("cargo bench -p {package} failed");
        }
    }
    let fig4 = time_fig4()?;
    let (fim_seconds, fim_cores) = time_fim_estimator()?;
    let (optimum_seconds, optimum) = time_jamming_optimum()?;

    println!("\nGoals (release, this machine):");
    println!(
        "  exact PCRB of one covariance          <= 0.2 ms   (criterion: pcrb_exact_paper_setting above)"
    );
    println!(
        "  median SDP solve                      <= 5 ms     (criterion: sdr_paper_setting/one SDP solve)"
    );
    println!(
        "  one Gamma optimisation                <= 0.3 s    (criterion: sdr_paper_setting/one Gamma optimisation)"
    );
    println!(
        "  whole Fig. 4 sweep (rayon, {} threads) <= 2 s      measured {fig4:.2} s",
        rayon_threads()
    );
    println!(
        "  FIM estimator, default settings       <= 10 s     measured {fim_seconds:.2} s ({fim_cores:.2} cores busy on average)"
    );
    println!(
        "  jamming optimum, shipped scenario, D = 2000 <= 2 s measured {optimum_seconds:.2} s ({:?}, gap {:.1e} nats, {} steps)",
        optimum.status, optimum.gap, optimum.iterations
    );
    for step in autoencoder_steps()? {
        let ([n1, n64], device) = (step.ms, step.device);
        let launches = step.launches.map_or(String::new(), |[l1, l64]| {
            format!("; GPU kernels per step {l1:.0} and {l64:.0}")
        });
        println!(
            "  {device:<7} autoencoder step (ISAC_FJ, FC) N = 1, batch 128: {n1:.2} ms (goal <= 4 ms, one thread); N = 64, 8 frames: {n64:.2} ms{launches}"
        );
        if device == ModelDevice::Wgpu {
            let [shared, lanes] = side_by_side(device)?;
            println!(
                "  {device:<7} {SIDE_BY_SIDE_MODELS} models side by side at N = 64: {shared:.1} steps/s on one runtime, {lanes:.1} on lanes ({:.2}x; at most {} lanes)",
                lanes / shared,
                device.lane_limit()
            );
        }
    }
    let criterion = root.join("target/criterion/encoder_train_step_batch128");
    for device in CpuDevice::all() {
        let step =
            |name: &str| criterion_mean_ns(&criterion.join(format!("{}_{name}", device.name())));
        let (fc, dtte, tt) = (
            step(EncoderKind::Fc.name())?,
            step(EncoderKind::Dtte.name())?,
            step(EncoderKind::Tt.name())?,
        );
        println!(
            "  {:<7} training steps/s at batch 128: FC {:.0}, DTTE {:.0}, TT {:.0}; DTTE / FC speed-up {:.2}x (goal >= 2x)",
            device.name(),
            1e9 / fc,
            1e9 / dtte,
            1e9 / tt,
            fc / dtte
        );
    }
    Ok(())
}

/// `cargo xtask bench --json`.
fn print_json(steps_only: bool) -> Result<()> {
    let measured = autoencoder_steps()?;
    let per_device = |value: fn(&StepTiming) -> Option<[f64; 2]>| {
        measured
            .iter()
            .filter_map(|step| {
                value(step)
                    .map(|[n1, n64]| (step.device.to_string(), json!({"n1": n1, "n64": n64})))
            })
            .collect::<serde_json::Map<String, serde_json::Value>>()
    };
    let mut out = json!({
        "rayon_threads": rayon_threads(),
        "autoencoder_step_ms": per_device(|step| Some(step.ms)),
        "kernel_launches_per_step": per_device(|step| step.launches),
    });
    if !steps_only {
        // The GPU device, which alone has lanes of its own.
        let side = (measured.iter())
            .filter(|step| step.device == ModelDevice::Wgpu)
            .map(|step| {
                let [shared, lanes] = side_by_side(step.device)?;
                Ok((
                    step.device.to_string(),
                    json!({
                        "models": SIDE_BY_SIDE_MODELS,
                        "lane_limit": step.device.lane_limit(),
                        "shared": shared,
                        "lanes": lanes
                    }),
                ))
            })
            .collect::<Result<serde_json::Map<_, _>>>()?;
        out["side_by_side_steps_per_s"] = json!(side);
        let (fim_seconds, _) = time_fim_estimator()?;
        let (optimum_seconds, _) = time_jamming_optimum()?;
        out["fig4_seconds"] = json!(time_fig4()?);
        out["fim_estimator_seconds"] = json!(fim_seconds);
        out["jamming_optimum_seconds"] = json!(optimum_seconds);
    }
    println!("{out}");
    Ok(())
}

/// The autoencoder step on one device, at each of [`STEP_SUBCARRIERS`].
struct StepTiming {
    device: ModelDevice,
    /// Milliseconds per step.
    ms: [f64; 2],
    /// GPU kernels launched per step ([`KernelLaunches`]; zero on the CPU devices), where the
    /// build has a GPU runtime to count them.
    launches: Option<[f64; 2]>,
}

/// The timed step's model: ISAC_FJ with the FC encoder on the shipped scenario at N = `n`.
fn step_setup(shipped: &FriendlyJammingScenario, n: usize) -> Result<Setup> {
    let mut file = shipped.file().clone();
    file.set_subcarriers(n);
    let scenario = FriendlyJammingScenario::from_file(file)?;
    Ok(Setup {
        scheme: Scheme::IsacFj,
        encoder: EncoderKind::Fc,
        fim_scale: scenario.fim_scale(),
        config: LearnConfig::from_scenario(&scenario)?,
        task: EvaluationSection::from_scenario(&scenario)?.task(),
        scenario,
    })
}

/// One stage-1 training step of ISAC_FJ with the FC encoder (draws, transmission, loss eq. 40,
/// backward, Adam) on every device this build has (a device that does not answer, e.g. wgpu
/// without a GPU, is left out with a note on stderr).
fn autoencoder_steps() -> Result<Vec<StepTiming>> {
    let shipped =
        FriendlyJammingScenario::from_path(&workspace_root().join("scenarios/tuan2025.toml"))?;
    let mut out = Vec::new();
    for device in ModelDevice::compiled() {
        let dev = match device.open() {
            Ok(dev) => dev,
            Err(e) => {
                eprintln!("autoencoder step: {e}; skipped");
                continue;
            }
        };
        let (mut ms, mut launches) = ([0.0; 2], Some([0.0; 2]));
        for (i, n) in STEP_SUBCARRIERS.into_iter().enumerate() {
            let mut trainer = Trainer::new(step_setup(&shipped, n)?, &dev)?;
            let timed = if n == 1 { 200 } else { 40 }; // about 0.4 and 0.2 s: shorter runs wandered by 20%
            // On a rayon worker, as `reproduce` trains (each model inside a parallel map): a step's
            // parallel draws then start on the calling thread instead of waking a pool thread
            // from outside (about 0.1 ms per step with one thread).
            let (seconds, count) = rayon::scope(|_| -> Result<(f64, Option<u64>)> {
                for _ in 0..5 {
                    trainer.step()?; // warm-up: allocator pools, kernel compilation
                }
                dev.sync().context("waiting for the device")?;
                let watch = KernelLaunches::watch();
                let started = Instant::now();
                for _ in 0..timed {
                    trainer.step()?;
                }
                // A GPU runs behind the host: the steps are done when the device says so.
                dev.sync().context("waiting for the device")?;
                let seconds = started.elapsed().as_secs_f64();
                Ok((seconds, watch.map(|w| w.count())))
            })?;
            ms[i] = seconds * 1e3 / timed as f64;
            launches = launches.zip(count).map(|(mut per_step, count)| {
                per_step[i] = count as f64 / timed as f64;
                per_step
            });
        }
        out.push(StepTiming {
            device,
            ms,
            launches,
        });
    }
    Ok(out)
}

/// Trainers that step at once in [`side_by_side`] (a quick Fig. 3 trains more models at once on
/// a host with as many cores).
const SIDE_BY_SIDE_MODELS: usize = 4;

/// Models trained side by side on a GPU device, as `reproduce` trains them (issue 19):
/// [`SIDE_BY_SIDE_MODELS`] trainers of the timed step at N = 64 stepping at once, 20 steps each
/// after 3 of warm-up. Steps per second of all of them together, `[shared, lanes]`: on the one
/// runtime [`ModelDevice::open`] gives, and on lanes ([`ModelDevice::on_lane`], what `reproduce`
/// does: one each up to [`ModelDevice::lane_limit`]).
fn side_by_side(device: ModelDevice) -> Result<[f64; 2]> {
    const TIMED: usize = 20;
    let shipped =
        FriendlyJammingScenario::from_path(&workspace_root().join("scenarios/tuan2025.toml"))?;
    let setup = step_setup(&shipped, 64)?;
    let shared = device.open()?;
    let mut out = [0.0; 2];
    for (i, on_lanes) in [false, true].into_iter().enumerate() {
        let start = Barrier::new(SIDE_BY_SIDE_MODELS + 1);
        let train = |dev: &Device| -> Result<()> {
            let warm = (|| -> Result<Trainer> {
                let mut trainer = Trainer::new(setup.clone(), dev)?;
                for _ in 0..3 {
                    trainer.step()?;
                }
                dev.sync().context("waiting for the device")?;
                Ok(trainer)
            })();
            start.wait(); // every trainer, warmed up or failed, before the clock starts
            let mut trainer = warm?;
            for _ in 0..TIMED {
                trainer.step()?;
            }
            dev.sync().context("waiting for the device")
        };
        let seconds = std::thread::scope(|scope| -> Result<f64> {
            let trainers: Vec<_> = (0..SIDE_BY_SIDE_MODELS)
                .map(|_| {
                    scope.spawn(|| match on_lanes {
                        true => device.on_lane(train)?,
                        false => train(&shared),
                    })
                })
                .collect();
            start.wait();
            let started = Instant::now();
            for trainer in trainers {
                trainer
                    .join()
                    .map_err(|_| anyhow!("a side-by-side trainer panicked"))??;
            }
            Ok(started.elapsed().as_secs_f64())
        })?;
        out[i] = (SIDE_BY_SIDE_MODELS * TIMED) as f64 / seconds;
    }
    Ok(out)
}

/// The whole Fig. 4 sweep, timed in-process at full size.
fn time_fig4() -> Result<f64> {
    let out = std::env::temp_dir().join(format!("isac-bench-{}", std::process::id()));
    let ctx =
        isac_eval::experiments::RunContext::new(out.clone(), workspace_root().join("scenarios"));
    let started = Instant::now();
    (isac_eval::experiments::find("hou2023-fig4")?.run)(&ctx)?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    Ok(seconds)
}

/// The FIM estimator at the shipped settings: wall seconds and the average number of busy
/// cores (process CPU time / wall time), which shows whether the CPU device uses both cores.
fn time_fim_estimator() -> Result<(f64, f64)> {
    let scenario =
        FriendlyJammingScenario::from_path(&workspace_root().join("scenarios/tuan2025.toml"))?;
    let section = LearnConfig::from_scenario(&scenario)?.fim_estimator;
    let probe = Probe::new(&scenario, section.probe_power_fraction)?;
    let settings = FimEstimatorSettings::new(&section, scenario.seed());
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    estimate(&probe, &settings, &CpuDevice::Flex.device())?;
    let wall = started.elapsed().as_secs_f64();
    let cores = match (cpu_before, process_cpu_seconds()) {
        (Some(a), Some(b)) => (b - a) / wall,
        _ => f64::NAN,
    };
    Ok((wall, cores))
}

/// `isac jamming-optimum`'s solve on the shipped scenario at its `P_max` and D = 2000 Eve draws
/// (users' realisation 0, ZF_AN's beams and split, the CRLB constraint): wall seconds of the
/// solve alone, and its result.
fn time_jamming_optimum() -> Result<(f64, isac_sdr::JammingOptimum)> {
    let shipped =
        FriendlyJammingScenario::from_path(&workspace_root().join("scenarios/tuan2025.toml"))?;
    let mut file = shipped.file().clone();
    file.set_subcarriers(1);
    let s = FriendlyJammingScenario::from_file(file)?;
    let f = s.file();
    let power = s.subcarrier_power(f.system.p_max_db);
    let eve_model = f.channel.eve_model;
    let users = realize(&s, &eve_model, 0.0, 0)?.users.remove(0);
    let eve = (1..=2000u64)
        .map(|d| Ok(realize(&s, &eve_model, 0.0, d)?.eve.remove(0)))
        .collect::<Result<Vec<_>>>()?;
    let share = EvaluationSection::from_scenario(&s)?.an_power_fraction;
    let design = isac_design::zf_an(users.as_ref(), power, share)?;
    let geometry = isac_bounds::EchoGeometry {
        tx: s.tx(),
        rx: s.rx(),
    };
    let (theta, phi) = s.target();
    let sensing = geometry.channel(theta, phi);
    let scale = s.fim_scale() * s.snapshots();
    let started = Instant::now();
    let problem = isac_sdr::JammingProblem::new(
        users.as_ref(),
        &design.beams,
        &eve,
        f.system.noise_power,
        share * power,
    )?;
    let constraint = problem.crlb_constraint(&sensing, &design.beams, scale, s.crlb_max())?;
    let optimum = problem.solve_constrained(&constraint, isac_sdr::OptimumSettings::default())?;
    Ok((started.elapsed().as_secs_f64(), optimum))
}

/// User + system CPU time of this process from `/proc/self/stat` (Linux; None elsewhere).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Criterion's mean estimate (ns) of one benchmark directory.
fn criterion_mean_ns(dir: &Path) -> Result<f64> {
    let path = dir.join("new/estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    v["mean"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no mean estimate in {}", path.display()))
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
