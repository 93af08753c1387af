//! The whole paper-000 chain through the `isac` facade: a scenario, the proposed secure
//! design, and its beampattern toward the user and the candidate targets
//! (`cargo run --release --example secure_design`).

use isac::channel::scenario::SecureIsacScenario;
use isac::sdr::metrics::{gain, quadratic};
use isac::sdr::{Scheme, run_scheme};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hou2023.toml");
    let s = SecureIsacScenario::from_path(path.as_ref())?;
    let out = run_scheme(&s, Scheme::Proposed, s.pcrb_max(), None)?;
    println!(
        "{:?}: secrecy {:.3} bit/s/Hz, PCRB {:.3e} <= Gamma {:.3e}, power {:.3} W",
        out.status,
        out.secrecy_rate,
        out.pcrb,
        s.pcrb_max(),
        out.power
    );
    let mut angles = vec![("user", s.user_angle())];
    angles.extend(s.target_angles().iter().map(|&t| ("target", t)));
    // Transmit beampattern: information |a^H w|^2 and AN a^H V a toward each angle.
    println!(
        "{:<7} {:>6} {:>14} {:>10}",
        "", "deg", "|a^H w|^2", "a^H V a"
    );
    for (what, theta) in angles {
        let a = s.tx().steering(theta);
        println!(
            "{what:<7} {:>6.1} {:>14.3e} {:>10.3e}",
            theta.to_degrees(),
            gain(&a, &out.w),
            quadratic(&a, out.an_covariance.as_ref())
        );
    }
    Ok(())
}
