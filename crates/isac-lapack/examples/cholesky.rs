//! Solves a symmetric positive definite system through the Fortran-style `dpotrf_` / `dpotrs_`
//! symbols this crate exports for clarabel, and checks the residual
//! (`cargo run --release -p isac-lapack --example cholesky`).

// Calling the exported C-ABI symbols is what this example shows.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};

fn main() {
    // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]] (column-major), b = A [1, 2, 3].
    let a0 = [4.0, 2.0, 0.0, 2.0, 5.0, 1.0, 0.0, 1.0, 3.0];
    let x_true = [1.0, 2.0, 3.0];
    let b0: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| a0[j * 3 + i] * x_true[j]).sum())
        .collect();
    let (mut a, mut b) = (a0, b0.clone());
    let (n, nrhs, lower) = (3 as c_int, 1 as c_int, b'L' as c_char);
    let mut info: c_int = 0;
    // SAFETY: pointers to live arrays of the stated sizes, leading dimension 3.
    unsafe {
        isac_lapack::dpotrf_(&lower, &n, a.as_mut_ptr(), &n, &mut info);
        assert_eq!(info, 0, "A is positive definite");
        isac_lapack::dpotrs_(
            &lower,
            &n,
            &nrhs,
            a.as_ptr(),
            &n,
            b.as_mut_ptr(),
            &n,
            &mut info,
        );
    }
    assert_eq!(info, 0);
    let error = b
        .iter()
        .zip(x_true)
        .map(|(x, t)| (x - t).abs())
        .fold(0.0, f64::max);
    println!("x = {b:?}, max error {error:.1e}");
    assert!(error < 1e-12);
}
