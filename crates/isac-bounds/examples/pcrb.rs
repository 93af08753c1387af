//! The PCRB of three transmit covariances on the paper-000 scenario with `isac-bounds` alone:
//! exact (eq. 21), upper bound (eq. 23) and closed form (eq. 24), against the prior variance
//! (`cargo run --release -p isac-bounds --example pcrb`).

use faer::{Mat, c64};
use isac_bounds::{PcrbModel, PcrbSetting, QuadratureSettings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = isac_channel::scenario::shipped::hou2023()?;
    let model = PcrbModel::new(
        PcrbSetting::from_scenario(&s),
        QuadratureSettings::default(),
    )?;
    let (n, p) = (s.tx().elements(), s.tx_power());
    let outer =
        |v: &faer::Col<c64>, scale: f64| Mat::from_fn(n, n, |i, j| v[i] * v[j].conj() * scale);
    let isotropic = Mat::from_fn(n, n, |i, j| {
        c64::new(if i == j { p / n as f64 } else { 0.0 }, 0.0)
    });
    let mut on_targets = Mat::<c64>::zeros(n, n);
    for (&theta, &weight) in s.target_angles().iter().zip(s.prior().weights()) {
        on_targets += outer(&s.tx().steering(theta), weight * p / n as f64);
    }
    let h = s.user_channel();
    let mrt = outer(&h, p / h.squared_norm_l2());
    println!(
        "prior variance sigma_theta^2 = {:.3e} rad^2",
        s.prior().std().powi(2)
    );
    println!(
        "{:<12} {:>12} {:>12} {:>12}",
        "covariance", "PCRB", "upper", "closed form"
    );
    for (name, r) in [
        ("isotropic", isotropic),
        ("on targets", on_targets),
        ("MRT", mrt),
    ] {
        let report = model.report(r.as_ref(), s.qbar())?;
        println!(
            "{name:<12} {:>12.3e} {:>12.3e} {:>12.3e}",
            report.pcrb, report.pcrb_upper, report.pcrb_upper_closed_form
        );
    }
    Ok(())
}
