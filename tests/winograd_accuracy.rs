//! Winograd's accuracy, measured: the largest error over the suite's 3x3 stride-1 layers and
//! a sample of the edge-biased 3x3 strategy, random and integer data, as a multiple of the
//! transform bound (the dot-product bound with the tile-mixing sum over each output's tile
//! neighbourhood), must stay under the factor the backend promises.
//! Run with `--nocapture` to see the measured ratios (README quotes them).

use convkit::backend::Accuracy;
use convkit::testing::{self, Data, DataKind, reference};
use convkit::winograd::F4X4_ERROR_FACTOR;
use convkit::{Backend, ConvProblem, backend};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// The largest error / bound ratio of `winograd` on `p` (random and integer data), with factor 1.
fn ratio(p: &ConvProblem, seed: u64) -> f64 {
    ratio_on(p, DataKind::Random, seed).max(ratio_on(p, DataKind::Integer, seed))
}

fn ratio_on(p: &ConvProblem, kind: DataKind, seed: u64) -> f64 {
    let b: &dyn Backend = backend("winograd").unwrap();
    let d = Data::new(p, kind, seed);
    let plan = b.plan(p, &d.weights, d.bias.as_deref()).unwrap();
    let acc = plan.accuracy();
    let y = plan.run_alloc(&d.input).unwrap();
    let r = reference(p, &d);
    let sums = r.bound_sums(p, &acc);
    let unit = Accuracy { factor: 1.0, ..acc };
    let l = p.validate().unwrap().reduction;
    y.iter()
        .zip(&r.values)
        .zip(&sums)
        .map(|((y, r), s)| (*y as f64 - r).abs() / unit.bound(l, *s).max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

#[test]
fn measured_error_stays_under_the_promised_factor() {
    let suite = convkit::Suite::embedded().unwrap();
    let mut worst_suite = 0.0f64;
    for layer in &suite.layers {
        let p = layer.problem().unwrap();
        if backend("winograd").unwrap().supports(&p).is_ok() && p.flops().unwrap() < 1_000_000_000 {
            worst_suite = worst_suite.max(ratio(&p, 11));
        }
    }
    let mut runner = TestRunner::deterministic();
    let strategy = testing::problems_3x3_s1();
    let mut worst = 0.0f64;
    let mut tested = 0;
    for i in 0..400 {
        let p = strategy.new_tree(&mut runner).unwrap().current();
        if backend("winograd").unwrap().supports(&p).is_err() {
            continue;
        }
        tested += 1;
        worst = worst.max(ratio(&p, i));
    }
    println!(
        "winograd F(4x4) error / transform bound: suite {worst_suite:.4}, {tested} strategy problems {worst:.4}, promised {F4X4_ERROR_FACTOR}"
    );
    assert!(tested > 100);
    assert!(
        worst_suite <= F4X4_ERROR_FACTOR && worst <= F4X4_ERROR_FACTOR,
        "measured {worst_suite} / {worst} above the promised {F4X4_ERROR_FACTOR}"
    );
}
