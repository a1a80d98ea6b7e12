//! Cache blocking of the GEMM (BLIS loop order), derived from the cache sizes of the machines
//! convkit is tuned on rather than written as magic numbers.
//!
//! Loop order (BLIS): `jc` over NC columns of B -> `pc` over KC rows of the reduction (pack B)
//! -> `ic` over MC rows of A -> `jr` over NR-column micro-panels -> `ir` over MR-row micro-panels
//! -> micro-kernel. One B micro-panel (`KC x NR`) stays in L1 while the A micro-panels of the
//! `MC x KC` block stream from L2; the `KC x NC` block of B lives in L2/L3.
#![forbid(unsafe_code)]

/// L1 data cache per core: 32 KiB on AMD Zen 3 and Zen 4 (the CI and development machines).
pub const L1D_BYTES: usize = 32 * 1024;
/// L2 per core: 512 KiB on Zen 3, 1 MiB on Zen 4; blocking uses the smaller so it fits both.
pub const L2_BYTES: usize = 512 * 1024;
/// L3 shared by the cores: 32 MiB.
pub const L3_BYTES: usize = 32 * 1024 * 1024;

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
pub const fn blocking(mr: usize, nr: usize) -> Blocking {
    let kc = (L1D_BYTES * 3 / 4) / (F32 * (mr + nr));
    let kc = if kc >= 32 { kc / 16 * 16 } else { 16 };
    let mc = (L2_BYTES / 2) / (F32 * kc);
    let mc = if mc >= mr { mc / mr * mr } else { mr };
    let nc = (L3_BYTES / 2 / 4) / (F32 * kc);
    let nc = if nc >= nr { nc / nr * nr } else { nr };
    Blocking { kc, mc, nc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_tile_multiples_and_fit() {
        for (mr, nr) in [(4, 2), (6, 8), (6, 16), (14, 32)] {
            let b = blocking(mr, nr);
            assert_eq!(b.mc % mr, 0);
            assert_eq!(b.nc % nr, 0);
            assert!(b.kc * (mr + nr) * 4 <= L1D_BYTES);
            assert!(b.mc * b.kc * 4 <= L2_BYTES);
        }
    }
}
