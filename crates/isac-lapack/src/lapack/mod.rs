//! LAPACK: `dpotrf_`, `dpotrs_`, `dsyevr_` (jobz N/V, range A), `dgesdd_` (jobz S),
//! `dgesvd_` (jobu = jobvt = S).

use std::os::raw::{c_char, c_int};

use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, MatMut, MatRef, Par, Side};

use crate::view::{Checks, flag, int, view, view_mut};

/// The full symmetric matrix whose `uplo` triangle is stored in `a`.
fn symmetric_from(a: MatRef<'_, f64>, uplo: u8) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        let (r, c) = if (uplo == b'U') == (i <= j) {
            (i, j)
        } else {
            (j, i)
        };
        a[(r, c)]
    })
}

/// Cholesky factorisation `A = L L^T` (`uplo = L`) or `U^T U` (`uplo = U`), written into that
/// triangle only; `info = i > 0` if the leading minor of order `i` is not positive definite.
///
/// # Safety
/// LAPACK contract: `a` valid for `lda x n`, `info` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dpotrf_(
    uplo: *const c_char,
    n: *const c_int,
    a: *mut f64,
    lda: *const c_int,
    info: *mut c_int,
) {
    unsafe {
        let (ul, n, lda) = (flag(uplo), int(n), int(lda));
        let checks = Checks::new()
            .require(matches!(ul, b'U' | b'L'), 1)
            .require(n >= 0, 2)
            .require(lda >= n.max(1), 4)
            .failed();
        *info = checks.unwrap_or(0);
        if checks.is_some() || n == 0 {
            return;
        }
        let n = n as usize;
        let mut a = view_mut(a, n, n, lda as usize);
        // Factor a copy: faer's Cholesky uses the strict other triangle as scratch, which LAPACK
        // callers expect untouched.
        let s = symmetric_from(a.as_ref(), ul);
        match s.llt(Side::Lower) {
            Ok(llt) => {
                let l = llt.L();
                for j in 0..n {
                    for i in j..n {
                        if ul == b'L' {
                            a[(i, j)] = l[(i, j)];
                        } else {
                            a[(j, i)] = l[(i, j)];
                        }
                    }
                }
            }
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                *info = index as c_int + 1;
            }
        }
    }
}

/// Solves `A X = B` with the factor from [`dpotrf_`]; `B` (`n x nrhs`) is overwritten by `X`.
///
/// # Safety
/// LAPACK contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dpotrs_(
    uplo: *const c_char,
    n: *const c_int,
    nrhs: *const c_int,
    a: *const f64,
    lda: *const c_int,
    b: *mut f64,
    ldb: *const c_int,
    info: *mut c_int,
) {
    unsafe {
        let (ul, n, nrhs, lda, ldb) = (flag(uplo), int(n), int(nrhs), int(lda), int(ldb));
        let checks = Checks::new()
            .require(matches!(ul, b'U' | b'L'), 1)
            .require(n >= 0, 2)
            .require(nrhs >= 0, 3)
            .require(lda >= n.max(1), 5)
            .require(ldb >= n.max(1), 7)
            .failed();
        *info = checks.unwrap_or(0);
        if checks.is_some() || n == 0 || nrhs == 0 {
            return;
        }
        let a = view(a, n as usize, n as usize, lda as usize);
        let mut b = view_mut(b, n as usize, nrhs as usize, ldb as usize);
        if ul == b'L' {
            solve_lower_triangular_in_place(a, b.as_mut(), Par::Seq);
            solve_upper_triangular_in_place(a.transpose(), b.as_mut(), Par::Seq);
        } else {
            solve_lower_triangular_in_place(a.transpose(), b.as_mut(), Par::Seq);
            solve_upper_triangular_in_place(a, b.as_mut(), Par::Seq);
        }
    }
}

/// Eigenvalues (ascending, in `w`) and optionally eigenvectors (columns of `z`) of the
/// symmetric matrix whose `uplo` triangle is in `a`. Only `range = A`; `m` is set to `n`.
/// Workspace query (`lwork = -1` or `liwork = -1`): LAPACK's minimum sizes `26n`, `10n`.
///
/// # Safety
/// LAPACK contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsyevr_(
    jobz: *const c_char,
    range: *const c_char,
    uplo: *const c_char,
    n: *const c_int,
    a: *mut f64,
    lda: *const c_int,
    _vl: *const f64,
    _vu: *const f64,
    _il: *const c_int,
    _iu: *const c_int,
    _abstol: *const f64,
    m: *mut c_int,
    w: *mut f64,
    z: *mut f64,
    ldz: *const c_int,
    isuppz: *mut c_int,
    work: *mut f64,
    lwork: *const c_int,
    iwork: *mut c_int,
    liwork: *const c_int,
    info: *mut c_int,
) {
    unsafe {
        let (jz, rg, ul) = (flag(jobz), flag(range), flag(uplo));
        let (n, lda, ldz, lwork, liwork) = (int(n), int(lda), int(ldz), int(lwork), int(liwork));
        let vectors = jz == b'V';
        let query = lwork == -1 || liwork == -1;
        let checks = Checks::new()
            .require(matches!(jz, b'N' | b'V'), 1)
            .require(rg == b'A', 2)
            .require(matches!(ul, b'U' | b'L'), 3)
            .require(n >= 0, 4)
            .require(lda >= n.max(1), 6)
            .require(ldz >= 1 && (!vectors || ldz >= n), 15)
            .require(query || lwork >= (26 * n).max(1), 18)
            .require(query || liwork >= (10 * n).max(1), 20)
            .failed();
        *info = checks.unwrap_or(0);
        if checks.is_some() {
            return;
        }
        if query {
            *work = (26 * n).max(1) as f64;
            *iwork = (10 * n).max(1) as c_int;
            return;
        }
        *m = n as c_int;
        if n == 0 {
            return;
        }
        let n = n as usize;
        let s = symmetric_from(view(a, n, n, lda as usize), ul);
        let w = std::slice::from_raw_parts_mut(w, n);
        if vectors {
            let Ok(evd) = s.self_adjoint_eigen(Side::Lower) else {
                *info = 1;
                return;
            };
            let (u, d) = (evd.U(), evd.S());
            let mut z = view_mut(z, n, n, ldz as usize);
            for j in 0..n {
                w[j] = d[j];
                for i in 0..n {
                    z[(i, j)] = u[(i, j)];
                }
                *isuppz.add(2 * j) = 1;
                *isuppz.add(2 * j + 1) = n as c_int;
            }
        } else {
            let Ok(values) = s.self_adjoint_eigenvalues(Side::Lower) else {
                *info = 1;
                return;
            };
            w.copy_from_slice(&values);
        }
    }
}

/// Thin SVD `A = U diag(s) VT` of the `m x n` matrix `A`: `U` is `m x min(m,n)`, `VT` is
/// `min(m,n) x n`, `s` descending. Shared by [`dgesdd_`] and [`dgesvd_`]; returns `info`.
fn thin_svd(
    a: MatRef<'_, f64>,
    s: &mut [f64],
    mut u: MatMut<'_, f64>,
    mut vt: MatMut<'_, f64>,
) -> c_int {
    if s.is_empty() {
        return 0;
    }
    let Ok(svd) = a.thin_svd() else { return 1 };
    let (su, ss, sv) = (svd.U(), svd.S(), svd.V());
    for j in 0..s.len() {
        s[j] = ss[j];
        for i in 0..a.nrows() {
            u[(i, j)] = su[(i, j)];
        }
        for i in 0..a.ncols() {
            vt[(j, i)] = sv[(i, j)];
        }
    }
    0
}

/// [`thin_svd`] of the raw LAPACK arguments (already validated); returns `info`.
///
/// # Safety
/// LAPACK contract for `a` (`lda x n`), `s` (`min(m,n)`), `u` (`ldu x min(m,n)`), `vt` (`ldvt x n`).
unsafe fn thin_svd_raw(
    (m, n): (usize, usize),
    (a, lda): (*const f64, usize),
    s: *mut f64,
    (u, ldu): (*mut f64, usize),
    (vt, ldvt): (*mut f64, usize),
) -> c_int {
    let k = m.min(n);
    unsafe {
        let s: &mut [f64] = if k == 0 {
            &mut []
        } else {
            std::slice::from_raw_parts_mut(s, k)
        };
        thin_svd(
            view(a, m, n, lda),
            s,
            view_mut(u, m, k, ldu),
            view_mut(vt, k, n, ldvt),
        )
    }
}

/// Thin SVD by divide and conquer (`jobz = S` only). Workspace query (`lwork = -1`) returns
/// LAPACK's minimum `3 mn + max(mx, 5 mn^2 + 4 mn)`; no workspace is actually used.
///
/// # Safety
/// LAPACK contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dgesdd_(
    jobz: *const c_char,
    m: *const c_int,
    n: *const c_int,
    a: *mut f64,
    lda: *const c_int,
    s: *mut f64,
    u: *mut f64,
    ldu: *const c_int,
    vt: *mut f64,
    ldvt: *const c_int,
    work: *mut f64,
    lwork: *const c_int,
    _iwork: *mut c_int,
    info: *mut c_int,
) {
    unsafe {
        let (jz, m, n, lda, ldu, ldvt, lwork) = (
            flag(jobz),
            int(m),
            int(n),
            int(lda),
            int(ldu),
            int(ldvt),
            int(lwork),
        );
        let (mn, mx) = (m.min(n), m.max(n));
        let checks = Checks::new()
            .require(jz == b'S', 1)
            .require(m >= 0, 2)
            .require(n >= 0, 3)
            .require(lda >= m.max(1), 5)
            .require(ldu >= m.max(1), 8)
            .require(ldvt >= mn.max(1), 10)
            .require(lwork == -1 || lwork >= 1, 12)
            .failed();
        *info = checks.unwrap_or(0);
        if checks.is_some() {
            return;
        }
        if lwork == -1 {
            *work = (3 * mn + mx.max(5 * mn * mn + 4 * mn)).max(1) as f64;
            return;
        }
        *info = thin_svd_raw(
            (m as usize, n as usize),
            (a, lda as usize),
            s,
            (u, ldu as usize),
            (vt, ldvt as usize),
        );
    }
}

/// Thin SVD (`jobu = jobvt = S` only). Workspace query returns `max(3 mn + mx, 5 mn)`.
///
/// # Safety
/// LAPACK contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dgesvd_(
    jobu: *const c_char,
    jobvt: *const c_char,
    m: *const c_int,
    n: *const c_int,
    a: *mut f64,
    lda: *const c_int,
    s: *mut f64,
    u: *mut f64,
    ldu: *const c_int,
    vt: *mut f64,
    ldvt: *const c_int,
    work: *mut f64,
    lwork: *const c_int,
    info: *mut c_int,
) {
    unsafe {
        let (ju, jv) = (flag(jobu), flag(jobvt));
        let (m, n, lda, ldu, ldvt, lwork) =
            (int(m), int(n), int(lda), int(ldu), int(ldvt), int(lwork));
        let (mn, mx) = (m.min(n), m.max(n));
        let checks = Checks::new()
            .require(ju == b'S', 1)
            .require(jv == b'S', 2)
            .require(m >= 0, 3)
            .require(n >= 0, 4)
            .require(lda >= m.max(1), 6)
            .require(ldu >= m.max(1), 9)
            .require(ldvt >= mn.max(1), 11)
            .require(lwork == -1 || lwork >= 1, 13)
            .failed();
        *info = checks.unwrap_or(0);
        if checks.is_some() {
            return;
        }
        if lwork == -1 {
            *work = (3 * mn + mx).max(5 * mn).max(1) as f64;
            return;
        }
        *info = thin_svd_raw(
            (m as usize, n as usize),
            (a, lda as usize),
            s,
            (u, ldu as usize),
            (vt, ldvt as usize),
        );
    }
}

#[cfg(test)]
mod tests;
