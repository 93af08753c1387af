//! Fortran BLAS/LAPACK symbols for clarabel's SDP cone, implemented on faer.
//!
//! Owns: exactly the eight routines clarabel 0.11.1 links against with the features
//! `sdp, blas-src, lapack-src` (docs/conventions.md, "Clarabel without a system BLAS"): `dgemm_`, `dsyrk_`,
//! `dsyr2k_` (BLAS) and `dpotrf_`, `dpotrs_`, `dsyevr_`, `dgesdd_`, `dgesvd_` (LAPACK), in the
//! modes clarabel uses, column-major with leading dimensions honoured and `info` set like
//! LAPACK (0 success, `-i` bad argument `i`, `> 0` numerical failure). Unsupported modes
//! return a negative `info` naming the argument instead of computing something else.
//!
//! Must not: be linked together with a real BLAS/LAPACK (duplicate symbols), or grow beyond
//! what a caller in this workspace needs. A crate that calls clarabel links it with
//! `use isac_lapack as _;`.

// Exporting C-ABI symbols that read caller-provided raw pointers needs `unsafe`; every
// pointer is turned into a faer view with the caller's dimensions and leading dimensions,
// after the arguments have been validated as LAPACK does.
#![allow(unsafe_code)]

mod blas;
mod lapack;
mod view;

pub use blas::{dgemm_, dsyr2k_, dsyrk_};
pub use lapack::{dgesdd_, dgesvd_, dpotrf_, dpotrs_, dsyevr_};
