//! The avx512 tier: `__m512` (16 lanes) with FMA and mask registers, through `std::arch`.

use std::arch::x86_64::*;

use crate::simd::Simd;

/// Proof that this CPU has AVX-512F, AVX2 and FMA: only [`Avx512::new`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avx512(());

impl Avx512 {
    /// `Some` if the CPU has AVX-512F, AVX2 and FMA.
    pub fn new() -> Option<Self> {
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            Some(Avx512(()))
        } else {
            None
        }
    }
}

/// The mask with the low `n` of 16 bits set.
#[inline(always)]
fn lane_mask(n: usize) -> __mmask16 {
    ((1u32 << n.min(16)) - 1) as __mmask16
}

impl Simd for Avx512 {
    const LANES: usize = 16;
    type V = __m512;

    #[inline(always)]
    fn name(self) -> &'static str {
        "avx512"
    }
    #[inline(always)]
    fn zero(self) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn fma(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present. vmaxps returns the second operand on
        // NaN or equal, the documented semantics.
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512F is present.
        unsafe { _mm512_min_ps(a, b) }
    }
    #[inline(always)]
    fn prefetch(self, p: *const f32) {
        // SAFETY: prefetcht0 (SSE, present on every x86-64) never faults, whatever `p` is.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline(always)]
    fn deinterleave(self, a: __m512, b: __m512) -> (__m512, __m512) {
        // SAFETY: `self` proves AVX-512F is present. vpermt2ps indexes the 32 floats of
        // [a, b] (0..15 from a, 16..31 from b).
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            (_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b))
        }
    }
    #[inline(always)]
    fn interleave(self, a: __m512, b: __m512) -> (__m512, __m512) {
        // SAFETY: `self` proves AVX-512F is present. vpermt2ps picks from the 32 floats of
        // [a, b] (0..15 from a, 16..31 from b).
        unsafe {
            let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            let hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            (_mm512_permutex2var_ps(a, lo, b), _mm512_permutex2var_ps(a, hi, b))
        }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        // SAFETY: AVX-512F is present; the caller guarantees 16 readable floats at `p`.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        // SAFETY: AVX-512F is present; the caller guarantees 16 writable floats at `p`.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn load_partial(self, p: *const f32, n: usize) -> __m512 {
        // SAFETY: AVX-512F is present; masked-off lanes are neither read nor fault, and the
        // caller guarantees lanes `< n` readable.
        unsafe { _mm512_maskz_loadu_ps(lane_mask(n), p) }
    }
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize, v: __m512) {
        // SAFETY: AVX-512F is present; only lanes `< n` are written, which the caller
        // guarantees writable.
        unsafe { _mm512_mask_storeu_ps(p, lane_mask(n), v) }
    }
    #[inline(always)]
    unsafe fn store_high_partial(self, p: *mut f32, n: usize, v: __m512) {
        // SAFETY: AVX-512F is present. A masked store from 8 floats before `p` with only lanes
        // `8 .. 8 + n` enabled writes exactly `p .. p + n`, which the caller guarantees
        // writable: masked-off lanes are never accessed (no write, no fault), so the base may
        // lie outside the allocation (formed with `wrapping_sub`, never dereferenced). One
        // store, where extracting the half first took a shuffle-port uop too.
        unsafe { _mm512_mask_storeu_ps(p.wrapping_sub(8), lane_mask(n.min(8)) << 8, v) }
    }
}
