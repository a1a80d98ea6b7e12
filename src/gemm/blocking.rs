//! Cache blocking of the GEMM (BLIS loop order), derived from the cache sizes of the machine
//! that runs ([`crate::caches::cache_sizes`]) rather than written as magic numbers.
//!
//! Loop order (BLIS): `jc` over NC columns of B -> `pc` over KC rows of the reduction (pack B)
//! -> `ic` over MC rows of A -> `jr` over NR-column micro-panels -> `ir` over MR-row micro-panels
//! -> micro-kernel. One B micro-panel (`KC x NR`) stays in L1 while the A micro-panels of the
//! `MC x KC` block stream from L2; the `KC x NC` block of B lives in L2/L3.
#![forbid(unsafe_code)]

use crate::caches::{CacheSizes, cache_sizes};

const F32: usize = std::mem::size_of::<f32>();

/// Block sizes for one micro-kernel tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Reduction rows per packed block.
    pub kc: usize,
    /// Rows of A per block (a multiple of MR).
    pub mc: usize,
    /// Columns of B per block (a multiple of NR).
    pub nc: usize,
}

/// Block sizes for an `mr x nr` micro-kernel.
///
/// * `KC`: a B micro-panel (`KC x NR`) and an A micro-panel (`KC x MR`) take at most 3/4 of
///   L1, leaving room for the C tile's lines; rounded down to a multiple of 16.
/// * `MC`: the packed `MC x KC` block of A takes about half of L2; a multiple of MR.
/// * `NC`: the `KC x NC` block of B takes about a quarter of L3's per-core share (L3/2 cores);
///   a multiple of NR.
pub fn blocking(mr: usize, nr: usize) -> Blocking {
    blocking_with(mr, nr, cache_sizes())
}

/// [`blocking`] for the given cache sizes.
pub const fn blocking_with(mr: usize, nr: usize, caches: CacheSizes) -> Blocking {
    let kc = (caches.l1d * 3 / 4) / (F32 * (mr + nr));
    let kc = if kc >= 32 { kc / 16 * 16 } else { 16 };
    blocking_for_kc(kc, mr, nr, caches)
}

/// MC and NC by [`blocking`]'s rules for a given KC (`sgemm` on avx2 takes a longer KC).
pub const fn blocking_for_kc(kc: usize, mr: usize, nr: usize, caches: CacheSizes) -> Blocking {
    let kc = if kc == 0 { 1 } else { kc };
    let mc = (caches.l2 / 2) / (F32 * kc);
    let mc = if mc >= mr { mc / mr * mr } else { mr };
    let nc = (caches.l3 / 2 / 4) / (F32 * kc);
    let nc = if nc >= nr { nc / nr * nr } else { nr };
    Blocking { kc, mc, nc }
}

/// The KC block for a reduction of length `k`: the fewest blocks of at most `kc` plus a
/// tenth (so a reduction just past a multiple of KC does not end in a sliver block that pays a
/// whole pass over C), split evenly and rounded up to a multiple of 8 (at most `k`).
/// Measured (2026-11-26, Zen 3, im2col, one thread): res3_3x3 (k = 1152: 4 x 288 instead of
/// 4 x 272 + 64) +1.6%, res2_3x3 (576: 2 x 288 instead of 272 + 272 + 32) +3%.
pub const fn balanced_kc(kc: usize, k: usize) -> usize {
    if k <= kc || kc == 0 {
        return if k < kc { k } else { kc }; // `min` (not const)
    }
    let blocks = k.div_ceil(kc + kc / 10);
    let even = k.div_ceil(blocks).div_ceil(8) * 8;
    if even < k { even } else { k }
}

/// The MC block for `m` rows: the fewest blocks of at most `mc` (one more where rounding the
/// even split up to `mr` passes `mc`), split evenly and rounded up to a multiple of `mr` (`mc`
/// itself if one block holds `m`). 512 rows in blocks of 240 + 240 + 32 left a last
/// block too short to pay for streaming B's panels through it once more.
pub const fn balanced_mc(mc: usize, mr: usize, m: usize) -> usize {
    if m <= mc || mr == 0 {
        return mc;
    }
    let blocks = m.div_ceil(mc);
    let even = m.div_ceil(blocks).div_ceil(mr) * mr;
    if even <= mc {
        return even;
    }
    // Rounding up to MR overshot `mc` (512 rows, MC 252, MR 6: 2 x 258): one block more
    // (3 x 174) rather than 252 + 252 + a sliver of 8.
    let more = m.div_ceil(blocks + 1).div_ceil(mr) * mr;
    if more <= mc { more } else { mc }
}

/// Rows of C a block's micro-tiles walk in turn when C streams past L2: the L2 hardware
/// prefetcher follows a limited number of sequential streams (one per 4 KiB page; Intel's
/// optimization manual gives 32 for its L2 streamer), and each C row is one stream as the `jr`
/// loop walks it. 30 rows (five 6-row tiles) measured as well as 24 and better than 60-126.
pub const STREAMED_C_ROWS: usize = 32;

/// The MC block when the block's C (`c_bytes`) is larger than a quarter of L2 (it cannot stay
/// there beside the B block) and the B block (`b_bytes`) fits half of L2 (re-reading it for
/// every MC block is cheap): the most whole MR panels within [`STREAMED_C_ROWS`] rows, so the
/// prefetcher keeps every row of C that the tiles store to ahead of them. Otherwise `mc`.
///
/// With the whole block's rows at once (up to 256), each tile's stores missed: measured
/// (2026-11-26, avx512, one thread, paired, mc = 30 vs all rows) im2col resnet50_res2_1x1
/// +6%, whisper_conv1d +1.5-4%; sgemm 512^3 +3-7%, 1024^3 +8-20%, 2048x256x4096 +30%; with
/// B past half of L2 (sgemm 256x3136x576) it lost 5%, hence the condition.
pub const fn streamed_mc(mc: usize, mr: usize, c_bytes: usize, b_bytes: usize, l2: usize) -> usize {
    if c_bytes <= l2 / 4 || b_bytes > l2 / 2 || mr == 0 {
        return mc;
    }
    let rows = if STREAMED_C_ROWS >= mr { STREAMED_C_ROWS / mr * mr } else { mr };
    if rows < mc { rows } else { mc }
}

/// [`streamed_mc`] for a block of `c_floats` floats of C and `b_floats` of packed B, against
/// this CPU's L2 ([`cache_sizes`]).
pub fn streamed_mc_here(mc: usize, mr: usize, c_floats: usize, b_floats: usize) -> usize {
    let f32s = std::mem::size_of::<f32>();
    streamed_mc(mc, mr, c_floats.saturating_mul(f32s), b_floats.saturating_mul(f32s), cache_sizes().l2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_blocks_split_evenly() {
        assert_eq!(balanced_kc(272, 1152), 288);
        assert_eq!(balanced_kc(272, 576), 288);
        assert_eq!(balanced_kc(272, 100), 100);
        assert_eq!(balanced_kc(272, 272), 272);
        assert_eq!(balanced_kc(272, 299), 299);
        assert_eq!(balanced_kc(272, 300), 152);
        assert_eq!(balanced_mc(240, 6, 512), 174);
        assert_eq!(balanced_mc(240, 6, 100), 240);
        assert_eq!(balanced_mc(252, 6, 512), 174);
        for k in 1..3000 {
            let mc = balanced_mc(240, 6, k);
            assert!(mc.is_multiple_of(6) && mc <= 240 && k.div_ceil(mc) == k.div_ceil(240), "m {k} mc {mc}");
            // MC 252 (this Zen 3's 512 KiB L2, KC 256): no sliver block either.
            let mc = balanced_mc(252, 6, k);
            let blocks = k.div_ceil(252);
            assert!(mc.is_multiple_of(6) && mc <= 252 && k.div_ceil(mc) <= blocks + 1, "m {k} mc {mc}");
            assert!(k <= 252 || k - (k.div_ceil(mc) - 1) * mc >= mc / 2 - 6, "m {k} mc {mc}: sliver block");
            let kc = balanced_kc(272, k);
            assert!(kc >= 1 && kc <= k && kc <= 272 + 27 + 7, "k {k} kc {kc}");
            assert!(k.div_ceil(kc) <= k.div_ceil(272), "k {k}: more blocks than plain KC");
        }
    }

    #[test]
    fn streamed_mc_only_when_c_streams_and_b_stays() {
        let l2 = 2 << 20;
        // sgemm 512^3: C 1 MiB, B block 256 KiB.
        assert_eq!(streamed_mc(512, 6, 1 << 20, 256 << 10, l2), 30);
        assert_eq!(streamed_mc(512, 14, 1 << 20, 256 << 10, l2), 28);
        assert_eq!(streamed_mc(512, 48, 1 << 20, 256 << 10, l2), 48);
        assert_eq!(streamed_mc(24, 6, 1 << 20, 256 << 10, l2), 24);
        // C small enough to stay in L2, or B too large to re-read.
        assert_eq!(streamed_mc(512, 6, 400 << 10, 256 << 10, l2), 512);
        assert_eq!(streamed_mc(512, 6, 3 << 20, 1600 << 10, l2), 512);
    }

    #[test]
    fn blocks_are_tile_multiples_and_fit() {
        let sapphire_rapids = CacheSizes::from_reported(Some(48 << 10), Some(2 << 20), Some(300 << 20));
        for caches in [cache_sizes(), CacheSizes::FALLBACK, sapphire_rapids] {
            for (mr, nr) in [(4, 2), (6, 8), (6, 16), (14, 32), (6, 64)] {
                let b = blocking_with(mr, nr, caches);
                assert_eq!(b.mc % mr, 0);
                assert_eq!(b.nc % nr, 0);
                assert!(b.kc * (mr + nr) * 4 <= caches.l1d);
                assert!(b.mc * b.kc * 4 <= caches.l2);
            }
        }
    }
}
