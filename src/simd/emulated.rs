//! Test-only lane-emulating tiers (feature `testing`): `[f32; N]` vectors in plain Rust.
//!
//! `Emulated<8>` and `Emulated<16>` run every kernel with exactly the avx2 and avx512 tiers'
//! lane counts and register tiles, so the tile logic of those tiers (tails, masks, packing
//! geometry) is checked against scalar on any machine, including one without AVX-512.
//! `fma` rounds twice, like scalar.

use super::Simd;

/// An `N`-lane vector tier built from plain arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Emulated<const N: usize>;

impl<const N: usize> Simd for Emulated<N> {
    const LANES: usize = N;
    type V = [f32; N];

    #[inline(always)]
    fn name(self) -> &'static str {
        match N {
            8 => "emu8",
            16 => "emu16",
            _ => "emu",
        }
    }
    #[inline(always)]
    fn zero(self) -> [f32; N] {
        [0.0; N]
    }
    #[inline(always)]
    fn splat(self, x: f32) -> [f32; N] {
        [x; N]
    }
    #[inline(always)]
    fn add(self, a: [f32; N], b: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    fn sub(self, a: [f32; N], b: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| a[i] - b[i])
    }
    #[inline(always)]
    fn mul(self, a: [f32; N], b: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| a[i] * b[i])
    }
    #[inline(always)]
    fn fma(self, a: [f32; N], b: [f32; N], c: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| a[i] * b[i] + c[i])
    }
    #[inline(always)]
    fn max(self, a: [f32; N], b: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| if a[i] > b[i] { a[i] } else { b[i] })
    }
    #[inline(always)]
    fn min(self, a: [f32; N], b: [f32; N]) -> [f32; N] {
        std::array::from_fn(|i| if a[i] < b[i] { a[i] } else { b[i] })
    }
    #[inline(always)]
    fn deinterleave(self, a: [f32; N], b: [f32; N]) -> ([f32; N], [f32; N]) {
        let pick = |i: usize| if i < N { a[i] } else { b[i - N] };
        (std::array::from_fn(|i| pick(2 * i)), std::array::from_fn(|i| pick(2 * i + 1)))
    }
    #[inline(always)]
    fn interleave(self, a: [f32; N], b: [f32; N]) -> ([f32; N], [f32; N]) {
        let at = |i: usize| if i.is_multiple_of(2) { a[i / 2] } else { b[i / 2] };
        (std::array::from_fn(at), std::array::from_fn(|i| at(N + i)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> [f32; N] {
        // SAFETY: the caller guarantees N readable floats at `p`.
        unsafe { (p as *const [f32; N]).read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: [f32; N]) {
        // SAFETY: the caller guarantees N writable floats at `p`.
        unsafe { (p as *mut [f32; N]).write_unaligned(v) }
    }
    #[inline(always)]
    unsafe fn load_partial(self, p: *const f32, n: usize) -> [f32; N] {
        let mut a = [0.0f32; N];
        for (i, slot) in a.iter_mut().enumerate().take(n.min(N)) {
            // SAFETY: `i < n`, and `p .. p + n` is readable by the caller's guarantee.
            *slot = unsafe { p.add(i).read_unaligned() };
        }
        a
    }
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize, v: [f32; N]) {
        for (i, x) in v.iter().enumerate().take(n.min(N)) {
            // SAFETY: `i < n`, and `p .. p + n` is writable by the caller's guarantee.
            unsafe { p.add(i).write_unaligned(*x) };
        }
    }
}
