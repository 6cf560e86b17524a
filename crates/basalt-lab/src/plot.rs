//! Line charts for lab reports, each written as SVG and PNG.

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The font every chart's text is drawn in (DejaVu Sans cut down to ASCII; see assets/).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// One line of a chart: its name and its points.
pub struct Series {
    /// The legend's name of the line.
    pub name: String,
    /// (x, y) points, drawn in x order.
    pub points: Vec<(f64, f64)>,
}

/// A chart: a title, axis labels, lines, and whether each axis is logarithmic.
pub struct Chart<'a> {
    /// Printed above the plot.
    pub title: &'a str,
    /// The x axis's label.
    pub x: &'a str,
    /// The y axis's label.
    pub y: &'a str,
    /// The lines.
    pub series: Vec<Series>,
    /// A logarithmic x axis.
    pub log_x: bool,
    /// A logarithmic y axis.
    pub log_y: bool,
}

static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        // The bytes are compiled in and known good; a failure would show as charts without text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

impl Chart<'_> {
    /// Writes `<stem>.svg` and `<stem>.png` in `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<()> {
        register_font();
        let size = (960, 600);
        let svg = dir.join(format!("{stem}.svg"));
        self.draw(&SVGBackend::new(&svg, size).into_drawing_area())?;
        let png = dir.join(format!("{stem}.png"));
        self.draw(&BitMapBackend::new(&png, size).into_drawing_area())?;
        Ok(())
    }

    fn draw<B: DrawingBackend>(&self, area: &DrawingArea<B, Shift>) -> Result<()> {
        let e = |e: DrawingAreaErrorKind<B::ErrorType>| anyhow!("drawing a chart: {e:?}");
        area.fill(&WHITE).map_err(e)?;
        let points = || self.series.iter().flat_map(|s| s.points.iter().copied());
        let positive = |v: f64, log: bool| !log || v > 0.0;
        let xs: Vec<f64> = points()
            .map(|p| p.0)
            .filter(|v| v.is_finite() && positive(*v, self.log_x))
            .collect();
        let ys: Vec<f64> = points()
            .map(|p| p.1)
            .filter(|v| v.is_finite() && positive(*v, self.log_y))
            .collect();
        // `room`: how far below the lowest value the axis starts (a logarithmic x axis leaves a
        // decade on the left for the legend).
        let range = |v: &[f64], log: bool, room: f64| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            match (lo.is_finite(), log) {
                (false, _) => (1.0, 10.0),
                (true, true) => (lo / room, hi * 1.5),
                (true, false) => (0.0f64.min(lo), if hi > 0.0 { hi * 1.1 } else { 1.0 }),
            }
        };
        let (x0, x1) = range(&xs, self.log_x, 12.0);
        let (y0, y1) = range(&ys, self.log_y, 1.5);
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(self.title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80);
        // The four combinations of axis kinds are four chart types.
        match (self.log_x, self.log_y) {
            (false, false) => self.lines(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?),
            (true, false) => self.lines(
                builder
                    .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                    .map_err(e)?,
            ),
            (false, true) => self.lines(
                builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(e)?,
            ),
            (true, true) => self.lines(
                builder
                    .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                    .map_err(e)?,
            ),
        }
        .map_err(e)?;
        area.present().map_err(e)?;
        Ok(())
    }

    fn lines<'a, DB: DrawingBackend + 'a, X, Y>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| number(*v))
            .y_label_formatter(&|v| number(*v))
            .light_line_style(RGBColor(238, 238, 238))
            .x_desc(self.x)
            .y_desc(self.y)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()?;
        for (i, s) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .filter(|(x, y)| (!self.log_x || *x > 0.0) && (!self.log_y || *y > 0.0))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    }
}

/// An axis label: whole numbers plainly, small ones with the digits they need.
fn number(v: f64) -> String {
    match v.abs() {
        0.0 => "0".into(),
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 1.0 => format!("{v:.1}").trim_end_matches(".0").into(),
        a if a >= 0.001 => format!("{v:.3}").trim_end_matches('0').into(),
        _ => format!("{v:.0e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_written_as_svg_with_its_text_and_as_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let chart = Chart {
            title: "validator CPU against throughput",
            x: "transactions per second",
            y: "CPU ms per second",
            series: vec![
                Series {
                    name: "L1 only".into(),
                    points: vec![(10.0, 1.0), (100.0, 10.0), (1000.0, 100.0)],
                },
                Series {
                    name: "rollup".into(),
                    points: vec![(10.0, 1.0), (100.0, 1.1), (1000.0, 1.5)],
                },
            ],
            log_x: true,
            log_y: true,
        };
        chart.write(dir.path(), "headline").unwrap();
        let svg = std::fs::read_to_string(dir.path().join("headline.svg")).unwrap();
        assert!(svg.contains("L1 only") && svg.contains("transactions per second"));
        let png = std::fs::read(dir.path().join("headline.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() > 5_000, "a PNG of {} bytes", png.len());
    }
}
