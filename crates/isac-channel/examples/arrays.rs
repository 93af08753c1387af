//! Arrays and scenarios of `isac-channel` alone: the shipped scenarios' arrays and the
//! beampattern of a beam steered at 20 degrees
//! (`cargo run --release -p isac-channel --example arrays`).

use isac_channel::scenario::shipped;
use isac_channel::{ChannelError, c64};

fn main() -> Result<(), ChannelError> {
    let (hou, tuan) = (shipped::hou2023()?, shipped::tuan2025()?);
    println!(
        "paper 000: {}-antenna ULA, targets at {:?} deg (prior std {} rad)",
        hou.tx().elements(),
        hou.target_angles()
            .iter()
            .map(|t| t.to_degrees().round())
            .collect::<Vec<_>>(),
        hou.prior().std()
    );
    println!(
        "paper 003: {:?} UPA ({} elements), {} users, {} subcarriers",
        tuan.tx().shape(),
        tuan.tx().elements(),
        tuan.users(),
        tuan.subcarriers()
    );
    // |a(theta)^H w|^2 / Nt for w = a(20 deg): the main lobe and its sidelobes.
    let ula = hou.tx();
    let n = ula.elements();
    let w = ula.steering(20f64.to_radians());
    println!("\nbeampattern of a beam steered at 20 deg ({n} antennas):");
    for deg in (-90..=90).step_by(10) {
        let a = ula.steering(f64::from(deg).to_radians());
        let g: c64 = (0..n).map(|i| a[i].conj() * w[i]).sum();
        let db = 10.0 * (g.norm_sqr() / (n * n) as f64).max(1e-12).log10();
        let bar = "#".repeat(((db + 40.0).max(0.0) / 1.0) as usize);
        println!("{deg:>4} deg {db:>7.1} dB {bar}");
    }
    Ok(())
}
