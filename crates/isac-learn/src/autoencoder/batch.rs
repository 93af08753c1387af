//! A batch of channel realisations as tensors: the encoder's features (eqs. 38-39), the true and
//! estimated channels, null-space projectors, Eve's channels, the sensing operators at the
//! estimated angles, and the random messages and noise of one transmission.

use burn::tensor::{Device, Tensor};
use faer::{Mat, c64};
use isac_bounds::EchoGeometry;
use isac_channel::fading::realize;
use isac_channel::impairments::oscillator_phases;
use isac_channel::rng::{complex_normal, stream};
#[cfg(doc)]
use isac_channel::scenario::FriendlyJammingScenario;
use isac_design::projector_and_zero_forcing;
use rand::RngExt;
use rayon::prelude::*;

use super::Setup;
use crate::tensor::from_values;
use crate::{ComplexTensor, LearnError};

/// The operating point of one sample: its power budget and its CRLB threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// `P_max / sigma^2`, dB.
    pub p_db: f64,
    /// `CRLB_0`, dB of rad^2.
    pub crlb_db: f64,
}

/// Scale of the power feature: `gamma_k = p_db / FEATURE_DB`.
const FEATURE_DB: f64 = 30.0;

/// Stream index of the oscillator phases of robust training.
const STREAM_PHASES: u64 = 0x5048_4153; // "PHAS"

/// Stream index of messages and receiver noise.
const STREAM_SYMBOLS: u64 = 0x5359_4d42; // "SYMB"

/// B samples of N subcarriers; rows are sample-major (`row = b N + n`).
#[derive(Debug, Clone)]
pub struct Batch {
    /// B.
    pub samples: usize,
    /// N.
    pub subcarriers: usize,
    /// The operating point of each sample.
    pub conditions: Vec<Conditions>,
    /// `[BN, input]`: features of eq. (39) plus the one-hot messages.
    pub features: Tensor<2>,
    /// The message of every user on every row, `[BN * K]` (row-major).
    pub messages: Vec<usize>,
    /// `[BN, M K]` one-hot messages, user-major (for the cross-entropy).
    pub one_hot: Tensor<2>,
    /// True users' channels `[BN, K, Nt]` (row k is `h_k^H`).
    pub users: ComplexTensor<3>,
    /// The estimated channels `[BN, K, Nt]` (what the BS knows).
    pub users_estimated: Vec<Mat<c64>>,
    /// Unit zero-forcing directions of the estimated channels, `[BN, Nt, K]`: column k spans
    /// the part of the row space of `H_hat` orthogonal to the other users' channels.
    pub zero_forcing: ComplexTensor<3>,
    /// Projectors onto the null space of the estimated channels, `[BN, Nt, Nt]`.
    pub projectors: ComplexTensor<3>,
    /// Eve's channels `[BN, Nt, Ne]`.
    pub eve: ComplexTensor<3>,
    /// `dG/dtheta`, `dG/dphi` at the estimated angles, `[BN, Nr, Nt]` each.
    pub sensing: [ComplexTensor<3>; 2],
    /// The estimated angles of each sample.
    pub angles_estimated: Vec<(f64, f64)>,
    /// Linear power budget per sample, `[B, 1]`: the mean power per subcarrier of its frame
    /// ([`FriendlyJammingScenario::subcarrier_power`]).
    pub power: Tensor<2>,
    /// `ln CRLB_0` per sample, `[B, 1]`.
    pub log_crlb_max: Tensor<2>,
    /// Unit-variance jamming symbols `[BN, J, 1]` (`J` = the scheme's jamming columns).
    pub jamming_symbols: ComplexTensor<3>,
    /// Receiver noise `[BN, K, 1]`, variance `sigma^2`.
    pub noise: ComplexTensor<3>,
    /// `sigma^2`.
    pub noise_power: f64,
    /// Robust training only: each sample's per-antenna oscillator phases `e^{j phi_i}`,
    /// `[BN, Nt, 1]` (common to its subcarriers), one Wiener increment of a variance drawn
    /// uniformly over the range of `impairments.phase_noise_vars`.
    pub phasors: Option<ComplexTensor<3>>,
}

/// Everything one sample contributes, built in parallel.
struct SampleRows {
    features: Vec<f32>,
    messages: Vec<usize>,
    users: [Vec<f32>; 2],
    users_estimated: Vec<Mat<c64>>,
    projectors: [Vec<f32>; 2],
    zero_forcing: [Vec<f32>; 2],
    eve: [Vec<f32>; 2],
    sensing: [[Vec<f32>; 2]; 2],
    angles: (f64, f64),
    symbols: [Vec<f32>; 2],
    noise: [Vec<f32>; 2],
    phasors: [Vec<f32>; 2],
}

fn push(m: &Mat<c64>, out: &mut [Vec<f32>; 2]) {
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out[0].push(m[(i, j)].re as f32);
            out[1].push(m[(i, j)].im as f32);
        }
    }
}

impl Batch {
    /// Realisations `indices` of the setup's scenario at the given operating points, with the
    /// messages and noise of stream `symbol_seed`. Deterministic for any thread count.
    pub fn new(
        setup: &Setup,
        indices: &[u64],
        conditions: &[Conditions],
        symbol_seed: u64,
        device: &Device,
    ) -> Result<Self, LearnError> {
        if indices.len() != conditions.len() || indices.is_empty() {
            return Err(LearnError::Size {
                what: "batch conditions",
                expected: indices.len().max(1),
                got: conditions.len(),
            });
        }
        let rows: Vec<SampleRows> = indices
            .par_iter()
            .zip(conditions)
            .map(|(&index, c)| sample_rows(setup, index, *c, symbol_seed))
            .collect::<Result<_, _>>()?;
        let s = &setup.scenario;
        let (b, n) = (indices.len(), s.subcarriers());
        let (k, nt, ne, nr) = (
            s.users(),
            s.tx().elements(),
            s.eve_antennas(),
            s.rx().elements(),
        );
        let m = s.modulation_order();
        let bn = b * n;
        let cat = |f: &dyn Fn(&SampleRows) -> &Vec<f32>| -> Vec<f32> {
            rows.iter().flat_map(|r| f(r).iter().copied()).collect()
        };
        let complex = |re: Vec<f32>, im: Vec<f32>, shape: [usize; 3]| {
            Ok::<_, LearnError>(ComplexTensor {
                re: from_values(re, shape, device)?,
                im: from_values(im, shape, device)?,
            })
        };
        let input = setup.shape().input;
        let messages: Vec<usize> = rows.iter().flat_map(|r| r.messages.clone()).collect();
        let mut one_hot = vec![0.0f32; bn * k * m];
        for (i, &msg) in messages.iter().enumerate() {
            one_hot[i * m + msg] = 1.0;
        }
        let sensing = |axis: usize| {
            complex(
                cat(&|r| &r.sensing[axis][0]),
                cat(&|r| &r.sensing[axis][1]),
                [bn, nr, nt],
            )
        };
        let per_sample = |f: &dyn Fn(&Conditions) -> f64| -> Result<Tensor<2>, LearnError> {
            from_values(
                conditions.iter().map(|c| f(c) as f32).collect(),
                [b, 1],
                device,
            )
        };
        let j = setup.scheme.jamming_columns(nt);
        Ok(Self {
            samples: b,
            subcarriers: n,
            conditions: conditions.to_vec(),
            features: from_values(cat(&|r| &r.features), [bn, input], device)?,
            one_hot: from_values(one_hot, [bn, k * m], device)?,
            messages,
            users: complex(cat(&|r| &r.users[0]), cat(&|r| &r.users[1]), [bn, k, nt])?,
            users_estimated: rows
                .iter()
                .flat_map(|r| r.users_estimated.iter().cloned())
                .collect(),
            zero_forcing: complex(
                cat(&|r| &r.zero_forcing[0]),
                cat(&|r| &r.zero_forcing[1]),
                [bn, nt, k],
            )?,
            projectors: complex(
                cat(&|r| &r.projectors[0]),
                cat(&|r| &r.projectors[1]),
                [bn, nt, nt],
            )?,
            eve: complex(cat(&|r| &r.eve[0]), cat(&|r| &r.eve[1]), [bn, nt, ne])?,
            sensing: [sensing(0)?, sensing(1)?],
            angles_estimated: rows.iter().map(|r| r.angles).collect(),
            power: per_sample(&|c| s.subcarrier_power(c.p_db))?,
            log_crlb_max: per_sample(&|c| c.crlb_db / 10.0 * std::f64::consts::LN_10)?,
            jamming_symbols: complex(cat(&|r| &r.symbols[0]), cat(&|r| &r.symbols[1]), [bn, j, 1])?,
            noise: complex(cat(&|r| &r.noise[0]), cat(&|r| &r.noise[1]), [bn, k, 1])?,
            noise_power: s.noise_power(),
            phasors: if setup.config.training.robust {
                Some(complex(
                    cat(&|r| &r.phasors[0]),
                    cat(&|r| &r.phasors[1]),
                    [bn, nt, 1],
                )?)
            } else {
                None
            },
        })
    }
}

fn sample_rows(
    setup: &Setup,
    index: u64,
    c: Conditions,
    symbol_seed: u64,
) -> Result<SampleRows, LearnError> {
    let s = &setup.scenario;
    let ch = &s.file().channel;
    let r = realize(s, &ch.eve_model, ch.csi_error_var, index)?;
    let (k, nt, m) = (s.users(), s.tx().elements(), s.modulation_order());
    let n = r.users.len();
    let jam = setup.scheme.jamming_columns(nt);
    let noise = s.noise_power();
    let mut rng = stream(symbol_seed, [STREAM_SYMBOLS, index, 0]);
    let geometry = EchoGeometry {
        tx: s.tx(),
        rx: s.rx(),
    };
    let (theta, phi) = r.target_estimated;
    let sensing_channel = geometry.channel(theta, phi);
    let mut out = SampleRows {
        features: Vec::new(),
        messages: Vec::new(),
        users: [Vec::new(), Vec::new()],
        users_estimated: r.users_estimated.clone(),
        projectors: [Vec::new(), Vec::new()],
        zero_forcing: [Vec::new(), Vec::new()],
        eve: [Vec::new(), Vec::new()],
        sensing: [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]],
        angles: r.target_estimated,
        symbols: [Vec::new(), Vec::new()],
        noise: [Vec::new(), Vec::new()],
        phasors: [Vec::new(), Vec::new()],
    };
    let f = s.file();
    if setup.config.training.robust {
        let mut prng = stream(symbol_seed, [STREAM_PHASES, index, 0]);
        let top = f
            .impairments
            .phase_noise_vars
            .iter()
            .copied()
            .fold(0.0, f64::max);
        let var = top * prng.random::<f64>();
        let phases = oscillator_phases(&mut prng, nt, var, f.impairments.phase_model);
        let column = Mat::from_fn(nt, 1, |i, _| c64::cis(phases[i]));
        for _ in 0..n {
            push(&column, &mut out.phasors);
        }
    }
    for sc in 0..n {
        let h = &r.users_estimated[sc];
        let msgs: Vec<usize> = (0..k).map(|_| rng.random_range(0..m)).collect();
        let f = &mut out.features;
        f.extend(
            (0..k)
                .flat_map(|i| (0..nt).map(move |j| (i, j)))
                .map(|(i, j)| h[(i, j)].re as f32),
        );
        f.extend(
            (0..k)
                .flat_map(|i| (0..nt).map(move |j| (i, j)))
                .map(|(i, j)| h[(i, j)].im as f32),
        );
        f.extend((0..k).map(|_| (c.p_db / FEATURE_DB) as f32));
        f.push((c.crlb_db / -FEATURE_DB) as f32);
        f.push(theta as f32);
        f.push(phi as f32);
        f.push(sc as f32 / n as f32);
        for &msg in &msgs {
            f.extend((0..m).map(|i| if i == msg { 1.0 } else { 0.0 }));
        }
        out.messages.extend(msgs);
        push(&r.users[sc], &mut out.users);
        let (projector, zero_forcing) = projector_and_zero_forcing(h)?;
        push(&projector, &mut out.projectors);
        push(&zero_forcing, &mut out.zero_forcing);
        push(&r.eve[sc], &mut out.eve);
        push(&sensing_channel.d_theta, &mut out.sensing[0]);
        push(&sensing_channel.d_phi, &mut out.sensing[1]);
        push(
            &Mat::from_fn(jam, 1, |_, _| complex_normal(&mut rng, 1.0)),
            &mut out.symbols,
        );
        push(
            &Mat::from_fn(k, 1, |_, _| complex_normal(&mut rng, noise)),
            &mut out.noise,
        );
    }
    Ok(out)
}
