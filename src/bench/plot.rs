//! SVG charts of a benchmark report: for each operation, throughput (left axis) and p99
//! latency (right axis) against the number of workers.
//!
//! plotters is built with its SVG backend only and without its `ttf` feature. Text is then
//! written as SVG `<text>` elements that the viewer renders with its own fonts, so no system
//! font or fontconfig is needed. Label widths are estimated from the character count.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::report::{BenchReport, OperationReport};

/// Size of one operation's chart in pixels; the charts are stacked vertically.
const CHART_WIDTH: u32 = 900;
const CHART_HEIGHT: u32 = 340;

const THROUGHPUT_COLOR: RGBColor = RGBColor(31, 119, 180);
const LATENCY_COLOR: RGBColor = RGBColor(214, 39, 40);

#[derive(Debug, thiserror::Error)]
#[error("writing the plot {path} failed: {message}")]
pub struct PlotError {
    path: String,
    message: String,
}

/// Writes one chart per operation of `report` to the SVG file at `path`. The x axis places
/// the concurrency levels at equal distances, whatever their values.
pub fn write_svg(path: &Path, report: &BenchReport) -> Result<(), PlotError> {
    let error = |message: String| PlotError { path: path.display().to_string(), message };
    let operations: Vec<&OperationReport> =
        report.operations.iter().filter(|operation| !operation.levels.is_empty()).collect();
    let rows = u32::try_from(operations.len().max(1)).unwrap_or(u32::MAX);

    let root = SVGBackend::new(path, (CHART_WIDTH, CHART_HEIGHT * rows)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(e.to_string()))?;
    if operations.is_empty() {
        root.draw(&Text::new("no level was measured", (20, 20), ("sans-serif", 18)))
            .map_err(|e| error(e.to_string()))?;
    }
    for (area, operation) in root.split_evenly((operations.len().max(1), 1)).iter().zip(&operations) {
        draw_operation(area, operation, report).map_err(error)?;
    }
    root.present().map_err(|e| error(e.to_string()))
}

fn draw_operation<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    operation: &OperationReport,
    report: &BenchReport,
) -> Result<(), String> {
    let levels = &operation.levels;
    let last_index = u32::try_from(levels.len() - 1).map_err(|e| e.to_string())?;
    let throughput: Vec<(u32, f64)> =
        levels.iter().enumerate().map(|(index, level)| (index as u32, level.ops_per_second)).collect();
    let p99: Vec<(u32, f64)> = levels
        .iter()
        .enumerate()
        .filter_map(|(index, level)| level.latency_ms.map(|latency| (index as u32, latency.p99)))
        .collect();
    let top = |points: &[(u32, f64)]| {
        let max = points.iter().map(|(_, value)| *value).fold(0.0, f64::max);
        // The headroom keeps the top points clear of the legend in the upper left corner.
        if max > 0.0 { max * 1.35 } else { 1.0 }
    };

    let caption = format!(
        "{}: throughput and p99 latency ({} s per level, run {})",
        operation.operation.name(),
        report.settings.duration,
        report.run_id
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d((0..last_index).into_segmented(), 0.0..top(&throughput))
        .map_err(|e| e.to_string())?
        .set_secondary_coord((0..last_index).into_segmented(), 0.0..top(&p99));

    let level_label = |value: &SegmentValue<u32>| match value {
        SegmentValue::Exact(index) | SegmentValue::CenterOf(index) => {
            levels.get(*index as usize).map(|level| level.concurrency.to_string()).unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(1)
        .x_labels(levels.len())
        .x_label_formatter(&level_label)
        .x_desc("workers")
        .y_desc("operations per second")
        .y_label_formatter(&|value| format!("{value:.0}"))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .configure_secondary_axes()
        .y_desc("p99 latency (ms)")
        .y_label_formatter(&|value| format!("{value:.1}"))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())?;

    let centered = |points: &[(u32, f64)]| -> Vec<(SegmentValue<u32>, f64)> {
        points.iter().map(|&(index, value)| (SegmentValue::CenterOf(index), value)).collect()
    };
    chart
        .draw_series(LineSeries::new(centered(&throughput), THROUGHPUT_COLOR.stroke_width(2)).point_size(4))
        .map_err(|e| e.to_string())?
        .label("throughput (ops/s, left axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], THROUGHPUT_COLOR.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(centered(&p99), LATENCY_COLOR.stroke_width(2)).point_size(4))
        .map_err(|e| e.to_string())?
        .label("p99 latency (ms, right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], LATENCY_COLOR.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Operation;
    use crate::bench::report::{EngineInfo, HostInfo, LevelReport, Settings};
    use crate::bench::stats::LatencySummary;

    fn level(concurrency: u32, ops_per_second: f64, p99: Option<f64>) -> LevelReport {
        LevelReport {
            concurrency,
            operations: 10,
            errors: 0,
            warmup_errors: 0,
            ops_per_second,
            latency_ms: p99.map(|p99| LatencySummary { p50: p99 / 2.0, p95: p99, p99, mean: p99 / 2.0, max: p99 }),
            phases_ms: None,
            checks_per_second: None,
            exec_calls_per_second: None,
            cpu: None,
            error_messages: Vec::new(),
        }
    }

    fn report(operations: Vec<OperationReport>) -> BenchReport {
        BenchReport {
            run_id: "feedf00d".to_owned(),
            engine: EngineInfo {
                host: "unix:///var/run/docker.sock".to_owned(),
                server_version: None,
                api_version: None,
            },
            settings: Settings {
                operations: operations.iter().map(|operation| operation.operation).collect(),
                concurrency: vec![1, 2, 4],
                duration: 1.0,
                warmup: 0.0,
                think: 0.0,
                image: None,
                containers: Vec::new(),
                spec: None,
                transport: "pooled",
            },
            host: HostInfo { cpus: None, clock_ticks_per_second: None, cpu_measured: false, note: None },
            cancelled: false,
            operations,
        }
    }

    #[test]
    fn svg_has_a_chart_per_operation_with_text() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("plot.svg");
        let operations = vec![
            OperationReport::new(
                Operation::Exec,
                vec![level(1, 50.0, Some(30.0)), level(2, 80.0, Some(45.0)), level(4, 0.0, None)],
            ),
            OperationReport::new(Operation::Ping, vec![level(1, 900.0, Some(2.0))]),
        ];
        write_svg(&path, &report(operations)).unwrap();

        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        let texts = text_contents(&svg);
        let has = |text: &str| texts.iter().any(|content| content == text);
        assert!(has("exec: throughput and p99 latency (1 s per level, run feedf00d)"), "{texts:?}");
        assert!(has("ping: throughput and p99 latency (1 s per level, run feedf00d)"), "{texts:?}");
        assert!(has("workers"), "{texts:?}");
        assert!(has("p99 latency (ms)"), "{texts:?}");
        assert!(has("throughput (ops/s, left axis)"), "{texts:?}");
        for level in ["1", "2", "4"] {
            assert!(has(level), "no x label {level}: {texts:?}");
        }
    }

    /// Collects the contents of all `<text>` elements, trimmed.
    fn text_contents(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|element| {
                let (_, rest) = element.split_once('>')?;
                let (content, _) = rest.split_once("</text>")?;
                Some(content.trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn svg_without_levels() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("empty.svg");
        write_svg(&path, &report(Vec::new())).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(text_contents(&svg).contains(&"no level was measured".to_owned()), "{svg}");
    }

    #[test]
    fn svg_into_missing_directory_fails() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing/plot.svg");
        let error = write_svg(&path, &report(Vec::new())).unwrap_err();
        assert!(error.to_string().contains("missing/plot.svg"), "{error}");
    }
}
