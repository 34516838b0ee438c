//! A figure's samples (one per run, or one per process for start-to-exit times) and their
//! median and range, the only summary the report shows.

/// The samples of one measured figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Samples(pub Vec<f64>);

impl Samples {
    pub(crate) fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    pub(crate) fn min(&self) -> f64 {
        self.0.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub(crate) fn max(&self) -> f64 {
        self.0.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// A number with three significant digits at most, thousands grouped: `15,234`, `1.52`,
/// `0.0153`.
pub(crate) fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        let rounded = value.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if rounded < 0 { format!("-{grouped}") } else { grouped }
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else if magnitude == 0.0 {
        "0".to_owned()
    } else {
        let decimals = (2.0 - magnitude.log10().floor()) as usize;
        format!("{value:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Samples(vec![3.0, 1.0, 2.0]).median(), 2.0);
        assert_eq!(Samples(vec![4.0, 1.0, 2.0, 3.0]).median(), 2.5);
        assert!(Samples(vec![]).median().is_nan());
    }

    #[test]
    fn range_of_samples() {
        let samples = Samples(vec![5.0, -1.0, 7.5]);
        assert_eq!((samples.min(), samples.max()), (-1.0, 7.5));
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(format_number(15_234.4), "15,234");
        assert_eq!(format_number(1_234_567.0), "1,234,567");
        assert_eq!(format_number(123.4), "123");
        assert_eq!(format_number(12.345), "12.3");
        assert_eq!(format_number(1.5234), "1.52");
        assert_eq!(format_number(0.015_34), "0.0153");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(f64::NAN), "n/a");
    }
}
