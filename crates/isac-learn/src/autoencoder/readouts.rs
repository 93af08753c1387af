//! The three readouts of a transmission that loss eq. (40) takes, in one operation on the
//! cubecl devices (cargo feature `wgpu`): the stacked secrecy rates (eq. 28, `[B, 2, K]`), the
//! users' received signals after gain control (`[B, K, 2]`) and the angle-FIM entries behind
//! the CRLB hinge (`[BN, 3]`), from the beams `F` and the jamming columns `V`. One launch
//! forward (the units of the three operations' kernels side by side) and one backward (each
//! unit one column of one row, summing the three operations' gradients of it), where the three
//! operations took three launches each way and Burn's sum of their gradients of `F` and `V`.
//! The kernels are those of `complex/secrecy.rs`, `complex/received.rs` and `fisher.rs`, which
//! the rest of the crate runs alone; a readout that no loss reads has no gradient, and its part
//! of the backward kernel is left out at compile time.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use super::fisher::SensingFactors;
use crate::ComplexTensor;
use crate::handover::{self, Slots};

mod kernels;

/// The noise powers: the users' and Eve's in the secrecy rates, the users' in the received
/// signals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Noises {
    pub(crate) user: f32,
    pub(crate) eve: f32,
    pub(crate) received: f32,
}

/// The readouts' specs for the users' channels `U` (`[B, K, Nt]`): rates `[B, 2, K]`, signals
/// `[B, K, 2]`, FIM entries `[B, 3]`.
#[cfg(feature = "fusion")]
fn readout_specs(users: &TensorSpec) -> (TensorSpec, TensorSpec, TensorSpec) {
    let [b, k] = [users.shape[0], users.shape[1]];
    let spec = |dims: [usize; 3]| TensorSpec::new(burn::tensor::Shape::new(dims), users.dtype);
    (
        spec([b, 2, k]),
        spec([b, k, 2]),
        TensorSpec::new(burn::tensor::Shape::new([b, 3]), users.dtype),
    )
}

/// The extension: the three readouts for the users' channels `U` `[B, K, Nt]`, the beams `F`
/// `[B, Nt, K]`, the jamming columns `V` `[B, Nt, J]`, Eve's channels `[B, Nt, Ne]`, the jamming
/// symbols `[B, J, 1]`, the users' noise `[B, K, 1]` and the sensing factors `[B, Nt, 3]`,
/// `[B, Nr, 3]` (real and imaginary parts).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"), Autodiff)]
pub(crate) trait Readouts: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |ur, _ui, _fr, _fi, _vr, _vi, _er, _ei, _sr, _si, _nr, _ni, _tr, _ti, _rr, _ri,
        _noises| readout_specs(ur))]
    fn readouts(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        noises: Noises,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Which readouts have a gradient (a compile-time choice of the backward kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Present {
    pub(crate) rates: bool,
    pub(crate) received: bool,
    pub(crate) fim: bool,
}

/// The backward pass of [`Readouts`]: `(Re G_F, Im G_F, Re G_V, Im G_V)` for the readouts'
/// upstream gradients (any tensor for a readout that `present` says has none).
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub(crate) trait ReadoutsGradient: Backend {
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[fusion(meta = |_ur, _ui, fr, fi, vr, vi, _er, _ei, _sr, _si, _nr, _ni, _tr, _ti, _rr, _ri,
        _gr, _gy, _gj, _noises, _present| (fr.clone(), fi.clone(), vr.clone(), vi.clone()))]
    fn readouts_gradient(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        upstream_rates: FloatTensor<Self>,
        upstream_received: FloatTensor<Self>,
        upstream_fim: FloatTensor<Self>,
        noises: Noises,
        present: Present,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

// Training: the operation's node (parents: `F` and `V`, real and imaginary parts; the rest is
// data), then one node per readout (`crate::handover`).
impl<B: Readouts + ReadoutsGradient, C: CheckpointStrategy> Readouts for Autodiff<B, C> {
    fn readouts(
        users_re: FloatTensor<Self>,
        users_im: FloatTensor<Self>,
        beams_re: FloatTensor<Self>,
        beams_im: FloatTensor<Self>,
        jamming_re: FloatTensor<Self>,
        jamming_im: FloatTensor<Self>,
        eve_re: FloatTensor<Self>,
        eve_im: FloatTensor<Self>,
        symbols_re: FloatTensor<Self>,
        symbols_im: FloatTensor<Self>,
        noise_re: FloatTensor<Self>,
        noise_im: FloatTensor<Self>,
        transmit_re: FloatTensor<Self>,
        transmit_im: FloatTensor<Self>,
        receive_re: FloatTensor<Self>,
        receive_im: FloatTensor<Self>,
        noises: Noises,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [fr, fi, vr, vi] = [beams_re, beams_im, jamming_re, jamming_im].map(|t| t.into_parts());
        let data = [
            users_re,
            users_im,
            eve_re,
            eve_im,
            symbols_re,
            symbols_im,
            noise_re,
            noise_im,
            transmit_re,
            transmit_im,
            receive_re,
            receive_im,
        ]
        .map(|t| t.into_parts().0);
        let inputs = inputs(data, [fr.0, fi.0, vr.0, vi.0]);
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = inputs.clone();
        let (rates, received, fim) =
            B::readouts(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, noises);
        let slots = Slots::new();
        // The operation's own output is never read: a readout stands in for it.
        let stand_in = rates.clone();
        let operation: FloatTensor<Self> = match ReadoutsBackward
            .prepare::<C>([fr.1, fi.1, vr.1, vi.1])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((inputs, noises, slots.clone()), stand_in),
            OpsKind::UnTracked(prep) => prep.finish(stand_in),
        };
        let [rates, received, fim] =
            handover::outputs::<B, C, 3>(&operation, [rates, received, fim], &slots);
        (rates, received, fim)
    }
}

/// The kernels' operands in their order: `U`, `F`, `V`, Eve's channels, the symbols, the noise,
/// the transmit and receive factors, real and imaginary parts each, from the data `data` (`U`,
/// Eve's, symbols, noise, factors) and `[Re F, Im F, Re V, Im V]`.
fn inputs<T>(data: [T; 12], transmission: [T; 4]) -> [T; 16] {
    let [ur, ui, er, ei, sr, si, nr, ni, tr, ti, rr, ri] = data;
    let [fr, fi, vr, vi] = transmission;
    [
        ur, ui, fr, fi, vr, vi, er, ei, sr, si, nr, ni, tr, ti, rr, ri,
    ]
}

/// The backward step of the operation's node, after every readout's: the gradients of `F` and
/// `V` from the gradients the readouts handed over.
#[derive(Debug)]
struct ReadoutsBackward;

impl<B: Readouts + ReadoutsGradient> Backward<B, 4> for ReadoutsBackward {
    type State = ([FloatTensor<B>; 16], Noises, Slots<B, 3>);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (inputs, noises, slots) = ops.state;
        let Some(([rates, received, fim], [gr, gy, gj])) = slots.gradients(&inputs[0]) else {
            return;
        };
        let present = Present {
            rates,
            received,
            fim,
        };
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = inputs;
        let (gfr, gfi, gvr, gvi) = B::readouts_gradient(
            a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, gr, gy, gj, noises, present,
        );
        for (parent, g) in ops.parents.into_iter().zip([gfr, gfi, gvr, gvi]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// The stacked secrecy rates `[B, 2, K]`, the received signals `[B, K, 2]` and the angle-FIM
/// entries `[B, 3]` of the transmission `beams`, `jamming` (shapes as
/// [`crate::complex::received_signal`] and [`super::fisher::angle_fim_rows`]), or `None` where
/// the operations must run apart (not a cubecl device, or data that require gradients).
#[allow(clippy::too_many_arguments)]
pub(super) fn readouts(
    users: &ComplexTensor<3>,
    beams: &ComplexTensor<3>,
    jamming: &ComplexTensor<3>,
    eve: &ComplexTensor<3>,
    symbols: &ComplexTensor<3>,
    noise: &ComplexTensor<3>,
    sensing: &SensingFactors,
    noises: Noises,
) -> Option<(Tensor<3>, Tensor<3>, Tensor<2>)> {
    let data = [
        users,
        eve,
        symbols,
        noise,
        &sensing.transmit,
        &sensing.receive,
    ];
    if data.iter().any(|t| t.requires_grad()) || !crate::cube::supports(&users.re.device()) {
        return None;
    }
    let data = std::array::from_fn(|i| {
        let t = data[i / 2];
        if i % 2 == 0 {
            t.re.clone()
        } else {
            t.im.clone()
        }
    });
    let transmission = [&beams.re, &beams.im, &jamming.re, &jamming.im].map(Clone::clone);
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] =
        inputs(data, transmission).map(Tensor::into_dispatch);
    let (rates, received, fim) =
        <Dispatch as Readouts>::readouts(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, noises);
    Some((
        Tensor::from_dispatch(rates),
        Tensor::from_dispatch(received),
        Tensor::from_dispatch(fim),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fisher::angle_fim_rows;
    use super::*;
    use crate::complex::{received_signal, stacked_secrecy_rates};
    use crate::tensor::values;
    use crate::testing::{assert_agree, kernel_devices, random_complex, tracked};

    /// The one operation against the three run apart on the wgpu device (CI: lavapipe; each of
    /// those is tested against its composed path): the readouts and the gradients of `F` and `V`,
    /// for losses that read all three, the secrecy rates and the received signals only (a
    /// scheme that does not sense), and the FIM only, with distinct noise powers.
    #[test]
    fn the_wgpu_readouts_equal_the_three_operations_with_gradients() {
        let gpus = kernel_devices().into_iter().filter(crate::cube::supports);
        for device in gpus {
            for (rows, k, nt, j, ne, nr) in
                [(5, 2, 8, 1, 2, 4), (3, 1, 4, 3, 1, 2), (2, 3, 6, 2, 3, 3)]
            {
                let seed = 10 * rows as u64;
                let users = random_complex([rows, k, nt], seed + 1, &device);
                let beams = random_complex([rows, nt, k], seed + 2, &device);
                let jamming = random_complex([rows, nt, j], seed + 3, &device);
                let eve = random_complex([rows, nt, ne], seed + 4, &device);
                let symbols = random_complex([rows, j, 1], seed + 5, &device);
                let noise = random_complex([rows, k, 1], seed + 6, &device);
                let sensing = SensingFactors {
                    transmit: random_complex([rows, nt, 3], seed + 7, &device),
                    receive: random_complex([rows, nr, 3], seed + 8, &device),
                };
                let weights = [
                    random_complex([rows, 2, k], seed + 9, &device).re,
                    random_complex([rows, k, 2], seed + 10, &device).re,
                    random_complex([rows, 3, 1], seed + 11, &device).re,
                ];
                let noises = Noises {
                    user: 0.5,
                    eve: 0.7,
                    received: 0.3,
                };
                for used in [[true; 3], [true, true, false], [false, false, true]] {
                    let run = |joint: bool| {
                        let (f, v) = (tracked(&beams), tracked(&jamming));
                        let (rates, y, fim) = if joint {
                            readouts(&users, &f, &v, &eve, &symbols, &noise, &sensing, noises)
                                .expect("a cubecl device runs the kernels")
                        } else {
                            let (user, eve_noise) = (noises.user.into(), noises.eve.into());
                            (
                                stacked_secrecy_rates(&users, &f, &v, &eve, user, eve_noise)
                                    .expect("a cubecl device runs the fused operation"),
                                received_signal(
                                    &users,
                                    &f,
                                    &v,
                                    &symbols,
                                    &noise,
                                    noises.received.into(),
                                ),
                                angle_fim_rows(&sensing, &f, &v)
                                    .expect("a cubecl device runs the fused operation"),
                            )
                        };
                        let readouts = [rates, y, fim.reshape([rows, 3, 1])];
                        let mut loss = Tensor::<1>::zeros([1], &device);
                        let mut out = Vec::new();
                        for ((r, w), used) in readouts.into_iter().zip(&weights).zip(used) {
                            if used {
                                loss = loss + (r.clone() * w.clone()).sum();
                                out.push(values(r.flatten::<1>(0, 2)).unwrap());
                            }
                        }
                        let grads = loss.backward();
                        for t in [&f.re, &f.im, &v.re, &v.im] {
                            out.push(values(t.grad(&grads).unwrap().flatten::<1>(0, 2)).unwrap());
                        }
                        out
                    };
                    let what = format!("{rows} rows, K = {k}, Nt = {nt}, J = {j}, used {used:?}");
                    assert_agree(&run(true), &run(false), &what);
                }
            }
        }
    }
}
