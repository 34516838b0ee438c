//! `report.svg`: one bar per compared figure, from 1x to its speed-up on a log scale (right
//! of the 1x line ours is better, left it is worse), green where the target is met, red where
//! it is not, blue where there is none; a black tick marks each target.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar of the chart.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub label: String,
    pub speed_up: f64,
    pub target: Option<f64>,
    pub met: Option<bool>,
}

const WIDTH: u32 = 1200;
const ROW_HEIGHT: u32 = 30;
const LABEL_WIDTH: u32 = 470;

/// The x range: every bar, target and the 1x line inside, with room for the value labels.
fn x_range(bars: &[Bar]) -> (f64, f64) {
    let values = bars.iter().flat_map(|b| [Some(b.speed_up), b.target]).flatten().chain([1.0]);
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (low / 1.6, high * 2.5)
}

pub(crate) fn draw(path: &Path, title: &str, bars: &[Bar]) -> Result<(), String> {
    let rows = bars.len().max(1);
    let height = 110 + ROW_HEIGHT * rows as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    let failed = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let (low, high) = x_range(bars);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .margin_left(LABEL_WIDTH)
        .x_label_area_size(40)
        .build_cartesian_2d((low..high).log_scale(), 0f64..rows as f64)
        .map_err(|e| failed(&e))?;
    let tick_label = |v: &f64| format!("{}x", crate::stats::format_number(*v));
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(12)
        .x_label_formatter(&tick_label)
        .x_desc("speed-up of ours over the baseline (log scale; above 1x ours is better)")
        .draw()
        .map_err(|e| failed(&e))?;

    // Row 0 at the top.
    let centre = |i: usize| rows as f64 - i as f64 - 0.5;
    let colour = |bar: &Bar| match bar.met {
        Some(true) => RGBColor(46, 160, 67),
        Some(false) => RGBColor(214, 39, 40),
        None => RGBColor(31, 119, 180),
    };
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            Rectangle::new([(1.0, centre(i) - 0.32), (bar.speed_up, centre(i) + 0.32)], colour(bar).filled())
        }))
        .map_err(|e| failed(&e))?;
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, bar)| {
            bar.target
                .map(|t| PathElement::new(vec![(t, centre(i) - 0.45), (t, centre(i) + 0.45)], BLACK.stroke_width(3)))
        }))
        .map_err(|e| failed(&e))?;
    chart
        .draw_series([PathElement::new(vec![(1.0, 0.0), (1.0, rows as f64)], BLACK.mix(0.6).stroke_width(1))])
        .map_err(|e| failed(&e))?;
    let value_style = TextStyle::from(("sans-serif", 13)).pos(Pos::new(HPos::Left, VPos::Center));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let x = bar.speed_up.max(1.0).max(bar.target.unwrap_or(0.0)) * 1.06;
            Text::new(format!("{:.2}x", bar.speed_up), (x, centre(i)), value_style.clone())
        }))
        .map_err(|e| failed(&e))?;

    // Row labels go left of the plotting area, so they are drawn on the whole canvas.
    let label_style = TextStyle::from(("sans-serif", 13)).pos(Pos::new(HPos::Right, VPos::Center));
    for (i, bar) in bars.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(low, centre(i)));
        root.draw(&Text::new(bar.label.clone(), (x - 10, y), label_style.clone())).map_err(|e| failed(&e))?;
    }
    let legend = "green: target met, red: target not met, blue: no target; black tick: the target";
    let legend_style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Bottom));
    root.draw(&Text::new(legend, (12, height as i32 - 8), legend_style)).map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_holds_every_bar_target_and_one() {
        let bars = [
            Bar { label: "a".into(), speed_up: 0.5, target: Some(0.9), met: Some(false) },
            Bar { label: "b".into(), speed_up: 40.0, target: None, met: None },
        ];
        let (low, high) = x_range(&bars);
        assert!(low < 0.5 && high > 40.0);
    }

    #[test]
    fn draws_an_svg_with_every_label() {
        let dir = std::env::temp_dir().join(format!("hwc-bench-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chart.svg");
        let bars = [
            Bar { label: "Rust sequential vs bare hyper".into(), speed_up: 0.87, target: Some(0.9), met: Some(false) },
            Bar { label: "import vs official".into(), speed_up: 82.0, target: None, met: None },
        ];
        draw(&path, "title", &bars).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        for text in ["Rust sequential vs bare hyper", "import vs official", "0.87x", "82.00x", "title", "target met"] {
            assert!(svg.contains(text), "{text} missing");
        }
    }
}
