use super::*;
use crate::CpuDevice;
use std::path::Path;

fn scenario() -> FriendlyJammingScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/tuan2025.toml");
    FriendlyJammingScenario::from_path(&path).unwrap()
}

fn with(n: usize) -> FriendlyJammingScenario {
    let mut f = scenario().file().clone();
    f.system.subcarriers = n;
    f.system.comm_subcarriers = f.system.comm_subcarriers.min(n);
    f.channel.taps = f.channel.taps.min(n);
    FriendlyJammingScenario::from_file(f).unwrap()
}

#[test]
fn probe_training() {
    let device = CpuDevice::Flex.device();
    for scheme in Scheme::ALL {
        for n in [1usize, 16] {
            let s = with(n);
            let setup = Setup {
                scheme,
                encoder: EncoderKind::Fc,
                fim_scale: s.fim_scale(),
                scenario: s,
            };
            let t = TrainedAutoencoder::train(setup, 200, &[10.0, 20.0, 30.0], 50, &device, &|| {})
                .unwrap();
            println!("{} N={n} {:.2}s", scheme.name(), t.log.seconds);
            for p in &t.log.points {
                println!(
                    "  it {} p {} sec {:.3} loss {:.3}",
                    p.iteration, p.p_db, p.sum_secrecy, p.loss
                );
            }
        }
    }
}

#[test]
fn probe_nan() {
    let device = CpuDevice::Flex.device();
    let s = with(1);
    let setup = Setup {
        scheme: Scheme::IsacFj,
        encoder: EncoderKind::Fc,
        fim_scale: s.fim_scale(),
        scenario: s,
    };
    let model = Autoencoder::new(&setup, &device).unwrap();
    let c = vec![
        Conditions {
            p_db: 20.0,
            crlb_db: -30.0
        };
        4
    ];
    let batch = Batch::new(&setup, &[0, 1, 2, 3], &c, 1, &device).unwrap();
    println!(
        "features {:?}",
        values(batch.features.clone())
            .unwrap()
            .iter()
            .take(90)
            .collect::<Vec<_>>()
    );
    let tx = model.transmit(&setup, &batch);
    println!(
        "beams {:?}",
        values(tx.beams.re.clone())
            .unwrap()
            .iter()
            .take(10)
            .collect::<Vec<_>>()
    );
    println!(
        "jam {:?}",
        values(tx.jamming.re.clone())
            .unwrap()
            .iter()
            .take(10)
            .collect::<Vec<_>>()
    );
    let (u, e) = secrecy_rates(&batch.users, &tx.beams, &tx.jamming, &batch.eve, 1.0, 1.0);
    println!("u {:?} e {:?}", values(u).unwrap(), values(e).unwrap());
    let [a, b] = log_crlbs(&tx, &batch, setup.fim_scale, CrlbConvention::Joint);
    println!("crlb {:?} {:?}", values(a).unwrap(), values(b).unwrap());
    let lp = model.decode(&model.receive(&tx, &batch));
    println!("lp {:?}", values(lp[0].clone()).unwrap());
}

#[test]
fn probe_nan2() {
    let device = CpuDevice::Flex.device();
    let s = with(1);
    let setup = Setup {
        scheme: Scheme::IsacFj,
        encoder: EncoderKind::Fc,
        fim_scale: s.fim_scale(),
        scenario: s,
    };
    let model = Autoencoder::new(&setup, &device).unwrap();
    for p in [10.0, 20.0, 30.0] {
        let c = vec![
            Conditions {
                p_db: p,
                crlb_db: -30.0
            };
            128
        ];
        let idx: Vec<u64> = (0..128).map(|i| (1u64 << 41) + i).collect();
        let batch = Batch::new(&setup, &idx, &c, 1, &device).unwrap();
        let parts = model.loss(&setup, &batch);
        println!(
            "{p}: {:?} {:?} {:?}",
            values(parts.total).unwrap(),
            values(parts.secrecy).unwrap(),
            values(parts.secrecy_clipped).unwrap()
        );
        let tx = model.transmit(&setup, &batch);
        let (u, e) = secrecy_rates(&batch.users, &tx.beams, &tx.jamming, &batch.eve, 1.0, 1.0);
        let e = values(e).unwrap();
        let u = values(u).unwrap();
        println!(
            "nan u {} nan e {}",
            u.iter().filter(|x| !x.is_finite()).count(),
            e.iter().filter(|x| !x.is_finite()).count()
        );
        let [a, b] = log_crlbs(&tx, &batch, setup.fim_scale, CrlbConvention::Joint);
        println!(
            "crlb nan {} {}",
            values(a).unwrap().iter().filter(|x| !x.is_finite()).count(),
            values(b).unwrap().iter().filter(|x| !x.is_finite()).count()
        );
    }
}
