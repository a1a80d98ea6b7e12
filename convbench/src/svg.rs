//! `--svg`: GFLOP/s per layer per backend as grouped bars, the FMA peak as a line.

use std::path::Path;

use plotters::prelude::*;

use crate::time::Row;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

pub fn draw(rows: &[Row], peak: f64, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut layers: Vec<&str> = rows.iter().map(|r| r.layer.as_str()).collect();
    layers.dedup();
    let mut backends: Vec<&str> = Vec::new();
    for r in rows {
        if !backends.contains(&r.backend.as_str()) {
            backends.push(&r.backend);
        }
    }
    let top = rows.iter().map(|r| r.gflops).fold(peak, f64::max) * 1.1;
    let threads = rows.first().map_or(1, |r| r.threads);
    let isa = rows.first().map_or("", |r| r.isa.as_str());
    let root = SVGBackend::new(path, (1400, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("convkit GFLOP/s per layer ({isa}, {threads} thread{})", if threads == 1 { "" } else { "s" }), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(150)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..layers.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(layers.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 1e-6 && i < layers.len() { layers[i].to_string() } else { String::new() }
        })
        .x_label_style(("sans-serif", 12).into_font().transform(FontTransform::Rotate90))
        .y_desc("GFLOP/s")
        .draw()?;
    let width = 0.8 / backends.len().max(1) as f64;
    for (bi, b) in backends.iter().enumerate() {
        let color = COLORS[bi % COLORS.len()];
        let bars = rows.iter().filter(|r| r.backend == *b).filter_map(|r| {
            let li = layers.iter().position(|l| *l == r.layer)? as f64;
            let x0 = li + 0.1 + bi as f64 * width;
            Some(Rectangle::new([(x0, 0.0), (x0 + width * 0.95, r.gflops)], color.filled()))
        });
        chart.draw_series(bars)?.label(*b).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .draw_series(LineSeries::new(vec![(0.0, peak), (layers.len() as f64, peak)], BLACK.stroke_width(2)))?
        .label(format!("FMA peak {peak:.0} GFLOP/s"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
