//! Small end-to-end tests meant for Miri (`cargo +nightly miri test --lib --features testing --
//! miri_`, with `CONVKIT_MAX_ISA=scalar`): every backend's scalar and portable paths, with
//! their raw-pointer kernels, on problems small enough for the interpreter, checked against
//! naive. They also run (quickly) in the ordinary test suite.

use crate::backend::{PlanOptions, backends};
use crate::isa::Isa;
use crate::problem::{Activation, ConvProblem};
use crate::testing::{CHECK_SEED, CheckOutcome, Checker, check};
use crate::tiled::TiledKernel;
use crate::winograd::WinogradTile;

fn small_problems() -> Vec<ConvProblem> {
    vec![
        ConvProblem::new(1, 3, 5, 6, 4, 3, 3).with_padding([1, 0, 2, 1]).with_bias(true).with_activation(Activation::Relu),
        ConvProblem::new(2, 4, 4, 4, 4, 3, 3).with_groups(4).with_stride([2, 1]),
        ConvProblem::new(1, 4, 6, 6, 5, 3, 3).with_padding([1; 4]),
        ConvProblem::new(1, 8, 3, 5, 9, 1, 1),
        ConvProblem::new(1, 2, 7, 5, 3, 2, 3).with_dilation([2, 1]).with_stride([1, 2]).with_padding([0, 3, 1, 0]),
        // Depthwise vector columns (stride 1, a depth multiplier, a partial last vector) and
        // stride-2 phase rows written input columns only.
        ConvProblem::new(1, 3, 5, 9, 6, 3, 3).with_groups(3).with_padding([1, 1, 1, 0]).with_bias(true),
        ConvProblem::new(1, 2, 6, 9, 2, 3, 3).with_groups(2).with_stride([2, 2]).with_padding([0, 0, 1, 1]),
    ]
}

/// For `tiled` only: its rows tile on a row of two vectors and a partial one at portable's 4
/// lanes (every backend on every problem made the Miri step 8 minutes longer).
fn rows_problem() -> ConvProblem {
    ConvProblem::new(1, 3, 4, 11, 5, 3, 3).with_stride([1, 2]).with_padding([1, 2, 0, 1]).with_bias(true)
}

fn run_all(isa: Isa) {
    if isa > crate::isa::active_isa().expect("valid CONVKIT_MAX_ISA") {
        return; // capped below this tier (CI runs the suite once per cap)
    }
    for p in small_problems().into_iter().chain([rows_problem()]) {
        // Naive's output and the f64 reference once per problem, not once per backend and
        // variant (under Miri they cost as much as the runs they check).
        let checker = Checker::new(&p, CHECK_SEED).unwrap_or_else(|e| panic!("{e}"));
        for b in backends() {
            if b.name() == "auto" || b.name() == "naive" || (p == rows_problem() && b.name() != "tiled") {
                // Auto only times the others; naive (safe code) already ran in the checker, and
                // checking it against itself would double its share of the Miri step; the rows
                // problem is for tiled.
                continue;
            }
            let opts = PlanOptions::default().with_isa(isa);
            // Winograd once per variant.
            let variants = if b.name() == "winograd" {
                [WinogradTile::F2x2, WinogradTile::F4x4, WinogradTile::F6x6].map(|t| opts.clone().with_winograd_tile(t)).to_vec()
            } else if b.name() == "tiled" && !p.is_depthwise() {
                // Both dense tiles (plans choose rows only on avx512; depthwise layers have
                // their own path).
                [TiledKernel::Direct, TiledKernel::Rows].map(|k| opts.clone().with_tiled_kernel(k)).to_vec()
            } else {
                vec![opts]
            };
            for o in variants {
                match checker.check(b, &o) {
                    Ok(CheckOutcome::Agreed(_)) | Ok(CheckOutcome::Unsupported(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
}

#[test]
fn miri_every_backend_scalar_tier() {
    run_all(Isa::Scalar);
}

#[test]
fn miri_every_backend_portable_tier() {
    run_all(Isa::Portable);
}

/// `sgemm_with` on integer data against the triple loop, for each `(m, n, k)`.
fn sgemm_matches_loops(opts: &PlanOptions, cases: &[(usize, usize, usize)]) {
    for &(m, n, k) in cases {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 5) as f32 - 2.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 3) as f32 - 1.0).collect();
        let mut c = vec![0.0f32; m * n];
        crate::gemm::sgemm_with(opts, m, n, k, &a, &b, &mut c).unwrap();
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                assert_eq!(c[i * n + j], want, "m {m} n {n} k {k} at {i},{j}");
            }
        }
    }
}

#[test]
fn miri_sgemm_edges() {
    sgemm_matches_loops(&PlanOptions::default().with_isa(Isa::Scalar), &[(1, 1, 1), (5, 3, 7), (9, 17, 2)]);
}

/// The GEMM's column path (a ragged last panel of one column; the portable tier's vectors
/// read past the packed A panel into its slack): sgemm with 9 panels and one more column (A
/// packed), and a Winograd layer with 9 tiles (8 + 1). Also A read in place (one column) over
/// three KC blocks. (The column path over two KC blocks is left to the native tests: under Miri
/// it took 8 minutes.)
#[test]
fn miri_gemm_column_path() {
    let opts = PlanOptions::default().with_isa(Isa::Portable);
    if Isa::Portable > crate::isa::active_isa().expect("valid CONVKIT_MAX_ISA") {
        return;
    }
    let kc = crate::gemm::blocking_for(&opts).unwrap().kc;
    let nr = crate::gemm::tile(&opts).unwrap().1;
    // `2 kc + 5`: sgemm splits KC evenly (`balanced_kc`), so `kc + 1` would be one block.
    sgemm_matches_loops(&opts, &[(7, 9 * nr + 1, 5), (13, 1, 2 * kc + 5)]);
    let p = ConvProblem::new(1, 4, 12, 12, 4, 3, 3).with_padding([1; 4]).with_bias(true);
    let winograd = backends().into_iter().find(|b| b.name() == "winograd").unwrap();
    match check(winograd, &p, &opts) {
        Ok(CheckOutcome::Agreed(_)) => {}
        other => panic!("{other:?}"),
    }
}

/// A's vector-transpose packing (written through a `Vec`'s spare capacity, each column store
/// reaching past the panel) on the lane-emulating tiers with the avx2 and avx512 tile heights:
/// a full group and a scalar tail, a second KC block, rows past the last full panel.
#[test]
fn miri_pack_transposes() {
    use crate::gemm::pack::PackedA;
    use crate::simd::Tier;
    let (m, k) = (15, 21);
    let a: Vec<f32> = (0..m * k).map(|i| i as f32).collect();
    for (tier, mr) in [(Tier::Emu8, 6), (Tier::Emu16, 14)] {
        assert_eq!(PackedA::pack_on(tier, &a, k, m, k, mr, 17), PackedA::pack(&a, k, m, k, mr, 17));
    }
}

/// The direct convolution's in-register transposed store (full tiles write one vector per
/// channel, running past the tile into pixels the task's next tile rewrites) on the
/// lane-emulating tiers with the avx2 and avx512 wide tiles (16 and 64 output channels; the
/// avx512 tile takes the half transpose), rows
/// of 8 pixels so tiles span rows, a last tile without spare pixels.
#[test]
fn miri_tiled_transposed_store() {
    let tiled = backends().into_iter().find(|b| b.name() == "tiled").unwrap();
    for (lanes, k) in [(8, 16), (16, 64)] {
        let p = ConvProblem::new(1, 2, 3, 8, k, 3, 3).with_padding([1; 4]).with_bias(true);
        let opts = PlanOptions::default().with_emulated_lanes(lanes);
        match check(tiled, &p, &opts) {
            Ok(CheckOutcome::Agreed(_)) => {}
            other => panic!("{other:?}"),
        }
    }
}
