use std::path::Path;

use isac_bounds::EchoGeometry;
use isac_channel::fading::realize;
use isac_design::sensing_guided_jamming_direction;
use proptest::prelude::*;

use super::*;
use crate::{BeamStructure, CpuDevice, Stage2Objective};

fn scenario(n: usize, rho: f64) -> FriendlyJammingScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/tuan2025.toml");
    let mut f = FriendlyJammingScenario::from_path(&path)
        .unwrap()
        .file()
        .clone();
    f.set_subcarriers(n);
    f.channel.csi_error_var = rho;
    FriendlyJammingScenario::from_file(f).unwrap()
}

/// The span of the shipped `[evaluation]` grids and its AN share (isac-eval owns that section).
pub(super) const TASK: Task = Task {
    p_db: (0.0, 30.0),
    crlb_db: (-65.0, -30.0),
    an_fraction: 0.5,
};

fn setup(scheme: Scheme, n: usize, rho: f64) -> Setup {
    let s = scenario(n, rho);
    Setup {
        scheme,
        encoder: EncoderKind::Fc,
        fim_scale: s.fim_scale(),
        config: LearnConfig::from_scenario(&s).unwrap(),
        task: TASK,
        scenario: s,
    }
}

fn geometry(setup: &Setup) -> EchoGeometry {
    EchoGeometry {
        tx: setup.scenario.tx(),
        rx: setup.scenario.rx(),
    }
}

fn batch(setup: &Setup, draws: u64, c: Conditions, device: &Device) -> Batch {
    let indices: Vec<u64> = (0..draws).collect();
    Batch::new(setup, &indices, &vec![c; draws as usize], 7, device).unwrap()
}

fn untrained(setup: Setup, device: &Device) -> TrainedAutoencoder {
    TrainedAutoencoder {
        model: Autoencoder::new(&setup, device).unwrap(),
        setup,
        log: TrainingLog::default(),
    }
}

const AT_30_DB: Conditions = Conditions {
    p_db: 30.0,
    crlb_db: -30.0,
};

/// A loose threshold: stage 2's accept/reject rule then only asks for a better objective.
const LOOSE: Conditions = Conditions {
    p_db: 20.0,
    crlb_db: 20.0,
};

#[test]
fn null_space_jamming_leaves_no_trace_at_the_users_with_perfect_csi() {
    let device = CpuDevice::Flex.device();
    for scheme in Scheme::ALL {
        let s = setup(scheme, 4, 0.0);
        let b = batch(&s, 6, AT_30_DB, &device);
        let model = untrained(s.clone(), &device);
        for (d, frame) in model.deploy(&b).unwrap().iter().enumerate() {
            let r = realize(&s.scenario, &s.scenario.eve_model(), 0.0, d as u64).unwrap();
            for (h, row) in r.users.iter().zip(&frame.rows) {
                let leak = h * &row.jamming;
                let jam = row.jamming.norm_l2();
                assert!(jam > 1.0, "{}: jamming power is not trivial", scheme.name());
                for i in 0..leak.nrows() {
                    for j in 0..leak.ncols() {
                        assert!(
                            leak[(i, j)].norm() < 1e-9,
                            "{}: {}",
                            scheme.name(),
                            leak[(i, j)]
                        );
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn every_frame_meets_its_budget_exactly(
        p_db in -10.0f64..40.0, n in 1usize..5, which in 0usize..3, seed in 0u64..1000,
    ) {
        let device = CpuDevice::Flex.device();
        let s = setup(Scheme::ALL[which], n, 0.05);
        let indices: Vec<u64> = (seed..seed + 5).collect();
        let c = Conditions { p_db, crlb_db: -30.0 };
        let b = Batch::new(&s, &indices, &[c; 5], seed, &device).unwrap();
        let model = untrained(s.clone(), &device);
        let budget = 10f64.powf(p_db / 10.0);
        // The f32 transmission (training) to f32 precision ...
        let tx = model.model.transmit(&s, &b).rows().unwrap();
        for frame in tx.chunks(n) {
            prop_assert!((frame_power(frame) / budget - 1.0).abs() < 1e-5);
        }
        // ... and the deployed f64 frames to f64 precision, after stage 2 for ISAC_FJ.
        for frame in model.deploy(&b).unwrap() {
            prop_assert!((frame_power(&frame.rows) / budget - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn stage_two_reaches_the_closed_form_fisher_trace() {
    let device = CpuDevice::Flex.device();
    let s = setup(Scheme::IsacFj, 2, 0.0);
    let geometry = geometry(&s);
    let b = batch(&s, 10, LOOSE, &device);
    let frames = untrained(s, &device).deploy(&b).unwrap();
    let mut worst: f64 = 1.0;
    for (d, frame) in frames.iter().enumerate() {
        let outcome = frame.stage2.as_ref().unwrap();
        assert!(outcome.accepted > 0);
        let (theta, phi) = b.angles_estimated[d];
        let ch = geometry.channel(theta, phi);
        let m = isac_bounds::angle_information_matrix(&ch);
        for (sc, row) in frame.rows.iter().enumerate() {
            let v = row.jamming.col(0);
            let trace = (v.adjoint() * &m * v).re / v.squared_norm_l2();
            let (_, best) =
                sensing_guided_jamming_direction(&ch, b.users_estimated[d * 2 + sc].as_ref())
                    .unwrap();
            worst = worst.min(trace / best);
        }
    }
    assert!(worst >= 0.95, "worst Fisher-trace ratio {worst}");
}

#[test]
fn stage_two_never_breaks_a_met_crlb_constraint() {
    let device = CpuDevice::Flex.device();
    let s = setup(Scheme::IsacFj, 1, 0.0);
    let b = batch(&s, 8, AT_30_DB, &device);
    let model = untrained(s.clone(), &device);
    let geometry = EchoGeometry {
        tx: s.scenario.tx(),
        rx: s.scenario.rx(),
    };
    let scale = s.fim_scale * s.scenario.snapshots();
    for (d, row) in model.designs(&b).unwrap().into_iter().enumerate() {
        let p = isac_design::null_space_projector(b.users_estimated[d].as_ref()).unwrap();
        let row = RowDesign {
            jamming: &p * &row.jamming,
            beams: row.beams,
        };
        let (theta, phi) = b.angles_estimated[d];
        let ch = geometry.channel(theta, phi);
        let a = geometry.tx.steering(theta, phi).a;
        for objective in [Stage2Objective::FisherTrace, Stage2Objective::TargetPower] {
            let rule = |crlb_max: f64, iterations: usize| Stage2Rule {
                scale,
                crlb_max,
                convention: s.scenario.crlb_convention(),
                iterations,
                objective,
            };
            // Zero iterations report the starting CRLBs; a threshold just above them binds.
            let start = refine_jamming(
                &mut [row.clone()],
                std::slice::from_ref(&p),
                &ch,
                &a,
                &rule(1.0, 0),
            )
            .unwrap()
            .crlb;
            let bound = 1.001 * start[0].max(start[1]);
            let mut rows = [row.clone()];
            let end = refine_jamming(
                &mut rows,
                std::slice::from_ref(&p),
                &ch,
                &a,
                &rule(bound, 40),
            )
            .unwrap();
            assert!(
                end.crlb.iter().all(|c| *c <= bound),
                "{objective:?}: {:?} vs {bound}",
                end.crlb
            );
        }
    }
}

#[test]
fn saved_models_load_to_identical_transmissions() {
    let device = CpuDevice::Flex.device();
    let s = setup(Scheme::AeFj, 1, 0.0);
    let trained = TrainedAutoencoder::train(s.clone(), 3, &[], 0, &device, &|| {}).unwrap();
    let path = std::env::temp_dir().join(format!("isac-ae-{}.bpk", std::process::id()));
    trained.save(&path).unwrap();
    let loaded = TrainedAutoencoder::load(s.clone(), &path, &device).unwrap();
    std::fs::remove_file(&path).unwrap();
    let b = batch(&s, 4, AT_30_DB, &device);
    let (x, y) = (
        trained.model.transmit(&s, &b).beams.re,
        loaded.model.transmit(&s, &b).beams.re,
    );
    assert_eq!(values(x).unwrap(), values(y).unwrap());
    let fresh = untrained(s.clone(), &device)
        .model
        .transmit(&s, &b)
        .beams
        .re;
    assert_ne!(
        values(fresh).unwrap(),
        values(loaded.model.transmit(&s, &b).beams.re).unwrap()
    );
}

#[test]
fn training_lowers_the_held_out_loss() {
    let device = CpuDevice::Flex.device();
    let t = TrainedAutoencoder::train(
        setup(Scheme::DlAn, 1, 0.0),
        150,
        &[30.0],
        150,
        &device,
        &|| {},
    )
    .unwrap();
    let (first, last) = (t.log.points[0], t.log.points[1]);
    assert_eq!((first.iteration, last.iteration), (0, 150));
    // The ZF structure gives good secrecy from the start; training must keep it and teach the
    // decoders their constellations (the cross-entropy part of the loss).
    assert!(
        last.sum_secrecy > 0.98 * first.sum_secrecy,
        "{first:?} -> {last:?}"
    );
    assert!(last.loss < first.loss - 0.3, "{first:?} -> {last:?}");
}

#[test]
fn the_dtte_encoder_trains_in_the_same_autoencoder() {
    let device = CpuDevice::Flex.device();
    let mut s = setup(Scheme::AeFj, 1, 0.0);
    s.encoder = EncoderKind::Dtte;
    let t = TrainedAutoencoder::train(s, 40, &[30.0], 40, &device, &|| {}).unwrap();
    let (first, last) = (t.log.points[0], t.log.points[1]);
    assert!(last.loss < first.loss, "{first:?} -> {last:?}");
}

#[test]
fn both_cpu_devices_train_the_same_model_code() {
    for device in CpuDevice::all() {
        let t = TrainedAutoencoder::train(
            setup(Scheme::IsacFj, 2, 0.1),
            2,
            &[20.0],
            1,
            &device.device(),
            &|| {},
        )
        .unwrap();
        assert_eq!(t.log.points.len(), 3, "{device}");
        assert!(t.log.points.iter().all(|p| p.loss.is_finite()), "{device}");
    }
}

#[test]
fn communication_only_subcarriers_carry_no_jamming() {
    // Non-overlapping (eq. 43): the other subcarriers carry no data; hybrid: they carry both.
    use isac_channel::scenario::friendly_jamming::Allocation;
    let device = CpuDevice::Flex.device();
    for (allocation, joint) in [
        (Allocation::NonOverlapping, false),
        (Allocation::Hybrid, true),
    ] {
        for scheme in Scheme::ALL {
            let s = edited(&setup(scheme, 4, 0.0), |f| {
                f.system.allocation = allocation;
                f.system.comm_subcarriers = 1;
            });
            // Training stays finite where the masks zero whole parts of the transmission.
            TrainedAutoencoder::train(s.clone(), 3, &[30.0], 1, &device, &|| {}).unwrap();
            let b = batch(&s, 3, AT_30_DB, &device);
            for frame in untrained(s.clone(), &device).deploy(&b).unwrap() {
                assert!((frame_power(&frame.rows) / 1000.0 - 1.0).abs() < 1e-12);
                for (n, row) in frame.rows.iter().enumerate() {
                    let data: f64 = row.beams.iter().map(|f| f.squared_norm_l2()).sum();
                    let jam = row.jamming.squared_norm_l2();
                    let name = format!("{} {}", allocation.name(), scheme.name());
                    assert_eq!(jam > 0.0, n >= 1, "{name} row {n}: jamming {jam}");
                    assert_eq!(data > 0.0, n < 1 || joint, "{name} row {n}: data {data}");
                }
            }
        }
    }
}

#[test]
fn decoders_learn_the_messages() {
    let device = CpuDevice::Flex.device();
    let s = setup(Scheme::DlAn, 1, 0.0);
    let t = TrainedAutoencoder::train(s.clone(), 300, &[], 0, &device, &|| {}).unwrap();
    let b = batch(&s, 400, AT_30_DB, &device);
    let k = s.scenario.users();
    for (u, guess) in t.model.decisions(&s, &b).unwrap().into_iter().enumerate() {
        let right = guess
            .iter()
            .enumerate()
            .filter(|(r, g)| **g == b.messages[r * k + u])
            .count();
        assert!(right >= 360, "user {u}: {right} of 400");
    }
}

/// `s` with its file changed by `edit` (validated again).
fn edited(
    s: &Setup,
    edit: impl FnOnce(&mut isac_channel::scenario::friendly_jamming::FriendlyJammingFile),
) -> Setup {
    let mut f = s.scenario.file().clone();
    edit(&mut f);
    Setup {
        scenario: FriendlyJammingScenario::from_file(f).unwrap(),
        ..s.clone()
    }
}

fn same_tensor(a: &ComplexTensor<3>, b: &ComplexTensor<3>) -> bool {
    values(a.re.clone()).unwrap() == values(b.re.clone()).unwrap()
        && values(a.im.clone()).unwrap() == values(b.im.clone()).unwrap()
}

#[test]
fn hybrid_without_communication_only_subcarriers_is_the_overlapping_model() {
    use isac_channel::scenario::friendly_jamming::Allocation;
    let device = CpuDevice::Flex.device();
    for scheme in Scheme::ALL {
        let overlapping = setup(scheme, 4, 0.0);
        let hybrid = edited(&overlapping, |f| {
            f.system.allocation = Allocation::Hybrid;
            f.system.comm_subcarriers = 0;
        });
        let model = Autoencoder::new(&overlapping, &device).unwrap();
        let (a, b) = (
            batch(&overlapping, 3, AT_30_DB, &device),
            batch(&hybrid, 3, AT_30_DB, &device),
        );
        let (ta, tb) = (
            model.transmit(&overlapping, &a),
            model.transmit(&hybrid, &b),
        );
        assert!(same_tensor(&ta.beams, &tb.beams), "{}", scheme.name());
        assert!(same_tensor(&ta.jamming, &tb.jamming), "{}", scheme.name());
        let (la, lb) = (model.loss(&overlapping, &a), model.loss(&hybrid, &b));
        assert_eq!(
            values(la.total).unwrap(),
            values(lb.total).unwrap(),
            "{}",
            scheme.name()
        );
    }
}

#[test]
fn free_beams_leave_the_zero_forcing_structure() {
    use crate::BeamStructure;
    let device = CpuDevice::Flex.device();
    let zf = setup(Scheme::AeFj, 1, 0.0);
    let mut free = zf.clone();
    free.config.encoder.beam_structure = BeamStructure::Free;
    let b = batch(&zf, 4, AT_30_DB, &device);
    let leak = |s: &Setup| {
        // Interference of each beam at the other user (perfect CSI), relative to its own gain.
        let model = untrained(s.clone(), &device);
        let mut worst: f64 = 0.0;
        for (frame, d) in model.deploy(&b).unwrap().iter().zip(0u64..) {
            let r = realize(&s.scenario, &s.scenario.eve_model(), 0.0, d).unwrap();
            let h = &r.users[0];
            let row = &frame.rows[0];
            assert!((frame_power(&frame.rows) / 1000.0 - 1.0).abs() < 1e-12);
            for (k, f) in row.beams.iter().enumerate() {
                let g = h * f;
                let own = g[k].norm();
                let other = g[1 - k].norm();
                worst = worst.max(other / own);
            }
        }
        worst
    };
    assert!(leak(&zf) < 1e-5, "{}", leak(&zf));
    assert!(leak(&free) > 1e-2, "{}", leak(&free));
    // Both train.
    TrainedAutoencoder::train(free, 3, &[30.0], 1, &device, &|| {}).unwrap();
}

#[test]
fn the_fixed_band_shares_the_band_power_over_the_occupied_subcarriers() {
    use isac_channel::scenario::friendly_jamming::PowerModel;
    let device = CpuDevice::Flex.device();
    let s = edited(&setup(Scheme::IsacFj, 4, 0.0), |f| {
        f.system.power_model = PowerModel::FixedBand;
        f.system.band_subcarriers = 64;
    });
    let b = batch(&s, 2, AT_30_DB, &device);
    for frame in untrained(s.clone(), &device).deploy(&b).unwrap() {
        // The band's 64 x 1000 over 4 occupied subcarriers.
        assert!((frame_power(&frame.rows) / 16_000.0 - 1.0).abs() < 1e-12);
    }
    assert_eq!(s.scenario.rate_slots(), 64);
}

#[test]
fn deployed_rows_round_trip_through_a_transmission() {
    let device = CpuDevice::Flex.device();
    for scheme in Scheme::ALL {
        let s = setup(scheme, 2, 0.0);
        let b = batch(&s, 3, AT_30_DB, &device);
        let model = untrained(s.clone(), &device);
        let rows: Vec<RowDesign> = model
            .deploy(&b)
            .unwrap()
            .into_iter()
            .flat_map(|f| f.rows)
            .collect();
        let back = Transmission::from_rows(&rows, &device)
            .unwrap()
            .rows()
            .unwrap();
        for (a, b) in rows.iter().zip(&back) {
            let scale = a.jamming.norm_l2() + 1.0;
            assert!((&a.jamming - &b.jamming).norm_l2() < 1e-6 * scale);
            for (x, y) in a.beams.iter().zip(&b.beams) {
                assert!((x - y).norm_l2() < 1e-6 * scale);
            }
        }
        // Decisions on the stage-1 transmission equal those of `decide` on it.
        let tx = model.model.transmit(&s, &b);
        assert_eq!(
            model.model.decide(&tx, &b).unwrap(),
            model.model.decisions(&s, &b).unwrap()
        );
    }
    assert!(Transmission::from_rows(&[], &device).is_err());
}

#[test]
fn mixed_jamming_contains_ae_fj_and_isac_fj_exactly() {
    let device = CpuDevice::Flex.device();
    let s = setup(Scheme::IsacFjPlus, 2, 0.0);
    let b = batch(&s, 6, AT_30_DB, &device);
    let sent = untrained(s.clone(), &device).model.transmit(&s, &b);
    // The steered column of ISAC_FJ_PLUS's own transmission, before mixing, is its first
    // column over sqrt(beta); any steered column serves, so take that of ISAC_FJ's encoder.
    let isac = setup(Scheme::IsacFj, 2, 0.0);
    let steered = untrained(isac.clone(), &device)
        .model
        .transmit(&isac, &b)
        .jamming;
    let covariances = |v: ComplexTensor<3>| -> Vec<Mat<c64>> {
        v.to_matrices()
            .unwrap()
            .iter()
            .map(|v| v * v.adjoint())
            .collect()
    };
    // Logits of +-200 make beta exactly 1 or 0 in f32; the columns before the last are not read.
    let encoded = |logit: f32| Tensor::<2>::full([12, 3], logit, &device);
    for (logit, alone) in [(200.0, Mixing::Steered), (-200.0, Mixing::Isotropic)] {
        let mixed = mixed_jamming(
            &s,
            &b,
            &steered,
            Mixing::Mixed(Box::new(encoded(logit))),
            None,
        );
        let single = mixed_jamming(&s, &b, &steered, alone, None);
        assert_eq!(mixed.re.dims()[2], 1 + 16);
        assert_eq!(covariances(mixed), covariances(single), "logit {logit}");
    }
    // The AE_FJ and ISAC_FJ schemes transmit exactly these single forms.
    let ae = setup(Scheme::AeFj, 2, 0.0);
    assert_eq!(
        isac.scheme.jamming_columns(16) + ae.scheme.jamming_columns(16),
        s.scheme.jamming_columns(16)
    );
    // A learned share in (0, 1) keeps the FJ power: tr Q = |steered column|^2 / beta.
    let q = covariances(sent.jamming.clone());
    let rows = sent.rows().unwrap();
    for (q, row) in q.iter().zip(&rows) {
        let trace: f64 = (0..16).map(|i| q[(i, i)].re).sum();
        let steered = row.jamming.col(0).squared_norm_l2();
        assert!(steered > 0.0 && steered < trace, "{steered} vs {trace}");
    }
}

#[test]
fn target_power_stage_two_points_the_beam_at_the_target() {
    let device = CpuDevice::Flex.device();
    let mut s = setup(Scheme::IsacFj, 2, 0.0);
    s.config.training.stage2_objective = Stage2Objective::TargetPower;
    let geometry = geometry(&s);
    let b = batch(&s, 6, LOOSE, &device);
    for (d, frame) in untrained(s, &device).deploy(&b).unwrap().iter().enumerate() {
        let (theta, phi) = b.angles_estimated[d];
        let a = geometry.tx.steering(theta, phi).a;
        for (sc, row) in frame.rows.iter().enumerate() {
            let p =
                isac_design::null_space_projector(b.users_estimated[d * 2 + sc].as_ref()).unwrap();
            let w = &p * &a;
            let v = row.jamming.col(0);
            let cosine = (w.adjoint() * v).norm() / (w.norm_l2() * v.norm_l2());
            assert!(cosine > 0.999, "draw {d} subcarrier {sc}: {cosine}");
        }
    }
}

/// The angle-FIM entries of a batch's transmission from its factored sensing operators against
/// isac-bounds' eq. (19) on the dense sensing channel `dG = db a^H + b da^H` at each sample's
/// estimated angles (with an angle error, so samples differ), for the steered and the
/// isotropic jamming.
#[test]
fn factored_sensing_operators_give_the_bounds_fim() {
    let device = CpuDevice::Flex.device();
    for scheme in [Scheme::IsacFj, Scheme::AeFj] {
        let mut s = setup(scheme, 2, 0.0);
        let mut f = s.scenario.file().clone();
        f.channel.aoa_error_std_deg = 2.0;
        s.scenario = FriendlyJammingScenario::from_file(f).unwrap();
        let b = batch(&s, 3, AT_30_DB, &device);
        let model = untrained(s.clone(), &device);
        let tx = model.model.transmit(&s, &b);
        let entries = fisher::angle_fim(&b.sensing, &tx.beams, &tx.jamming);
        let rows = values(Tensor::cat(entries.to_vec(), 1)).unwrap();
        let g = geometry(&s);
        for (row, design) in tx.rows().unwrap().iter().enumerate() {
            let (theta, phi) = b.angles_estimated[row / b.subcarriers];
            let mut x = Mat::zeros(design.jamming.nrows(), 0);
            for f in &design.beams {
                x = faer::concat![[x, f.as_mat()]];
            }
            let x = faer::concat![[x, design.jamming]];
            let j =
                isac_bounds::angle_fim_waveform(&g.channel(theta, phi), x.as_ref(), 0.5).unwrap();
            let expected = [j[(0, 0)], j[(1, 1)], j[(0, 1)]];
            for (e, got) in expected.iter().zip(&rows[row * 3..row * 3 + 3]) {
                assert!(
                    (f64::from(*got) - e).abs() <= 1e-4 * expected[0].max(expected[1]),
                    "{scheme:?} row {row}: {got} vs {e}"
                );
            }
        }
    }
}

/// Training with the next batch drawn on a thread of its own (as on a GPU device) is training
/// with the step's own draws, bit for bit: the same weights after each of four steps (and the
/// steps moved them), also for three trainers at once. Fails if the thread draws a step ahead or
/// behind.
#[test]
fn prefetched_draws_train_the_same_model() {
    let setup = setup(Scheme::IsacFj, 1, 0.0);
    let device = CpuDevice::Flex.device();
    let probe = batch(
        &setup,
        6,
        Conditions {
            p_db: 20.0,
            crlb_db: -40.0,
        },
        &device,
    );
    let trace = |prefetch: bool| -> Vec<Vec<f32>> {
        let mut trainer = Trainer::with_prefetch(setup.clone(), &device, prefetch).unwrap();
        (0..4)
            .map(|_| {
                trainer.step().unwrap();
                let parts = trainer.model().loss(&setup, &probe);
                crate::tensor::values(parts.total).unwrap()
            })
            .collect()
    };
    let (own, prefetched) = (trace(false), trace(true));
    assert_eq!(prefetched, own);
    assert_ne!(own[0], own[3]);
    // Trainers side by side share the process's pool for their draws; each still gets its own.
    let side_by_side: Vec<_> = std::thread::scope(|scope| {
        let jobs: Vec<_> = (0..3).map(|_| scope.spawn(|| trace(true))).collect();
        jobs.into_iter().map(|job| job.join().unwrap()).collect()
    });
    assert_eq!(side_by_side, vec![own; 3]);
}

/// Models trained in lock step on shared draws are the models each setup trains alone, bit for
/// bit (the same held-out log and transmissions), for schemes of different jamming columns, for
/// both beam structures and for every subcarrier allocation; and the setups share draws only
/// where the batches are the same.
#[test]
fn a_training_group_trains_the_models_each_setup_trains_alone() {
    use isac_channel::scenario::friendly_jamming::Allocation;
    let device = CpuDevice::Flex.device();
    let mut free = setup(Scheme::IsacFj, 1, 0.0);
    free.config.encoder.beam_structure = BeamStructure::Free;
    let setups = vec![
        setup(Scheme::IsacFj, 1, 0.0),
        setup(Scheme::AeFj, 1, 0.0),
        free,
    ];
    let allocated = |allocation| {
        edited(&setup(Scheme::IsacFj, 2, 0.0), |f| {
            f.system.allocation = allocation;
            f.system.comm_subcarriers = 1;
        })
    };
    let allocations = vec![
        setup(Scheme::IsacFj, 2, 0.0),
        allocated(Allocation::NonOverlapping),
        allocated(Allocation::Hybrid),
    ];
    let train = |s: Vec<Setup>| TrainedAutoencoder::train_group(s, 4, &[30.0], 2, &device, &|| {});
    for setups in [&setups, &allocations] {
        let together = train(setups.clone()).unwrap();
        let probe = batch(&setups[1], 3, AT_30_DB, &device);
        for (s, grouped) in setups.iter().zip(&together) {
            let alone = train(vec![s.clone()]).unwrap().remove(0);
            let name = format!("{:?} {:?}", s.scheme, s.scenario.file().system.allocation);
            assert_eq!(grouped.log.points, alone.log.points, "{name}");
            let tx = |m: &TrainedAutoencoder| values(m.model.transmit(s, &probe).beams.re).unwrap();
            assert_eq!(tx(grouped), tx(&alone), "{name}");
            assert_ne!(tx(grouped), tx(&untrained(s.clone(), &device)), "{name}");
        }
    }
    // Another scenario, task or robust training draws other batches: refused.
    let mut robust = setup(Scheme::IsacFj, 1, 0.0);
    robust.config.training.robust = true;
    for other in [
        setup(Scheme::IsacFj, 1, 0.1),
        setup(Scheme::IsacFj, 2, 0.0),
        robust,
    ] {
        assert!(!setups[0].shares_draws(&other));
        assert!(train(vec![setups[0].clone(), other]).is_err());
    }
    let mut task = setups[0].clone();
    task.task.p_db.1 += 1.0;
    assert!(!setups[0].shares_draws(&task));
}
