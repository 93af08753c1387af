//! The sweep table of the paper-003 figures: series (each named by its key cells) by points of
//! one axis, mapped to held-out [`PointSummary`]s, with generic CSV, plot and Markdown output.
//! A figure states its cases and readings; running, indexing and writing live here.

use isac_learn::autoencoder::{Conditions, Scheme, TrainedAutoencoder};

use super::figures::series;
use super::{Evaluated, Lab, PointSummary, Variant};
use crate::EvalError;
use crate::experiments::table_head;
use crate::output::{Cell, Csv};
use crate::plot::{Series, Style};

/// A key cell of a series: written in its CSV key columns, matched by [`Sweep::find`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Key {
    /// A label (a scheme, a beam structure, a power model, Eve's model).
    Text(&'static str),
    /// A count (N).
    Int(u64),
    /// A parameter value (rho).
    Num(f64),
}

impl Key {
    fn cell(self) -> Cell<'static> {
        match self {
            Self::Text(s) => Cell::Text(s),
            Self::Int(n) => Cell::Int(n),
            Self::Num(x) => Cell::Num(x),
        }
    }
}

/// A CSV column of a point: its name and how a point gives its value.
#[derive(Clone, Copy)]
pub(super) struct Metric {
    /// The column's name.
    pub column: &'static str,
    /// The value of a point.
    pub value: fn(&PointSummary) -> f64,
}

/// `sum_secrecy_nats, sum_secrecy_nats_ci95`.
pub(super) const SUM_SECRECY: [Metric; 2] = [
    Metric {
        column: "sum_secrecy_nats",
        value: |p| p.sum_secrecy.0,
    },
    Metric {
        column: "sum_secrecy_nats_ci95",
        value: |p| p.sum_secrecy.1,
    },
];

/// `worst_user_secrecy_nats, worst_user_secrecy_nats_ci95`.
pub(super) const WORST_USER: [Metric; 2] = [
    Metric {
        column: "worst_user_secrecy_nats",
        value: |p| p.worst_user.0,
    },
    Metric {
        column: "worst_user_secrecy_nats_ci95",
        value: |p| p.worst_user.1,
    },
];

/// `crlb_binding_fraction`: the share of draws with an active CRLB constraint.
pub(super) const CRLB_BINDING: Metric = Metric {
    column: "crlb_binding_fraction",
    value: |p| p.crlb_binding,
};

/// One series of a sweep: a scheme on a variant, named by its keys.
pub(super) struct Case {
    /// `(column, value)`: what tells this series from the others.
    pub keys: Vec<(&'static str, Key)>,
    /// The legend and Markdown label.
    pub label: String,
    /// The evaluated scheme.
    pub scheme: Evaluated,
    /// The scenario variant it is trained and evaluated on.
    pub variant: Variant,
}

impl Case {
    /// The value of key `column` (`None` if the case has no such key).
    pub fn key(&self, column: &str) -> Option<Key> {
        self.keys.iter().find(|k| k.0 == column).map(|k| k.1)
    }

    /// The learned scheme of the case (`None` for a closed form).
    pub fn learned(&self) -> Option<Scheme> {
        match self.scheme {
            Evaluated::Learned(s) => Some(s),
            _ => None,
        }
    }
}

/// A case with its summaries along the axis and its trained model (learned schemes).
pub(super) struct Line {
    /// What was evaluated.
    pub case: Case,
    /// One summary per axis value.
    pub points: Vec<PointSummary>,
    /// The trained model of a learned scheme.
    pub model: Option<TrainedAutoencoder>,
}

impl Line {
    /// `pick` of the point at `x` on `axis` (`NaN` if `x` is not on it).
    pub fn at(&self, axis: &[f64], x: f64, pick: fn(&PointSummary) -> f64) -> f64 {
        axis.iter()
            .position(|&v| (v - x).abs() < 1e-9)
            .map_or(f64::NAN, |i| pick(&self.points[i]))
    }
}

/// Cases by axis values to point summaries.
pub(super) struct Sweep {
    /// The axis' CSV column.
    pub axis: &'static str,
    /// The axis values, in order.
    pub x: Vec<f64>,
    /// One line per case, in the cases' order.
    pub lines: Vec<Line>,
}

impl Sweep {
    /// Trains (or loads) the learned cases' models, then evaluates every case at
    /// `conditions` (one per axis value `x`) on the same held-out draws.
    pub fn run(
        lab: &Lab<'_>,
        axis: &'static str,
        x: Vec<f64>,
        conditions: &[Conditions],
        cases: Vec<Case>,
    ) -> Result<Self, EvalError> {
        let jobs: Vec<(Scheme, Variant)> = cases
            .iter()
            .filter_map(|c| c.learned().map(|s| (s, c.variant)))
            .collect();
        let mut models = lab.models(&jobs)?.into_iter();
        lab.progress()
            .start((cases.len() * conditions.len()) as u64, "evaluating");
        let lines = cases
            .into_iter()
            .map(|case| {
                let model = case.learned().and_then(|_| models.next());
                let points = lab.evaluate(case.scheme, model.as_ref(), case.variant, conditions)?;
                Ok(Line {
                    case,
                    points,
                    model,
                })
            })
            .collect::<Result<_, EvalError>>()?;
        Ok(Self { axis, x, lines })
    }

    /// The first line whose keys hold every `(column, value)` of `keys`.
    pub fn find(&self, keys: &[(&str, Key)]) -> Option<&Line> {
        self.lines
            .iter()
            .find(|l| keys.iter().all(|&(c, v)| l.case.key(c) == Some(v)))
    }

    /// The lines `keep` selects.
    pub fn lines<'s>(
        &'s self,
        keep: impl Fn(&Case) -> bool + 's,
    ) -> impl Iterator<Item = &'s Line> {
        self.lines.iter().filter(move |l| keep(&l.case))
    }

    /// One row per (kept line, axis value): the axis, the key `columns`, then `metrics`.
    pub fn csv(&self, columns: &[&str], metrics: &[Metric], keep: impl Fn(&Case) -> bool) -> Csv {
        let mut head = vec![self.axis];
        head.extend(columns);
        head.extend(metrics.iter().map(|m| m.column));
        let mut csv = Csv::new(&head);
        for line in self.lines(keep) {
            for (x, p) in self.x.iter().zip(&line.points) {
                let mut row = vec![Cell::Num(*x)];
                row.extend(
                    columns
                        .iter()
                        .map(|c| line.case.key(c).map_or(Cell::Text(""), Key::cell)),
                );
                row.extend(metrics.iter().map(|m| Cell::Num((m.value)(p))));
                csv.row(&row);
            }
        }
        csv
    }

    /// The kept lines as points with 95% CI bars of the sum secrecy (`worst`: worst-user).
    pub fn series(&self, worst: bool, keep: impl Fn(&Case) -> bool) -> Vec<Series> {
        self.lines(keep)
            .map(|l| series(l.case.label.clone(), &self.x, &l.points, worst))
            .collect()
    }

    /// The kept lines of `value` as solid lines (no CI).
    pub fn curves(
        &self,
        value: fn(&PointSummary) -> f64,
        keep: impl Fn(&Case) -> bool,
    ) -> Vec<Series> {
        self.lines(keep)
            .map(|l| Series {
                name: l.case.label.clone(),
                points: self
                    .x
                    .iter()
                    .zip(&l.points)
                    .map(|(&x, p)| (x, value(p)))
                    .collect(),
                style: Style::Line,
            })
            .collect()
    }

    /// `(label, points)` of the kept lines, for [`super::figures::binding_note`].
    pub fn sweeps(&self, keep: impl Fn(&Case) -> bool) -> Vec<(String, &[PointSummary])> {
        self.lines
            .iter()
            .filter(|l| keep(&l.case))
            .map(|l| (l.case.label.clone(), l.points.as_slice()))
            .collect()
    }
}

/// A Markdown column: its head and how a row gives its cell.
pub(super) struct Column<'f, R> {
    /// The head.
    pub head: String,
    /// The cell of a row.
    pub cell: Box<dyn Fn(&R) -> String + 'f>,
}

impl<'f, R> Column<'f, R> {
    /// A column `head` whose cells come from `cell`.
    pub fn new(head: impl Into<String>, cell: impl Fn(&R) -> String + 'f) -> Self {
        Self {
            head: head.into(),
            cell: Box::new(cell),
        }
    }
}

/// A Markdown table: one row per item of `rows`, one cell per column.
pub(super) fn markdown<R>(rows: impl IntoIterator<Item = R>, columns: &[Column<'_, R>]) -> String {
    let head: Vec<&str> = columns.iter().map(|c| c.head.as_str()).collect();
    let mut md = table_head(&head);
    for row in rows {
        let cells: Vec<String> = columns.iter().map(|c| (c.cell)(&row)).collect();
        md += &format!("| {} |\n", cells.join(" | "));
    }
    md
}

/// A value the paper reports for a series at an axis value (read from its text or figure).
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    /// The series: a scheme's name, or N.
    pub series: Key,
    /// The axis value it is read at.
    pub x: f64,
    /// The value (nats).
    pub value: f64,
}

/// The paper's value for `series` at `x`, if it reports one.
pub(super) fn reading(readings: &[Reading], series: Key, x: f64) -> Option<f64> {
    readings
        .iter()
        .find(|r| r.series == series && (r.x - x).abs() < 1e-9)
        .map(|r| r.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use isac_channel::scenario::friendly_jamming::EveModel;

    fn point(sum: f64) -> PointSummary {
        PointSummary {
            sum_secrecy: (sum, 0.5),
            worst_user: (sum / 2.0, 0.25),
            user_rate: 0.0,
            eve_leakage: 0.0,
            crlb_met: 1.0,
            crlb_binding: 0.125,
            target_jamming_gain: f64::NAN,
        }
    }

    fn sweep() -> Sweep {
        let line = |scheme: Evaluated, n: u64, first: f64| Line {
            case: Case {
                keys: vec![("scheme", Key::Text(scheme.name())), ("n", Key::Int(n))],
                label: format!("{} N = {n}", scheme.name()),
                scheme,
                variant: Variant::single_carrier(EveModel::Rayleigh),
            },
            points: vec![point(first), point(first + 1.0)],
            model: None,
        };
        Sweep {
            axis: "snr_db",
            x: vec![10.0, 20.0],
            lines: vec![
                line(Evaluated::ZfAn, 1, 1.0),
                line(Evaluated::MrtEqual, 1, 3.0),
                line(Evaluated::ZfAn, 16, 5.0),
            ],
        }
    }

    #[test]
    fn csv_rows_are_series_by_axis_with_key_then_metric_columns() {
        let s = sweep();
        let csv = s.csv(
            &["n", "scheme"],
            &[WORST_USER[0], WORST_USER[1], CRLB_BINDING],
            |c| c.scheme == Evaluated::ZfAn,
        );
        let rows: Vec<&str> = csv.as_str().lines().collect();
        assert_eq!(
            rows[0],
            "snr_db,n,scheme,worst_user_secrecy_nats,worst_user_secrecy_nats_ci95,crlb_binding_fraction"
        );
        // ZF_AN N = 1, then ZF_AN N = 16 (MRT_EQUAL left out), each along the axis.
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[1], "1e1,1,ZF_AN,5e-1,2.5e-1,1.25e-1");
        assert_eq!(rows[2], "2e1,1,ZF_AN,1e0,2.5e-1,1.25e-1");
        assert_eq!(rows[4], "2e1,16,ZF_AN,3e0,2.5e-1,1.25e-1");
    }

    #[test]
    fn lines_are_found_by_keys_and_read_at_axis_values() {
        let s = sweep();
        let hit = s
            .find(&[("n", Key::Int(16)), ("scheme", Key::Text("ZF_AN"))])
            .expect("the ZF_AN N = 16 line");
        assert_eq!(hit.case.label, "ZF_AN N = 16");
        assert_eq!(hit.at(&s.x, 20.0, |p| p.sum_secrecy.0), 6.0);
        assert!(hit.at(&s.x, 15.0, |p| p.sum_secrecy.0).is_nan());
        assert!(s.find(&[("scheme", Key::Text("OPT_Q"))]).is_none());
        assert!(s.find(&[("eve", Key::Text("rayleigh"))]).is_none());
        let series = s.series(true, |c| c.key("n") == Some(Key::Int(1)));
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].name, "MRT_EQUAL N = 1");
    }

    #[test]
    fn markdown_tables_have_one_cell_per_column_and_readings_match_series_and_x() {
        let md = markdown(
            [1, 2],
            &[
                Column::new("k", |r: &i32| r.to_string()),
                Column::new("twice", |r: &i32| (2 * r).to_string()),
            ],
        );
        assert_eq!(md, "| k | twice |\n|---|---|\n| 1 | 2 |\n| 2 | 4 |\n");
        let readings = [Reading {
            series: Key::Int(16),
            x: 25.0,
            value: 1.6,
        }];
        assert_eq!(reading(&readings, Key::Int(16), 25.0), Some(1.6));
        assert_eq!(reading(&readings, Key::Int(32), 25.0), None);
        assert_eq!(reading(&readings, Key::Int(16), 20.0), None);
    }
}
