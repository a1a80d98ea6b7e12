//! The SGEMM at every tier (and the lane-emulating avx2/avx512 tiles) against a plain triple
//! loop and the scalar tier, with m, n and k at 0, 1, tile - 1, tile, tile + 1 and large (past
//! one cache block).

use convkit::gemm::{blocking_for, sgemm_with, tile};
use convkit::testing::test_tiers;

fn reference(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for p in 0..k {
                acc += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = acc;
        }
    }
    c
}

fn sizes(t: usize, block: usize) -> Vec<usize> {
    let mut v = vec![0, 1, t.saturating_sub(1).max(1), t, t + 1, t + 2, 2 * t + 3, block + 1];
    v.sort();
    v.dedup();
    v
}

#[test]
fn every_tier_matches_the_reference_on_every_edge() {
    for tier in test_tiers() {
        let (mr, nr) = tile(&tier.options).unwrap();
        let bl = blocking_for(&tier.options).unwrap();
        // Up to 256 (or 512) columns A is read in place, past that it is packed: both paths,
        // every edge; ragged last panels of 16, 20 and 40 columns (avx512: one, two and three
        // of its four vectors, the first two stacking four and two A panels in one tile),
        // packed and (`nr + 20`) in place.
        let packed_n = 512usize.div_ceil(nr) * nr;
        let mut ns = sizes(nr, packed_n.max(9 * nr));
        ns.extend([packed_n + 16, packed_n + 20, packed_n + 40, nr + 20]);
        // `bl.kc + 1` runs as one block (sgemm splits KC evenly, `balanced_kc`); `2 kc + 5`
        // takes three, so A's blocks are read and packed at KC offsets past the first.
        let (ms, mut ks) = (sizes(mr, bl.mc.min(300)), sizes(8, bl.kc));
        ks.push(2 * bl.kc + 5);
        for &m in &ms {
            for &n in &ns {
                for &k in &ks {
                    // Integer data: every sum is exact, so all tiers agree bit for bit.
                    // (Until 2026-11-26 these were `(7i + 3) % 7` and `(5i + 1) % 5`: constant
                    // matrices, under which a mixed-up row or column went unnoticed.)
                    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 + 3) % 11) as f32 - 5.0).collect();
                    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 + 1) % 13) as f32 - 6.0).collect();
                    let mut c = vec![f32::NAN; m * n];
                    sgemm_with(&tier.options, m, n, k, &a, &b, &mut c).unwrap();
                    assert_eq!(c, reference(m, n, k, &a, &b), "tier {} m {m} n {n} k {k}", tier.name);
                }
            }
        }
    }
}

/// `sgemm` keeps each thread's packed-B buffer between calls: a call after one with NaNs in
/// a larger B (more columns, longer reduction) sees none of them, ragged panels included.
#[test]
fn a_kept_packed_b_buffer_leaves_no_trace() {
    for tier in test_tiers() {
        let (mr, nr) = tile(&tier.options).unwrap();
        let (m, n, k) = (2 * mr + 1, 3 * nr + 5, 700);
        let big_b = vec![f32::NAN; k * (n + 3 * nr)];
        let a = vec![1.0f32; m * k];
        let mut c = vec![0.0f32; m * (n + 3 * nr)];
        sgemm_with(&tier.options, m, n + 3 * nr, k, &a, &big_b, &mut c).unwrap();
        for (m2, n2, k2) in [(m, n, k - 3), (mr + 1, nr + 1, 9), (m, 2, 5)] {
            let a: Vec<f32> = (0..m2 * k2).map(|i| ((i * 7 + 3) % 11) as f32 - 5.0).collect();
            let b: Vec<f32> = (0..k2 * n2).map(|i| ((i * 5 + 1) % 13) as f32 - 6.0).collect();
            let mut c = vec![f32::NAN; m2 * n2];
            sgemm_with(&tier.options, m2, n2, k2, &a, &b, &mut c).unwrap();
            assert_eq!(c, reference(m2, n2, k2, &a, &b), "tier {} m {m2} n {n2} k {k2}", tier.name);
        }
    }
}

#[test]
fn release_buffers_frees_every_pool_thread() {
    let (m, n, k) = (96, 640, 300);
    let a: Vec<f32> = (0..m * k).map(|i| (i % 9) as f32 - 4.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 - 3.0).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let kept = || pool.broadcast(|_| convkit::gemm::kept_buffer_bytes()).iter().sum::<usize>();
    let mut c = vec![0.0f32; m * n];
    pool.install(|| convkit::gemm::sgemm(m, n, k, &a, &b, &mut c)).unwrap();
    assert!(kept() > 0, "sgemm kept no packed-B buffer");
    pool.install(convkit::gemm::release_buffers);
    assert_eq!(kept(), 0);
    // And the next call, allocating again, gives the same answer.
    let mut c2 = vec![f32::NAN; m * n];
    pool.install(|| convkit::gemm::sgemm(m, n, k, &a, &b, &mut c2)).unwrap();
    assert_eq!(c2, reference(m, n, k, &a, &b));
    assert_eq!(c, c2);
}

#[test]
fn length_errors_name_the_matrix() {
    let mut c = [0.0; 4];
    let e = convkit::gemm::sgemm(2, 2, 2, &[0.0; 3], &[0.0; 4], &mut c).unwrap_err();
    assert_eq!(e.to_string(), "A has 3 elements, the problem needs 4");
    let e = convkit::gemm::sgemm(2, 2, 2, &[0.0; 4], &[0.0; 4], &mut c[..3]).unwrap_err();
    assert_eq!(e.to_string(), "C has 3 elements, the problem needs 4");
    assert!(convkit::gemm::sgemm(usize::MAX, 2, 2, &[], &[], &mut []).is_err());
}

#[test]
fn identical_for_any_thread_count() {
    let (m, n, k) = (77, 301, 290);
    let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
    let run = |threads: usize| {
        let mut c = vec![0.0f32; m * n];
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| convkit::gemm::sgemm(m, n, k, &a, &b, &mut c).unwrap());
        c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(7));
}

/// A ragged last panel of one or two columns runs the column path (vectors down A's rows);
/// its outputs must be bit for bit those of the tile path, which computes the same columns
/// when more follow. Random data, so any change in the order of the sums would show.
#[test]
fn column_path_matches_the_tile_path_bit_for_bit() {
    for tier in test_tiers() {
        let (mr, nr) = tile(&tier.options).unwrap();
        let bl = blocking_for(&tier.options).unwrap();
        // Past one KC block (accumulate into C) and past one column-path group of panels;
        // more than 512 columns, so A is packed and a ragged last panel takes the column path
        // (with 1, 2 or nr + 1 columns, A is read in place, by the tile path); 5 columns take
        // the one-vector tile (on avx512 over four A panels at once).
        let (m, k, wide) = (9 * mr + 1, 2 * bl.kc + 5, (512 / nr + 2) * nr);
        let packed = wide - nr;
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * wide).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut full = vec![0.0f32; m * wide];
        sgemm_with(&tier.options, m, wide, k, &a, &b, &mut full).unwrap();
        for n in [packed + 1, packed + 2, packed + (nr - 1).min(5), nr + 1, nr + 2, 1, 2] {
            let bn: Vec<f32> = (0..k).flat_map(|p| b[p * wide..][..n].to_vec()).collect();
            let mut c = vec![0.0f32; m * n];
            sgemm_with(&tier.options, m, n, k, &a, &bn, &mut c).unwrap();
            for i in 0..m {
                for j in 0..n {
                    assert_eq!(c[i * n + j].to_bits(), full[i * wide + j].to_bits(), "tier {} n {n} row {i} col {j}", tier.name);
                }
            }
        }
    }
}
