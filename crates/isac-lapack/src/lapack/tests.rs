use super::*;
use crate::blas::{dgemm_, dsyr2k_, dsyrk_};

const PAD: f64 = 777.0;

/// Column-major `m x n` buffer with leading dimension `m + 2`; padding rows hold `PAD`.
struct Buf {
    data: Vec<f64>,
    m: usize,
    n: usize,
    ld: usize,
}

impl Buf {
    fn new(m: usize, n: usize, f: impl Fn(usize, usize) -> f64) -> Self {
        let ld = m + 2;
        let mut data = vec![PAD; ld * n.max(1)];
        for j in 0..n {
            for i in 0..m {
                data[j * ld + i] = f(i, j);
            }
        }
        Self { data, m, n, ld }
    }
    fn at(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.ld + i]
    }
    fn mat(&self) -> Mat<f64> {
        Mat::from_fn(self.m, self.n, |i, j| self.at(i, j))
    }
    fn padding_intact(&self) -> bool {
        (0..self.n).all(|j| (self.m..self.ld).all(|i| self.data[j * self.ld + i] == PAD))
    }
    fn ld(&self) -> c_int {
        self.ld as c_int
    }
}

fn pseudo(i: usize, j: usize, seed: usize) -> f64 {
    (((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0) / 7.0
}

/// A symmetric positive definite `n x n` matrix.
fn spd(n: usize) -> Mat<f64> {
    let g = Mat::from_fn(n, n, |i, j| pseudo(i, j, 3));
    &g * g.transpose() + Mat::from_fn(n, n, |i, j| if i == j { n as f64 } else { 0.0 })
}

fn max_abs_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let mut d = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            d = d.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    d
}

fn ch(c: u8) -> c_char {
    c as c_char
}

#[test]
fn dgemm_matches_faer_in_every_transpose_mode_and_honours_beta() {
    let (m, n, k) = (5usize, 4usize, 3usize);
    for (ta, tb) in [(b'N', b'N'), (b'T', b'N'), (b'N', b'T'), (b'T', b'T')] {
        let a = if ta == b'N' {
            Buf::new(m, k, |i, j| pseudo(i, j, 1))
        } else {
            Buf::new(k, m, |i, j| pseudo(i, j, 1))
        };
        let b = if tb == b'N' {
            Buf::new(k, n, |i, j| pseudo(i, j, 2))
        } else {
            Buf::new(n, k, |i, j| pseudo(i, j, 2))
        };
        let opa = if ta == b'N' {
            a.mat()
        } else {
            a.mat().transpose().to_owned()
        };
        let opb = if tb == b'N' {
            b.mat()
        } else {
            b.mat().transpose().to_owned()
        };
        for beta in [0.0, 1.0, -0.5] {
            // beta = 0 must ignore NaN in C.
            let mut c = Buf::new(m, n, |i, j| {
                if beta == 0.0 {
                    f64::NAN
                } else {
                    pseudo(i, j, 5)
                }
            });
            let c0 = c.mat();
            let expected = &opa * &opb * 1.5
                + if beta == 0.0 {
                    Mat::zeros(m, n)
                } else {
                    &c0 * beta
                };
            let (mi, ni, ki) = (m as c_int, n as c_int, k as c_int);
            unsafe {
                dgemm_(
                    &ch(ta),
                    &ch(tb),
                    &mi,
                    &ni,
                    &ki,
                    &1.5,
                    a.data.as_ptr(),
                    &a.ld(),
                    b.data.as_ptr(),
                    &b.ld(),
                    &beta,
                    c.data.as_mut_ptr(),
                    &c.ld(),
                );
            }
            assert!(
                max_abs_diff(c.mat().as_ref(), expected.as_ref()) < 1e-12,
                "{} {} {beta}",
                ta as char,
                tb as char
            );
            assert!(c.padding_intact());
        }
    }
}

#[test]
fn dsyrk_and_dsyr2k_update_only_their_triangle() {
    let (n, k) = (5usize, 3usize);
    for trans in [b'N', b'T'] {
        let (r, c) = if trans == b'N' { (n, k) } else { (k, n) };
        let a = Buf::new(r, c, |i, j| pseudo(i, j, 1));
        let b = Buf::new(r, c, |i, j| pseudo(i, j, 2));
        let x = if trans == b'N' {
            a.mat()
        } else {
            a.mat().transpose().to_owned()
        };
        let y = if trans == b'N' {
            b.mat()
        } else {
            b.mat().transpose().to_owned()
        };
        for uplo in [b'U', b'L'] {
            let mut c1 = Buf::new(n, n, |i, j| pseudo(i, j, 4));
            let mut c2 = Buf::new(n, n, |i, j| pseudo(i, j, 4));
            let c0 = c1.mat();
            let syrk = &x * x.transpose() * 2.0 + &c0 * 0.5;
            let syr2k = (&x * y.transpose() + &y * x.transpose()) * 2.0 + &c0 * 0.5;
            let (ni, ki) = (n as c_int, k as c_int);
            unsafe {
                dsyrk_(
                    &ch(uplo),
                    &ch(trans),
                    &ni,
                    &ki,
                    &2.0,
                    a.data.as_ptr(),
                    &a.ld(),
                    &0.5,
                    c1.data.as_mut_ptr(),
                    &c1.ld(),
                );
                dsyr2k_(
                    &ch(uplo),
                    &ch(trans),
                    &ni,
                    &ki,
                    &2.0,
                    a.data.as_ptr(),
                    &a.ld(),
                    b.data.as_ptr(),
                    &b.ld(),
                    &0.5,
                    c2.data.as_mut_ptr(),
                    &c2.ld(),
                );
            }
            for i in 0..n {
                for j in 0..n {
                    let in_triangle = if uplo == b'U' { i <= j } else { i >= j };
                    let (e1, e2) = if in_triangle {
                        (syrk[(i, j)], syr2k[(i, j)])
                    } else {
                        (c0[(i, j)], c0[(i, j)])
                    };
                    assert!((c1.at(i, j) - e1).abs() < 1e-12 && (c2.at(i, j) - e2).abs() < 1e-12);
                }
            }
            assert!(c1.padding_intact() && c2.padding_intact());
        }
    }
}

#[test]
fn dpotrf_then_dpotrs_solves_and_keeps_the_other_triangle() {
    let n = 6usize;
    let s = spd(n);
    for uplo in [b'L', b'U'] {
        let mut a = Buf::new(n, n, |i, j| s[(i, j)]);
        // Mark the unreferenced strict triangle: it must survive.
        for j in 0..n {
            for i in 0..n {
                if (uplo == b'L' && i < j) || (uplo == b'U' && i > j) {
                    a.data[j * a.ld + i] = -123.0;
                }
            }
        }
        let (ni, mut info) = (n as c_int, -99);
        unsafe { dpotrf_(&ch(uplo), &ni, a.data.as_mut_ptr(), &a.ld(), &mut info) };
        assert_eq!(info, 0);
        let f = a.mat();
        let tri = Mat::from_fn(n, n, |i, j| {
            if (uplo == b'L' && i >= j) || (uplo == b'U' && i <= j) {
                f[(i, j)]
            } else {
                0.0
            }
        });
        let rebuilt = if uplo == b'L' {
            &tri * tri.transpose()
        } else {
            tri.transpose() * &tri
        };
        assert!(max_abs_diff(rebuilt.as_ref(), s.as_ref()) < 1e-10);
        assert!((0..n).all(|j| {
            (0..n).all(|i| tri[(i, j)] != 0.0 || f[(i, j)] == -123.0 || f[(i, j)] == 0.0)
        }));
        let mut b = Buf::new(n, 2, |i, j| pseudo(i, j, 9));
        let b0 = b.mat();
        let nrhs = 2;
        unsafe {
            dpotrs_(
                &ch(uplo),
                &ni,
                &nrhs,
                a.data.as_ptr(),
                &a.ld(),
                b.data.as_mut_ptr(),
                &b.ld(),
                &mut info,
            )
        };
        assert_eq!(info, 0);
        assert!(max_abs_diff((&s * b.mat()).as_ref(), b0.as_ref()) < 1e-10);
        assert!(a.padding_intact() && b.padding_intact());
    }
}

#[test]
fn dpotrf_reports_the_failing_minor() {
    // Leading 2 x 2 minor [[1, 2], [2, 1]] is indefinite: info = 2.
    let mut a = Buf::new(3, 3, |i, j| {
        [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]][i][j]
    });
    let (n, mut info) = (3, 0);
    unsafe { dpotrf_(&ch(b'L'), &n, a.data.as_mut_ptr(), &a.ld(), &mut info) };
    assert_eq!(info, 2);
}

/// Buffers of `dsyevr_` calls on a copy of a symmetric matrix (upper triangle referenced).
struct Syevr {
    n: usize,
    s: Mat<f64>,
    w: Vec<f64>,
    z: Buf,
    isuppz: Vec<c_int>,
    work: Vec<f64>,
    iwork: Vec<c_int>,
    m: c_int,
}

impl Syevr {
    fn new(s: &Mat<f64>, work: usize, iwork: usize) -> Self {
        let n = s.nrows();
        Self {
            n,
            s: s.clone(),
            w: vec![0.0; n],
            z: Buf::new(n, n, |_, _| 0.0),
            isuppz: vec![0; 2 * n],
            work: vec![0.0; work.max(1)],
            iwork: vec![0; iwork.max(1)],
            m: 0,
        }
    }

    /// One call with these flags and declared workspace sizes (on a fresh copy of `s`); `info`.
    fn call(&mut self, jobz: u8, range: u8, lwork: c_int, liwork: c_int) -> c_int {
        let mut a = Buf::new(self.n, self.n, |i, j| self.s[(i, j)]);
        let (ni, zero, izero, mut info) = (self.n as c_int, 0.0, 0, -99);
        unsafe {
            dsyevr_(
                &ch(jobz),
                &ch(range),
                &ch(b'U'),
                &ni,
                a.data.as_mut_ptr(),
                &a.ld(),
                &zero,
                &zero,
                &izero,
                &izero,
                &zero,
                &mut self.m,
                self.w.as_mut_ptr(),
                self.z.data.as_mut_ptr(),
                &self.z.ld(),
                self.isuppz.as_mut_ptr(),
                self.work.as_mut_ptr(),
                &lwork,
                self.iwork.as_mut_ptr(),
                &liwork,
                &mut info,
            );
        }
        info
    }
}

#[test]
fn dsyevr_workspace_query_values_and_vectors() {
    let n = 7usize;
    let s = spd(n) - Mat::from_fn(n, n, |i, j| if i == j { 20.0 } else { 0.0 });
    let mut query = Syevr::new(&s, 1, 1);
    assert_eq!(query.call(b'V', b'A', -1, -1), 0);
    assert!(query.work[0] >= (26 * n) as f64 && query.iwork[0] >= (10 * n) as c_int);
    let (lwork, liwork) = (query.work[0] as c_int, query.iwork[0]);
    let mut e = Syevr::new(&s, lwork as usize, liwork as usize);
    for jobz in [b'V', b'N'] {
        let info = e.call(jobz, b'A', lwork, liwork);
        assert_eq!((info, e.m), (0, n as c_int));
        let w = &e.w;
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "ascending");
        let reference = s.self_adjoint_eigenvalues(Side::Lower).unwrap();
        assert!(w.iter().zip(&reference).all(|(x, y)| (x - y).abs() < 1e-10));
        if jobz == b'V' {
            let zm = e.z.mat();
            let lambda = Mat::from_fn(n, n, |i, j| if i == j { w[i] } else { 0.0 });
            assert!(max_abs_diff((&s * &zm).as_ref(), (&zm * &lambda).as_ref()) < 1e-10);
            assert!(
                max_abs_diff(
                    (zm.transpose() * &zm).as_ref(),
                    Mat::<f64>::identity(n, n).as_ref()
                ) < 1e-12
            );
        }
    }
    // Unsupported range and too small a workspace are reported, not computed around.
    assert_eq!(e.call(b'N', b'I', lwork, liwork), -2);
    assert_eq!(e.call(b'N', b'A', 1, liwork), -18);
}

/// Buffers of `dgesdd_` / `dgesvd_` calls on a copy of an `m x n` matrix.
struct Svd {
    m: usize,
    n: usize,
    a: Buf,
    s: Vec<f64>,
    u: Buf,
    vt: Buf,
    work: Vec<f64>,
    iwork: Vec<c_int>,
}

impl Svd {
    fn new(a0: &Mat<f64>, work: usize) -> Self {
        let (m, n) = (a0.nrows(), a0.ncols());
        let k = m.min(n);
        Self {
            m,
            n,
            a: Buf::new(m, n, |i, j| a0[(i, j)]),
            s: vec![0.0; k],
            u: Buf::new(m, k, |_, _| 0.0),
            vt: Buf::new(k, n, |_, _| 0.0),
            work: vec![0.0; work.max(1)],
            iwork: vec![0; 8 * k],
        }
    }

    /// `dgesdd_(job, ...)` or `dgesvd_(job, job, ...)` with declared `lwork`; returns `info`.
    fn call(&mut self, routine: &str, job: u8, lwork: c_int) -> c_int {
        let (mi, ni, mut info) = (self.m as c_int, self.n as c_int, -99);
        let (a, s, u, vt, work) = (
            self.a.data.as_mut_ptr(),
            self.s.as_mut_ptr(),
            self.u.data.as_mut_ptr(),
            self.vt.data.as_mut_ptr(),
            self.work.as_mut_ptr(),
        );
        let (lda, ldu, ldvt) = (self.a.ld(), self.u.ld(), self.vt.ld());
        unsafe {
            if routine == "gesdd" {
                dgesdd_(
                    &ch(job),
                    &mi,
                    &ni,
                    a,
                    &lda,
                    s,
                    u,
                    &ldu,
                    vt,
                    &ldvt,
                    work,
                    &lwork,
                    self.iwork.as_mut_ptr(),
                    &mut info,
                );
            } else {
                dgesvd_(
                    &ch(job),
                    &ch(job),
                    &mi,
                    &ni,
                    a,
                    &lda,
                    s,
                    u,
                    &ldu,
                    vt,
                    &ldvt,
                    work,
                    &lwork,
                    &mut info,
                );
            }
        }
        info
    }
}

#[test]
fn dgesdd_and_dgesvd_give_a_thin_svd() {
    for (m, n) in [(6usize, 4usize), (3, 5), (4, 4)] {
        let k = m.min(n);
        let a0 = Mat::from_fn(m, n, |i, j| pseudo(i, j, 6));
        for routine in ["gesdd", "gesvd"] {
            let mut query = Svd::new(&a0, 1);
            assert_eq!(query.call(routine, b'S', -1), 0);
            let lwork = query.work[0] as c_int;
            assert!(lwork >= 1);
            let mut d = Svd::new(&a0, lwork as usize);
            assert_eq!(d.call(routine, b'S', lwork), 0);
            let s = &d.s;
            assert!(
                s.windows(2).all(|p| p[0] >= p[1]) && s.iter().all(|x| *x >= 0.0),
                "{s:?}"
            );
            let sd = Mat::from_fn(k, k, |i, j| if i == j { s[i] } else { 0.0 });
            let rebuilt = d.u.mat() * sd * d.vt.mat();
            assert!(
                max_abs_diff(rebuilt.as_ref(), a0.as_ref()) < 1e-12,
                "{routine} {m}x{n}"
            );
            assert!(
                max_abs_diff(
                    (d.u.mat().transpose() * d.u.mat()).as_ref(),
                    Mat::<f64>::identity(k, k).as_ref()
                ) < 1e-12
            );
            assert!(d.u.padding_intact() && d.vt.padding_intact());
            // jobz = A is not supported: info = -1.
            assert_eq!(d.call("gesdd", b'A', lwork), -1);
        }
    }
}

#[test]
fn bad_leading_dimensions_are_reported() {
    let mut a = vec![1.0; 9];
    let (n, lda, mut info) = (3, 2, 0);
    unsafe { dpotrf_(&ch(b'L'), &n, a.as_mut_ptr(), &lda, &mut info) };
    assert_eq!(info, -4);
    unsafe { dpotrf_(&ch(b'X'), &n, a.as_mut_ptr(), &3, &mut info) };
    assert_eq!(info, -1);
    let mut b = vec![1.0; 3];
    unsafe {
        dpotrs_(
            &ch(b'L'),
            &n,
            &1,
            a.as_ptr(),
            &3,
            b.as_mut_ptr(),
            &1,
            &mut info,
        )
    };
    assert_eq!(info, -7);
}
