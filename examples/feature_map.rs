//! The convolution operation on the classic small example: a 7x7 binary image, a 3x3
//! feature detector, the 5x5 feature map, then ReLU.
//!
//! ```text
//! cargo run --example feature_map
//! ```

use convkit::{Activation, ConvProblem};

fn grid(title: &str, values: &[f32], width: usize) {
    println!("{title}");
    for row in values.chunks(width) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>3}")).collect();
        println!("  {}", cells.join(" "));
    }
    println!();
}

fn main() -> Result<(), convkit::ConvError> {
    // A 7x7 binary image: a diagonal stroke and a small corner shape.
    #[rustfmt::skip]
    let image: [f32; 49] = [
        0., 0., 0., 0., 0., 0., 0.,
        0., 1., 0., 0., 0., 1., 0.,
        0., 0., 1., 0., 0., 1., 0.,
        0., 0., 0., 1., 0., 0., 0.,
        0., 1., 0., 0., 1., 0., 0.,
        0., 1., 1., 0., 0., 1., 0.,
        0., 0., 0., 0., 0., 0., 1.,
    ];
    // A 3x3 feature detector that looks for a down-right diagonal (+1 on the diagonal) and
    // dislikes anything beside it (-1).
    #[rustfmt::skip]
    let detector: [f32; 9] = [
         1., -1.,  0.,
        -1.,  1., -1.,
         0., -1.,  1.,
    ];
    grid("Input image (7x7): 1 = ink, 0 = background.", &image, 7);
    grid("Feature detector (3x3): it is slid over the image; at each position the 9 products are summed.", &detector, 3);

    // One image, one channel, one feature detector; no padding, stride 1.
    let problem = ConvProblem::new(1, 1, 7, 7, 1, 3, 3);
    let map = convkit::conv2d(&problem, &image, &detector, None)?;
    let (oh, ow) = problem.output_size()?;
    grid(
        &format!(
            "Feature map ({oh}x{ow}): smaller than the image, since a 3x3 detector fits only 7 - 3 + 1 = 5 times across. The 3s mark where the whole diagonal matches."
        ),
        &map,
        ow,
    );

    // The same layer with ReLU fused: negative responses (\"definitely not this feature\") become 0.
    let relu = problem.with_activation(Activation::Relu);
    let rectified = convkit::conv2d(&relu, &image, &detector, None)?;
    grid("After ReLU, max(0, x): only the evidence for the feature is kept, and the layer is no longer linear.", &rectified, ow);

    let best = map.iter().cloned().fold(f32::MIN, f32::max);
    let at = map.iter().position(|v| *v == best).unwrap_or(0);
    println!("Strongest response {best} at row {}, column {} of the feature map.", at / ow, at % ow);
    Ok(())
}
