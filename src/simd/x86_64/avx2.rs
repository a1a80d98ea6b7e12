//! The avx2 tier: `__m256` (8 lanes) with FMA, through `std::arch`.

use std::arch::x86_64::*;

use crate::simd::Simd;

/// Proof that this CPU has AVX2 and FMA: only [`Avx2::new`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avx2(());

impl Avx2 {
    /// `Some` if the CPU has AVX2 and FMA.
    pub fn new() -> Option<Self> {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") { Some(Avx2(())) } else { None }
    }
}

#[inline(always)]
fn lane_mask(n: usize) -> __m256i {
    // SAFETY (all intrinsics below): an `Avx2` value exists, so AVX2 is present.
    unsafe { _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)) }
}

impl Simd for Avx2 {
    const LANES: usize = 8;
    type V = __m256;

    #[inline(always)]
    fn name(self) -> &'static str {
        "avx2"
    }
    #[inline(always)]
    fn zero(self) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn fma(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: `self` proves FMA is present.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: `self` proves AVX is present. maxps returns `b` on NaN or equal: the
        // documented semantics.
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: `self` proves AVX is present.
        unsafe { _mm256_min_ps(a, b) }
    }
    #[inline(always)]
    fn prefetch(self, p: *const f32) {
        // SAFETY: prefetcht0 (SSE, present on every x86-64) never faults, whatever `p` is.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline(always)]
    fn deinterleave(self, a: __m256, b: __m256) -> (__m256, __m256) {
        // SAFETY: `self` proves AVX2 is present. Per 128-bit lane, shufps picks
        // [a0 a2 b0 b2] (0x88) and [a1 a3 b1 b3] (0xDD); vpermpd 0xD8 then orders the 64-bit
        // pairs (a_lo, b_lo, a_hi, b_hi) as (a_lo, a_hi, b_lo, b_hi).
        unsafe {
            let even = _mm256_shuffle_ps::<0x88>(a, b);
            let odd = _mm256_shuffle_ps::<0xDD>(a, b);
            (
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(even))),
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(odd))),
            )
        }
    }
    #[inline(always)]
    fn interleave(self, a: __m256, b: __m256) -> (__m256, __m256) {
        // SAFETY: `self` proves AVX is present. unpack{lo,hi} interleave within 128-bit lanes
        // ([a0 b0 a1 b1 | a4 b4 a5 b5] and [a2 b2 a3 b3 | a6 b6 a7 b7]); vperm2f128 then takes
        // the low lanes (0x20) and the high lanes (0x31) of the pair.
        unsafe {
            let lo = _mm256_unpacklo_ps(a, b);
            let hi = _mm256_unpackhi_ps(a, b);
            (_mm256_permute2f128_ps::<0x20>(lo, hi), _mm256_permute2f128_ps::<0x31>(lo, hi))
        }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        // SAFETY: AVX is present; the caller guarantees 8 readable floats at `p`.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        // SAFETY: AVX is present; the caller guarantees 8 writable floats at `p`.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn load_partial(self, p: *const f32, n: usize) -> __m256 {
        // SAFETY: AVX is present; vmaskmovps reads only lanes `< n` (masked lanes never
        // fault), which the caller guarantees readable.
        unsafe { _mm256_maskload_ps(p, lane_mask(n)) }
    }
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize, v: __m256) {
        // SAFETY: AVX is present; vmaskmovps writes only lanes `< n`, which the caller
        // guarantees writable.
        unsafe { _mm256_maskstore_ps(p, lane_mask(n), v) }
    }
    #[inline(always)]
    unsafe fn store_high_partial(self, p: *mut f32, n: usize, v: __m256) {
        if n >= 4 {
            // SAFETY: AVX is present; `n <= 4` (the caller's contract), so 4 writable floats.
            unsafe { _mm_storeu_ps(p, _mm256_extractf128_ps::<1>(v)) }
        } else {
            // SAFETY: AVX is present; vmaskmovps writes only lanes `< n` of the upper half,
            // which the caller guarantees writable (masked lanes are never accessed).
            unsafe { _mm_maskstore_ps(p, _mm256_castsi256_si128(lane_mask(n)), _mm256_extractf128_ps::<1>(v)) }
        }
    }
    #[inline(always)]
    unsafe fn broadcast(self, p: *const f32) -> __m256 {
        // SAFETY: AVX is present; the caller guarantees `p` readable.
        unsafe { _mm256_broadcast_ss(&*p) }
    }
}
