//! Raw column-major buffers as faer views, and argument decoding.

use std::os::raw::{c_char, c_int};

use faer::{MatMut, MatRef};

/// Upper-case ASCII of a Fortran character argument.
///
/// # Safety
/// `c` must point to a readable byte.
pub unsafe fn flag(c: *const c_char) -> u8 {
    unsafe { (*c as u8).to_ascii_uppercase() }
}

/// Reads a Fortran integer argument.
///
/// # Safety
/// `p` must point to a readable `c_int`.
pub unsafe fn int(p: *const c_int) -> i64 {
    unsafe { *p as i64 }
}

/// An `m x n` column-major view with leading dimension `ld` (`m = 0` or `n = 0` allowed).
///
/// # Safety
/// `ptr` must be valid for reads of `ld * (n - 1) + m` elements when `m, n > 0`.
pub unsafe fn view<'a>(ptr: *const f64, m: usize, n: usize, ld: usize) -> MatRef<'a, f64> {
    if m == 0 || n == 0 {
        return MatRef::from_column_major_slice(&[], m, n);
    }
    unsafe { MatRef::from_raw_parts(ptr, m, n, 1, ld as isize) }
}

/// Mutable counterpart of [`view`].
///
/// # Safety
/// As [`view`], for writes, and no other live reference to the same memory.
pub unsafe fn view_mut<'a>(ptr: *mut f64, m: usize, n: usize, ld: usize) -> MatMut<'a, f64> {
    if m == 0 || n == 0 {
        return MatMut::from_column_major_slice_mut(&mut [], m, n);
    }
    unsafe { MatMut::from_raw_parts_mut(ptr, m, n, 1, ld as isize) }
}

/// LAPACK's argument checks: the first failing check gives `info = -position`.
pub struct Checks(Option<c_int>);

impl Checks {
    /// No failure yet.
    pub fn new() -> Self {
        Self(None)
    }

    /// Records `-position` unless `ok` or an earlier argument failed.
    pub fn require(&mut self, ok: bool, position: c_int) -> &mut Self {
        if self.0.is_none() && !ok {
            self.0 = Some(-position);
        }
        self
    }

    /// `Some(info)` if an argument was bad.
    pub fn failed(&self) -> Option<c_int> {
        self.0
    }
}
