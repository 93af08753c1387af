//! SVG figures with plotters: log-log panels of lines and points with error bars.

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
    /// Series, drawn in order with the palette's colours.
    pub series: Vec<Series>,
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

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() {
        (lo / 1.5, hi * 1.5)
    } else {
        (1e-3, 1.0)
    }
}

/// Draws panels side by side on log-log axes into an SVG file.
pub fn log_log_panels(path: &Path, panels: &[Panel]) -> Result<(), EvalError> {
    let err = |e: &dyn std::fmt::Display| EvalError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let tmp = crate::output::temporary_sibling(path);
    {
        let root = SVGBackend::new(&tmp, (560 * panels.len() as u32, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
            let xs = panel.series.iter().flat_map(|s| match &s.style {
                Style::Points(p) => p.iter().map(|q| q.0).collect::<Vec<_>>(),
                _ => s.points.iter().map(|q| q.0).collect(),
            });
            let ys = panel.series.iter().flat_map(|s| match &s.style {
                Style::Points(p) => p.iter().flat_map(|q| [q.2, q.3]).collect::<Vec<_>>(),
                _ => s.points.iter().map(|q| q.1).collect(),
            });
            let (x0, x1) = bounds(xs);
            let (y0, y1) = bounds(ys);
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(BLACK.mix(0.15))
                .x_desc(&panel.x_label)
                .y_desc(&panel.y_label)
                .x_label_formatter(&|x| format!("{x:.0e}"))
                .y_label_formatter(&|y| format!("{y:.0e}"))
                .draw()
                .map_err(|e| err(&e))?;
            for (i, s) in panel.series.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()].to_rgba();
                let legend = |c: RGBAColor| {
                    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                };
                match &s.style {
                    Style::Line => chart
                        .draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(2)))
                        .map_err(|e| err(&e))?
                        .label(&s.name)
                        .legend(legend(colour)),
                    Style::Dashed => chart
                        .draw_series(DashedLineSeries::new(
                            s.points.clone(),
                            6,
                            4,
                            colour.stroke_width(2),
                        ))
                        .map_err(|e| err(&e))?
                        .label(&s.name)
                        .legend(legend(colour)),
                    Style::Points(p) => chart
                        .draw_series(p.iter().map(|&(x, y, lo, hi)| {
                            ErrorBar::new_vertical(x, lo.max(y0), y, hi, colour.filled(), 6)
                        }))
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
    std::fs::rename(&tmp, path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}
