//! Named regression tests: every failure found (by proptest, fuzzing or review) pinned here,
//! plus the edge cases that broke other libraries, checked for every backend at every tier.

use convkit::testing::check_all_tiers;
use convkit::{Activation, ConvProblem, backends};

fn all_backends_agree(p: ConvProblem) {
    for b in backends() {
        if let Err(e) = check_all_tiers(b, &p) {
            panic!("{e}");
        }
    }
}

/// Padding larger than the kernel: whole output rows/columns read only zeros (plus bias).
#[test]
fn padding_larger_than_kernel() {
    all_backends_agree(ConvProblem::new(1, 3, 4, 5, 5, 2, 2).with_padding([3, 4, 2, 5]).with_bias(true).with_activation(Activation::Relu));
}

/// Stride larger than the kernel: input pixels are skipped.
#[test]
fn stride_larger_than_kernel() {
    all_backends_agree(ConvProblem::new(2, 5, 13, 11, 7, 2, 1).with_stride([4, 3]).with_padding([1, 0, 0, 2]));
}

/// 1x1 output from a large kernel, and a 1-row, 1-column image.
#[test]
fn one_by_one_output_and_single_pixel_images() {
    all_backends_agree(ConvProblem::new(1, 9, 7, 7, 17, 7, 7));
    all_backends_agree(ConvProblem::new(3, 4, 1, 1, 5, 3, 3).with_padding([1; 4]));
    all_backends_agree(ConvProblem::new(1, 4, 1, 40, 6, 1, 3).with_padding([0, 1, 0, 1]));
    all_backends_agree(ConvProblem::new(1, 4, 40, 1, 6, 3, 1).with_padding([2, 0, 0, 0]));
}

/// Dilation 4 with asymmetric padding, grouped with a depth multiplier.
#[test]
fn dilation_groups_and_depth_multiplier() {
    all_backends_agree(ConvProblem::new(1, 8, 21, 19, 16, 3, 3).with_dilation([4, 3]).with_padding([4, 0, 3, 5]).with_groups(8));
    all_backends_agree(ConvProblem::new(2, 6, 15, 15, 12, 3, 3).with_groups(3).with_stride([2, 2]).with_activation(Activation::RELU6));
}

/// Channel counts one off the tile widths (8, 16, 32 lanes; 6, 14 rows).
#[test]
fn channels_at_tile_widths_plus_minus_one() {
    for c in [7, 9, 15, 17, 31, 33] {
        all_backends_agree(ConvProblem::new(1, c, 9, 10, 40 - c, 3, 3).with_padding([1; 4]).with_bias(true));
    }
    for k in [5, 6, 7, 13, 14, 15] {
        all_backends_agree(ConvProblem::new(1, 16, 6, 7, k, 1, 1));
    }
}

/// Depthwise stride 2 with padding only at the end (MobileNetV2's "SAME" downsampling).
#[test]
fn depthwise_stride2_padding_at_the_end() {
    all_backends_agree(
        ConvProblem::new(1, 12, 17, 18, 12, 3, 3)
            .with_groups(12)
            .with_stride([2, 2])
            .with_padding([0, 0, 1, 1])
            .with_activation(Activation::Relu),
    );
}

/// The depthwise vector-column kernel (3x3, stride 1 and no dilation down) at its edges: rows
/// narrower than a vector, one vector plus one pixel (the last vector overlaps), an odd number
/// of vectors (a single column after the pairs), one output row, a depth multiplier, and column
/// offsets other than 0, 1, 2 (stride or dilation across).
#[test]
fn depthwise_vector_columns_at_their_edges() {
    let cases = [
        ConvProblem::new(1, 3, 5, 5, 3, 3, 3).with_groups(3).with_padding([1; 4]),
        ConvProblem::new(2, 4, 7, 17, 8, 3, 3).with_groups(4).with_padding([1, 0, 1, 0]).with_bias(true),
        ConvProblem::new(1, 2, 3, 40, 2, 3, 3).with_groups(2).with_padding([0, 1, 0, 1]).with_activation(Activation::Relu),
        ConvProblem::new(1, 3, 11, 30, 3, 3, 3).with_groups(3).with_stride([1, 2]).with_padding([1; 4]),
        ConvProblem::new(1, 3, 12, 33, 6, 3, 3).with_groups(3).with_dilation([1, 3]).with_padding([2, 3, 1, 0]),
    ];
    for p in cases {
        let d = convkit::testing::Data::new(&p, convkit::testing::DataKind::Integer, 1);
        let plan = convkit::backend("tiled").unwrap().plan(&p, &d.weights, d.bias.as_deref()).unwrap();
        assert!(plan.kernel().contains("depthwise_columns_3x3"), "{p} runs {}", plan.kernel());
        all_backends_agree(p);
    }
}

/// Workspace stays proportional to the problem's own buffers whatever the geometry.
fn workspace_is_modest(p: ConvProblem) {
    let s = p.validate().unwrap();
    let own = s.input_len + s.output_len + s.weights_len;
    for b in backends() {
        if b.supports(&p).is_err() || b.name() == "auto" {
            continue;
        }
        let plan = b.plan(&p, &vec![0.5; s.weights_len], p.params.bias.then_some(&vec![0.0; p.k][..])).unwrap();
        let ws = plan.workspace_len_per_thread();
        assert!(ws <= 64 * own + (1 << 20), "{} ({}) wants {ws} floats of workspace for {p} (buffers: {own})", b.name(), plan.kernel());
    }
    all_backends_agree(p);
}

/// Found by fuzzing (`conv_differential`, `plan_run`; inputs kept in `fuzz/regressions/`): a
/// huge horizontal stride made the depthwise plane keep `stride` phase rows per padded row
/// (13 GB for a 6x6 image). Now only the phases the taps use are kept.
#[test]
fn huge_stride_depthwise_plane() {
    workspace_is_modest(
        ConvProblem::new(1, 3, 6, 6, 3, 4, 5)
            .with_stride([3, 134_217_728])
            .with_padding([4, 4, 0, 0])
            .with_groups(3)
            .with_activation(Activation::Relu),
    );
    workspace_is_modest(
        ConvProblem::new(1, 9, 8, 1, 9, 3, 2).with_stride([2, 4_194_304]).with_padding([2, 2, 5, 1]).with_dilation([3, 1]).with_groups(9),
    );
}

/// The same geometry on the dense path (its padded band), and huge vertical strides and
/// padding on both paths: only the rows and phases that some output reads are kept.
#[test]
fn huge_strides_and_padding_keep_buffers_small() {
    workspace_is_modest(ConvProblem::new(1, 4, 6, 6, 5, 3, 3).with_stride([1 << 27, 1 << 27]).with_padding([1, 1, 1 << 20, 1 << 20]));
    workspace_is_modest(
        ConvProblem::new(1, 4, 6, 6, 4, 3, 3).with_stride([1 << 27, 1 << 27]).with_padding([1, 1, 1 << 20, 1 << 20]).with_groups(4),
    );
    workspace_is_modest(ConvProblem::new(1, 2, 5, 5, 3, 2, 2).with_stride([1 << 20, 1 << 21]).with_padding([1 << 20, 3, 1 << 20, 1 << 21]));
}

/// Huge vertical dilation over huge padding: the dense band gathers the few rows the taps
/// read instead of the whole dilated range.
#[test]
fn huge_dilation_gathers_rows() {
    workspace_is_modest(ConvProblem::new(1, 3, 2, 4, 4, 2, 2).with_dilation([1 << 20, 1]).with_padding([1 << 20, 1, 0, 1]));
    workspace_is_modest(ConvProblem::new(1, 3, 2, 4, 3, 2, 2).with_dilation([1 << 20, 1]).with_padding([1 << 20, 1, 0, 1]).with_groups(3));
}

/// Found by fuzzing (`plan_run`, inputs in `fuzz/regressions/plan_run/`): huge strides and
/// dilations made the padded band keep `min(stride, dilated width)` phase rows per row, each
/// as long as the dilated kernel (gigabytes for a 1x6 image). Now rows keep only the phases
/// the taps use, or one segment per tap column when that is smaller.
#[test]
fn huge_stride_and_dilation_keep_only_used_columns() {
    workspace_is_modest(
        ConvProblem::new(1, 9, 1, 6, 18, 3, 3)
            .with_stride([1 << 24, 1 << 24])
            .with_padding([1 << 24; 4])
            .with_dilation([1 << 24, 1 << 24])
            .with_bias(true)
            .with_activation(Activation::Relu),
    );
    workspace_is_modest(
        ConvProblem::new(2, 10, 12, 4, 7, 3, 3)
            .with_stride([3, 4])
            .with_padding([1 << 24; 4])
            .with_dilation([1 << 24, 1 << 24])
            .with_bias(true)
            .with_activation(Activation::RELU6),
    );
    workspace_is_modest(
        ConvProblem::new(1, 4, 3, 9, 4, 1, 3)
            .with_stride([1, 1 << 20])
            .with_dilation([1, (1 << 20) + 1])
            .with_padding([0, 1 << 21, 0, 0])
            .with_groups(4),
    );
    // Dilated width 3 * 2^22 + 1 over 40 columns padded by 1.5 * 2^22 each side: 14 outputs.
    workspace_is_modest(
        ConvProblem::new(1, 3, 5, 40, 6, 2, 4).with_stride([2, 3]).with_dilation([1, 1 << 22]).with_padding([1, 6_291_456, 1, 6_291_456]),
    );
}

/// Found by fuzzing (`fuzz/regressions/conv_differential/winograd_padded_zero_meets_large_tap`):
/// a 1x1 image padded to 3x3, so the exact sum is `x * w_center` only, but Winograd's
/// transforms mix the eight other taps (with 1/6 and 1/24, inexact in binary) with the tile,
/// giving 1.2e-7 where naive gives 0. Not a kernel bug: the error bound the checker used
/// scaled with the exact sum's terms; it now scales with the tile-mixing sum (see
/// `convkit::testing::Reference::tile_sums`). Many seeds, so zero centre taps occur.
#[test]
fn winograd_padded_zero_meets_large_tap() {
    let p: ConvProblem = "mb1g1ic4ih1iw1oc8kh3kw3sh1sw1pt1pl1pb1pr1dh1dw1_relu".parse().unwrap();
    let winograd = convkit::backend("winograd").unwrap();
    for seed in 0..300 {
        let checker = convkit::testing::Checker::new(&p, seed).unwrap();
        for tier in convkit::testing::test_tiers() {
            if let Err(e) = checker.check(winograd, &tier.options) {
                panic!("seed {seed}: {e}");
            }
        }
    }
}

/// A row segment of the im2col lowering that lies wholly in the left padding (the dilated tap
/// starts 6 columns left of the image, the segment is 1 column wide): the source offset of the
/// empty copy underflowed. Harmless in release (nothing was read), a panic with overflow checks
/// (debug builds; found by `cargo fuzz -a`). CI runs this file with overflow checks too.
/// Also `fuzz/regressions/conv_differential/im2col_segment_inside_left_padding`.
#[test]
fn im2col_segment_inside_left_padding() {
    let p: ConvProblem = "mb3g1ic11ih4iw4oc11kh3kw4sh1sw1pt3pl6pb0pr0dh3dw3".parse().unwrap();
    all_backends_agree(p);
}

/// 1x1 layers over more than 1024 pixels: im2col copies the input in packed-panel order (its
/// chunk rows would be a page apart), with a ragged last panel and chunk; two images, groups.
#[test]
fn one_by_one_over_large_images_in_packed_panels() {
    all_backends_agree(ConvProblem::new(2, 20, 41, 39, 13, 1, 1).with_bias(true).with_activation(Activation::Relu));
    all_backends_agree(ConvProblem::new(1, 8, 33, 35, 8, 1, 1).with_groups(2));
}

/// Stride-1 rows whose output is as wide as the input ("same" padding, also asymmetric and
/// dilated, and `OW == 2 W` with stride 2 down the rows): im2col lowers each tap's whole output
/// rows as one contiguous copy and then zeroes the padding lanes. Over 1800 pixels the chunks
/// split mid-row, so partial first and last rows go the segment way around a run.
#[test]
fn im2col_contiguous_row_runs() {
    all_backends_agree(ConvProblem::new(1, 64, 40, 45, 8, 3, 3).with_padding([1; 4]).with_bias(true));
    all_backends_agree(ConvProblem::new(1, 64, 40, 45, 8, 3, 3).with_padding([1, 2, 1, 0]));
    all_backends_agree(ConvProblem::new(1, 40, 30, 41, 5, 3, 3).with_padding([2; 4]).with_dilation([2, 2]));
    all_backends_agree(ConvProblem::new(1, 3, 5, 2, 4, 3, 1).with_stride([2, 1]).with_padding([1, 1, 2, 1]));
}

/// Reductions in several L2-sized blocks (the avx512 wide tile's blocks hold at most an eighth
/// of L2: 1017 taps of 64 channels on a 2 MiB L2, 504 on 1 MiB): 2070 taps (3 x 690 on 2 MiB)
/// with a partial last channel block, stride 2, asymmetric padding, bias and a clamp; and 1026
/// taps, just past one block (2 x 513).
#[test]
fn long_reductions_in_several_l2_blocks() {
    all_backends_agree(
        ConvProblem::new(1, 230, 9, 11, 70, 3, 3)
            .with_stride([2, 1])
            .with_padding([1, 0, 2, 1])
            .with_bias(true)
            .with_activation(Activation::RELU6),
    );
    all_backends_agree(ConvProblem::new(2, 114, 6, 7, 65, 3, 3).with_padding([1; 4]).with_activation(Activation::Relu));
}

/// Depthwise 3x3 with a dilation down that skips padded rows no output reads (5 rows,
/// dilation 2: one output row reads padded rows 0, 2 and 4): the vector-column kernel, which
/// copies input rows into its plane as it goes, took plane row `j` for padded row `j` and read
/// input rows 0, 1, 2 (found by proptest, 2026-12-07: `mb1g1ic1ih5iw3oc1kh3kw3sh1sw1dh2dw1`).
#[test]
fn depthwise_columns_with_rows_skipped_by_dilation() {
    all_backends_agree(ConvProblem::new(1, 1, 5, 3, 1, 3, 3).with_dilation([2, 1]));
    all_backends_agree(ConvProblem::new(1, 4, 5, 40, 4, 3, 3).with_dilation([2, 1]).with_groups(4).with_bias(true));
    all_backends_agree(ConvProblem::new(1, 3, 7, 35, 6, 3, 3).with_dilation([3, 1]).with_padding([1, 1, 0, 1]).with_groups(3));
}
