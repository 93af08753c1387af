//! BLAS level 3: `dgemm_`, `dsyrk_`, `dsyr2k_`.
//!
//! BLAS reports bad arguments through `xerbla` (which aborts); these routines return without
//! touching `C` instead: a caller bug must not become a crash inside the solver.

use std::os::raw::{c_char, c_int};

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::view::{flag, int, view, view_mut};

/// `op(X)` for `trans` in `N` / `T` (`C` is `T` for real matrices); `None` for anything else.
fn op(x: MatRef<'_, f64>, trans: u8) -> Option<MatRef<'_, f64>> {
    match trans {
        b'N' => Some(x),
        b'T' | b'C' => Some(x.transpose()),
        _ => None,
    }
}

/// `C = alpha op(A) op(B) + beta C`, `op(A)` is `m x k`, `op(B)` is `k x n`.
///
/// # Safety
/// Fortran BLAS contract: every pointer valid for the dimensions and leading dimensions given.
///
/// # Example
/// Column-major, arguments by pointer, as clarabel (or any Fortran caller) passes them:
/// ```
/// let (a, b) = ([1.0, 3.0, 2.0, 4.0], [5.0, 7.0, 6.0, 8.0]); // [[1, 2], [3, 4]], [[5, 6], [7, 8]]
/// let mut c = [0.0; 4];
/// let (n, one, zero) = (2, 1.0, 0.0);
/// let no = b'N' as std::ffi::c_char;
/// unsafe {
///     isac_lapack::dgemm_(&no, &no, &n, &n, &n, &one, a.as_ptr(), &n, b.as_ptr(), &n, &zero, c.as_mut_ptr(), &n);
/// }
/// assert_eq!(c, [19.0, 43.0, 22.0, 50.0]); // [[19, 22], [43, 50]]
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dgemm_(
    transa: *const c_char,
    transb: *const c_char,
    m: *const c_int,
    n: *const c_int,
    k: *const c_int,
    alpha: *const f64,
    a: *const f64,
    lda: *const c_int,
    b: *const f64,
    ldb: *const c_int,
    beta: *const f64,
    c: *mut f64,
    ldc: *const c_int,
) {
    unsafe {
        let (ta, tb) = (flag(transa), flag(transb));
        let (m, n, k) = (int(m), int(n), int(k));
        let (lda, ldb, ldc) = (int(lda), int(ldb), int(ldc));
        let (rows_a, cols_a) = if ta == b'N' { (m, k) } else { (k, m) };
        let (rows_b, cols_b) = if tb == b'N' { (k, n) } else { (n, k) };
        if m < 0 || n < 0 || k < 0 || lda < rows_a.max(1) || ldb < rows_b.max(1) || ldc < m.max(1) {
            return;
        }
        let a = view(a, rows_a as usize, cols_a as usize, lda as usize);
        let b = view(b, rows_b as usize, cols_b as usize, ldb as usize);
        let (Some(a), Some(b)) = (op(a, ta), op(b, tb)) else {
            return;
        };
        let c = view_mut(c, m as usize, n as usize, ldc as usize);
        update(c, a, b, None, *alpha, *beta, None);
    }
}

/// `C = alpha (A B^T [+ B A^T]) + beta C` on the whole of `C`, or only on its `uplo` triangle.
/// `beta = 0` ignores the old `C` (which may hold NaN), as BLAS specifies.
fn update(
    mut c: faer::MatMut<'_, f64>,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    symmetric_with: Option<(MatRef<'_, f64>, MatRef<'_, f64>)>,
    alpha: f64,
    beta: f64,
    uplo: Option<u8>,
) {
    let mut product = Mat::<f64>::zeros(c.nrows(), c.ncols());
    matmul(product.as_mut(), Accum::Replace, a, b, alpha, Par::Seq);
    if let Some((a2, b2)) = symmetric_with {
        matmul(product.as_mut(), Accum::Add, a2, b2, alpha, Par::Seq);
    }
    for j in 0..c.ncols() {
        let rows = match uplo {
            Some(b'U') => 0..(j + 1).min(c.nrows()),
            Some(_) => j..c.nrows(),
            None => 0..c.nrows(),
        };
        for i in rows {
            let old = if beta == 0.0 { 0.0 } else { beta * c[(i, j)] };
            c[(i, j)] = product[(i, j)] + old;
        }
    }
}

/// `C = alpha A A^T + beta C` (`trans = N`, `A` is `n x k`) or `alpha A^T A + beta C`
/// (`trans = T`, `A` is `k x n`), on the `uplo` triangle of `C` only.
///
/// # Safety
/// Fortran BLAS contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsyrk_(
    uplo: *const c_char,
    trans: *const c_char,
    n: *const c_int,
    k: *const c_int,
    alpha: *const f64,
    a: *const f64,
    lda: *const c_int,
    beta: *const f64,
    c: *mut f64,
    ldc: *const c_int,
) {
    unsafe {
        let (ul, tr) = (flag(uplo), flag(trans));
        let (n, k, lda, ldc) = (int(n), int(k), int(lda), int(ldc));
        let rows_a = if tr == b'N' { n } else { k };
        if !matches!(ul, b'U' | b'L') || n < 0 || k < 0 || lda < rows_a.max(1) || ldc < n.max(1) {
            return;
        }
        let a = view(
            a,
            rows_a as usize,
            if tr == b'N' { k } else { n } as usize,
            lda as usize,
        );
        let Some(x) = op(a, tr) else { return };
        let c = view_mut(c, n as usize, n as usize, ldc as usize);
        update(c, x, x.transpose(), None, *alpha, *beta, Some(ul));
    }
}

/// `C = alpha (A B^T + B A^T) + beta C` (`trans = N`, `A, B` are `n x k`) or
/// `alpha (A^T B + B^T A) + beta C` (`trans = T`), on the `uplo` triangle of `C` only.
///
/// # Safety
/// Fortran BLAS contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dsyr2k_(
    uplo: *const c_char,
    trans: *const c_char,
    n: *const c_int,
    k: *const c_int,
    alpha: *const f64,
    a: *const f64,
    lda: *const c_int,
    b: *const f64,
    ldb: *const c_int,
    beta: *const f64,
    c: *mut f64,
    ldc: *const c_int,
) {
    unsafe {
        let (ul, tr) = (flag(uplo), flag(trans));
        let (n, k, lda, ldb, ldc) = (int(n), int(k), int(lda), int(ldb), int(ldc));
        let rows = if tr == b'N' { n } else { k };
        let cols = if tr == b'N' { k } else { n };
        if !matches!(ul, b'U' | b'L')
            || n < 0
            || k < 0
            || lda < rows.max(1)
            || ldb < rows.max(1)
            || ldc < n.max(1)
        {
            return;
        }
        let a = view(a, rows as usize, cols as usize, lda as usize);
        let b = view(b, rows as usize, cols as usize, ldb as usize);
        let (Some(x), Some(y)) = (op(a, tr), op(b, tr)) else {
            return;
        };
        let c = view_mut(c, n as usize, n as usize, ldc as usize);
        update(
            c,
            x,
            y.transpose(),
            Some((y, x.transpose())),
            *alpha,
            *beta,
            Some(ul),
        );
    }
}
