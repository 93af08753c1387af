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

#[test]
fn dsyevr_workspace_query_values_and_vectors() {
    let n = 7usize;
    let s = spd(n) - Mat::from_fn(n, n, |i, j| if i == j { 20.0 } else { 0.0 });
    let ni = n as c_int;
    let (mut m, mut info) = (0, -99);
    let (mut w, mut z) = (vec![0.0; n], Buf::new(n, n, |_, _| 0.0));
    let mut isuppz = vec![0; 2 * n];
    let (mut work, mut iwork) = (vec![0.0; 1], vec![0; 1]);
    let zero = 0.0;
    let izero = 0;
    let mut a = Buf::new(n, n, |i, j| s[(i, j)]);
    unsafe {
        dsyevr_(
            &ch(b'V'),
            &ch(b'A'),
            &ch(b'U'),
            &ni,
            a.data.as_mut_ptr(),
            &a.ld(),
            &zero,
            &zero,
            &izero,
            &izero,
            &zero,
            &mut m,
            w.as_mut_ptr(),
            z.data.as_mut_ptr(),
            &z.ld(),
            isuppz.as_mut_ptr(),
            work.as_mut_ptr(),
            &-1,
            iwork.as_mut_ptr(),
            &-1,
            &mut info,
        );
    }
    assert_eq!(info, 0);
    assert!(work[0] >= (26 * n) as f64 && iwork[0] >= (10 * n) as c_int);
    let (lwork, liwork) = (work[0] as c_int, iwork[0]);
    let mut work = vec![0.0; lwork as usize];
    let mut iwork = vec![0; liwork as usize];
    for jobz in [b'V', b'N'] {
        let mut a = Buf::new(n, n, |i, j| s[(i, j)]);
        unsafe {
            dsyevr_(
                &ch(jobz),
                &ch(b'A'),
                &ch(b'U'),
                &ni,
                a.data.as_mut_ptr(),
                &a.ld(),
                &zero,
                &zero,
                &izero,
                &izero,
                &zero,
                &mut m,
                w.as_mut_ptr(),
                z.data.as_mut_ptr(),
                &z.ld(),
                isuppz.as_mut_ptr(),
                work.as_mut_ptr(),
                &lwork,
                iwork.as_mut_ptr(),
                &liwork,
                &mut info,
            );
        }
        assert_eq!((info, m), (0, ni));
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "ascending");
        let reference = s.self_adjoint_eigenvalues(Side::Lower).unwrap();
        assert!(w.iter().zip(&reference).all(|(x, y)| (x - y).abs() < 1e-10));
        if jobz == b'V' {
            let zm = z.mat();
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
    unsafe {
        dsyevr_(
            &ch(b'N'),
            &ch(b'I'),
            &ch(b'U'),
            &ni,
            a.data.as_mut_ptr(),
            &a.ld(),
            &zero,
            &zero,
            &izero,
            &izero,
            &zero,
            &mut m,
            w.as_mut_ptr(),
            z.data.as_mut_ptr(),
            &z.ld(),
            isuppz.as_mut_ptr(),
            work.as_mut_ptr(),
            &lwork,
            iwork.as_mut_ptr(),
            &liwork,
            &mut info,
        );
    }
    assert_eq!(info, -2);
    unsafe {
        dsyevr_(
            &ch(b'N'),
            &ch(b'A'),
            &ch(b'U'),
            &ni,
            a.data.as_mut_ptr(),
            &a.ld(),
            &zero,
            &zero,
            &izero,
            &izero,
            &zero,
            &mut m,
            w.as_mut_ptr(),
            z.data.as_mut_ptr(),
            &z.ld(),
            isuppz.as_mut_ptr(),
            work.as_mut_ptr(),
            &1,
            iwork.as_mut_ptr(),
            &liwork,
            &mut info,
        );
    }
    assert_eq!(info, -18);
}

#[test]
fn dgesdd_and_dgesvd_give_a_thin_svd() {
    for (m, n) in [(6usize, 4usize), (3, 5), (4, 4)] {
        let k = m.min(n);
        let a0 = Mat::from_fn(m, n, |i, j| pseudo(i, j, 6));
        let (mi, ni) = (m as c_int, n as c_int);
        for routine in ["gesdd", "gesvd"] {
            let mut a = Buf::new(m, n, |i, j| a0[(i, j)]);
            let mut s = vec![0.0; k];
            let mut u = Buf::new(m, k, |_, _| 0.0);
            let mut vt = Buf::new(k, n, |_, _| 0.0);
            let mut work = vec![0.0; 1];
            let mut iwork = vec![0; 8 * k];
            let mut info = -99;
            unsafe {
                if routine == "gesdd" {
                    dgesdd_(
                        &ch(b'S'),
                        &mi,
                        &ni,
                        a.data.as_mut_ptr(),
                        &a.ld(),
                        s.as_mut_ptr(),
                        u.data.as_mut_ptr(),
                        &u.ld(),
                        vt.data.as_mut_ptr(),
                        &vt.ld(),
                        work.as_mut_ptr(),
                        &-1,
                        iwork.as_mut_ptr(),
                        &mut info,
                    );
                } else {
                    dgesvd_(
                        &ch(b'S'),
                        &ch(b'S'),
                        &mi,
                        &ni,
                        a.data.as_mut_ptr(),
                        &a.ld(),
                        s.as_mut_ptr(),
                        u.data.as_mut_ptr(),
                        &u.ld(),
                        vt.data.as_mut_ptr(),
                        &vt.ld(),
                        work.as_mut_ptr(),
                        &-1,
                        &mut info,
                    );
                }
            }
            assert_eq!(info, 0);
            let lwork = work[0] as c_int;
            assert!(lwork >= 1);
            let mut work = vec![0.0; lwork as usize];
            unsafe {
                if routine == "gesdd" {
                    dgesdd_(
                        &ch(b'S'),
                        &mi,
                        &ni,
                        a.data.as_mut_ptr(),
                        &a.ld(),
                        s.as_mut_ptr(),
                        u.data.as_mut_ptr(),
                        &u.ld(),
                        vt.data.as_mut_ptr(),
                        &vt.ld(),
                        work.as_mut_ptr(),
                        &lwork,
                        iwork.as_mut_ptr(),
                        &mut info,
                    );
                } else {
                    dgesvd_(
                        &ch(b'S'),
                        &ch(b'S'),
                        &mi,
                        &ni,
                        a.data.as_mut_ptr(),
                        &a.ld(),
                        s.as_mut_ptr(),
                        u.data.as_mut_ptr(),
                        &u.ld(),
                        vt.data.as_mut_ptr(),
                        &vt.ld(),
                        work.as_mut_ptr(),
                        &lwork,
                        &mut info,
                    );
                }
            }
            assert_eq!(info, 0);
            assert!(
                s.windows(2).all(|p| p[0] >= p[1]) && s.iter().all(|x| *x >= 0.0),
                "{s:?}"
            );
            let sd = Mat::from_fn(k, k, |i, j| if i == j { s[i] } else { 0.0 });
            let rebuilt = u.mat() * sd * vt.mat();
            assert!(
                max_abs_diff(rebuilt.as_ref(), a0.as_ref()) < 1e-12,
                "{routine} {m}x{n}"
            );
            assert!(
                max_abs_diff(
                    (u.mat().transpose() * u.mat()).as_ref(),
                    Mat::<f64>::identity(k, k).as_ref()
                ) < 1e-12
            );
            assert!(u.padding_intact() && vt.padding_intact());
            // jobz = A is not supported: info = -1.
            unsafe {
                dgesdd_(
                    &ch(b'A'),
                    &mi,
                    &ni,
                    a.data.as_mut_ptr(),
                    &a.ld(),
                    s.as_mut_ptr(),
                    u.data.as_mut_ptr(),
                    &u.ld(),
                    vt.data.as_mut_ptr(),
                    &vt.ld(),
                    work.as_mut_ptr(),
                    &lwork,
                    iwork.as_mut_ptr(),
                    &mut info,
                );
            }
            assert_eq!(info, -1);
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
