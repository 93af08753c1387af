//! The held-out evaluation of paper-003 designs that every figure uses: secrecy rates in nats
//! averaged over subcarriers (paper 003, eqs. 10-12), Eve's leakage with her optimal log-det
//! receiver, the CRLB against `CRLB_0`, and the jamming power radiated toward the target. It
//! takes any [`SubcarrierDesign`] and any [`EveChannelModel`], so a scheme or an Eve defined
//! outside this workspace is scored exactly as ours are, on the same draws.

use faer::{Mat, c64};
use isac_bounds::{EchoGeometry, angle_fim};
use isac_channel::fading::{EveChannelModel, Realization, realize};
use isac_channel::impairments::{IqImbalance, oscillator_phases};
use isac_channel::rng::stream;
use isac_channel::scenario::FriendlyJammingScenario;
use isac_channel::scenario::friendly_jamming::PhaseModel;
use isac_channel::units::db_to_linear;
use isac_design::{DesignInput, JammingDesign, SubcarrierDesign, null_space_projector};
use isac_learn::autoencoder::{Conditions, crlbs};
use rayon::prelude::*;

use crate::EvalError;
use crate::secrecy::{eve_rates, mean_ci95, user_rates};

/// A draw's CRLB is binding when the BS's CRLB is within this share of `CRLB_0`.
pub const BINDING_TOLERANCE: f64 = 0.05;

/// Stream index of the oscillator phases of impaired evaluation.
const STREAM_HARDWARE: u64 = 0x4857_4152; // "HWAR"

/// Impaired hardware applied to every transmitted design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hardware {
    /// IQ imbalance.
    pub iq: IqImbalance,
    /// Variance of the oscillators' Wiener increment since the design was computed, rad^2.
    pub phase_noise_var: f64,
    /// One oscillator for the array, or one per antenna.
    pub phase_model: PhaseModel,
}

/// A point's averages over the held-out draws.
#[derive(Debug, Clone, Copy)]
pub struct PointSummary {
    /// Mean sum secrecy rate (nats/s/Hz per subcarrier) and its 95% CI half-width.
    pub sum_secrecy: (f64, f64),
    /// Mean worst-user secrecy rate and its CI half-width.
    pub worst_user: (f64, f64),
    /// Mean over draws of the users' rates summed over users (nats, per subcarrier).
    pub user_rate: f64,
    /// Mean over draws of Eve's rate summed over the users' streams (nats, per subcarrier).
    pub eve_leakage: f64,
    /// Share of draws whose true CRLBs (true angles and echo scale) meet `CRLB_0`.
    pub crlb_met: f64,
    /// Share of draws whose CRLB as the BS computes it (its believed echo scale at the
    /// estimated angles, the constraint it enforces) is within [`BINDING_TOLERANCE`] of `CRLB_0`:
    /// the constraint is active.
    pub crlb_binding: f64,
    /// Mean jamming power toward the target over that of isotropic null-space jamming of the
    /// same power (`NaN` without jamming).
    pub target_jamming_gain: f64,
}

/// Per-draw metrics of one design at one operating point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrawMetrics {
    sum_secrecy: f64,
    user_rate: f64,
    eve_leakage: f64,
    worst_user: f64,
    crlb_met: bool,
    crlb_binding: bool,
    /// Jamming power toward the true target, summed over subcarriers, and that of isotropic
    /// null-space jamming of the same power ([`JammingDesign::target_jamming`]).
    pub(crate) jamming_toward_target: (f64, f64),
}

/// Held-out draws `0..draws` of a scenario, with Eve's channel from `eve`.
#[derive(Clone, Copy)]
pub struct HeldOut<'a> {
    /// The scenario (its seed, arrays, users, subcarriers, noise, CSI error).
    pub scenario: &'a FriendlyJammingScenario,
    /// Eve's channel model (the scenario's own `channel.eve_model`, or any other).
    pub eve: &'a dyn EveChannelModel,
    /// Held-out draws.
    pub draws: usize,
    /// The echo scale the BS believes, before snapshots (the scenario's true one unless it is
    /// calibrated by the neural FIM estimator).
    pub believed_fim_scale: f64,
    /// Impaired hardware (`None`: ideal).
    pub hardware: Option<Hardware>,
}

impl<'a> HeldOut<'a> {
    /// `draws` held-out draws of the scenario's own Eve and echo scale, ideal hardware.
    pub fn new(scenario: &'a FriendlyJammingScenario, draws: usize) -> Self {
        Self {
            scenario,
            eve: &scenario.file().channel.eve_model,
            draws,
            believed_fim_scale: scenario.fim_scale(),
            hardware: None,
        }
    }

    /// `design` at each operating point, every point on the same draws.
    pub fn evaluate(
        &self,
        design: &dyn SubcarrierDesign,
        points: &[Conditions],
    ) -> Result<Vec<PointSummary>, EvalError> {
        points
            .par_iter()
            .map(|&c| Ok(summarise(&self.draw_metrics(design, c)?)))
            .collect()
    }

    /// Realisation `draw` with this evaluation's Eve and the scenario's CSI error.
    pub fn realize(&self, draw: u64) -> Result<Realization, EvalError> {
        let rho = self.scenario.file().channel.csi_error_var;
        Ok(realize(self.scenario, self.eve, rho, draw)?)
    }

    /// The metrics of `design` on every draw at `c`, in draw order.
    pub(crate) fn draw_metrics(
        &self,
        design: &dyn SubcarrierDesign,
        c: Conditions,
    ) -> Result<Vec<DrawMetrics>, EvalError> {
        let s = self.scenario;
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        // The same at every draw and subcarrier.
        let power = s.subcarrier_power(c.p_db);
        let noise_power = s.noise_power();
        let fim_scale = self.believed_fim_scale * s.snapshots();
        let crlb_max = db_to_linear(c.crlb_db);
        (0..self.draws as u64)
            .map(|draw| {
                let r = self.realize(draw)?;
                let designs = r
                    .users_estimated
                    .iter()
                    .enumerate()
                    .map(|(subcarrier, h)| {
                        design.design(&DesignInput {
                            users: h.as_ref(),
                            geometry: &geometry,
                            target: r.target_estimated,
                            power,
                            noise_power,
                            fim_scale,
                            crlb_max,
                            subcarrier,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.metrics(&r, &designs, c, draw)
            })
            .collect()
    }

    /// Secrecy rates of draw `draw`, whose channels are `r` (the true ones are used), averaged
    /// over [`FriendlyJammingScenario::rate_slots`], and whether its true CRLBs meet `CRLB_0`.
    pub(crate) fn metrics(
        &self,
        r: &Realization,
        designs: &[JammingDesign],
        c: Conditions,
        draw: u64,
    ) -> Result<DrawMetrics, EvalError> {
        let s = self.scenario;
        let impaired: Vec<JammingDesign>;
        let designs = match self.hardware {
            None => designs,
            Some(hw) => {
                let mut rng = stream(
                    s.seed(),
                    [STREAM_HARDWARE, draw, hw.phase_noise_var.to_bits()],
                );
                let phases = oscillator_phases(
                    &mut rng,
                    s.tx().elements(),
                    hw.phase_noise_var,
                    hw.phase_model,
                );
                impaired = designs.iter().map(|d| d.impaired(hw.iq, &phases)).collect();
                &impaired
            }
        };
        let noise = s.noise_power();
        // Rates are averaged over the N subcarriers, or over the band's slots (fixed band).
        let (k, n) = (s.users(), s.rate_slots());
        let mut per_user = vec![0.0; k];
        let mut leakage = 0.0;
        let mut rate = 0.0;
        let nt = s.tx().elements();
        let mut cov = Mat::<c64>::zeros(nt, nt);
        let (theta, phi) = s.target();
        let a = s.tx().steering(theta, phi).a;
        let mut jamming = (0.0, 0.0);
        for (sc, d) in designs.iter().enumerate() {
            // Any jamming at all (faer's overflow-safe `norm_l2` cost 6% of the evaluations).
            if (0..d.jamming.ncols())
                .any(|j| d.jamming.col_as_slice(j).iter().any(|z| *z != c64::ZERO))
            {
                let p = null_space_projector(r.users_estimated[sc].as_ref())?;
                let (toward, isotropic) = d.target_jamming(&a, p.as_ref());
                jamming.0 += toward;
                jamming.1 += isotropic;
            }
            let u = user_rates(r.users[sc].as_ref(), &d.beams, d.jamming.as_ref(), noise);
            let e = eve_rates(r.eve[sc].as_ref(), &d.beams, d.jamming.as_ref(), noise);
            leakage += e.iter().sum::<f64>() / n as f64;
            rate += u.iter().sum::<f64>() / n as f64;
            for (acc, (u, e)) in per_user.iter_mut().zip(u.iter().zip(&e)) {
                *acc += (u - e).max(0.0) / n as f64;
            }
            cov += &d.jamming;
            for f in &d.beams {
                cov += f * f.adjoint();
            }
        }
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        let bound = |(theta, phi): (f64, f64), scale: f64| -> Result<[f64; 2], EvalError> {
            let j = angle_fim(&geometry.channel(theta, phi), cov.as_ref(), scale)?;
            Ok(crlbs(
                [[j[(0, 0)], j[(0, 1)]], [j[(1, 0)], j[(1, 1)]]],
                s.crlb_convention(),
            ))
        };
        let truth = bound((theta, phi), s.fim_scale() * s.snapshots())?;
        let believed = bound(r.target_estimated, self.believed_fim_scale * s.snapshots())?;
        let crlb_max = db_to_linear(c.crlb_db);
        let worst = believed[0].max(believed[1]);
        Ok(DrawMetrics {
            sum_secrecy: per_user.iter().sum(),
            eve_leakage: leakage,
            user_rate: rate,
            worst_user: per_user.iter().copied().fold(f64::INFINITY, f64::min),
            crlb_met: truth.iter().all(|b| *b <= crlb_max),
            crlb_binding: (worst / crlb_max - 1.0).abs() <= BINDING_TOLERANCE,
            jamming_toward_target: jamming,
        })
    }
}

/// Jamming power toward the target and its isotropic reference, summed over draws.
pub(crate) fn jamming_sums(m: &[DrawMetrics]) -> (f64, f64) {
    m.iter().fold((0.0, 0.0), |acc, x| {
        (
            acc.0 + x.jamming_toward_target.0,
            acc.1 + x.jamming_toward_target.1,
        )
    })
}

pub(crate) fn summarise(m: &[DrawMetrics]) -> PointSummary {
    let sum: Vec<f64> = m.iter().map(|x| x.sum_secrecy).collect();
    let worst: Vec<f64> = m.iter().map(|x| x.worst_user).collect();
    PointSummary {
        sum_secrecy: mean_ci95(&sum),
        worst_user: mean_ci95(&worst),
        eve_leakage: m.iter().map(|x| x.eve_leakage).sum::<f64>() / m.len() as f64,
        user_rate: m.iter().map(|x| x.user_rate).sum::<f64>() / m.len() as f64,
        crlb_met: m.iter().filter(|x| x.crlb_met).count() as f64 / m.len() as f64,
        crlb_binding: m.iter().filter(|x| x.crlb_binding).count() as f64 / m.len() as f64,
        target_jamming_gain: {
            let (toward, isotropic) = jamming_sums(m);
            if isotropic > 0.0 {
                toward / isotropic
            } else {
                f64::NAN
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use isac_design::{DesignError, ZfAn, zf_an};

    use super::*;

    /// What a design was given on one subcarrier (the channel by its first entry's bits).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Seen {
        tag: u64,
        subcarrier: usize,
        power: f64,
        noise: f64,
        scale: f64,
        crlb: f64,
        target: (f64, f64),
    }

    /// Records what it is given and transmits ZF_AN.
    struct Probe(Mutex<Vec<Seen>>);

    impl SubcarrierDesign for Probe {
        fn name(&self) -> &str {
            "PROBE"
        }

        fn design(&self, x: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
            // The estimated channel's first entry identifies the draw it came from.
            let tag = x.users[(0, 0)].re.to_bits();
            self.0.lock().unwrap().push(Seen {
                tag,
                subcarrier: x.subcarrier,
                power: x.power,
                noise: x.noise_power,
                scale: x.fim_scale,
                crlb: x.crlb_max,
                target: x.target,
            });
            zf_an(x.users, x.power, 0.5)
        }
    }

    fn scenario() -> FriendlyJammingScenario {
        let mut f = isac_channel::scenario::shipped::tuan2025()
            .unwrap()
            .file()
            .clone();
        f.set_subcarriers(2);
        f.channel.csi_error_var = 0.1;
        FriendlyJammingScenario::from_file(f).unwrap()
    }

    /// A design sees exactly what the BS knows: each draw's estimated channel per subcarrier,
    /// the estimated target, the subcarrier's power, the noise, the believed echo scale times
    /// the snapshots and CRLB_0; and its transmission is scored as ZF_AN's is.
    #[test]
    fn a_design_sees_the_bs_knowledge_and_is_scored_like_ours() {
        let s = scenario();
        let c = Conditions {
            p_db: 20.0,
            crlb_db: -30.0,
        };
        let held_out = HeldOut {
            believed_fim_scale: 2.5,
            ..HeldOut::new(&s, 3)
        };
        let probe = Probe(Mutex::new(Vec::new()));
        let probed = held_out.evaluate(&probe, &[c]).unwrap()[0];
        let seen = probe.0.into_inner().unwrap();
        assert_eq!(seen.len(), 3 * 2);
        for draw in 0..3u64 {
            let r = realize(&s, &s.eve_model(), 0.1, draw).unwrap();
            for n in 0..2 {
                let x = seen[(draw * 2) as usize + n];
                assert_eq!(x.tag, r.users_estimated[n][(0, 0)].re.to_bits());
                assert_eq!(x.subcarrier, n);
                assert_eq!(x.power, s.subcarrier_power(20.0));
                assert_eq!(x.noise, s.noise_power());
                assert_eq!(x.scale, 2.5 * s.snapshots());
                assert!((x.crlb / 1e-3 - 1.0).abs() < 1e-12);
                assert_eq!(x.target, r.target_estimated);
            }
        }
        let ours = held_out.evaluate(&ZfAn { an_fraction: 0.5 }, &[c]).unwrap()[0];
        assert_eq!(probed.sum_secrecy, ours.sum_secrecy);
        assert_eq!(probed.eve_leakage, ours.eve_leakage);
        assert!(
            (ours.target_jamming_gain - 1.0).abs() < 1e-9,
            "isotropic AN"
        );
    }
}
