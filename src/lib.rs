//! # convkit
//!
//! SIMD-optimized CPU 2-D convolution (deep-learning cross-correlation) for f32 tensors in
//! NCHW layout with KCRS (OIHW) weights: stride, asymmetric padding, dilation, groups
//! (depthwise included), optional bias and a fused activation (ReLU, clamp / ReLU6).
//!
//! Several complete backends share one trait ([`Backend`] makes a [`Plan`], a plan runs):
//!
//! | backend | what it is |
//! |---|---|
//! | `naive` | the obvious loops: the reference every other backend is proven against |
//! | `im2col` | bounded patch lowering feeding convkit's own packed, cache-blocked SGEMM |
//! | `tiled` | register- and cache-tiled direct convolution, with a depthwise path |
//! | `winograd` | F(4x4, 3x3) / F(6x6, 3x3) for 3x3 stride-1 layers |
//! | `auto` | the fastest of the above for each problem, measured (and remembered) |
//!
//! Kernels are written once over the [`simd::Simd`] vector trait and instantiated per ISA
//! tier (`scalar`, `portable`, `avx2`, `avx512`); the tier is detected once
//! ([`detected_isa`]) and can be capped with `CONVKIT_MAX_ISA` ([`active_isa`]). Block and
//! band sizes follow the running machine's caches ([`caches::cache_sizes`]).
//!
//! ```
//! use convkit::{Activation, ConvProblem};
//! // A 7x7 image, one 3x3 feature detector, ReLU: a 5x5 feature map.
//! let p = ConvProblem::new(1, 1, 7, 7, 1, 3, 3).with_activation(Activation::Relu);
//! let image = vec![1.0f32; 49];
//! let detector = [1.0, 0.0, -1.0, 1.0, 0.0, -1.0, 1.0, 0.0, -1.0];
//! let map = convkit::conv2d(&p, &image, &detector, None)?;
//! assert_eq!(map.len(), 25);
//! assert!(map.iter().all(|&v| v == 0.0));
//! # Ok::<(), convkit::ConvError>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod auto;
pub mod backend;
pub(crate) mod buffer;
pub mod caches;
pub(crate) mod epilogue;
pub mod error;
pub mod gemm;
pub mod im2col;
pub mod isa;
pub mod naive;
pub mod problem;
pub mod simd;
pub mod suite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tiled;
pub mod timing;
pub mod winograd;

#[cfg(all(test, feature = "testing"))]
mod miri_tests;

/// The README's code samples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use auto::{Auto, AutoOptions, Wisdom};
pub use backend::{Backend, Plan, PlanOptions, backend, backend_names, backends};
pub use error::{ConvError, Unsupported};
pub use isa::{Isa, active_isa, available_isas, detected_isa, kernel_runs};
pub use problem::{Activation, Conv2dParams, ConvProblem, ConvShape, SamePadding};
pub use suite::{Layer, Suite};

/// One-shot convolution for people who just want an answer: plans with the `auto` backend
/// (its rules-based choice, no timing) and runs once, allocating the output.
///
/// For repeated calls, make a [`Plan`] once and call [`Plan::run`].
pub fn conv2d(problem: &ConvProblem, input: &[f32], weights: &[f32], bias: Option<&[f32]>) -> Result<Vec<f32>, ConvError> {
    let options = PlanOptions::default().with_auto(AutoOptions::rules_only());
    let plan = backend("auto")?.plan_with(problem, weights, bias, &options)?;
    plan.run_alloc(input)
}
