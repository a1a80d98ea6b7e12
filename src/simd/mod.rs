//! The vector vocabulary every kernel is written in, and the dispatch that instantiates a
//! kernel once per ISA tier.
//!
//! A kernel is written **once**, generic over [`Simd`] with its register tile as const
//! generics, as a type implementing [`WithSimd`]. The `dispatch!` macro's helpers
//! ([`run_scalar`], [`run_portable`], `run_avx2`, `run_avx512`) call it inside a thin
//! `#[target_feature]` entry point, so the trait's `#[inline(always)]` operations inline into
//! code compiled for that ISA and the hot loop holds no calls. The x86 tiers are reachable only
//! through a detection token ([`Avx2`], [`Avx512`]): holding one proves the CPU has the
//! features, which is what makes their safe methods sound.
//!
//! # Semantics shared by every tier
//! * `fma(a, b, c) = a * b + c`, fused on `avx2` and `avx512`, two roundings on `scalar` and
//!   `portable` (so integer-valued data gives identical results everywhere).
//! * `max(a, b) = if a > b { a } else { b }` and `min(a, b) = if a < b { a } else { b }`
//!   lane-wise: x86 `maxps`/`minps` semantics (a NaN in either operand yields `b`).
//! * `load_partial(p, n)` reads exactly `n <= LANES` floats and zero-fills the rest;
//!   `store_partial(p, n, v)` writes exactly `n` floats. Neither touches memory past `p + n`.
//!
//! # Checking the instantiations in a disassembly
//! The tier entry points are `convkit::simd::x86_64::avx2_fma_entry` and
//! `convkit::simd::x86_64::avx512f_entry`, generic over the kernel; every kernel's loops are
//! inlined into them. To see that the avx512 instantiation of the GEMM micro-kernel emits
//! `vfmadd231ps zmm` and the avx2 one `vfmadd231ps ymm`, with no calls in the loop:
//! ```text
//! cargo rustc --release --lib -- --emit asm -C debuginfo=0
//! f=$(ls target/release/deps/convkit-*.s | head -1)
//! awk '/^_ZN.*avx512f_entry.*:$/,/\.cfi_endproc/' $f | grep -c 'vfmadd...ps.*zmm'
//! awk '/^_ZN.*avx2_fma_entry.*:$/,/\.cfi_endproc/' $f | grep -c 'vfmadd...ps.*ymm'
//! ```
//! `tests/disassembly.rs` runs exactly this check (it is `#[ignore]`d by default because it
//! rebuilds the crate; CI runs it).

use crate::isa::Isa;

mod portable;
pub(crate) mod rows;
mod scalar;
pub(crate) mod transpose;
pub use portable::Portable;
pub use scalar::Scalar;

#[cfg(feature = "testing")]
mod emulated;
#[cfg(feature = "testing")]
pub use emulated::Emulated;

cfg_if::cfg_if! {
    if #[cfg(target_arch = "x86_64")] {
        pub mod x86_64;
        pub use x86_64::{Avx2, Avx512};
    } else {
        /// Placeholder token: AVX2 does not exist on this architecture; `new()` is always `None`.
        #[derive(Clone, Copy, Debug)]
        pub struct Avx2(());
        impl Avx2 { /// Always `None` off x86-64.
            pub fn new() -> Option<Self> { None } }
        /// Placeholder token: AVX-512 does not exist on this architecture; `new()` is always `None`.
        #[derive(Clone, Copy, Debug)]
        pub struct Avx512(());
        impl Avx512 { /// Always `None` off x86-64.
            pub fn new() -> Option<Self> { None } }
    }
}

/// A tier's vector vocabulary. Every method is `#[inline(always)]` in every implementation.
///
/// ```
/// use convkit::simd::{Scalar, Simd};
/// let s = Scalar;
/// let v = s.fma(s.splat(2.0), s.splat(3.0), s.splat(1.0));
/// let mut out = [0.0f32; 1];
/// s.store_slice(v, &mut out);
/// assert_eq!(out, [7.0]);
/// ```
pub trait Simd: Copy + Send + Sync + 'static {
    /// f32 lanes per vector.
    const LANES: usize;
    /// The vector type.
    type V: Copy;

    /// Tier name used in kernel names: `scalar`, `portable`, `avx2`, `avx512` (or `emu8`,
    /// `emu16` for the lane-emulating test tiers).
    fn name(self) -> &'static str;
    /// All lanes zero.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: f32) -> Self::V;
    /// `a + b`.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`.
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `if a > b { a } else { b }` per lane.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a < b { a } else { b }` per lane.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// Reads `LANES` floats from `p` (any alignment).
    ///
    /// # Safety
    /// `p .. p + LANES` must be readable.
    unsafe fn load(self, p: *const f32) -> Self::V;
    /// Writes `LANES` floats to `p` (any alignment).
    ///
    /// # Safety
    /// `p .. p + LANES` must be writable.
    unsafe fn store(self, p: *mut f32, v: Self::V);
    /// Reads `n` floats (`n <= LANES`), zero-filling the other lanes.
    ///
    /// # Safety
    /// `p .. p + n` must be readable and `n <= LANES`.
    unsafe fn load_partial(self, p: *const f32, n: usize) -> Self::V;
    /// Writes the first `n` lanes (`n <= LANES`) to `p .. p + n`.
    ///
    /// # Safety
    /// `p .. p + n` must be writable and `n <= LANES`.
    unsafe fn store_partial(self, p: *mut f32, n: usize, v: Self::V);

    /// Writes `n` lanes from the upper half, `LANES / 2 .. LANES / 2 + n`, to `p .. p + n`
    /// (`n <= LANES / 2`; nothing for one lane).
    ///
    /// # Safety
    /// `p .. p + n` must be writable and `n <= LANES / 2`.
    #[inline(always)]
    unsafe fn store_high_partial(self, p: *mut f32, n: usize, v: Self::V) {
        let l = Self::LANES;
        assert!(l <= transpose::MAX_LANES && n <= l / 2, "vectors of at most MAX_LANES lanes, n at most half");
        let mut buf = [0.0f32; transpose::MAX_LANES];
        // SAFETY: `buf` holds `MAX_LANES >= LANES` floats.
        unsafe { self.store(buf.as_mut_ptr(), v) };
        for (i, x) in buf[l / 2..l / 2 + n].iter().enumerate() {
            // SAFETY: `i < n` floats from `p` are writable (the caller's contract).
            unsafe { p.add(i).write(*x) };
        }
    }

    /// Hints that the cache line holding `p` will be read soon. Never faults (any address is
    /// fine); a no-op on tiers without prefetch instructions.
    #[inline(always)]
    fn prefetch(self, p: *const f32) {
        let _ = p;
    }

    /// Splits the `2 * LANES` floats `[a, b]` into even and odd positions:
    /// `([a0, a2, .., b0, b2, ..], [a1, a3, .., b1, b3, ..])`.
    fn deinterleave(self, a: Self::V, b: Self::V) -> (Self::V, Self::V);

    /// The inverse of [`Simd::deinterleave`]: `([a0, b0, a1, b1, ..], [.., a(L-1), b(L-1)])`,
    /// the first and second halves of the `2 * LANES` floats alternating `a` and `b`.
    fn interleave(self, a: Self::V, b: Self::V) -> (Self::V, Self::V);

    /// `splat(*p)`.
    ///
    /// # Safety
    /// `p` must be readable.
    #[inline(always)]
    unsafe fn broadcast(self, p: *const f32) -> Self::V {
        // SAFETY: the caller guarantees `p` is readable.
        self.splat(unsafe { *p })
    }

    /// Reads `min(src.len(), LANES)` floats, zero-filling the rest. Safe.
    #[inline(always)]
    fn load_slice(self, src: &[f32]) -> Self::V {
        let n = src.len().min(Self::LANES);
        // SAFETY: `n <= src.len()` floats are read and `n <= LANES`.
        unsafe { self.load_partial(src.as_ptr(), n) }
    }

    /// Writes `min(dst.len(), LANES)` lanes. Safe.
    #[inline(always)]
    fn store_slice(self, v: Self::V, dst: &mut [f32]) {
        let n = dst.len().min(Self::LANES);
        // SAFETY: `n <= dst.len()` floats are written and `n <= LANES`.
        unsafe { self.store_partial(dst.as_mut_ptr(), n, v) }
    }
}

/// A kernel written once over [`Simd`]: `with_simd` must be `#[inline(always)]` so that it
/// compiles inside the tier's `#[target_feature]` entry point.
pub trait WithSimd {
    /// What the kernel returns.
    type Output;
    /// Runs the kernel with the tier's vector vocabulary.
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output;
}

/// `*x`, read where the call stands: a volatile read, which LLVM neither hoists out of a loop
/// nor merges with another read. A kernel's epilogue reads its activation bounds so
/// ([`Epilogue::pinned`](crate::epilogue::Epilogue)): hoisted above the reduction loop, the
/// two splatted bounds took two of the 16 ymm registers for the whole loop and the GEMM's
/// twelfth accumulator went to the stack (a load and a store per reduction step: sgemm
/// 1024^3 at half speed, 2026-12-07, Zen 3).
#[inline(always)]
pub(crate) fn opaque(x: &f32) -> f32 {
    // SAFETY: a reference is valid, aligned and initialized for a read.
    unsafe { std::ptr::read_volatile(x) }
}

/// Runs `op` on the scalar tier.
#[inline]
pub fn run_scalar<Op: WithSimd>(op: Op) -> Op::Output {
    op.with_simd(Scalar)
}

/// Runs `op` on the portable (`wide`) tier.
#[inline]
pub fn run_portable<Op: WithSimd>(op: Op) -> Op::Output {
    op.with_simd(Portable)
}

/// The tier a plan runs on, fixed at plan time. The x86 variants hold their detection token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    Scalar,
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2),
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512),
    /// Test-only: plain arrays of 8 lanes, with the avx2 tier's tiles.
    #[cfg(feature = "testing")]
    Emu8,
    /// Test-only: plain arrays of 16 lanes, with the avx512 tier's tiles.
    #[cfg(feature = "testing")]
    Emu16,
}

impl Tier {
    /// The tier for `isa`, if this CPU has it.
    pub(crate) fn for_isa(isa: Isa) -> Option<Tier> {
        match isa {
            Isa::Scalar => Some(Tier::Scalar),
            Isa::Portable => Some(Tier::Portable),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Avx2::new().map(Tier::Avx2),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Avx512::new().map(Tier::Avx512),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }

    /// The ISA this tier reports (emulated tiers report the ISA whose tiles they mimic).
    pub(crate) fn isa(self) -> Isa {
        match self {
            Tier::Scalar => Isa::Scalar,
            Tier::Portable => Isa::Portable,
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2(_) => Isa::Avx2,
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512(_) => Isa::Avx512,
            #[cfg(feature = "testing")]
            Tier::Emu8 => Isa::Avx2,
            #[cfg(feature = "testing")]
            Tier::Emu16 => Isa::Avx512,
        }
    }

    /// f32 lanes per vector of this tier.
    pub(crate) fn lanes(self) -> usize {
        match self {
            Tier::Scalar => Scalar::LANES,
            Tier::Portable => Portable::LANES,
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2(_) => Avx2::LANES,
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512(_) => Avx512::LANES,
            #[cfg(feature = "testing")]
            Tier::Emu8 => 8,
            #[cfg(feature = "testing")]
            Tier::Emu16 => 16,
        }
    }

    /// Name used in kernel names: the ISA name, or `emu8` / `emu16`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "testing")]
            Tier::Emu8 => "emu8",
            #[cfg(feature = "testing")]
            Tier::Emu16 => "emu16",
            other => other.isa().name(),
        }
    }

    /// Counts one run of this tier's kernels (emulated tiers are not counted).
    pub(crate) fn record_run(self) {
        match self {
            #[cfg(feature = "testing")]
            Tier::Emu8 | Tier::Emu16 => {}
            other => crate::isa::record_run(other.isa()),
        }
    }
}

/// Instantiates a [`WithSimd`] kernel type once per tier and runs it on `$tier`.
///
/// `$op` is a tuple-struct kernel generic over its tile (const generics); each tier names its
/// tile. The emulated test tiers reuse the avx2 and avx512 tiles, so the exact tile shapes of
/// the x86 tiers run (and are checked against scalar) on any machine.
///
/// ```ignore
/// dispatch!(tier, GemmBlock<scalar: 4, 2; portable: 6, 2; avx2: 6, 2; avx512: 6, 4>(args))
/// ```
macro_rules! dispatch {
    ($tier:expr, $op:ident < scalar: $($sc:tt),+ ; portable: $($pc:tt),+ ; avx2: $($a2:tt),+ ; avx512: $($a5:tt),+ $(;)? > ( $($arg:expr),* $(,)? )) => {{
        #[allow(unused_imports)]
        use $crate::simd::{Tier, WithSimd};
        match $tier {
            Tier::Scalar => $crate::simd::run_scalar($op::<$($sc),+>($($arg),*)),
            Tier::Portable => $crate::simd::run_portable($op::<$($pc),+>($($arg),*)),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2(t) => $crate::simd::x86_64::run_avx2(t, $op::<$($a2),+>($($arg),*)),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512(t) => $crate::simd::x86_64::run_avx512(t, $op::<$($a5),+>($($arg),*)),
            #[cfg(feature = "testing")]
            Tier::Emu8 => $op::<$($a2),+>($($arg),*).with_simd($crate::simd::Emulated::<8>),
            #[cfg(feature = "testing")]
            Tier::Emu16 => $op::<$($a5),+>($($arg),*).with_simd($crate::simd::Emulated::<16>),
        }
    }};
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    struct Lanes;
    impl WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            S::LANES
        }
    }

    #[test]
    fn tiers_report_their_lanes() {
        assert_eq!(run_scalar(Lanes), 1);
        assert_eq!(run_portable(Lanes), 4);
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = Avx2::new() {
            assert_eq!(x86_64::run_avx2(t, Lanes), 8);
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = Avx512::new() {
            assert_eq!(x86_64::run_avx512(t, Lanes), 16);
        }
    }
}
