//! Deployment of a trained model on held-out draws: the f32 transmission is taken to f64, the
//! jamming projected once more into the estimated null space (so the users see no jamming to
//! f64 precision), every frame scaled to its exact budget (eq. 27), and for ISAC_FJ the FJ beams
//! refined by stage 2 of Algorithm 1
//! (ISAC_FJ, and the steered part of ISAC_FJ_PLUS).

use faer::{Mat, c64};
use isac_bounds::EchoGeometry;
use isac_design::null_space_projector;

use super::{Batch, RowDesign, Stage2Outcome, Stage2Rule, TrainedAutoencoder, refine_jamming};
use crate::LearnError;

/// One sample's N subcarrier designs as transmitted.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Designs of the N subcarriers.
    pub rows: Vec<RowDesign>,
    /// What stage 2 did (the steering schemes, ISAC_FJ and ISAC_FJ_PLUS).
    pub stage2: Option<Stage2Outcome>,
}

impl TrainedAutoencoder {
    /// The transmitted frames of a batch (stage 2 included for the steering schemes).
    pub fn deploy(&self, batch: &Batch) -> Result<Vec<Frame>, LearnError> {
        self.frames(batch, true)
    }

    /// The frames of a batch, with or without stage 2. Stage 2 moves only the FJ beam (at its
    /// power), so both give the same message-bearing beams.
    pub fn frames(&self, batch: &Batch, stage2: bool) -> Result<Vec<Frame>, LearnError> {
        self.frames_projected(batch, stage2, &null_space_projectors(batch)?)
    }

    /// [`Self::frames`] with the [`null_space_projectors`] of the batch's estimated channels given: batches
    /// that differ only in their messages (the BLER's candidate symbols) share them.
    pub fn frames_projected(
        &self,
        batch: &Batch,
        stage2: bool,
        projectors: &[Mat<c64>],
    ) -> Result<Vec<Frame>, LearnError> {
        if projectors.len() != batch.users_estimated.len() {
            return Err(LearnError::Size {
                what: "null-space projectors (one per row of the batch)",
                expected: batch.users_estimated.len(),
                got: projectors.len(),
            });
        }
        let s = &self.setup.scenario;
        let geometry = EchoGeometry {
            tx: s.tx(),
            rx: s.rx(),
        };
        let rows = self.designs(batch)?;
        let n = batch.subcarriers;
        let mut frames = Vec::with_capacity(batch.samples);
        for (b, chunk) in rows.chunks(n).enumerate() {
            let projectors = &projectors[b * n..(b + 1) * n];
            let mut rows: Vec<RowDesign> = chunk
                .iter()
                .zip(projectors)
                .map(|(r, p)| RowDesign {
                    beams: r.beams.clone(),
                    jamming: p * &r.jamming,
                })
                .collect();
            let budget = s.subcarrier_power(batch.conditions[b].p_db);
            scale_to_budget(&mut rows, budget);
            let stage2 = if stage2 && self.setup.scheme.steers() {
                let (theta, phi) = batch.angles_estimated[b];
                let rule = Stage2Rule {
                    scale: self.setup.fim_scale * s.snapshots(),
                    crlb_max: isac_channel::units::db_to_linear(batch.conditions[b].crlb_db),
                    convention: s.crlb_convention(),
                    iterations: self.setup.config.training.stage2_iterations,
                    objective: self.setup.config.training.stage2_objective,
                };
                Some(refine_jamming(
                    &mut rows,
                    projectors,
                    &geometry.channel(theta, phi),
                    &geometry.tx.steering(theta, phi).a,
                    &rule,
                )?)
            } else {
                None
            };
            frames.push(Frame { rows, stage2 });
        }
        Ok(frames)
    }
}

/// The null-space projector of every row's estimated channel (row order of the batch).
pub fn null_space_projectors(batch: &Batch) -> Result<Vec<Mat<c64>>, LearnError> {
    Ok(batch
        .users_estimated
        .iter()
        .map(|h| null_space_projector(h.as_ref()))
        .collect::<Result<_, _>>()?)
}

/// `1/N sum_n (sum_k |f_k|^2 + |V|_F^2)` of a frame.
pub fn frame_power(rows: &[RowDesign]) -> f64 {
    rows.iter()
        .map(|r| {
            r.beams.iter().map(|f| f.squared_norm_l2()).sum::<f64>() + r.jamming.squared_norm_l2()
        })
        .sum::<f64>()
        / rows.len() as f64
}

/// Scales every beam and jamming column of a frame so that [`frame_power`] equals `budget`.
fn scale_to_budget(rows: &mut [RowDesign], budget: f64) {
    let power = frame_power(rows);
    if power <= 0.0 {
        return;
    }
    let s = (budget / power).sqrt();
    for r in rows {
        for f in &mut r.beams {
            *f *= faer::Scale(faer::c64::new(s, 0.0));
        }
        r.jamming *= faer::Scale(faer::c64::new(s, 0.0));
    }
}
