//! The portable tier: `wide::f32x4`, whose implementation `wide` picks when it is compiled
//! (SSE2 on baseline x86-64, NEON on aarch64, plain arrays elsewhere). No runtime detection:
//! it is always available. `fma` is `a * b + c` with two roundings unless the build target
//! itself has FMA.

use wide::f32x4;

use super::Simd;

/// The portable tier (always available).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Portable;

impl Simd for Portable {
    const LANES: usize = 4;
    type V = f32x4;

    #[inline(always)]
    fn name(self) -> &'static str {
        "portable"
    }
    #[inline(always)]
    fn zero(self) -> f32x4 {
        f32x4::ZERO
    }
    #[inline(always)]
    fn splat(self, x: f32) -> f32x4 {
        f32x4::splat(x)
    }
    #[inline(always)]
    fn add(self, a: f32x4, b: f32x4) -> f32x4 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x4, b: f32x4) -> f32x4 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x4, b: f32x4) -> f32x4 {
        a * b
    }
    #[inline(always)]
    fn fma(self, a: f32x4, b: f32x4, c: f32x4) -> f32x4 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn max(self, a: f32x4, b: f32x4) -> f32x4 {
        // Spelled as a select so NaN handling is x86's on every architecture.
        a.simd_gt(b).bitselect(a, b)
    }
    #[inline(always)]
    fn min(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_lt(b).bitselect(a, b)
    }
    #[inline(always)]
    fn deinterleave(self, a: f32x4, b: f32x4) -> (f32x4, f32x4) {
        let (a, b) = (a.to_array(), b.to_array());
        (f32x4::from([a[0], a[2], b[0], b[2]]), f32x4::from([a[1], a[3], b[1], b[3]]))
    }
    #[inline(always)]
    fn interleave(self, a: f32x4, b: f32x4) -> (f32x4, f32x4) {
        let (a, b) = (a.to_array(), b.to_array());
        (f32x4::from([a[0], b[0], a[1], b[1]]), f32x4::from([a[2], b[2], a[3], b[3]]))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> f32x4 {
        // SAFETY: the caller guarantees 4 readable floats at `p`; read_unaligned has no
        // alignment requirement.
        f32x4::from(unsafe { (p as *const [f32; 4]).read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: f32x4) {
        // SAFETY: the caller guarantees 4 writable floats at `p`.
        unsafe { (p as *mut [f32; 4]).write_unaligned(v.to_array()) }
    }
    #[inline(always)]
    unsafe fn load_partial(self, p: *const f32, n: usize) -> f32x4 {
        let mut a = [0.0f32; 4];
        for (i, slot) in a.iter_mut().enumerate().take(n.min(4)) {
            // SAFETY: `i < n` and the caller guarantees `p .. p + n` readable.
            *slot = unsafe { p.add(i).read_unaligned() };
        }
        f32x4::from(a)
    }
    #[inline(always)]
    unsafe fn store_partial(self, p: *mut f32, n: usize, v: f32x4) {
        let a = v.to_array();
        for (i, x) in a.iter().enumerate().take(n.min(4)) {
            // SAFETY: `i < n` and the caller guarantees `p .. p + n` writable.
            unsafe { p.add(i).write_unaligned(*x) };
        }
    }
}
