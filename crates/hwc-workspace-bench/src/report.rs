//! The table: each figure of ours beside its baseline, the speed-up (always oriented so that
//! above 1 means ours is better), the target the project set, and whether it is met.

use crate::stats::{Samples, format_number};

/// Which way is better for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Better {
    /// A rate (calls/s, signatures/s).
    Higher,
    /// A time or a size.
    Lower,
}

/// A goal for a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Target {
    /// The speed-up over the baseline must be at least this.
    SpeedUpAtLeast(f64),
    /// Our own figure, in the row's unit, must be at most this.
    OursAtMost(f64),
    /// Our cost (a lower-is-better figure) must be at most this many times the baseline's.
    CostAtMost(f64),
}

/// One measured thing and its samples.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    pub name: String,
    pub samples: Samples,
}

impl Measured {
    pub(crate) fn new(name: &str, samples: Samples) -> Self {
        Self { name: name.to_owned(), samples }
    }

    /// `name: median (min-max)`.
    fn describe(&self) -> String {
        let s = &self.samples;
        format!("{}: {} ({}-{})", self.name, format_number(s.median()), format_number(s.min()), format_number(s.max()))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// What is measured, with its unit, e.g. "sequential calls/s, 1 keep-alive connection".
    pub figure: String,
    pub better: Better,
    pub ours: Measured,
    pub baseline: Option<Measured>,
    pub target: Option<Target>,
}

impl Row {
    /// How many times better ours is than the baseline, from the medians.
    pub(crate) fn speed_up(&self) -> Option<f64> {
        let baseline = self.baseline.as_ref()?.samples.median();
        let ours = self.ours.samples.median();
        let ratio = match self.better {
            Better::Higher => ours / baseline,
            Better::Lower => baseline / ours,
        };
        ratio.is_finite().then_some(ratio)
    }

    pub(crate) fn met(&self) -> Option<bool> {
        match self.target? {
            Target::SpeedUpAtLeast(goal) => self.speed_up().map(|s| s >= goal),
            Target::OursAtMost(limit) => Some(self.ours.samples.median() <= limit),
            Target::CostAtMost(times) => {
                let baseline = self.baseline.as_ref()?.samples.median();
                let ratio = self.ours.samples.median() / baseline;
                ratio.is_finite().then_some(ratio <= times)
            }
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Some(Target::SpeedUpAtLeast(goal)) => format!(">= {goal}x"),
            Some(Target::OursAtMost(limit)) => format!("ours <= {}", format_number(limit)),
            Some(Target::CostAtMost(times)) => format!("ours <= {times}x baseline"),
            None => String::new(),
        }
    }

    fn cells(&self) -> [String; 6] {
        [
            self.figure.clone(),
            self.ours.describe(),
            self.baseline.as_ref().map(Measured::describe).unwrap_or_default(),
            self.speed_up().map(|s| format!("{s:.2}x")).unwrap_or_default(),
            self.target_text(),
            match self.met() {
                Some(true) => "met".to_owned(),
                Some(false) => "NOT MET".to_owned(),
                None => String::new(),
            },
        ]
    }
}

const HEADER: [&str; 6] =
    ["figure", "ours: median (min-max)", "baseline: median (min-max)", "speed-up", "target", "met"];

/// Aligned columns for a terminal.
pub(crate) fn text_table(rows: &[Row]) -> String {
    let cells: Vec<[String; 6]> = rows.iter().map(Row::cells).collect();
    let widths: Vec<usize> = (0..6)
        .map(|i| cells.iter().map(|c| c[i].chars().count()).chain([HEADER[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join(" | ").trim_end().to_owned()
    };
    let mut out = line(&HEADER.map(str::to_owned));
    out.push('\n');
    out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"));
    for row in &cells {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// A Markdown table.
pub(crate) fn markdown_table(rows: &[Row]) -> String {
    let line = |cells: &[String]| {
        format!("| {} |", cells.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | "))
    };
    let mut out = line(&HEADER.map(str::to_owned));
    out.push_str("\n|---|---|---|---:|---|---|");
    for row in rows {
        out.push('\n');
        out.push_str(&line(&row.cells()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(better: Better, ours: Vec<f64>, baseline: Vec<f64>, target: Option<Target>) -> Row {
        Row {
            figure: "calls/s".to_owned(),
            better,
            ours: Measured::new("ours", Samples(ours)),
            baseline: Some(Measured::new("theirs", Samples(baseline))),
            target,
        }
    }

    #[test]
    fn speed_up_is_oriented_so_that_above_one_is_better() {
        let rate = row(Better::Higher, vec![900.0], vec![1000.0], Some(Target::SpeedUpAtLeast(0.9)));
        assert!((rate.speed_up().unwrap() - 0.9).abs() < 1e-9);
        assert_eq!(rate.met(), Some(true));
        let time = row(Better::Lower, vec![4.0, 5.0, 6.0], vec![10.0], Some(Target::SpeedUpAtLeast(1.0)));
        assert_eq!(time.speed_up(), Some(2.0));
        assert_eq!(time.met(), Some(true));
        let slow = row(Better::Lower, vec![12.0], vec![10.0], Some(Target::SpeedUpAtLeast(1.0)));
        assert_eq!(slow.met(), Some(false));
    }

    #[test]
    fn a_cost_target_judges_the_ratio_of_medians() {
        let instructions = row(Better::Lower, vec![120.0, 125.0, 200.0], vec![100.0], Some(Target::CostAtMost(1.3)));
        assert_eq!(instructions.met(), Some(true));
        assert!((instructions.speed_up().unwrap() - 0.8).abs() < 1e-9);
        let costly = row(Better::Lower, vec![140.0], vec![100.0], Some(Target::CostAtMost(1.3)));
        assert_eq!(costly.met(), Some(false));
        assert!(text_table(&[costly]).contains("ours <= 1.3x baseline"));
    }

    #[test]
    fn an_absolute_target_judges_our_median() {
        let import = row(Better::Lower, vec![1.0, 2.5, 3.0], vec![900.0], Some(Target::OursAtMost(2.0)));
        assert_eq!(import.met(), Some(false));
        let without = Row { target: None, ..import };
        assert_eq!(without.met(), None);
    }

    #[test]
    fn tables_show_medians_ranges_and_verdicts() {
        let rows = [row(Better::Higher, vec![1.0, 3.0, 2.0], vec![4.0], Some(Target::SpeedUpAtLeast(0.9)))];
        let text = text_table(&rows);
        assert!(text.contains("ours: 2.00 (1.00-3.00)"), "{text}");
        assert!(text.contains("0.50x") && text.contains("NOT MET") && text.contains(">= 0.9x"), "{text}");
        let markdown = markdown_table(&rows);
        assert_eq!(markdown.lines().count(), 3);
        assert!(markdown.lines().all(|l| l.starts_with('|') && l.ends_with('|')), "{markdown}");
    }
}
