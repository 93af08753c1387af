//! What the fused secrecy-rate and received-signal operations share: reading one sample's
//! complex operands from host planes, its small row-major products, and the gradients of the
//! beams `F` (`[B, Nt, K]`) and jamming columns `V` (`[B, Nt, J]`), accumulated per sample in
//! f64 and handed back to Burn as the f32 planes `[Re F, Im F, Re V, Im V]` (the order of both
//! operations' parents).

use faer::c64;

/// Sample `b` of complex values stored as real and imaginary planes, `out.len()` per sample.
pub(super) fn load_sample(out: &mut [c64], re: &[f32], im: &[f32], b: usize) {
    let len = out.len();
    let (re, im) = (&re[b * len..(b + 1) * len], &im[b * len..(b + 1) * len]);
    for ((z, r), i) in out.iter_mut().zip(re).zip(im) {
        *z = c64::new(f64::from(*r), f64::from(*i));
    }
}

/// The beams' and jamming columns' gradients of a batch.
pub(super) struct BeamGradients {
    batch: usize,
    nt: usize,
    k: usize,
    j: usize,
    f: [Vec<f32>; 2],
    v: [Vec<f32>; 2],
}

impl BeamGradients {
    /// Zeros for `batch` samples of `Nt` antennas, `K` beams and `J` jamming columns.
    pub(super) fn new(batch: usize, nt: usize, k: usize, j: usize) -> Self {
        let zeros = |len: usize| [vec![0.0f32; len], vec![0.0f32; len]];
        Self {
            batch,
            nt,
            k,
            j,
            f: zeros(batch * nt * k),
            v: zeros(batch * nt * j),
        }
    }

    /// Sample `b`'s `G_F` (`[Nt, K]`) and `G_V` (`[Nt, J]`), row-major.
    pub(super) fn store(&mut self, b: usize, grad_f: &[c64], grad_v: &[c64]) {
        for (out, grad) in [(&mut self.f, grad_f), (&mut self.v, grad_v)] {
            let len = grad.len();
            for (n, z) in grad.iter().enumerate() {
                out[0][b * len + n] = z.re as f32;
                out[1][b * len + n] = z.im as f32;
            }
        }
    }

    /// `[Re F, Im F, Re V, Im V]`, each with its shape.
    pub(super) fn planes(self) -> [(Vec<f32>, [usize; 3]); 4] {
        let (f, v) = ([self.batch, self.nt, self.k], [self.batch, self.nt, self.j]);
        let ([fr, fi], [vr, vi]) = (self.f, self.v);
        [(fr, f), (fi, f), (vr, v), (vi, v)]
    }
}

/// `out = row X` for a row `[p]` and `X` `[p, cols]` (row-major).
pub(super) fn product_row(row: &[c64], x: &[c64], cols: usize, out: &mut [c64]) {
    out.fill(c64::new(0.0, 0.0));
    for (r, x_row) in row.iter().zip(x.chunks_exact(cols)) {
        axpy(*r, x_row, out);
    }
}

/// `y += a x`.
pub(super) fn axpy(a: c64, x: &[c64], y: &mut [c64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `G_F += C G_A` and `G_V += C G_B` (row-major, `G_F` `[Nt, K]`, `G_V` `[Nt, J]`) for `C`
/// `[Nt, m]` given entry by entry, `c(n, i)`, and `G_A` `[m, K]`, `G_B` `[m, J]`: the chain rule
/// through `A = C^H F`, `B = C^H V` (`C^H` is `U` for the users, `E = H_E^H` for Eve). Each entry
/// sums its terms in the order of `i`, as one loop over both channels did.
pub(super) fn accumulate(
    c: impl Fn(usize, usize) -> c64,
    m: usize,
    [grad_a, grad_b]: [&[c64]; 2],
    [k, j]: [usize; 2],
    [grad_f, grad_v]: [&mut [c64]; 2],
) {
    let nt = grad_f.len() / k;
    for n in 0..nt {
        let (gf, gv) = (
            &mut grad_f[n * k..(n + 1) * k],
            &mut grad_v[n * j..(n + 1) * j],
        );
        for i in 0..m {
            let coef = c(n, i);
            axpy(coef, &grad_a[i * k..(i + 1) * k], gf);
            axpy(coef, &grad_b[i * j..(i + 1) * j], gv);
        }
    }
}
