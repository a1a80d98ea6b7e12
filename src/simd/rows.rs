//! Row helpers shared by the kernels' data-movement steps (lowering, padding, phase
//! splitting): copies and zero fills in whole vectors of the tier, with no `memcpy`/`memset`
//! calls (too costly for rows of a few dozen floats) and no masked stores (slow on AMD cores).

use super::Simd;

/// Copies `src[src_at ..][.. n]` to `dst[at ..][.. n]` in whole vectors. The last vector may
/// run past `at + n` (never past the slices' ends): callers write left to right and later
/// writes cover the overrun. Masked stores are slow on AMD cores; overrunning is free.
#[inline(always)]
pub(crate) fn copy_over<S: Simd>(s: S, dst: &mut [f32], at: usize, src: &[f32], src_at: usize, n: usize) {
    let l = S::LANES;
    let mut i = 0;
    while i < n && at + i + l <= dst.len() && src_at + i + l <= src.len() {
        // SAFETY: `at + i + l <= dst.len()` and `src_at + i + l <= src.len()` (loop condition).
        unsafe { s.store(dst.as_mut_ptr().add(at + i), s.load(src.as_ptr().add(src_at + i))) };
        i += l;
    }
    if i < n {
        dst[at + i..at + n].copy_from_slice(&src[src_at + i..src_at + n]);
    }
}

/// Zeros `dst[at ..][.. n]` in whole vectors, possibly running past `at + n` like [`copy_over`].
#[inline(always)]
pub(crate) fn zero_over<S: Simd>(s: S, dst: &mut [f32], at: usize, n: usize) {
    let l = S::LANES;
    let mut i = 0;
    while i < n && at + i + l <= dst.len() {
        // SAFETY: `at + i + l <= dst.len()` (loop condition).
        unsafe { s.store(dst.as_mut_ptr().add(at + i), s.zero()) };
        i += l;
    }
    if i < n {
        dst[at + i..at + n].fill(0.0);
    }
}
