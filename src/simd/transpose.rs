//! In-register transposes built from [`Simd::interleave`]: A's GEMM micro-panels are
//! transposed rows of A, and the direct convolution's tiles (pixels x channels) are stored
//! transposed into NCHW.

use super::Simd;

/// Widest vector of any tier (avx512): the size of a transpose's register array.
pub(crate) const MAX_LANES: usize = 16;

/// Transposes the `LANES x LANES` matrix in `v[.. LANES]` (row `i` in `v[i]`): vector `j`
/// holds column `j` ([`interleave_rounds`] over all `LANES` rows).
#[inline(always)]
pub(crate) fn transpose<S: Simd>(s: S, v: [S::V; MAX_LANES]) -> [S::V; MAX_LANES] {
    interleave_rounds(s, v, S::LANES)
}

/// Transposes the `LANES / 2 x LANES` matrix in `v[.. LANES / 2]` (row `i` in `v[i]`) into
/// pairs of columns: vector `j < LANES / 2` holds column `2j` in its lower half and column
/// `2j + 1` in its upper half. Half the rounds of [`transpose`] on half the vectors, for
/// tiles of at most `LANES / 2` rows.
#[inline(always)]
pub(crate) fn transpose_half<S: Simd>(s: S, v: [S::V; MAX_LANES]) -> [S::V; MAX_LANES] {
    interleave_rounds(s, v, S::LANES / 2)
}

/// `log2(rows)` rounds of pairing `v[i]` with `v[i + rows / 2]` (`rows` a power of two, at
/// most `LANES`): rotates the bits of each float's (row, lane) index so the `rows x LANES`
/// matrix in `v[.. rows]` comes out as its `LANES x rows` transpose, row-major.
#[inline(always)]
fn interleave_rounds<S: Simd>(s: S, mut v: [S::V; MAX_LANES], rows: usize) -> [S::V; MAX_LANES] {
    let mut width = 1;
    while width < rows {
        let mut next = [s.zero(); MAX_LANES];
        for i in 0..rows / 2 {
            let (lo, hi) = s.interleave(v[i], v[i + rows / 2]);
            next[2 * i] = lo;
            next[2 * i + 1] = hi;
        }
        v = next;
        width *= 2;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{WithSimd, run_scalar};

    #[derive(Clone, Copy)]
    struct Transposed;
    impl WithSimd for Transposed {
        type Output = bool;
        fn with_simd<S: Simd>(self, s: S) -> bool {
            let l = S::LANES;
            let m: Vec<f32> = (0..l * l).map(|i| i as f32).collect();
            let mut v = [s.zero(); MAX_LANES];
            for (i, slot) in v.iter_mut().enumerate().take(l) {
                *slot = s.load_slice(&m[i * l..][..l]);
            }
            let t = transpose(s, v);
            (0..l).all(|j| {
                let mut col = vec![0.0; l];
                s.store_slice(t[j], &mut col);
                (0..l).all(|i| col[i] == m[i * l + j])
            })
        }
    }

    #[derive(Clone, Copy)]
    struct HalfTransposed;
    impl WithSimd for HalfTransposed {
        type Output = bool;
        fn with_simd<S: Simd>(self, s: S) -> bool {
            let (l, rows) = (S::LANES, S::LANES / 2);
            let m: Vec<f32> = (0..rows * l).map(|i| i as f32).collect();
            let mut v = [s.zero(); MAX_LANES];
            for (i, slot) in v.iter_mut().enumerate().take(rows) {
                *slot = s.load_slice(&m[i * l..][..l]);
            }
            let t = transpose_half(s, v);
            (0..rows).all(|j| {
                let mut pair = vec![0.0; l];
                s.store_slice(t[j], &mut pair);
                // Every partial length of the upper half, between guard floats (the avx512 form
                // stores from half a vector before its target).
                (0..=rows).all(|n| {
                    let mut buf = vec![-1.0; 2 * rows + 1];
                    let (before, high) = buf.split_at_mut(rows);
                    // SAFETY: `high` holds `rows + 1 > n` floats.
                    unsafe { s.store_high_partial(high.as_mut_ptr(), n, t[j]) };
                    before.iter().all(|&g| g == -1.0) && (0..n).all(|i| high[i] == pair[rows + i]) && high[n..].iter().all(|&g| g == -1.0)
                }) && (0..rows).all(|i| pair[i] == m[i * l + 2 * j] && pair[rows + i] == m[i * l + 2 * j + 1])
            })
        }
    }

    /// Runs `op` on every tier this host has and the 8- and 16-lane emulations.
    fn holds_on_every_tier<Op: WithSimd<Output = bool> + Copy>(op: Op) {
        assert!(run_scalar(op));
        assert!(crate::simd::run_portable(op));
        #[cfg(feature = "testing")]
        {
            assert!(op.with_simd(crate::simd::Emulated::<8>));
            assert!(op.with_simd(crate::simd::Emulated::<16>));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = crate::simd::x86_64::Avx2::new() {
            assert!(crate::simd::x86_64::run_avx2(t, op));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = crate::simd::x86_64::Avx512::new() {
            assert!(crate::simd::x86_64::run_avx512(t, op));
        }
    }

    #[test]
    fn half_rounds_transpose_into_column_pairs() {
        holds_on_every_tier(HalfTransposed);
    }

    #[test]
    fn interleave_rounds_transpose() {
        holds_on_every_tier(Transposed);
    }
}
