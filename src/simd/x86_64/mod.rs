//! The x86-64 tiers: detection tokens and the `#[target_feature]` entry points that every
//! kernel is instantiated inside. The vector types are `std::arch` intrinsics.

mod avx2;
mod avx512;

pub use avx2::Avx2;
pub use avx512::Avx512;

use super::WithSimd;

/// Entry point compiled with AVX2 and FMA: the kernel's loops inline here.
#[target_feature(enable = "avx2,fma")]
fn avx2_fma_entry<Op: WithSimd>(token: Avx2, op: Op) -> Op::Output {
    op.with_simd(token)
}

/// Entry point compiled with AVX-512F (plus AVX2 and FMA): the kernel's loops inline here.
#[target_feature(enable = "avx512f,avx2,fma")]
fn avx512f_entry<Op: WithSimd>(token: Avx512, op: Op) -> Op::Output {
    op.with_simd(token)
}

/// Runs `op` on the avx2 tier; the token proves the CPU has AVX2 and FMA.
#[inline]
pub fn run_avx2<Op: WithSimd>(token: Avx2, op: Op) -> Op::Output {
    // SAFETY: an `Avx2` token is only created after detecting avx2 and fma.
    unsafe { avx2_fma_entry(token, op) }
}

/// Runs `op` on the avx512 tier; the token proves the CPU has AVX-512F, AVX2 and FMA.
#[inline]
pub fn run_avx512<Op: WithSimd>(token: Avx512, op: Op) -> Op::Output {
    // SAFETY: an `Avx512` token is only created after detecting avx512f, avx2 and fma.
    unsafe { avx512f_entry(token, op) }
}
