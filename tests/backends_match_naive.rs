//! Every backend, at every ISA tier this host has (plus the lane-emulating avx2/avx512 tiles),
//! matches naive exactly on integer data and the f64 reference within the bound on random
//! data, across the shared edge-biased problem strategy.

use convkit::testing::{self, CheckOutcome};
use convkit::tiled::TiledKernel;
use convkit::winograd::WinogradTile;
use convkit::{Backend, PlanOptions, backend};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn check_everywhere(name: &str, p: &convkit::ConvProblem) -> Result<(), TestCaseError> {
    check_everywhere_with(name, p, |o| o)
}

/// As [`check_everywhere`], with `adjust` applied to every tier's options.
fn check_everywhere_with(name: &str, p: &convkit::ConvProblem, adjust: impl Fn(PlanOptions) -> PlanOptions) -> Result<(), TestCaseError> {
    let b: &dyn Backend = backend(name).unwrap();
    for tier in testing::test_tiers() {
        match testing::check(b, p, &adjust(tier.options.clone())) {
            Ok(CheckOutcome::Agreed(_)) | Ok(CheckOutcome::Unsupported(_)) => {}
            Err(e) => return Err(TestCaseError::fail(format!("[tier {}] {e}", tier.name))),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn im2col_matches_naive(p in testing::problems()) {
        check_everywhere("im2col", &p)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tiled_matches_naive(p in testing::problems()) {
        check_everywhere("tiled", &p)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    /// The tiled rows tile, forced on every tier (plans choose it only on avx512, for some
    /// shapes) ...
    #[test]
    fn tiled_rows_matches_naive(p in testing::problems()) {
        check_everywhere_with("tiled", &p, |o| o.with_tiled_kernel(TiledKernel::Rows))?;
    }

    /// ... on rows several vectors wide ...
    #[test]
    fn tiled_rows_on_wide_rows_matches_naive(p in testing::problems_wide_rows()) {
        check_everywhere_with("tiled", &p, |o| o.with_tiled_kernel(TiledKernel::Rows))?;
    }

    /// ... and the direct tile forced where plans would choose rows.
    #[test]
    fn tiled_direct_on_wide_rows_matches_naive(p in testing::problems_wide_rows()) {
        check_everywhere_with("tiled", &p, |o| o.with_tiled_kernel(TiledKernel::Direct))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    /// Winograd on its own ground (3x3 stride 1), within its documented bound: the default
    /// variant (F(2x2) or F(4x4) by output size) ...
    #[test]
    fn winograd_matches_naive(p in testing::problems_3x3_s1()) {
        check_everywhere("winograd", &p)?;
    }

    /// ... and F(2x2) or F(4x4) on request (half the cases each), whatever the size.
    #[test]
    fn winograd_f2x2_or_f4x4_matches_naive(p in testing::problems_3x3_s1(), f2 in proptest::bool::ANY) {
        let tile = if f2 { WinogradTile::F2x2 } else { WinogradTile::F4x4 };
        check_everywhere_with("winograd", &p, |o| o.with_winograd_tile(tile))?;
    }

    /// Winograd F(6x6) (on request) too, within its own bound.
    #[test]
    fn winograd_f6x6_matches_naive(p in testing::problems_3x3_s1()) {
        check_everywhere_with("winograd", &p, |o| o.with_winograd_tile(WinogradTile::F6x6))?;
    }

    /// Winograd declines what it cannot do, with a reason, and never fails otherwise.
    #[test]
    fn winograd_on_any_problem(p in testing::problems()) {
        check_everywhere("winograd", &p)?;
    }
}
