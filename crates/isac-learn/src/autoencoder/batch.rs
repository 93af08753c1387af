//! A batch of channel realisations as tensors: the encoder's features (eqs. 38-39), the true and
//! estimated channels, null-space projectors, Eve's channels, the sensing operators at the
//! estimated angles, and the random messages and noise of one transmission.

use burn::tensor::{Device, Tensor};
use faer::{Mat, c64};
use isac_channel::fading::realize;
use isac_channel::impairments::oscillator_phases;
use isac_channel::rng::{complex_normal, stream};
#[cfg(doc)]
use isac_channel::scenario::FriendlyJammingScenario;
use isac_design::projector_and_zero_forcing;
use rand::RngExt;
use rayon::prelude::*;

use super::Setup;
use super::fisher::SensingFactors;
use crate::packed::{ComplexPart, Packer};
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

/// Stream index of the jamming symbols: a stream of their own, so that every other draw of a
/// batch is the same whatever the scheme's number of jamming columns ([`Setup::shares_draws`]).
const STREAM_JAMMING: u64 = 0x4a41_4d53; // "JAMS"

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
    /// `dG/dtheta`, `dG/dphi` at the estimated angles, in factored form.
    pub sensing: SensingFactors,
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

/// Real and imaginary values of one complex field, row-major.
#[derive(Default)]
struct Planes([Vec<f32>; 2]);

impl Planes {
    /// Room for `values` complex values.
    fn with_capacity(values: usize) -> Self {
        Self([Vec::with_capacity(values), Vec::with_capacity(values)])
    }

    /// Appends `m` row by row: sized once, then written column by column from faer's contiguous
    /// columns (a push per entry kept each vector's length in memory and ran unvectorised: about
    /// 5% of Fig. 11's training profile, 3% written this way).
    fn push(&mut self, m: &Mat<c64>) {
        let (rows, cols) = (m.nrows(), m.ncols());
        let [re, im] = &mut self.0;
        let start = re.len();
        re.resize(start + rows * cols, 0.0);
        im.resize(start + rows * cols, 0.0);
        let (re, im) = (&mut re[start..], &mut im[start..]);
        for j in 0..cols {
            for (i, z) in m.col_as_slice(j).iter().enumerate() {
                re[i * cols + j] = z.re as f32;
                im[i * cols + j] = z.im as f32;
            }
        }
    }

    /// Appends one value.
    fn push_value(&mut self, z: c64) {
        self.0[0].push(z.re as f32);
        self.0[1].push(z.im as f32);
    }
}

/// Everything one sample contributes but its jamming symbols, built in parallel.
struct SampleRows {
    /// The realisation (it seeds the jamming symbols).
    index: u64,
    features: Vec<f32>,
    messages: Vec<usize>,
    users: Planes,
    users_estimated: Vec<Mat<c64>>,
    projectors: Planes,
    zero_forcing: Planes,
    eve: Planes,
    angles: (f64, f64),
    noise: Planes,
    phasors: Planes,
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
        Drawn::new(setup, indices, conditions, symbol_seed)?.upload(setup, device)
    }
}

/// A batch's realisations on the host: the part of [`Batch::new`] that needs no device, which a
/// trainer on a GPU draws for the next step while the current one runs.
pub(crate) struct Drawn {
    rows: Vec<SampleRows>,
    conditions: Vec<Conditions>,
    symbol_seed: u64,
}

impl Drawn {
    /// Realisations `indices` at `conditions` (see [`Batch::new`]), over the current rayon pool.
    pub(crate) fn new(
        setup: &Setup,
        indices: &[u64],
        conditions: &[Conditions],
        symbol_seed: u64,
    ) -> Result<Self, LearnError> {
        if indices.len() != conditions.len() || indices.is_empty() {
            return Err(LearnError::Size {
                what: "batch conditions",
                expected: indices.len().max(1),
                got: conditions.len(),
            });
        }
        let rows = indices
            .par_iter()
            .zip(conditions)
            .map(|(&index, c)| sample_rows(setup, index, *c, symbol_seed))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rows,
            conditions: conditions.to_vec(),
            symbol_seed,
        })
    }

    /// The batch on `device`, keeping the draws for other setups that share them
    /// ([`Setup::shares_draws`]).
    pub(crate) fn upload_shared(
        &self,
        setup: &Setup,
        device: &Device,
    ) -> Result<Batch, LearnError> {
        let mut batch = self.tensors(setup, device)?;
        batch.users_estimated = self
            .rows
            .iter()
            .flat_map(|r| r.users_estimated.iter().cloned())
            .collect();
        Ok(batch)
    }

    /// The batch on `device`.
    pub(crate) fn upload(self, setup: &Setup, device: &Device) -> Result<Batch, LearnError> {
        let mut batch = self.tensors(setup, device)?;
        batch.users_estimated = self
            .rows
            .into_iter()
            .flat_map(|r| r.users_estimated)
            .collect();
        Ok(batch)
    }

    /// Each row's `J` unit-variance jamming symbols (`J` = `setup`'s jamming columns).
    fn jamming_symbols(&self, setup: &Setup) -> Planes {
        let s = &setup.scenario;
        let (n, j) = (
            s.subcarriers(),
            setup.scheme.jamming_columns(s.tx().elements()),
        );
        let mut out = Planes::with_capacity(self.rows.len() * n * j);
        for r in &self.rows {
            let mut rng = stream(self.symbol_seed, [STREAM_JAMMING, r.index, 0]);
            for _ in 0..n * j {
                out.push_value(complex_normal(&mut rng, 1.0));
            }
        }
        out
    }

    /// The batch's tensors on `device` (without the estimated channels, which the callers move or
    /// copy).
    fn tensors(&self, setup: &Setup, device: &Device) -> Result<Batch, LearnError> {
        let Self {
            rows, conditions, ..
        } = self;
        let conditions = conditions.clone();
        let s = &setup.scenario;
        let (b, n) = (conditions.len(), s.subcarriers());
        let (k, nt, ne) = (s.users(), s.tx().elements(), s.eve_antennas());
        let m = s.modulation_order();
        let bn = b * n;
        let mut packer = Packer::new(device);
        let complex = |packer: &mut Packer, field: &dyn Fn(&SampleRows) -> &Planes, shape| {
            let plane = |p: usize| rows.iter().map(move |r| field(r).0[p].as_slice());
            packer.push_complex(plane(0), plane(1), shape)
        };
        let per_sample = |packer: &mut Packer, f: &dyn Fn(&Conditions) -> f64| {
            let values: Vec<f32> = conditions.iter().map(|c| f(c) as f32).collect();
            packer.push_vec(values, [b, 1])
        };
        let messages: Vec<usize> = rows.iter().flat_map(|r| r.messages.clone()).collect();
        let mut one_hot = vec![0.0f32; bn * k * m];
        for (i, &msg) in messages.iter().enumerate() {
            one_hot[i * m + msg] = 1.0;
        }
        let j = setup.scheme.jamming_columns(nt);
        let angles: Vec<(f64, f64)> = rows.iter().map(|r| r.angles).collect();
        let p = &mut packer;
        let features = rows.iter().map(|r| r.features.as_slice());
        let features = p.push(features, [bn, setup.shape().input])?;
        let one_hot = p.push_vec(one_hot, [bn, k * m])?;
        let users = complex(p, &|r| &r.users, [bn, k, nt])?;
        let zero_forcing = complex(p, &|r| &r.zero_forcing, [bn, nt, k])?;
        let projectors = complex(p, &|r| &r.projectors, [bn, nt, nt])?;
        let eve = complex(p, &|r| &r.eve, [bn, nt, ne])?;
        let [transmit, receive] = sensing_factors(setup, &angles, n, p)?;
        let power = per_sample(p, &|c| s.subcarrier_power(c.p_db))?;
        let log_crlb_max = per_sample(p, &|c| c.crlb_db / 10.0 * std::f64::consts::LN_10)?;
        let [jam_re, jam_im] = self.jamming_symbols(setup).0;
        let jamming_symbols = p.push_complex_vec([jam_re, jam_im], [bn, j, 1])?;
        let noise = complex(p, &|r| &r.noise, [bn, k, 1])?;
        let phasors = setup.config.training.robust;
        let phasors = phasors
            .then(|| complex(p, &|r| &r.phasors, [bn, nt, 1]))
            .transpose()?;
        let mut up = packer.upload()?;
        Ok(Batch {
            samples: b,
            subcarriers: n,
            features: up.take(features)?,
            one_hot: up.take(one_hot)?,
            messages,
            users: up.take_complex(users)?,
            zero_forcing: up.take_complex(zero_forcing)?,
            projectors: up.take_complex(projectors)?,
            eve: up.take_complex(eve)?,
            sensing: SensingFactors {
                transmit: up.take_complex(transmit)?,
                receive: up.take_complex(receive)?,
            },
            angles_estimated: angles,
            power: up.take(power)?,
            log_crlb_max: up.take(log_crlb_max)?,
            jamming_symbols: up.take_complex(jamming_symbols)?,
            noise: up.take_complex(noise)?,
            noise_power: s.noise_power(),
            phasors: phasors.map(|p| up.take_complex(p)).transpose()?,
            users_estimated: Vec::new(),
            conditions,
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
    let noise = s.noise_power();
    let mut rng = stream(symbol_seed, [STREAM_SYMBOLS, index, 0]);
    let (theta, phi) = r.target_estimated;
    let ne = s.eve_antennas();
    let mut out = SampleRows {
        index,
        features: Vec::with_capacity(n * setup.shape().input),
        messages: Vec::with_capacity(n * k),
        users: Planes::with_capacity(n * k * nt),
        users_estimated: r.users_estimated,
        projectors: Planes::with_capacity(n * nt * nt),
        zero_forcing: Planes::with_capacity(n * nt * k),
        eve: Planes::with_capacity(n * nt * ne),
        angles: r.target_estimated,
        noise: Planes::with_capacity(n * k),
        phasors: Planes::default(),
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
        out.phasors = Planes::with_capacity(n * nt);
        for _ in 0..n {
            for &phase in &phases {
                out.phasors.push_value(c64::cis(phase));
            }
        }
    }
    for sc in 0..n {
        let h = &out.users_estimated[sc];
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
        out.users.push(&r.users[sc]);
        let (projector, zero_forcing) = projector_and_zero_forcing(h)?;
        out.projectors.push(&projector);
        out.zero_forcing.push(&zero_forcing);
        out.eve.push(&r.eve[sc]);
        for _ in 0..k {
            out.noise.push_value(complex_normal(&mut rng, noise));
        }
    }
    Ok(out)
}

/// `[v, dv/dtheta, dv/dphi]` of the transmit and the receive array at one pair of angles, as
/// `elements x 3` matrices.
type Steering = [Mat<c64>; 2];

/// The factors of `dG/dtheta`, `dG/dphi` of every row at its sample's estimated angles: the
/// transmit and receive steering vectors and their derivatives ([`SensingFactors`]). Samples at
/// the same angles as the sample before them (every sample, without an angle error) reuse its
/// vectors instead of evaluating them again.
fn sensing_factors(
    setup: &Setup,
    angles: &[(f64, f64)],
    subcarriers: usize,
    packer: &mut Packer,
) -> Result<[ComplexPart; 2], LearnError> {
    let s = &setup.scenario;
    let arrays = [s.tx(), s.rx()];
    let rows = angles.len() * subcarriers;
    let mut planes = arrays.map(|a| Planes::with_capacity(rows * a.elements() * 3));
    let mut last: Option<((f64, f64), Steering)> = None;
    for &(theta, phi) in angles {
        let vectors = match last.take() {
            Some((at, vectors)) if at == (theta, phi) => vectors,
            _ => arrays.map(|array| {
                let v = array.steering(theta, phi);
                Mat::from_fn(array.elements(), 3, |i, c| {
                    [&v.a, &v.d_theta, &v.d_phi][c][i]
                })
            }),
        };
        for _ in 0..subcarriers {
            for (plane, m) in planes.iter_mut().zip(&vectors) {
                plane.push(m);
            }
        }
        last = Some(((theta, phi), vectors));
    }
    let [transmit, receive] = planes.map(|p| p.0);
    Ok([
        packer.push_complex_vec(transmit, [rows, s.tx().elements(), 3])?,
        packer.push_complex_vec(receive, [rows, s.rx().elements(), 3])?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a non-square matrix, appended after earlier values, in row-major order.
    #[test]
    fn planes_push_appends_row_major() {
        let m = Mat::from_fn(3, 2, |i, j| {
            c64::new(i as f64 + 0.5, -(10.0 * j as f64) - 1.0)
        });
        let mut planes = Planes::default();
        planes.push_value(c64::new(7.0, 8.0));
        planes.push(&m);
        let mut re = vec![7.0f32];
        let mut im = vec![8.0f32];
        for i in 0..3 {
            for j in 0..2 {
                re.push(m[(i, j)].re as f32);
                im.push(m[(i, j)].im as f32);
            }
        }
        assert_eq!(planes.0, [re, im]);
    }
}
