//! The TT contraction of eq. (36) and its gradients on host memory, with faer's matrix
//! products: the kernel behind the fused Burn operation of [`super::op`].
//!
//! The batch is the last (fastest) index of every intermediate state, so each core is one
//! matrix product per block of outputs already produced and no activation is ever permuted.
//! With `A_k = m_1 .. m_{k-1}` and `C_k` the `(m_k r_k) x (r_{k-1} n_k)` core matrix, the state
//! before core `k` is `S_{k-1} = [A_k, (r_{k-1} n_k), (n_{k+1} .. n_q B)]`, and
//! `S_k[a] = C_k S_{k-1}[a]` for every block `a`; `S_0 = x^T` (the one copy) and `S_q = y^T`,
//! which the last core writes straight into `y` (and whose gradient it reads from `dL/dy`).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Factors and ranks of a TT layer: `n_1..n_q`, `m_1..m_q` and `r_0..r_q` (`r_0 = r_q = 1`),
/// whether it adds a bias, and whether a ReLU follows (`y = max(W x + b, 0)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TtShape {
    pub(crate) in_factors: Vec<usize>,
    pub(crate) out_factors: Vec<usize>,
    pub(crate) ranks: Vec<usize>,
    pub(crate) bias: bool,
    pub(crate) relu: bool,
}

/// What the forward pass leaves for the backward pass: the states `S_0, .., S_{q-1}` (for one
/// core, `S_0` is kept as `x`, see [`TtShape::state_block`]) and, after a ReLU, the output.
#[derive(Debug, Clone)]
pub(crate) struct Tape {
    states: Vec<Vec<f32>>,
    output: Option<Vec<f32>>,
}

/// One step of the contraction: `blocks` products of the `rows x inner` core with an
/// `inner x cols` block of the state.
#[derive(Debug, Clone, Copy)]
struct Step {
    blocks: usize,
    rows: usize,
    inner: usize,
    cols: usize,
}

impl TtShape {
    pub(crate) fn new(
        in_factors: Vec<usize>,
        out_factors: Vec<usize>,
        ranks: Vec<usize>,
        bias: bool,
        relu: bool,
    ) -> Self {
        Self {
            in_factors,
            out_factors,
            ranks,
            bias,
            relu,
        }
    }

    /// Length of every core, flattened, in order.
    pub(crate) fn core_lengths(&self) -> Vec<usize> {
        (0..self.q())
            .map(|k| self.core_shape(k).iter().product())
            .collect()
    }

    /// Length of the flat parameter vector: every core (eq. 37), then the bias if any.
    pub(crate) fn parameters(&self) -> usize {
        self.core_lengths().iter().sum::<usize>() + if self.bias { self.d_output() } else { 0 }
    }

    fn q(&self) -> usize {
        self.in_factors.len()
    }

    /// `N`.
    pub(crate) fn d_input(&self) -> usize {
        self.in_factors.iter().product()
    }

    /// `M`.
    pub(crate) fn d_output(&self) -> usize {
        self.out_factors.iter().product()
    }

    /// Core `k` (0-based) as a matrix: `(m_k r_k) x (r_{k-1} n_k)`.
    pub(crate) fn core_shape(&self, k: usize) -> [usize; 2] {
        [
            self.out_factors[k] * self.ranks[k + 1],
            self.ranks[k] * self.in_factors[k],
        ]
    }

    /// The cores and the bias of the flat parameter vector: the cores row-major, core 1 first,
    /// then the bias (`M` values) if the layer has one.
    pub(crate) fn split<'a>(&self, params: &'a [f32]) -> (Vec<&'a [f32]>, Option<&'a [f32]>) {
        let mut rest = params;
        let cores = (0..self.q())
            .map(|k| {
                let [rows, cols] = self.core_shape(k);
                let (core, tail) = rest.split_at(rows * cols);
                rest = tail;
                core
            })
            .collect();
        (cores, self.bias.then_some(rest))
    }

    /// The dense `M x N` matrix `W` of eq. (36) in f64 (rows and columns row-major), by
    /// multiplying the `r x r` core slices `G_k[m, n][a, b] = C_k[(m r_k + b), (a n_k + n)]` for
    /// every index pair: the definition, independent of the contraction.
    pub(crate) fn dense(&self, params: &[f32]) -> Vec<Vec<f64>> {
        let (cores, _) = self.split(params);
        let digits = |mut i: usize, factors: &[usize]| {
            let mut d = vec![0; factors.len()];
            for k in (0..factors.len()).rev() {
                d[k] = i % factors[k];
                i /= factors[k];
            }
            d
        };
        (0..self.d_output())
            .map(|row| {
                let m = digits(row, &self.out_factors);
                (0..self.d_input())
                    .map(|col| {
                        let n = digits(col, &self.in_factors);
                        let mut v = vec![1.0f64];
                        for (k, core) in cores.iter().enumerate() {
                            let (r0, r1, nk) =
                                (self.ranks[k], self.ranks[k + 1], self.in_factors[k]);
                            v = (0..r1)
                                .map(|b| {
                                    (0..r0)
                                        .map(|a| {
                                            let idx = (m[k] * r1 + b) * (r0 * nk) + a * nk + n[k];
                                            v[a] * f64::from(core[idx])
                                        })
                                        .sum()
                                })
                                .collect();
                        }
                        v[0]
                    })
                    .collect()
            })
            .collect()
    }

    /// Block `a` of the state `S_k` (`inner x cols`). A single core reads `S_0 = x^T` as a
    /// column-major view of `x` itself (`[batch, N]`), so a dense layer copies nothing.
    fn state_block<'a>(
        &self,
        state: &'a [f32],
        k: usize,
        a: usize,
        batch: usize,
    ) -> MatRef<'a, f32> {
        let s = self.step(k, batch);
        if self.q() == 1 {
            MatRef::from_column_major_slice(state, s.inner, s.cols)
        } else {
            row_major(
                &state[a * s.inner * s.cols..(a + 1) * s.inner * s.cols],
                s.inner,
                s.cols,
            )
        }
    }

    fn state_block_mut<'a>(
        &self,
        state: &'a mut [f32],
        k: usize,
        a: usize,
        batch: usize,
    ) -> MatMut<'a, f32> {
        let s = self.step(k, batch);
        if self.q() == 1 {
            MatMut::from_column_major_slice_mut(state, s.inner, s.cols)
        } else {
            let block = &mut state[a * s.inner * s.cols..(a + 1) * s.inner * s.cols];
            row_major_mut(block, s.inner, s.cols)
        }
    }

    /// Multiply-adds of [`chain`] without `dL/dx`: `dC_k` for every core, `dL/dS_k` for all
    /// but the first.
    fn chain_macs(&self, batch: usize) -> usize {
        (0..self.q())
            .map(|k| {
                let s = self.step(k, batch);
                let product = s.blocks * s.rows * s.inner * s.cols;
                if k > 0 { 2 * product } else { product }
            })
            .sum()
    }

    /// Multiply-adds of [`through_dense_gradient`] (`batch M N + 2 r M N`), for two cores.
    fn dense_gradient_macs(&self, batch: usize) -> Option<usize> {
        (self.q() == 2).then(|| (batch + 2 * self.ranks[1]) * self.d_output() * self.d_input())
    }

    fn step(&self, k: usize, batch: usize) -> Step {
        let [rows, inner] = self.core_shape(k);
        Step {
            blocks: self.out_factors[..k].iter().product(),
            rows,
            inner,
            cols: self.in_factors[k + 1..].iter().product::<usize>() * batch,
        }
    }
}

fn row_major(data: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(data, rows, cols)
}

fn row_major_mut(data: &mut [f32], rows: usize, cols: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(data, rows, cols)
}

/// `[rows, cols] -> [cols, rows]`, row-major (faer's copy, which walks the strided side in
/// blocks).
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    MatMut::from_row_major_slice_mut(&mut out, cols, rows)
        .copy_from(MatRef::from_row_major_slice(data, rows, cols).transpose());
    out
}

/// The `rows x batch` block `a` of `y^T` where `y` is `[batch, M]` row-major: a column-major
/// view with leading dimension `M`, so the last core writes `y` and reads `dL/dy` in place.
fn output_block(y: &[f32], a: usize, rows: usize, batch: usize, m: usize) -> MatRef<'_, f32> {
    MatRef::from_column_major_slice_with_stride(&y[a * rows..], rows, batch, m)
}

fn output_block_mut(
    y: &mut [f32],
    a: usize,
    rows: usize,
    batch: usize,
    m: usize,
) -> MatMut<'_, f32> {
    MatMut::from_column_major_slice_with_stride_mut(&mut y[a * rows..], rows, batch, m)
}

/// `y = W x + b` (then `max(y, 0)` after a ReLU) for `x` `[batch, N]` (row-major): `y`
/// `[batch, M]` (row-major, `m_q` fastest) and the [`Tape`] of the backward pass.
pub(crate) fn forward(
    shape: &TtShape,
    x: Vec<f32>,
    batch: usize,
    params: &[f32],
) -> (Vec<f32>, Tape) {
    let mut tape = Tape {
        states: Vec::with_capacity(shape.q()),
        output: None,
    };
    if batch == 0 {
        tape.states = vec![Vec::new(); shape.q()];
        tape.output = shape.relu.then(Vec::new);
        return (Vec::new(), tape);
    }
    let (cores, bias) = shape.split(params);
    let m = shape.d_output();
    let mut y = vec![0.0; batch * m];
    tape.states.push(if shape.q() == 1 {
        x
    } else {
        transpose(&x, batch, shape.d_input())
    });
    for (k, core) in cores.iter().enumerate() {
        let s = shape.step(k, batch);
        let c = row_major(core, s.rows, s.inner);
        let last = k + 1 == shape.q();
        let mut next = vec![0.0; if last { 0 } else { s.blocks * s.rows * s.cols }];
        for a in 0..s.blocks {
            let input = shape.state_block(&tape.states[k], k, a, batch);
            let dst = if last {
                output_block_mut(&mut y, a, s.rows, batch, m)
            } else {
                row_major_mut(
                    &mut next[a * s.rows * s.cols..(a + 1) * s.rows * s.cols],
                    s.rows,
                    s.cols,
                )
            };
            matmul(dst, Accum::Replace, c, input, 1.0, Par::Seq);
        }
        if !last {
            tape.states.push(next);
        }
    }
    if bias.is_some() || shape.relu {
        for row in y.chunks_exact_mut(m.max(1)) {
            if let Some(bias) = bias {
                row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
            }
            if shape.relu {
                row.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
    }
    tape.output = shape.relu.then(|| y.clone());
    (y, tape)
}

/// The gradients of a loss `L` given `dy = dL/dy` (`[batch, M]`) and the forward [`Tape`]:
/// `dL/dparams` (laid out as the parameters, see [`TtShape::split`]) and, when `input_grad`,
/// `dL/dx` (`[batch, N]`). After a ReLU, `dy` is first zeroed where the output is zero. The core
/// gradients come from the chain of [`chain`] or, for two cores without `dL/dx` when it costs
/// fewer multiply-adds, from `dL/dW` ([`through_dense_gradient`]).
pub(crate) fn backward(
    shape: &TtShape,
    batch: usize,
    params: &[f32],
    tape: Tape,
    mut dy: Vec<f32>,
    input_grad: bool,
) -> (Vec<f32>, Option<Vec<f32>>) {
    if batch == 0 {
        return (vec![0.0; params.len()], input_grad.then(Vec::new));
    }
    if let Some(output) = &tape.output {
        dy.iter_mut()
            .zip(output)
            .filter(|(_, y)| **y <= 0.0)
            .for_each(|(d, _)| *d = 0.0);
    }
    let (cores, _) = shape.split(params);
    let dense = shape.dense_gradient_macs(batch);
    let (mut grads, dx) = match dense {
        Some(macs) if !input_grad && macs < shape.chain_macs(batch) => (
            through_dense_gradient(shape, batch, &cores, &tape.states[0], &dy),
            None,
        ),
        _ => chain(shape, batch, &cores, tape.states, &dy, input_grad),
    };
    if shape.bias {
        let m = shape.d_output();
        let mut db = vec![0.0; m];
        for row in dy.chunks_exact(m.max(1)) {
            db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
        }
        grads.extend(db);
    }
    (grads, dx)
}

/// The core gradients (flat, core 1 first) and, when `input_grad`, `dL/dx`, back through the
/// contraction: for each core, last first, `dC_k = sum_a G[a] S_k[a]^T` and
/// `dL/dS_k[a] = C_k^T G[a]`, written over `S_k` block by block once the block has served
/// `dC_k`.
fn chain(
    shape: &TtShape,
    batch: usize,
    cores: &[&[f32]],
    mut states: Vec<Vec<f32>>,
    dy: &[f32],
    input_grad: bool,
) -> (Vec<f32>, Option<Vec<f32>>) {
    let q = shape.q();
    let m = shape.d_output();
    let mut core_grads = vec![Vec::new(); q];
    let mut g = Vec::new(); // dL/dS_{k+1}, row-major blocks (unused for the last core)
    for k in (0..q).rev() {
        let s = shape.step(k, batch);
        let c = row_major(cores[k], s.rows, s.inner);
        let mut dc = vec![0.0; s.rows * s.inner];
        let need_previous = k > 0 || input_grad;
        let mut state = std::mem::take(&mut states[k]);
        for a in 0..s.blocks {
            let ga = if k + 1 == q {
                output_block(dy, a, s.rows, batch, m)
            } else {
                row_major(
                    &g[a * s.rows * s.cols..(a + 1) * s.rows * s.cols],
                    s.rows,
                    s.cols,
                )
            };
            matmul(
                row_major_mut(&mut dc, s.rows, s.inner),
                if a == 0 { Accum::Replace } else { Accum::Add },
                ga,
                shape.state_block(&state, k, a, batch).transpose(),
                1.0,
                Par::Seq,
            );
            if need_previous {
                let dst = shape.state_block_mut(&mut state, k, a, batch);
                matmul(dst, Accum::Replace, c.transpose(), ga, 1.0, Par::Seq);
            }
        }
        core_grads[k] = dc;
        g = state;
    }
    let dx = input_grad.then(|| {
        if q == 1 {
            g // already [batch, N], see `state_block`
        } else {
            transpose(&g, shape.d_input(), batch)
        }
    });
    (core_grads.concat(), dx)
}

/// The core gradients of a two-core layer through the gradient of the dense matrix,
/// `H = dL/dW = dy^T x` (`M x N`, formed in the backward pass only; the forward pass never
/// forms `W`): with `W[(a, i), (n, l)] = sum_r C_1[(a, r), n] C_2[i, (r, l)]` (eq. 36),
/// `dC_1[(a, r), n] = sum_(i, l) C_2[i, (r, l)] H[(a, i), (n, l)]` and
/// `dC_2[i, (r, l)] = sum_(a, n) C_1[(a, r), n] H[(a, i), (n, l)]`. One well-shaped product
/// (`batch M N` multiply-adds) and two of `r M N` replace the chain's skinny ones; the
/// permutations are of `M N` values. `x_t` is `S_0 = x^T`.
fn through_dense_gradient(
    shape: &TtShape,
    batch: usize,
    cores: &[&[f32]],
    x_t: &[f32],
    dy: &[f32],
) -> Vec<f32> {
    let ([n1, n2], [m1, m2], r) = (
        [shape.in_factors[0], shape.in_factors[1]],
        [shape.out_factors[0], shape.out_factors[1]],
        shape.ranks[1],
    );
    let (m, n) = (m1 * m2, n1 * n2);
    let mut h = vec![0.0; m * n];
    matmul(
        row_major_mut(&mut h, m, n),
        Accum::Replace,
        MatRef::from_column_major_slice(dy, m, batch),
        row_major(x_t, n, batch).transpose(),
        1.0,
        Par::Seq,
    );
    // [a, i, n, l] -> [(a, n), (i, l)]; C_1 [a, r, n] -> [r, (a, n)]; C_2 [i, r, l] -> [r, (i, l)].
    let h = swap_middle(&h, [m1, m2, n1, n2]);
    let c1 = swap_middle(cores[0], [1, m1, r, n1]);
    let c2 = swap_middle(cores[1], [1, m2, r, n2]);
    let (an, il) = (m1 * n1, m2 * n2);
    let mut dc1 = vec![0.0; r * an];
    let mut dc2 = vec![0.0; r * il];
    let h = row_major(&h, an, il);
    matmul(
        row_major_mut(&mut dc1, r, an),
        Accum::Replace,
        row_major(&c2, r, il),
        h.transpose(),
        1.0,
        Par::Seq,
    );
    matmul(
        row_major_mut(&mut dc2, r, il),
        Accum::Replace,
        row_major(&c1, r, an),
        h,
        1.0,
        Par::Seq,
    );
    let mut grads = swap_middle(&dc1, [1, r, m1, n1]);
    grads.extend(swap_middle(&dc2, [1, r, m2, n2]));
    grads
}

/// `[d0, d1, d2, d3] -> [d0, d2, d1, d3]`, row-major.
fn swap_middle(data: &[f32], [d0, d1, d2, d3]: [usize; 4]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len());
    for i0 in 0..d0 {
        for i2 in 0..d2 {
            for i1 in 0..d1 {
                let start = ((i0 * d1 + i1) * d2 + i2) * d3;
                out.extend_from_slice(&data[start..start + d3]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
