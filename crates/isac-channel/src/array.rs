//! Centred antenna arrays (docs/conventions.md: `a(th)_i = exp(j pi d (N-1-2i) sin th)`).
//!
//! The phase reference is the array centre, so `a^H da/dth = 0`: the convention under which
//! the closed form of Hou & Zhang eq. (24) is exact in the small-variance limit.

use faer::{Col, c64};

use crate::ChannelError;

/// Centred element offset `N - 1 - 2i` of element `i` of an `n`-element line.
fn centred_offset(n: usize, i: usize) -> f64 {
    (n as f64 - 1.0) - 2.0 * i as f64
}

/// The most antennas an array may have: dense `Nt x Nt` covariances stay below 300 MB.
pub const MAX_ELEMENTS: usize = 4096;

fn check_array(name: &str, elements: usize, spacing: f64) -> Result<(), ChannelError> {
    if elements == 0 || elements > MAX_ELEMENTS {
        return Err(ChannelError::invalid(
            format!("{name}.elements"),
            elements,
            format!("must be in 1..={MAX_ELEMENTS}"),
        ));
    }
    if !(spacing.is_finite() && spacing > 0.0) {
        return Err(ChannelError::invalid(
            format!("{name}.spacing_wavelengths"),
            spacing,
            "must be finite and > 0",
        ));
    }
    Ok(())
}

/// Uniform linear array with `elements` antennas `spacing` wavelengths apart, centred.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ula {
    elements: usize,
    spacing: f64,
}

impl Ula {
    /// A ULA; rejects zero elements and non-positive or non-finite spacing.
    pub fn new(elements: usize, spacing_wavelengths: f64) -> Result<Self, ChannelError> {
        check_array("ula", elements, spacing_wavelengths)?;
        Ok(Self {
            elements,
            spacing: spacing_wavelengths,
        })
    }

    /// Number of antennas.
    pub fn elements(&self) -> usize {
        self.elements
    }

    /// Element spacing in wavelengths (Delta in the paper).
    pub fn spacing(&self) -> f64 {
        self.spacing
    }

    /// Steering vector `a(theta)`, `a_i = exp(j pi Delta (N-1-2i) sin theta)` (Hou & Zhang Sec. II).
    pub fn steering(&self, theta: f64) -> Col<c64> {
        self.steering_and_derivative(theta).0
    }

    /// The phase rates `k_i = pi Delta (N-1-2i)` of `a_i = exp(j k_i sin theta)`: a product
    /// `b(theta)^H W a(theta)` of two ULAs is a sum of `exp(j (k_n - k'_m) sin theta)` terms, whose
    /// equal rates can be summed before any angle is tried.
    pub fn phase_rates(&self) -> Vec<f64> {
        let k = std::f64::consts::PI * self.spacing;
        (0..self.elements)
            .map(|i| k * centred_offset(self.elements, i))
            .collect()
    }

    /// Derivative `da/dtheta`, `j pi Delta (N-1-2i) cos theta a_i`.
    pub fn steering_derivative(&self, theta: f64) -> Col<c64> {
        self.steering_and_derivative(theta).1
    }

    /// `(a(theta), da/dtheta)` computed together.
    pub fn steering_and_derivative(&self, theta: f64) -> (Col<c64>, Col<c64>) {
        let (s, c) = theta.sin_cos();
        let k = std::f64::consts::PI * self.spacing;
        let n = self.elements;
        let a = Col::from_fn(n, |i| c64::cis(k * centred_offset(n, i) * s));
        let da = Col::from_fn(n, |i| a[i] * c64::new(0.0, k * centred_offset(n, i) * c));
        (a, da)
    }

    /// `||da/dtheta||^2 = (pi Delta cos theta)^2 sum_i (N-1-2i)^2` (docs/conventions.md, "Eqs. (21)-(24)").
    pub fn derivative_norm_sqr(&self, theta: f64) -> f64 {
        let n = self.elements;
        let offsets: f64 = (0..n).map(|i| centred_offset(n, i).powi(2)).sum();
        (std::f64::consts::PI * self.spacing * theta.cos()).powi(2) * offsets
    }
}

/// Uniform planar array of `rows x cols` elements (x then y), centred, common spacing.
///
/// Paper 003 (docs/conventions.md): `a(theta, phi) = a_x kron a_y`, index `mx * My + my`, with direction
/// cosines `u_x = cos(phi) sin(theta)` and `u_y = sin(phi)` (theta azimuth, phi elevation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Upa {
    rows: usize,
    cols: usize,
    spacing: f64,
}

/// Steering vector of a [`Upa`] and its partial derivatives in both angles.
#[derive(Debug, Clone)]
pub struct UpaSteering {
    /// `a(theta, phi)`.
    pub a: Col<c64>,
    /// `da/dtheta` (azimuth).
    pub d_theta: Col<c64>,
    /// `da/dphi` (elevation).
    pub d_phi: Col<c64>,
}

impl Upa {
    /// A UPA with `rows` elements along x and `cols` along y.
    pub fn new(rows: usize, cols: usize, spacing_wavelengths: f64) -> Result<Self, ChannelError> {
        check_array("upa.rows", rows, spacing_wavelengths)?;
        check_array("upa.cols", cols, spacing_wavelengths)?;
        check_array("upa", rows * cols, spacing_wavelengths)?;
        Ok(Self {
            rows,
            cols,
            spacing: spacing_wavelengths,
        })
    }

    /// Total number of elements `rows * cols`.
    pub fn elements(&self) -> usize {
        self.rows * self.cols
    }

    /// `[rows, cols]` (Mx, My).
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// Element spacing in wavelengths.
    pub fn spacing(&self) -> f64 {
        self.spacing
    }

    /// `a(theta, phi)` with its partial derivatives, all analytic.
    pub fn steering(&self, theta: f64, phi: f64) -> UpaSteering {
        let (st, ct) = theta.sin_cos();
        let (sp, cp) = phi.sin_cos();
        let ux = cp * st;
        let uy = sp;
        // Partial derivatives of the direction cosines.
        let (dux_dt, dux_dp) = (cp * ct, -sp * st);
        let duy_dp = cp;
        let k = std::f64::consts::PI * self.spacing;
        let (mx, my) = (self.rows, self.cols);
        let n = self.elements();
        let offsets = |idx: usize| (centred_offset(mx, idx / my), centred_offset(my, idx % my));
        let a = Col::from_fn(n, |idx| {
            let (ox, oy) = offsets(idx);
            c64::cis(k * (ox * ux + oy * uy))
        });
        let d_theta = Col::from_fn(n, |idx| {
            let (ox, _) = offsets(idx);
            a[idx] * c64::new(0.0, k * ox * dux_dt)
        });
        let d_phi = Col::from_fn(n, |idx| {
            let (ox, oy) = offsets(idx);
            a[idx] * c64::new(0.0, k * (ox * dux_dp + oy * duy_dp))
        });
        UpaSteering { a, d_theta, d_phi }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn max_diff(x: &Col<c64>, y: &Col<c64>) -> f64 {
        (0..x.nrows())
            .map(|i| (x[i] - y[i]).norm())
            .fold(0.0, f64::max)
    }

    /// Central finite difference of a vector-valued function.
    fn central_difference(f: impl Fn(f64) -> Col<c64>, x: f64, h: f64) -> Col<c64> {
        let (p, m) = (f(x + h), f(x - h));
        Col::from_fn(p.nrows(), |i| (p[i] - m[i]) / (2.0 * h))
    }

    #[test]
    fn ula_matches_printed_definition() {
        // a^H(theta) = [e^{-j pi D (N-1) sin th}, e^{-j pi D (N-3) sin th}, ..., e^{j pi D (N-1) sin th}].
        let ula = Ula::new(4, 0.5).unwrap();
        let th = 0.3_f64;
        let a = ula.steering(th);
        let expected =
            [3.0, 1.0, -1.0, -3.0].map(|o| c64::cis(std::f64::consts::PI * 0.5 * o * th.sin()));
        for i in 0..4 {
            assert!((a[i] - expected[i]).norm() < 1e-15);
        }
    }

    #[test]
    fn phase_rates_give_the_steering_vector() {
        let ula = Ula::new(5, 0.37).unwrap();
        let th = -0.8_f64;
        let a = ula.steering(th);
        let from_rates = Col::from_fn(5, |i| c64::cis(ula.phase_rates()[i] * th.sin()));
        assert!(max_diff(&a, &from_rates) < 1e-14);
    }

    #[test]
    fn ula_centred_phase_reference() {
        let ula = Ula::new(10, 0.5).unwrap();
        let (a, da) = ula.steering_and_derivative(0.7);
        let inner: c64 = (0..10).map(|i| a[i].conj() * da[i]).sum();
        assert!(inner.norm() < 1e-12);
    }

    #[test]
    fn bad_arrays_are_rejected() {
        assert!(Ula::new(0, 0.5).is_err());
        assert!(Ula::new(4, 0.0).is_err());
        assert!(Ula::new(4, f64::NAN).is_err());
        assert!(Upa::new(4, 0, 0.5).is_err());
    }

    proptest! {
        #[test]
        fn ula_derivative_matches_finite_difference(n in 1usize..16, d in 0.1f64..1.0, th in -1.5f64..1.5) {
            let ula = Ula::new(n, d).unwrap();
            let fd = central_difference(|t| ula.steering(t), th, 1e-6);
            prop_assert!(max_diff(&fd, &ula.steering_derivative(th)) < 1e-7 * n as f64);
            let norm2: f64 = (0..n).map(|i| ula.steering_derivative(th)[i].norm_sqr()).sum();
            prop_assert!((norm2 - ula.derivative_norm_sqr(th)).abs() <= 1e-10 * (1.0 + norm2));
        }

        #[test]
        fn upa_derivatives_match_finite_difference(
            rows in 1usize..6, cols in 1usize..6, d in 0.1f64..1.0,
            th in -1.5f64..1.5, ph in -1.5f64..1.5,
        ) {
            let upa = Upa::new(rows, cols, d).unwrap();
            let s = upa.steering(th, ph);
            let fd_t = central_difference(|t| upa.steering(t, ph).a, th, 1e-6);
            let fd_p = central_difference(|p| upa.steering(th, p).a, ph, 1e-6);
            prop_assert!(max_diff(&fd_t, &s.d_theta) < 1e-7 * (rows * cols) as f64);
            prop_assert!(max_diff(&fd_p, &s.d_phi) < 1e-7 * (rows * cols) as f64);
        }

        #[test]
        fn upa_is_kronecker_of_two_ulas(rows in 1usize..6, cols in 1usize..6, th in -1.5f64..1.5, ph in -1.5f64..1.5) {
            // a_x(u_x) kron a_y(u_y) with each factor a centred ULA at sin(angle) = u.
            let upa = Upa::new(rows, cols, 0.5).unwrap();
            let ax = Ula::new(rows, 0.5).unwrap().steering((ph.cos() * th.sin()).asin());
            let ay = Ula::new(cols, 0.5).unwrap().steering(ph);
            let a = upa.steering(th, ph).a;
            for mx in 0..rows {
                for my in 0..cols {
                    prop_assert!((a[mx * cols + my] - ax[mx] * ay[my]).norm() < 1e-12);
                }
            }
        }
    }
}
