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
    // Whole vectors that fit in both slices, counted once (no bounds tests in the loop).
    let room = dst.len().saturating_sub(at).min(src.len().saturating_sub(src_at));
    let vectors = n.div_ceil(l).min(room / l);
    let (d, sp) = (dst.as_mut_ptr().wrapping_add(at), src.as_ptr().wrapping_add(src_at));
    for v in 0..vectors {
        // SAFETY: `v * l + l <= room`: inside both slices.
        unsafe { s.store(d.add(v * l), s.load(sp.add(v * l))) };
    }
    let done = vectors * l;
    if done < n {
        dst[at + done..at + n].copy_from_slice(&src[src_at + done..src_at + n]);
    }
}

/// Zeros `dst[at ..][.. n]` in whole vectors, possibly running past `at + n` like [`copy_over`].
#[inline(always)]
pub(crate) fn zero_over<S: Simd>(s: S, dst: &mut [f32], at: usize, n: usize) {
    let l = S::LANES;
    let vectors = n.div_ceil(l).min(dst.len().saturating_sub(at) / l);
    let d = dst.as_mut_ptr().wrapping_add(at);
    let z = s.zero();
    // SAFETY (all stores): `at + v * l + l <= dst.len()` for `v < vectors`.
    unsafe {
        // Short fills (a row's padding, the usual case) as straight-line stores: LLVM turns
        // the loop below into a `memset` call, which cost 5% of a depthwise layer whose rows
        // have one or two vectors of padding.
        if vectors <= 2 {
            if vectors > 0 {
                s.store(d, z);
            }
            if vectors > 1 {
                s.store(d.add(l), z);
            }
        } else {
            for v in 0..vectors {
                s.store(d.add(v * l), z);
            }
        }
    }
    let done = vectors * l;
    if done < n {
        dst[at + done..at + n].fill(0.0);
    }
}

/// Copies exactly `src[src_at ..][.. n]` to `dst[at ..][.. n]`, writing nothing outside it: whole
/// vectors, the last one ending at `n` and overlapping its predecessor (rows shorter than a
/// vector go element by element). For buffers whose surroundings must stay as they are (the
/// zero padding the depthwise plane keeps from one task to the next).
#[inline(always)]
pub(crate) fn copy_exact<S: Simd>(s: S, dst: &mut [f32], at: usize, src: &[f32], src_at: usize, n: usize) {
    let l = S::LANES;
    let (d, x) = (&mut dst[at..at + n], &src[src_at..src_at + n]);
    if n < l {
        d.copy_from_slice(x);
        return;
    }
    // SAFETY: both subslices hold exactly `n` floats and do not overlap (`&mut` and `&`).
    unsafe { copy_exact_raw(s, d.as_mut_ptr(), x.as_ptr(), n) }
}

/// [`copy_exact`] on raw pointers, for a destination that the caller also reads through a
/// raw pointer (the depthwise plane filled row by row while its kernel runs).
///
/// # Safety
/// `src .. src + n` readable, `dst .. dst + n` writable, the two not overlapping.
#[inline(always)]
pub(crate) unsafe fn copy_exact_raw<S: Simd>(s: S, dst: *mut f32, src: *const f32, n: usize) {
    let l = S::LANES;
    // SAFETY (all): the caller's contract; `i + l <= n` and `n - l + l == n`.
    unsafe {
        if n < l {
            std::ptr::copy_nonoverlapping(src, dst, n);
            return;
        }
        let mut i = 0;
        while i + l < n {
            s.store(dst.add(i), s.load(src.add(i)));
            i += l;
        }
        s.store(dst.add(n - l), s.load(src.add(n - l)));
    }
}
