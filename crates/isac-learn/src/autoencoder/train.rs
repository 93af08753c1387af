//! Stage 1 of Algorithm 1 (Adam on loss eq. 40 over fresh channel draws), the convergence log of
//! Fig. 5, and saving / loading trained models as burnpack files.

use std::path::Path;
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Bytes, Device};
use isac_channel::rng::stream;
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::batch::Drawn;
use super::{Autoencoder, Batch, Conditions, RowDesign, Setup, Task};
use crate::tensor::values;
use crate::{FusedAdam, FusedAdamOptimizer, LearnError};

/// First realisation index of the training draws (held-out evaluation uses `0..draws`).
pub const TRAINING_DRAWS: u64 = 1 << 40;
/// First realisation index of the validation draws of the convergence log.
const VALIDATION_DRAWS: u64 = 1 << 41;
/// Stream index of the training operating points.
const STREAM_CONDITIONS: u64 = 0x434f_4e44; // "COND"

/// One point of the convergence log (Fig. 5): held-out metrics at one power after `iteration`
/// Adam steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConvergencePoint {
    /// Adam steps taken.
    pub iteration: usize,
    /// `P_max`, dB.
    pub p_db: f64,
    /// Sum over users of `[R_k - R_E,k]^+`, averaged over subcarriers and validation draws.
    pub sum_secrecy: f64,
    /// Loss eq. (40) on the validation draws.
    pub loss: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingLog {
    /// Convergence points, by iteration then power.
    pub points: Vec<ConvergencePoint>,
    /// Adam steps taken.
    pub iterations: usize,
    /// Wall time of training.
    pub seconds: f64,
}

/// A trained model with what it was trained for.
#[derive(Debug, Clone)]
pub struct TrainedAutoencoder {
    /// The setup.
    pub setup: Setup,
    /// The model (no gradients).
    pub model: Autoencoder,
    /// The training log (empty for a loaded model).
    pub log: TrainingLog,
}

fn scalar(t: burn::tensor::Tensor<1>) -> Result<f64, LearnError> {
    let v = values(t)?;
    let x = f64::from(v[0]);
    if x.is_finite() {
        Ok(x)
    } else {
        Err(LearnError::Numerical(format!(
            "training produced a non-finite value ({x}); lower training.learning_rate"
        )))
    }
}

/// Stage-1 Adam steps on batches of fresh draws whose power and CRLB threshold are uniform over
/// the scenario's evaluation ranges (so one model serves every point of a sweep). Step `i` always
/// sees the same draws, so a model depends on the seed and the number of steps only.
pub struct Trainer {
    setup: Setup,
    grad_device: Device,
    /// Always `Some` between steps (taken by value for Adam's update, which replaces its
    /// parameters).
    model: Option<Autoencoder>,
    optimizer: FusedAdamOptimizer,
    steps: usize,
    /// On a GPU device, the thread that draws the next step's batch while a step runs.
    prefetch: Option<Prefetch>,
}

/// Step `it`'s draws: operating points uniform over the task's ranges and the training
/// realisations `TRAINING_DRAWS + it B ..`, over the current rayon pool.
fn draws(setup: &Setup, it: u64) -> Result<Drawn, LearnError> {
    let seed = setup.scenario.seed();
    let b = setup.frames_per_batch();
    let Task {
        p_db: (p_lo, p_hi),
        crlb_db: (c_lo, c_hi),
        ..
    } = setup.task;
    let mut rng = stream(seed, [STREAM_CONDITIONS, it, 0]);
    let conditions: Vec<Conditions> = (0..b)
        .map(|_| Conditions {
            p_db: p_lo + (p_hi - p_lo) * rng.random::<f64>(),
            crlb_db: c_lo + (c_hi - c_lo) * rng.random::<f64>(),
        })
        .collect();
    let indices: Vec<u64> = (0..b as u64)
        .map(|i| TRAINING_DRAWS + it * b as u64 + i)
        .collect();
    Drawn::new(setup, &indices, &conditions, seed)
}

/// A thread of its own that draws step `i`'s batch on request `i` (in order, one ahead of the
/// steps), so that on a GPU device the draws run beside the host work of a step (Burn's graph and
/// its fusion client, which otherwise wait for them; docs/decisions.md). The draws are the same
/// values as the step's own ([`draws`]), on [`draws_pool`]: rayon's global pool may be busy with
/// the very thread that waits for them.
struct Prefetch {
    requests: mpsc::Sender<u64>,
    /// Each request's step and its draws.
    drawn: mpsc::Receiver<(u64, Result<Drawn, LearnError>)>,
}

/// The process's pool for prefetched draws, shared by every trainer (models trained side by side
/// each had a pool of their own before: on a 16-core host, 16 trainers held 13 threads each), or
/// why it could not be built. Its threads are the cores that a step's other host threads leave
/// (those of [`crate::HOST_THREADS_PER_LANE`] but the draws' own; at least one, at most 16).
fn draws_pool() -> Result<&'static rayon::ThreadPool, LearnError> {
    static POOL: OnceLock<Result<rayon::ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let others = crate::HOST_THREADS_PER_LANE - 1;
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.saturating_sub(others).clamp(1, 16))
            .thread_name(|i| format!("isac-draws-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| LearnError::Numerical(format!("starting the draws' threads: {e}")))
}

impl Prefetch {
    /// The thread, asked for the first step's draws.
    fn start(setup: Setup) -> Result<Self, LearnError> {
        let (requests, asked) = mpsc::channel::<u64>();
        let (done, drawn) = mpsc::channel();
        let pool = draws_pool()?;
        std::thread::Builder::new()
            .name("isac-draws".into())
            .spawn(move || {
                // Ends when the trainer (the sender of requests) is dropped.
                for it in asked {
                    if done.send((it, pool.install(|| draws(&setup, it)))).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| LearnError::Numerical(format!("starting the draws' thread: {e}")))?;
        let next = Self { requests, drawn };
        next.requests.send(0).map_err(|_| next.gone())?;
        Ok(next)
    }

    /// Step `it`'s draws, and the request for step `it + 1`'s. Drawn here instead where the
    /// thread's draws are another step's (a step that failed after asking for the next one).
    fn take(&self, setup: &Setup, it: u64) -> Result<Drawn, LearnError> {
        let (step, drawn) = self.drawn.recv().map_err(|_| self.gone())?;
        self.requests.send(it + 1).map_err(|_| self.gone())?;
        if step == it { drawn } else { draws(setup, it) }
    }

    fn gone(&self) -> LearnError {
        LearnError::Numerical("the thread drawing the next batch stopped".into())
    }
}

impl Trainer {
    /// A freshly initialised model on `device` (gradients recorded on its autodiff device).
    pub fn new(setup: Setup, device: &Device) -> Result<Self, LearnError> {
        let prefetch = crate::cube::supports(device);
        Self::with_prefetch(setup, device, prefetch)
    }

    /// [`Trainer::new`], drawing each next batch on a thread of its own where `prefetch` (as
    /// `new` does on a GPU device; on a CPU device the step's own draws use every core).
    pub(crate) fn with_prefetch(
        setup: Setup,
        device: &Device,
        prefetch: bool,
    ) -> Result<Self, LearnError> {
        let grad_device = device.clone().autodiff();
        let model = Autoencoder::new(&setup, &grad_device)?;
        let prefetch = if prefetch {
            Some(Prefetch::start(setup.clone())?)
        } else {
            None
        };
        Ok(Self {
            setup,
            grad_device,
            model: Some(model),
            optimizer: FusedAdam::default().init(),
            steps: 0,
            prefetch,
        })
    }

    /// One Adam step on the next batch: draws, transmission, loss eq. (40), backward, update.
    pub fn step(&mut self) -> Result<(), LearnError> {
        let it = self.steps as u64;
        let drawn = match &self.prefetch {
            Some(next) => next.take(&self.setup, it)?,
            None => draws(&self.setup, it)?,
        };
        let batch = drawn.upload(&self.setup, &self.grad_device)?;
        self.step_batch(batch)
    }

    /// [`Self::step`] on draws made for a setup that shares them ([`Setup::shares_draws`]): the
    /// next step's own draws, taken with this scheme's jamming symbols.
    fn step_on(&mut self, drawn: &Drawn) -> Result<(), LearnError> {
        let batch = drawn.upload_shared(&self.setup, &self.grad_device)?;
        self.step_batch(batch)
    }

    /// The transmission, loss eq. (40), backward pass and Adam update on `batch`.
    fn step_batch(&mut self, batch: Batch) -> Result<(), LearnError> {
        let s = &self.setup;
        let model = self.model.take().expect("a model between steps");
        let loss = model.loss(s, &batch).total;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = s.config.training.learning_rate;
        self.model = Some(self.optimizer.step(lr, model, grads));
        self.steps += 1;
        Ok(())
    }

    /// The model as it stands, without gradients.
    pub fn model(&self) -> Autoencoder {
        self.model.as_ref().expect("a model between steps").valid()
    }
}

/// Steps whose shared draws [`TrainedAutoencoder::train_group`] makes at once, before each model
/// takes them in a row.
const GROUP_BLOCK: usize = 8;

/// One model of [`TrainedAutoencoder::train_group`]: its trainer, held-out batches and log, and
/// the time spent on it alone.
struct Member {
    trainer: Trainer,
    validation: Vec<(f64, Batch)>,
    log: TrainingLog,
    own: Duration,
}

impl Member {
    /// A fresh model for `setup`, with its held-out batch at each power of `convergence`; `alone`:
    /// the only model of its group (which draws its own batches, on a GPU one step ahead).
    fn new(
        setup: Setup,
        convergence: &[f64],
        device: &Device,
        alone: bool,
    ) -> Result<Self, LearnError> {
        let started = Instant::now();
        let f = setup.scenario.file().clone();
        let seed = setup.scenario.seed();
        let b = setup.frames_per_batch();
        let validation: Vec<(f64, Batch)> = convergence
            .iter()
            .map(|&p_db| {
                let conditions = vec![
                    Conditions {
                        p_db,
                        crlb_db: f.sensing.crlb_max_db,
                    };
                    b
                ];
                let indices: Vec<u64> = (0..b as u64).map(|i| VALIDATION_DRAWS + i).collect();
                Batch::new(&setup, &indices, &conditions, seed, device).map(|v| (p_db, v))
            })
            .collect::<Result<_, _>>()?;
        let prefetch = alone && crate::cube::supports(device);
        let trainer = Trainer::with_prefetch(setup, device, prefetch)?;
        Ok(Self {
            trainer,
            validation,
            log: TrainingLog::default(),
            own: started.elapsed(),
        })
    }

    /// The held-out metrics of `model` after `iteration` steps, appended to the log.
    fn score(&mut self, model: &Autoencoder, iteration: usize) -> Result<(), LearnError> {
        for (p_db, batch) in &self.validation {
            let parts = model.loss(&self.trainer.setup, batch);
            self.log.points.push(ConvergencePoint {
                iteration,
                p_db: *p_db,
                sum_secrecy: scalar(parts.secrecy_clipped())?,
                loss: scalar(parts.total)?,
            });
        }
        Ok(())
    }

    /// Step `it` (scored first where `score`), on `drawn` or on the trainer's own draws.
    fn scored_step(
        &mut self,
        score: bool,
        it: usize,
        drawn: Option<&Drawn>,
    ) -> Result<(), LearnError> {
        let started = Instant::now();
        if score {
            let model = self.trainer.model();
            self.score(&model, it)?;
        }
        match drawn {
            Some(drawn) => self.trainer.step_on(drawn)?,
            None => self.trainer.step()?,
        }
        self.own += started.elapsed();
        Ok(())
    }

    /// The trained model, scored at the end where the log is kept.
    fn finish(
        mut self,
        iterations: usize,
        log_every: usize,
        shared_draws: Duration,
    ) -> Result<TrainedAutoencoder, LearnError> {
        let started = Instant::now();
        let model = self.trainer.model();
        if log_every > 0 {
            self.score(&model, iterations)?;
        }
        self.log.iterations = iterations;
        self.log.seconds = (self.own + started.elapsed() + shared_draws).as_secs_f64();
        Ok(TrainedAutoencoder {
            setup: self.trainer.setup,
            model,
            log: self.log,
        })
    }
}

impl TrainedAutoencoder {
    /// Stage 1: `iterations` Adam steps on batches of fresh draws whose power and CRLB threshold
    /// are uniform over the scenario's evaluation ranges (so one model serves every point of a
    /// sweep). Every `log_every` steps the model is scored at each power of `convergence`
    /// (empty: no log). `on_step` is called after each step (progress bars).
    pub fn train(
        setup: Setup,
        iterations: usize,
        convergence: &[f64],
        log_every: usize,
        device: &Device,
        on_step: &(dyn Fn() + Sync),
    ) -> Result<Self, LearnError> {
        let mut models = Self::train_group(
            vec![setup],
            iterations,
            convergence,
            log_every,
            device,
            on_step,
        )?;
        Ok(models.remove(0))
    }

    /// [`Self::train`] of every setup, for setups whose steps draw the same batches
    /// ([`Setup::shares_draws`]; otherwise an error): the draws of 8 steps at a time are made
    /// once, then each model takes those steps in a row, uploading the draws with its own
    /// jamming symbols. The models are those each setup trains
    /// alone, bit for bit. `on_step` is called once per model and step. Each log's `seconds`
    /// counts its model's own steps and scoring and all of the shared draws, what training it
    /// alone would have spent on them.
    pub fn train_group(
        setups: Vec<Setup>,
        iterations: usize,
        convergence: &[f64],
        log_every: usize,
        device: &Device,
        on_step: &(dyn Fn() + Sync),
    ) -> Result<Vec<Self>, LearnError> {
        let Some(first) = setups.first().cloned() else {
            return Ok(Vec::new());
        };
        if let Some(other) = setups.iter().find(|s| !first.shares_draws(s)) {
            return Err(LearnError::InvalidConfig {
                name: "training group",
                value: format!("{} beside {}", other.scheme.name(), first.scheme.name()),
                requirement: "every setup of a group must draw the same batches (same scenario, \
                              task, batch size and robust training)"
                    .into(),
            });
        }
        let alone = setups.len() == 1;
        let mut members = setups
            .into_iter()
            .map(|setup| Member::new(setup, convergence, device, alone))
            .collect::<Result<Vec<_>, _>>()?;
        let mut shared_draws = Duration::ZERO;
        let log = |it: usize| log_every > 0 && it.is_multiple_of(log_every);
        if let [alone] = members.as_mut_slice() {
            // Alone, the trainer draws for itself (on a GPU, one step ahead).
            for it in 0..iterations {
                alone.scored_step(log(it), it, None)?;
                on_step();
            }
        }
        // Shared: the draws of `GROUP_BLOCK` steps at once, then each model takes those steps in
        // a row (a model's weights and optimiser state stay in cache between its steps).
        let mut block = Vec::with_capacity(GROUP_BLOCK);
        let shared = members.len() > 1;
        for first_step in (0..iterations).step_by(GROUP_BLOCK).filter(|_| shared) {
            let steps = first_step..(first_step + GROUP_BLOCK).min(iterations);
            let started = Instant::now();
            block.clear();
            for it in steps.clone() {
                block.push(draws(&first, it as u64)?);
            }
            shared_draws += started.elapsed();
            members.par_iter_mut().try_for_each(|m| {
                for (it, drawn) in steps.clone().zip(&block) {
                    m.scored_step(log(it), it, Some(drawn))?;
                    on_step();
                }
                Ok::<(), LearnError>(())
            })?;
        }
        members
            .into_iter()
            .map(|m| m.finish(iterations, log_every, shared_draws))
            .collect()
    }

    /// Writes the weights as a burnpack file.
    pub fn save(&self, path: &Path) -> Result<(), LearnError> {
        let mut store = BurnpackStore::from_file(path)
            .overwrite(true)
            .auto_extension(false);
        self.model
            .save_into(&mut store)
            .map_err(|e| LearnError::Store(format!("{}: {e}", path.display())))
    }

    /// A model for `setup` with the weights of a burnpack file written by [`Self::save`]. The
    /// file is read into memory (burnpack's file store maps it lazily, which would tie the
    /// model to the file's lifetime).
    pub fn load(setup: Setup, path: &Path, device: &Device) -> Result<Self, LearnError> {
        let bytes = std::fs::read(path)
            .map_err(|e| LearnError::Store(format!("{}: {e}", path.display())))?;
        let mut model = Autoencoder::new(&setup, device)?;
        let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
        model
            .load_from(&mut store)
            .map_err(|e| LearnError::Store(format!("{}: {e}", path.display())))?;
        Ok(Self {
            setup,
            model,
            log: TrainingLog::default(),
        })
    }

    /// The model on `device` (a trained model leaves its training lane,
    /// [`crate::ModelDevice::on_lane`], for the device its evaluation uses); the same weights bit
    /// for bit.
    pub fn to_device(self, device: &Device) -> Self {
        Self {
            model: self.model.to_device(device),
            ..self
        }
    }

    /// The f64 design of every row of a batch (built on the model's device).
    pub fn designs(&self, batch: &Batch) -> Result<Vec<RowDesign>, LearnError> {
        self.model.transmit(&self.setup, batch).rows()
    }
}
