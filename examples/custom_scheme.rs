//! Extending paper 003 from outside the workspace: a jamming design and an Eve channel model of
//! our own, scored with the workspace's secrecy metric beside ZF_AN and MRT_EQUAL on the same
//! held-out draws (`cargo run --release --example custom_scheme`).
//!
//! - `CONE_FJ` (design): ZF_AN's beams and budget, with the jamming spread equally over the
//!   three null-space eigenbeams that put the most power into a cone of +-10 degrees around the
//!   estimated target: a wide jammer for an Eve near, but not exactly at, the target.
//! - `wandering` (Eve): a pure line of sight from an azimuth drawn uniformly within +-10 degrees
//!   of the target, a random phase per antenna, flat over subcarriers.
//!
//! Neither touches our crates: they implement `isac::design::SubcarrierDesign` and
//! `isac::channel::fading::EveChannelModel`, and `isac_eval::held_out::HeldOut` evaluates them.

use faer::{Mat, Side, c64};
use isac::channel::ChannelError;
use isac::channel::fading::{EveChannelModel, EveDraw, eve_line_of_sight};
use isac::channel::scenario::FriendlyJammingScenario;
use isac::design::{
    DesignError, DesignInput, JammingDesign, MrtEqual, SubcarrierDesign, ZfAn,
    null_space_projector, zf_an,
};
use isac::learn::autoencoder::Conditions;
use isac_eval::config::EvaluationSection;
use isac_eval::held_out::HeldOut;
use rand::RngExt;

/// Half-width of the cone both models use, degrees.
const CONE_DEG: f64 = 10.0;

/// ZF beams; jamming on the top `beams` eigenvectors of `P C P`, `C` the sum of `a a^H` over
/// the cone around the estimated target.
struct ConeJamming {
    an_fraction: f64,
    beams: usize,
}

impl SubcarrierDesign for ConeJamming {
    fn name(&self) -> &str {
        "CONE_FJ"
    }

    fn design(&self, x: &DesignInput<'_>) -> Result<JammingDesign, DesignError> {
        let mut d = zf_an(x.users, x.power, self.an_fraction)?;
        let p = null_space_projector(x.users)?;
        let nt = x.users.ncols();
        let mut cone = Mat::<c64>::zeros(nt, nt);
        for step in -10..=10 {
            let theta = x.target.0 + (CONE_DEG * step as f64 / 10.0).to_radians();
            let a = x.geometry.tx.steering(theta, x.target.1).a;
            cone += &a * a.adjoint();
        }
        let pcp = &p * &cone * &p;
        let evd = pcp
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| DesignError::Eigen)?;
        let each = self.an_fraction * x.power / self.beams as f64;
        d.jamming = Mat::zeros(nt, nt);
        for k in nt - self.beams..nt {
            let u = evd.U().col(k);
            d.jamming += u * u.adjoint() * faer::Scale(c64::new(each, 0.0));
        }
        Ok(d)
    }
}

/// A line-of-sight Eve somewhere in the cone around the target.
struct WanderingEve;

impl EveChannelModel for WanderingEve {
    fn name(&self) -> &str {
        "wandering"
    }

    fn channels(&self, draw: EveDraw<'_>) -> Result<Vec<Mat<c64>>, ChannelError> {
        let (theta, phi) = draw.scenario.target();
        let offset = (CONE_DEG * (2.0 * draw.rng.random::<f64>() - 1.0)).to_radians();
        let los = eve_line_of_sight(draw.scenario, (theta + offset, phi), draw.rng);
        Ok(vec![los; draw.nlos.len()])
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tuan2025.toml");
    let mut file = FriendlyJammingScenario::from_path(path.as_ref())?
        .file()
        .clone();
    file.set_subcarriers(1);
    let s = FriendlyJammingScenario::from_file(file)?;
    let share = EvaluationSection::from_scenario(&s)?.an_power_fraction;
    let designs: [&dyn SubcarrierDesign; 3] = [
        &ZfAn { an_fraction: share },
        &MrtEqual,
        &ConeJamming {
            an_fraction: share,
            beams: 3,
        },
    ];
    let eves: [&dyn EveChannelModel; 2] = [&s.eve_model(), &WanderingEve];
    let points = [Conditions {
        p_db: 20.0,
        crlb_db: -30.0,
    }];
    let draws = 200; // the scenario's [evaluation] asks for 300 per point
    println!("{draws} held-out draws, N = 1, P = 20 dB, CRLB_0 = -30 dB");
    println!(
        "{:<10} {:<10} {:>22} {:>12} {:>12} {:>9}",
        "Eve", "scheme", "sum secrecy (nats)", "Eve leakage", "target gain", "CRLB met"
    );
    for eve in eves {
        let held_out = HeldOut {
            eve,
            ..HeldOut::new(&s, draws)
        };
        for design in designs {
            let r = held_out.evaluate(design, &points)?[0];
            println!(
                "{:<10} {:<10} {:>13.3} +- {:<5.3} {:>12.3} {:>12.2} {:>8.0}%",
                eve.name(),
                design.name(),
                r.sum_secrecy.0,
                r.sum_secrecy.1,
                r.eve_leakage,
                r.target_jamming_gain,
                100.0 * r.crlb_met
            );
        }
    }
    Ok(())
}
