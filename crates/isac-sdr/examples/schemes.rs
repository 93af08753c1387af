//! The proposed secure design and both benchmarks of paper 000 at the scenario's PCRB threshold,
//! with `isac-sdr` alone (`cargo run --release -p isac-sdr --example schemes`).

use isac_sdr::{Scheme, run_scheme};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = isac_channel::scenario::shipped::hou2023()?;
    println!(
        "PCRB threshold Gamma = {:.3e} rad^2, power {} W",
        s.pcrb_max(),
        s.tx_power()
    );
    println!(
        "{:<9} {:<12} {:>14} {:>10} {:>12} {:>7}",
        "scheme", "status", "secrecy b/s/Hz", "gamma", "PCRB bound", "solves"
    );
    for scheme in [Scheme::Proposed, Scheme::NoAn, Scheme::Mrt] {
        let o = run_scheme(&s, scheme, s.pcrb_max(), None)?;
        println!(
            "{:<9} {:<12} {:>14.4} {:>10} {:>12.3e} {:>7}",
            format!("{scheme:?}"),
            format!("{:?}", o.status),
            o.secrecy_rate,
            o.gamma.map_or("-".to_string(), |g| format!("{g:.3}")),
            o.pcrb_upper_closed_form,
            o.solves
        );
    }
    Ok(())
}
