//! SVG figures with plotters: panels of lines and points with error bars, each axis linear or
//! logarithmic (log axes are drawn as log10 of the data with `1e-3`-style labels).

use std::path::Path;

use plotters::prelude::*;

use crate::EvalError;

/// How a series is drawn.
pub enum Style {
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// Points with vertical error bars `(x, y, y_low, y_high)`.
    Points(Vec<(f64, f64, f64, f64)>),
}

/// One named series of `(x, y)` points.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points (ignored for `Points`, which carries its own).
    pub points: Vec<(f64, f64)>,
    /// Drawing style.
    pub style: Style,
}

/// One panel of a figure.
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Series, drawn in order with the palette's colours.
    pub series: Vec<Series>,
}

/// `log10 x` on a log axis, `x` otherwise (non-positive values on a log axis become NaN and
/// are not drawn).
fn axis(x: f64, log: bool) -> f64 {
    if !log {
        x
    } else if x > 0.0 {
        x.log10()
    } else {
        f64::NAN
    }
}

/// Distinct colours that stay readable on white (Okabe-Ito).
const COLOURS: [RGBColor; 7] = [
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Range of the (axis-transformed) finite values, padded by 5% (0.18 decades on log axes).
fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if log {
        0.18
    } else {
        0.05 * (hi - lo).max(1e-12 * hi.abs().max(1.0))
    };
    (lo - pad, hi + pad)
}

fn label(v: f64, log: bool) -> String {
    if log {
        format!("{:.0e}", 10f64.powf(v))
    } else if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
        format!("{v:.2e}")
    } else {
        let text = format!("{v:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draws panels side by side into an SVG file.
pub fn draw_panels(path: &Path, panels: &[Panel]) -> Result<(), EvalError> {
    let err = |e: &dyn std::fmt::Display| EvalError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (560 * panels.len() as u32, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
            let (xl, yl) = (panel.x_log, panel.y_log);
            let xs = panel.series.iter().flat_map(|s| match &s.style {
                Style::Points(p) => p.iter().map(|q| axis(q.0, xl)).collect::<Vec<_>>(),
                _ => s.points.iter().map(|q| axis(q.0, xl)).collect(),
            });
            let ys = panel.series.iter().flat_map(|s| match &s.style {
                Style::Points(p) => p
                    .iter()
                    .flat_map(|q| [axis(q.2, yl), axis(q.3, yl)])
                    .collect::<Vec<_>>(),
                _ => s.points.iter().map(|q| axis(q.1, yl)).collect(),
            });
            let (x0, x1) = bounds(xs, xl);
            let (y0, y1) = bounds(ys, yl);
            let line = |s: &Series| -> Vec<(f64, f64)> {
                s.points
                    .iter()
                    .map(|&(x, y)| (axis(x, xl), axis(y, yl)))
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect()
            };
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(BLACK.mix(0.15))
                .x_desc(&panel.x_label)
                .y_desc(&panel.y_label)
                .x_label_formatter(&|x| label(*x, xl))
                .y_label_formatter(&|y| label(*y, yl))
                .draw()
                .map_err(|e| err(&e))?;
            for (i, s) in panel.series.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()].to_rgba();
                let legend = |c: RGBAColor| {
                    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                };
                match &s.style {
                    Style::Line => chart
                        .draw_series(LineSeries::new(line(s), colour.stroke_width(2)))
                        .map_err(|e| err(&e))?
                        .label(&s.name)
                        .legend(legend(colour)),
                    Style::Dashed => chart
                        .draw_series(DashedLineSeries::new(line(s), 6, 4, colour.stroke_width(2)))
                        .map_err(|e| err(&e))?
                        .label(&s.name)
                        .legend(legend(colour)),
                    Style::Points(p) => chart
                        .draw_series(
                            p.iter()
                                .map(|&(x, y, lo, hi)| {
                                    (axis(x, xl), axis(y, yl), axis(lo, yl), axis(hi, yl))
                                })
                                .filter(|q| q.0.is_finite() && q.1.is_finite())
                                .map(|(x, y, lo, hi)| {
                                    let lo = if lo.is_finite() { lo.max(y0) } else { y0 };
                                    ErrorBar::new_vertical(x, lo, y, hi, colour.filled(), 6)
                                }),
                        )
                        .map_err(|e| err(&e))?
                        .label(&s.name)
                        .legend(move |(x, y)| Circle::new((x + 9, y), 3, colour.filled())),
                };
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    crate::output::write_atomic(path, svg.as_bytes())
}
