//! Secrecy rates computed independent ways agree: the two differentiable Burn versions used for
//! training (`isac_learn::secrecy_rates`, fused host loops with a Cholesky solve for Eve in f64
//! on the CPU devices, and `isac_learn::secrecy_rates_composed`, tensor operations with an
//! `L D L^H` solve in f32, the GPU path) and the faer version used for evaluation
//! (`isac_eval::secrecy`, LU solve, f64), for a steered jamming beam (one column) and for
//! isotropic jamming spread over several columns, at strong jamming.

use faer::{Col, Mat, c64};
use isac_channel::rng::{complex_normal, stream};
use isac_eval::secrecy::{eve_rates, user_rates};
use isac_learn::{
    ComplexTensor, CpuDevice, Device, Tensor, TensorData, secrecy_rates, secrecy_rates_composed,
};

fn tensor(parts: Vec<Vec<c64>>, shape: [usize; 3], device: &Device) -> ComplexTensor<3> {
    let flat: Vec<c64> = parts.into_iter().flatten().collect();
    let make = |f: fn(&c64) -> f64| {
        Tensor::<3>::from_data(
            TensorData::new(
                flat.iter().map(|z| f(z) as f32).collect::<Vec<f32>>(),
                shape,
            ),
            device,
        )
    };
    ComplexTensor {
        re: make(|z| z.re),
        im: make(|z| z.im),
    }
}

/// The signature of both Burn versions.
type Rates = fn(
    &ComplexTensor<3>,
    &ComplexTensor<3>,
    &ComplexTensor<3>,
    &ComplexTensor<3>,
    f64,
    f64,
) -> (Tensor<2>, Tensor<2>);

fn row_major(m: &Mat<c64>) -> Vec<c64> {
    (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
        .collect()
}

#[test]
fn burn_and_faer_secrecy_rates_agree() {
    for (ne, jam_cols, jam_var) in [
        (2, 1, 3.0),
        (2, 5, 40.0),
        (3, 2, 300.0),
        (1, 3, 1.0),
        (4, 16, 100.0),
    ] {
        agree(ne, jam_cols, jam_var);
    }
}

fn agree(ne: usize, jam_cols: usize, jam_var: f64) {
    let (batch, k, nt) = (6, 3, 8);
    let (noise_user, noise_eve) = (1.0, 0.5);
    let mut rng = stream(11, [0; 3]);
    let mut draw =
        |r: usize, c: usize, var: f64| Mat::from_fn(r, c, |_, _| complex_normal(&mut rng, var));
    let samples: Vec<[Mat<c64>; 4]> = (0..batch)
        .map(|_| {
            [
                draw(k, nt, 1.0),
                draw(nt, k, 2.0),
                draw(nt, jam_cols, jam_var),
                draw(nt, ne, 1.0),
            ]
        })
        .collect();
    let rates = [
        ("fused", secrecy_rates as Rates),
        ("composed", secrecy_rates_composed),
    ];
    for (device, (path, rates)) in CpuDevice::all()
        .into_iter()
        .flat_map(|d| rates.map(|r| (d, r)))
    {
        let dev = device.device();
        let pack = |i: usize, r: usize, c: usize| {
            tensor(
                samples.iter().map(|s| row_major(&s[i])).collect(),
                [batch, r, c],
                &dev,
            )
        };
        let (user, eve) = rates(
            &pack(0, k, nt),
            &pack(1, nt, k),
            &pack(2, nt, jam_cols),
            &pack(3, nt, ne),
            noise_user,
            noise_eve,
        );
        let user: Vec<f32> = user.into_data().try_into_vec_as::<f32>().unwrap();
        let eve: Vec<f32> = eve.into_data().try_into_vec_as::<f32>().unwrap();
        // f32 rounding in Eve's solve grows with the condition number of A = sigma^2 I + U U^H,
        // at most about jam_var J Nt / sigma^2; the tolerance follows it (1e-4 when mild).
        let eve_tol = 1e-4 * (jam_var * (jam_cols * nt) as f64 / noise_eve / 1e3).max(1.0);
        for (b, [h, f, v, he]) in samples.iter().enumerate() {
            let beams: Vec<Col<c64>> = (0..k).map(|j| Col::from_fn(nt, |i| f[(i, j)])).collect();
            let q = v * v.adjoint();
            let u_ref = user_rates(h.as_ref(), &beams, q.as_ref(), noise_user);
            let e_ref = eve_rates(he.as_ref(), &beams, q.as_ref(), noise_eve);
            for j in 0..k {
                let (u, e) = (f64::from(user[b * k + j]), f64::from(eve[b * k + j]));
                assert!(
                    (u - u_ref[j]).abs() < 1e-4 * (1.0 + u_ref[j]),
                    "{device} {path} user {b},{j}: {u} vs {}",
                    u_ref[j]
                );
                assert!(
                    (e - e_ref[j]).abs() < eve_tol * (1.0 + e_ref[j]),
                    "{device} {path} eve {b},{j}: {e} vs {}",
                    e_ref[j]
                );
            }
        }
    }
}

/// The impaired transmission of robust training (Burn, columns) and of evaluation (faer,
/// covariances) describe the same signal: equal users' streams and equal total covariance.
#[test]
fn burn_and_faer_impairments_agree() {
    use isac_channel::impairments::IqImbalance;
    use isac_design::JammingDesign;
    use isac_learn::autoencoder::Transmission;

    let (batch, k, nt, j) = (3, 2, 6, 2);
    let iq = IqImbalance::new(0.05, 4f64.to_radians());
    let mut rng = stream(21, [0; 3]);
    let mut draw =
        |r: usize, c: usize, var: f64| Mat::from_fn(r, c, |_, _| complex_normal(&mut rng, var));
    let samples: Vec<[Mat<c64>; 3]> = (0..batch)
        .map(|_| [draw(nt, k, 2.0), draw(nt, j, 1.0), draw(nt, 1, 0.5)])
        .collect();
    let dev = CpuDevice::Flex.device();
    let pack = |i: usize, c: usize| {
        tensor(
            samples.iter().map(|s| row_major(&s[i])).collect(),
            [batch, nt, c],
            &dev,
        )
    };
    // Unit phasors from the drawn phases.
    let phases: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| (0..nt).map(|i| s[2][(i, 0)].re).collect())
        .collect();
    let phasor_mats: Vec<Mat<c64>> = phases
        .iter()
        .map(|p| Mat::from_fn(nt, 1, |i, _| c64::cis(p[i])))
        .collect();
    let phasors = tensor(
        phasor_mats.iter().map(row_major).collect(),
        [batch, nt, 1],
        &dev,
    );
    let tx = Transmission {
        beams: pack(0, k),
        jamming: pack(1, j),
    }
    .impaired(iq, &phasors);
    let rows = tx.rows().unwrap();
    for (b, [f, v, _]) in samples.iter().enumerate() {
        let design = JammingDesign {
            beams: (0..k).map(|u| Col::from_fn(nt, |i| f[(i, u)])).collect(),
            jamming: v * v.adjoint(),
        }
        .impaired(iq, &phases[b]);
        let scale = 1.0 + design.jamming.norm_l2();
        let learned_q = &rows[b].jamming * rows[b].jamming.adjoint();
        assert!(
            (&learned_q - &design.jamming).norm_l2() < 1e-5 * scale,
            "covariance {b}"
        );
        for (x, y) in rows[b].beams.iter().zip(&design.beams) {
            assert!((x - y).norm_l2() < 1e-5 * (1.0 + y.norm_l2()), "stream {b}");
        }
    }
}
