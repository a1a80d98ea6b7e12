//! Winograd's accuracy, measured: the largest error over the suite's 3x3 stride-1 layers and
//! a sample of the edge-biased 3x3 strategy, random and integer data, as a multiple of the
//! transform bound (the dot-product bound with the tile-mixing sum over each output's tile
//! neighbourhood), must stay under the factor the backend promises.
//! Run with `--nocapture` to see the measured ratios (README quotes them).

use convkit::backend::Accuracy;
use convkit::testing::{self, Data, DataKind, reference};
use convkit::winograd::WinogradTile;
use convkit::{Backend, ConvProblem, PlanOptions, backend};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// The largest error / bound ratio of `winograd` with `tile` on `p` (random and integer
/// data), with factor 1.
fn ratio(p: &ConvProblem, tile: WinogradTile, seed: u64) -> f64 {
    ratio_on(p, tile, DataKind::Random, seed).max(ratio_on(p, tile, DataKind::Integer, seed))
}

fn ratio_on(p: &ConvProblem, tile: WinogradTile, kind: DataKind, seed: u64) -> f64 {
    let b: &dyn Backend = backend("winograd").unwrap();
    let d = Data::new(p, kind, seed);
    let plan = b.plan_with(p, &d.weights, d.bias.as_deref(), &PlanOptions::default().with_winograd_tile(tile)).unwrap();
    assert!(plan.kernel().contains(&format!("f{0}x{0}", tile.m())), "{} is not {tile:?}", plan.kernel());
    let acc = plan.accuracy();
    assert_eq!(acc.factor, tile.error_factor());
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

fn cases() -> usize {
    std::env::var("WINOGRAD_ACCURACY_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

fn measured_error_stays_under_the_promised_factor(tile: WinogradTile) {
    let factor = tile.error_factor();
    let suite = convkit::Suite::embedded().unwrap();
    let mut worst_suite = 0.0f64;
    for layer in &suite.layers {
        let p = layer.problem().unwrap();
        if backend("winograd").unwrap().supports(&p).is_ok() && p.flops().unwrap() < 1_000_000_000 {
            worst_suite = worst_suite.max(ratio(&p, tile, 11));
        }
    }
    let mut runner = TestRunner::deterministic();
    let strategy = testing::problems_3x3_s1();
    let mut worst = 0.0f64;
    let mut tested = 0;
    for i in 0..cases() {
        let p = strategy.new_tree(&mut runner).unwrap().current();
        if backend("winograd").unwrap().supports(&p).is_err() {
            continue;
        }
        tested += 1;
        worst = worst.max(ratio(&p, tile, i as u64));
    }
    println!("winograd {tile:?} error / transform bound: suite {worst_suite:.4}, {tested} strategy problems {worst:.4}, promised {factor}");
    assert!(tested > 100);
    assert!(worst_suite <= factor && worst <= factor, "{tile:?}: measured {worst_suite} / {worst} above the promised {factor}");
}

#[test]
fn f2x2_error_stays_under_its_promised_factor() {
    measured_error_stays_under_the_promised_factor(WinogradTile::F2x2);
}

#[test]
fn f4x4_error_stays_under_its_promised_factor() {
    measured_error_stays_under_the_promised_factor(WinogradTile::F4x4);
}

#[test]
fn f6x6_error_stays_under_its_promised_factor() {
    measured_error_stays_under_the_promised_factor(WinogradTile::F6x6);
}
