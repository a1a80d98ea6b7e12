//! Several feature detectors applied to one picture: a blur and three edge detectors, each
//! giving its own feature map (one convolution layer with four output channels), written as
//! PNG files.
//!
//! ```text
//! cargo run --release --example edges                   # draws its own picture
//! cargo run --release --example edges -- photo.png out/ # any PNG, output directory
//! ```

use std::path::{Path, PathBuf};

use convkit::{ConvProblem, SamePadding};

/// A 256x256 grayscale scene: a gradient sky, a sun, a house with a door and a window.
fn draw_picture() -> (usize, usize, Vec<f32>) {
    let (h, w) = (256usize, 256usize);
    let mut px = vec![0.0f32; h * w];
    for y in 0..h {
        for x in 0..w {
            let mut v = 0.25 + 0.35 * y as f32 / h as f32;
            let (dx, dy) = (x as f32 - 190.0, y as f32 - 60.0);
            if dx * dx + dy * dy < 28.0 * 28.0 {
                v = 0.95;
            }
            if (50..170).contains(&x) && (120..230).contains(&y) {
                v = 0.6;
            }
            if (95..125).contains(&x) && (170..230).contains(&y) {
                v = 0.15;
            }
            if (135..160).contains(&x) && (140..165).contains(&y) {
                v = 0.85;
            }
            let roof = 120.0 - (y as f32);
            if roof > 0.0 && (x as f32 - 110.0).abs() < 70.0 - 1.2 * roof {
                v = 0.4;
            }
            px[y * w + x] = v;
        }
    }
    (h, w, px)
}

fn load_png(path: &Path) -> Result<(usize, usize, Vec<f32>), Box<dyn std::error::Error>> {
    let img = image::open(path)?.to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Ok((h, w, img.pixels().map(|p| p.0[0] as f32 / 255.0).collect()))
}

fn save_png(path: &Path, h: usize, w: usize, values: &[f32]) -> Result<(), Box<dyn std::error::Error>> {
    let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    let bytes: Vec<u8> = values.iter().map(|v| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8).collect();
    image::GrayImage::from_raw(w as u32, h as u32, bytes).ok_or("bad image size")?.save(path)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (h, w, pixels) = match args.first() {
        Some(path) => load_png(Path::new(path))?,
        None => draw_picture(),
    };
    let out_dir = PathBuf::from(args.get(1).cloned().unwrap_or_else(|| "target/feature_maps".into()));
    std::fs::create_dir_all(&out_dir)?;

    // Four 5x5 feature detectors: a Gaussian blur, horizontal and vertical Sobel edges (embedded
    // in 5x5), and a Laplacian of Gaussian (edges in every direction).
    let gauss = [1.0f32, 4.0, 6.0, 4.0, 1.0];
    let blur: Vec<f32> = (0..25).map(|i| gauss[i / 5] * gauss[i % 5] / 256.0).collect();
    let mut sobel_x = vec![0.0f32; 25];
    let mut sobel_y = vec![0.0f32; 25];
    for (r, row) in [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]].iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sobel_x[(r + 1) * 5 + c + 1] = *v;
            sobel_y[(c + 1) * 5 + r + 1] = *v;
        }
    }
    #[rustfmt::skip]
    let log = vec![
        0., 0., -1., 0., 0.,
        0., -1., -2., -1., 0.,
        -1., -2., 16., -2., -1.,
        0., -1., -2., -1., 0.,
        0., 0., -1., 0., 0.,
    ];
    let names = ["blur", "edges_vertical", "edges_horizontal", "edges_all"];
    let weights: Vec<f32> = [blur, sobel_x, sobel_y, log].concat();

    // One layer: 1 input channel, 4 feature maps, "same" padding so each map keeps the size.
    let problem = ConvProblem::new(1, 1, h, w, 4, 5, 5).with_same_padding(SamePadding::Upper)?;
    let plan = convkit::backend("auto")?.plan(&problem, &weights, None)?;
    let maps = plan.run_alloc(&pixels)?;
    println!("{}x{} picture, {} feature maps by {}", w, h, names.len(), plan.kernel());
    save_png(&out_dir.join("input.png"), h, w, &pixels)?;
    for (name, map) in names.iter().zip(maps.chunks(h * w)) {
        let path = out_dir.join(format!("{name}.png"));
        save_png(&path, h, w, map)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
