//! The problem model: `same` padding as ONNX defines it (hand-worked cases), descriptor
//! round trips, and naive against the f64 reference.

use convkit::testing::{self, Data, DataKind, reference};
use convkit::{Backend, ConvProblem, SamePadding, backend};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Hand-worked from ONNX's definition: out = ceil(in / stride),
/// total = max(0, (out - 1) * stride + (k - 1) * d + 1 - in); UPPER puts the odd pixel at the
/// end, LOWER at the beginning.
#[test]
fn same_padding_matches_hand_worked_onnx_cases() {
    // (input, kernel, stride, dilation) -> (UPPER begin/end, LOWER begin/end, out)
    let cases = [
        ((5, 3, 1, 1), ((1, 1), (1, 1), 5)),  // odd kernel: symmetric
        ((5, 4, 1, 1), ((1, 2), (2, 1), 5)),  // even kernel: total 3
        ((5, 2, 1, 1), ((0, 1), (1, 0), 5)),  // even kernel: total 1
        ((7, 3, 2, 1), ((1, 1), (1, 1), 4)),  // out 4: (3 * 2 + 3) - 7 = 2
        ((8, 3, 2, 1), ((0, 1), (1, 0), 4)),  // (3 * 2 + 3) - 8 = 1
        ((6, 1, 3, 1), ((0, 0), (0, 0), 2)),  // 1x1 stride 3: no padding
        ((5, 3, 1, 2), ((2, 2), (2, 2), 5)),  // dilated kernel extent 5: total 4
        ((10, 4, 3, 1), ((1, 2), (2, 1), 4)), // (3 * 3 + 4) - 10 = 3
        ((1, 7, 5, 1), ((3, 3), (3, 3), 1)),  // tiny input, big kernel: total 6
        ((9, 2, 4, 3), ((1, 2), (2, 1), 3)),  // dilated extent 4, out 3: (2 * 4 + 4) - 9 = 3
    ];
    for ((input, k, s, d), ((ub, ue), (lb, le), out)) in cases {
        let base = ConvProblem::new(1, 1, input, input, 1, k, k).with_stride([s, s]).with_dilation([d, d]);
        let p = base.with_same_padding(SamePadding::Upper).unwrap();
        assert_eq!(p.params.padding, [ub, ub, ue, ue], "UPPER {input} k{k} s{s} d{d}");
        assert_eq!(p.output_size().unwrap(), (out, out), "UPPER {input} k{k} s{s} d{d}");
        let p = base.with_same_padding(SamePadding::Lower).unwrap();
        assert_eq!(p.params.padding, [lb, lb, le, le], "LOWER {input} k{k} s{s} d{d}");
        assert_eq!(p.output_size().unwrap(), (out, out), "LOWER {input} k{k} s{s} d{d}");
    }
    // Rectangular: each axis on its own.
    let p = ConvProblem::new(1, 1, 5, 8, 1, 4, 3).with_stride([1, 2]).with_same_padding(SamePadding::Upper).unwrap();
    assert_eq!(p.params.padding, [1, 0, 2, 1]);
    assert_eq!(p.output_size().unwrap(), (5, 4));
    assert_eq!(ConvProblem::new(1, 1, 5, 5, 1, 3, 3).with_padding([1; 4]).with_valid_padding().params.padding, [0; 4]);
}

#[test]
fn flops_and_lengths() {
    let p = ConvProblem::new(2, 8, 10, 12, 6, 3, 3).with_groups(2).with_stride([2, 1]).with_padding([1, 1, 1, 1]);
    let s = p.validate().unwrap();
    assert_eq!((s.oh, s.ow), (5, 12));
    assert_eq!(s.flops, 2 * 2 * 6 * 5 * 12 * 4 * 9);
    assert_eq!((s.input_len, s.weights_len, s.output_len, s.reduction), (2 * 8 * 120, 6 * 4 * 9, 2 * 6 * 60, 36));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    /// Display then FromStr gives back the same problem.
    #[test]
    fn descriptors_round_trip(p in testing::problems()) {
        let text = p.to_string();
        let back: ConvProblem = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, p);
    }

    /// Naive equals the f64 reference: exactly on integer data, within the bound on random.
    #[test]
    fn naive_equals_the_f64_reference(p in testing::problems()) {
        let naive: &dyn Backend = backend("naive").unwrap();
        let d = Data::new(&p, DataKind::Integer, 7);
        let y = naive.plan(&p, &d.weights, d.bias.as_deref()).unwrap().run_alloc(&d.input).unwrap();
        let r = reference(&p, &d);
        for (i, (a, b)) in y.iter().zip(&r.values).enumerate() {
            prop_assert_eq!(*a as f64, *b, "integer data, element {} of {}", i, p);
        }
        let d = Data::new(&p, DataKind::Random, 8);
        let y = naive.plan(&p, &d.weights, d.bias.as_deref()).unwrap().run_alloc(&d.input).unwrap();
        let r = reference(&p, &d);
        let bound = |i: usize| convkit::backend::Accuracy::DOT_PRODUCT.bound(p.validate().unwrap().reduction, r.abs_sums[i]);
        for (i, (a, b)) in y.iter().zip(&r.values).enumerate() {
            prop_assert!((*a as f64 - b).abs() <= bound(i), "random data, element {} of {}: {} vs {}", i, p, a, b);
        }
    }
}
