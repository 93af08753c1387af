//! The encoders of Sec. III-E compared in Table III: FC, DTTE (TT core + two-layer FC head) and
//! pure TT, plus TT-Q (the TT encoder with quantised cores).

use crate::config::EncoderSection;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use isac_channel::rng::Stream;

use crate::quantize::{quantize_uniform, tt_q_bytes};
use crate::tensor::values;
use crate::{LearnError, TtLinear, TtLinearConfig, balanced_factors};

/// Input and output widths of an encoder (docs/conventions.md, "Learning").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderShape {
    /// Per-subcarrier features: `[Re vec H, Im vec H]` (2 K Nt), `gamma_k` (K), `zeta`, `theta`,
    /// `phi`, `n / N`, and the K one-hot messages (K M).
    pub input: usize,
    /// K user beams and one FJ beam, real and imaginary parts: `2 (K + 1) Nt`, plus one
    /// mixing logit per subcarrier when the jamming is mixed ([`EncoderShape::with_mixing`]).
    pub output: usize,
}

impl EncoderShape {
    /// The shape for K users, Nt transmit antennas and M-ary messages.
    pub fn new(users: usize, tx_antennas: usize, modulation_order: usize) -> Self {
        Self {
            input: 2 * users * tx_antennas + users + 4 + users * modulation_order,
            output: 2 * (users + 1) * tx_antennas,
        }
    }

    /// The same shape with one more output: the logit of the steered share `beta` of mixed
    /// jamming (ISAC_FJ_PLUS).
    pub fn with_mixing(self) -> Self {
        Self {
            output: self.output + 1,
            ..self
        }
    }
}

/// Which encoder architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncoderKind {
    /// Multi-layer fully connected network.
    Fc,
    /// Deep TT encoder: a TT core followed by a two-layer FC head.
    Dtte,
    /// A single TT-matrix layer.
    Tt,
}

impl EncoderKind {
    /// Every architecture, in Table III's order.
    pub const ALL: [Self; 3] = [Self::Fc, Self::Dtte, Self::Tt];

    /// The name used in tables and CLI output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fc => "FC",
            Self::Dtte => "DTTE",
            Self::Tt => "TT",
        }
    }
}

/// The FC encoder: `Linear -> ReLU -> ... -> Linear`. Each dense layer is a single-core
/// [`TtLinear`] (its ReLU fused), so the encoders share one kernel for every layer.
#[derive(Module, Debug)]
pub struct FcEncoder {
    layers: Vec<TtLinear>,
}

/// The DTTE: `TT -> ReLU -> Linear -> ReLU -> Linear`.
#[derive(Module, Debug)]
pub struct DtteEncoder {
    core: TtLinear,
    head: Vec<TtLinear>,
}

/// An encoder of any architecture, mapping `[batch, input]` features to `[batch, output]` reals.
#[derive(Module, Debug)]
pub enum Encoder {
    /// See [`EncoderKind::Fc`].
    Fc(FcEncoder),
    /// See [`EncoderKind::Dtte`].
    Dtte(DtteEncoder),
    /// See [`EncoderKind::Tt`].
    Tt(TtLinear),
}

/// Size and cost of one encoder (a row of Table III).
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSummary {
    /// `FC`, `DTTE`, `TT` or `TT-Q`.
    pub name: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Forward FLOPs per sample (multiply-add = 2).
    pub flops: usize,
    /// Bytes of stored weights.
    pub bytes: usize,
    /// Layer shapes, for reports.
    pub layout: String,
}

fn mlp_forward(layers: &[TtLinear], x: Tensor<2>) -> Tensor<2> {
    layers.iter().fold(x, |x, layer| layer.forward(x))
}

/// Dense layers with the given widths, Glorot-uniform, a ReLU after every layer but the last.
fn mlp(widths: &[usize], rng: &mut Stream, device: &Device) -> Result<Vec<TtLinear>, LearnError> {
    let last = widths.len().saturating_sub(2);
    widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            TtLinearConfig::new(vec![w[0]], vec![w[1]], 1)
                .with_relu(i < last)
                .dense_glorot_uniform(rng, device)
        })
        .collect()
}

fn mlp_flops(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| 2 * w[0] * w[1] + w[1]).sum()
}

/// Two cores with the input factors descending and the output factors ascending: the
/// contraction (first core first) costs `r m_1 n_2 (n_1 + m_2)` multiply-adds, smallest in this
/// order.
fn tt_config(input: usize, output: usize, rank: usize) -> TtLinearConfig {
    let mut in_factors = balanced_factors(input, 2);
    in_factors.reverse();
    TtLinearConfig::new(in_factors, balanced_factors(output, 2), rank)
}

fn fc_widths(shape: EncoderShape, section: &EncoderSection) -> Vec<usize> {
    let mut w = vec![shape.input];
    w.extend(&section.fc_hidden);
    w.push(shape.output);
    w
}

fn dtte_head(shape: EncoderShape, section: &EncoderSection) -> [usize; 3] {
    [
        section.dtte_core_width,
        section.dtte_head_hidden,
        shape.output,
    ]
}

fn widths_text(w: &[usize]) -> String {
    w.iter().map(usize::to_string).collect::<Vec<_>>().join("-")
}

fn tt_text(c: &TtLinearConfig) -> String {
    format!("TT {:?}->{:?} rank {}", c.in_factors, c.out_factors, c.rank)
}

/// Largest encoder built, in trainable parameters (2^24, 250 times the paper's FC): a scenario
/// asking for more is an error, not an allocation failure.
pub const MAX_PARAMETERS: usize = 1 << 24;

/// Trainable parameters of a dense stack, saturating (sizes come from scenario files).
fn mlp_params_saturating(widths: &[usize]) -> usize {
    widths.windows(2).fold(0, |acc: usize, w| {
        acc.saturating_add(w[0].saturating_add(1).saturating_mul(w[1]))
    })
}

/// Trainable parameters of a TT layer, saturating.
fn tt_params_saturating(c: &TtLinearConfig) -> usize {
    let r = c.ranks();
    (0..c.in_factors.len()).fold(c.d_output(), |acc: usize, k| {
        acc.saturating_add(
            r[k].saturating_mul(c.out_factors[k])
                .saturating_mul(c.in_factors[k])
                .saturating_mul(r[k + 1]),
        )
    })
}

impl Encoder {
    /// A freshly initialised encoder (weights from `rng`); at most [`MAX_PARAMETERS`].
    pub fn new(
        kind: EncoderKind,
        shape: EncoderShape,
        section: &EncoderSection,
        rng: &mut Stream,
        device: &Device,
    ) -> Result<Self, LearnError> {
        let parameters = match kind {
            EncoderKind::Fc => mlp_params_saturating(&fc_widths(shape, section)),
            EncoderKind::Dtte => tt_params_saturating(&tt_config(
                shape.input,
                section.dtte_core_width,
                section.tt_rank,
            ))
            .saturating_add(mlp_params_saturating(&dtte_head(shape, section))),
            EncoderKind::Tt => {
                tt_params_saturating(&tt_config(shape.input, shape.output, section.tt_rank))
            }
        };
        if parameters > MAX_PARAMETERS {
            return Err(LearnError::invalid(
                "encoder",
                format!("{} with {parameters} parameters", kind.name()),
                format!("at most {MAX_PARAMETERS} (encoder widths and tt_rank)"),
            ));
        }
        Ok(match kind {
            EncoderKind::Fc => Self::Fc(FcEncoder {
                layers: mlp(&fc_widths(shape, section), rng, device)?,
            }),
            EncoderKind::Dtte => Self::Dtte(DtteEncoder {
                core: tt_config(shape.input, section.dtte_core_width, section.tt_rank)
                    .with_relu(true)
                    .init(rng, device)?,
                head: mlp(&dtte_head(shape, section), rng, device)?,
            }),
            EncoderKind::Tt => {
                Self::Tt(tt_config(shape.input, shape.output, section.tt_rank).init(rng, device)?)
            }
        })
    }

    /// `[batch, input] -> [batch, output]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Fc(e) => mlp_forward(&e.layers, x),
            Self::Dtte(e) => mlp_forward(&e.head, e.core.forward(x)),
            Self::Tt(e) => e.forward(x),
        }
    }

    /// The TT layers of this encoder (none for FC).
    pub fn tt_layers(&self) -> Vec<&TtLinear> {
        match self {
            Self::Fc(_) => Vec::new(),
            Self::Dtte(e) => vec![&e.core],
            Self::Tt(e) => vec![e],
        }
    }

    /// TT-Q: every TT core quantised to `bits` bits (no retraining); FC layers are unchanged.
    pub fn quantized(&self, bits: u32) -> Result<Self, LearnError> {
        let quantize = |layer: &TtLinear| -> Result<TtLinear, LearnError> {
            let mut weights = values(layer.weights.val())?;
            let mut start = 0;
            for len in layer.core_lengths() {
                let core = &mut weights[start..start + len];
                let q = quantize_uniform(core, bits);
                core.copy_from_slice(&q);
                start += len;
            }
            layer.with_weights(weights)
        };
        Ok(match self {
            Self::Fc(e) => Self::Fc(e.clone()),
            Self::Dtte(e) => Self::Dtte(DtteEncoder {
                core: quantize(&e.core)?,
                head: e.head.clone(),
            }),
            Self::Tt(e) => Self::Tt(quantize(e)?),
        })
    }

    /// Table III's row for `kind` with this shape, from the configuration alone (the counts are
    /// checked against the built modules in the tests). `tt_q_bits` turns the TT encoder into
    /// TT-Q.
    pub fn summary(
        kind: EncoderKind,
        shape: EncoderShape,
        section: &EncoderSection,
        tt_q_bits: Option<u32>,
    ) -> EncoderSummary {
        let (parameters, flops, bytes, layout) = match kind {
            EncoderKind::Fc => {
                let w = fc_widths(shape, section);
                let p = mlp_params(&w);
                (p, mlp_flops(&w), 4 * p, format!("FC {}", widths_text(&w)))
            }
            EncoderKind::Dtte => {
                let c = tt_config(shape.input, section.dtte_core_width, section.tt_rank);
                let head = dtte_head(shape, section);
                let p = c.parameters() + mlp_params(&head);
                let bytes = match tt_q_bits {
                    Some(b) => tt_q_bytes(&c, b) + 4 * mlp_params(&head),
                    None => 4 * p,
                };
                let layout = format!("{} + FC {}", tt_text(&c), widths_text(&head));
                (p, c.flops() + mlp_flops(&head), bytes, layout)
            }
            EncoderKind::Tt => {
                let c = tt_config(shape.input, shape.output, section.tt_rank);
                let bytes = tt_q_bits.map_or(4 * c.parameters(), |b| tt_q_bytes(&c, b));
                (c.parameters(), c.flops(), bytes, tt_text(&c))
            }
        };
        let name = match tt_q_bits {
            Some(b) if kind != EncoderKind::Fc => format!("{}-Q{b}", kind.name()),
            _ => kind.name().to_string(),
        };
        EncoderSummary {
            name,
            parameters,
            flops,
            bytes,
            layout,
        }
    }
}

fn mlp_params(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

#[cfg(test)]
mod tests;
