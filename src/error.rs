//! `ConvError`: every way a call into convkit can be refused, one variant per kind of mistake.
//!
//! Each message names the field and the values involved, so a log line is enough to fix the
//! call: `groups 3 does not divide input channels 16`, `input has 100 elements, the problem
//! needs 12544`, `dilated kernel height 9 exceeds padded input height 7`.
#![forbid(unsafe_code)]

use crate::isa::Isa;

/// The error type of every fallible convkit operation.
///
/// ```
/// use convkit::{ConvError, ConvProblem};
/// let err = ConvProblem::new(1, 16, 8, 8, 16, 3, 3).with_groups(3).validate().unwrap_err();
/// assert_eq!(err.to_string(), "groups 3 does not divide input channels 16");
/// assert!(matches!(err, ConvError::GroupsDoNotDivide { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvError {
    /// A dimension, stride, dilation or group count is zero.
    #[error("{field} must be at least 1, got 0")]
    ZeroDimension {
        /// The field, e.g. `input height h`.
        field: &'static str,
    },
    /// A dimension or a buffer is larger than convkit's documented limits
    /// ([`crate::problem::MAX_DIM`], [`crate::problem::MAX_ELEMENTS`]).
    #[error("{field} {value} exceeds the limit {limit}")]
    TooLarge {
        /// What is too large.
        field: &'static str,
        /// Its value.
        value: u128,
        /// The largest value accepted.
        limit: u128,
    },
    /// A derived size does not fit in the integer type that holds it.
    #[error("{what} overflows")]
    Overflow {
        /// The quantity that overflowed, e.g. `FLOP count`.
        what: &'static str,
    },
    /// `groups` does not divide the input or the output channels.
    #[error("groups {groups} does not divide {field} {value}")]
    GroupsDoNotDivide {
        /// The group count.
        groups: usize,
        /// `input channels` or `output channels`.
        field: &'static str,
        /// The channel count.
        value: usize,
    },
    /// The dilated kernel is larger than the padded input: the output would be empty.
    #[error("dilated kernel {axis} {kernel} exceeds padded input {axis} {padded}")]
    KernelExceedsInput {
        /// `height` or `width`.
        axis: &'static str,
        /// `(r - 1) * dilation + 1` (or the same for `s`).
        kernel: usize,
        /// The input extent plus both paddings.
        padded: usize,
    },
    /// A clamp activation with `min > max` or a NaN bound.
    #[error("activation clamp min {min} max {max}: {reason}")]
    InvalidActivation {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A buffer handed to a plan has the wrong number of elements.
    #[error("{buffer} has {got} elements, the problem needs {need}")]
    LengthMismatch {
        /// `input`, `weights`, `bias` or `output`.
        buffer: &'static str,
        /// Elements given.
        got: usize,
        /// Elements required.
        need: usize,
    },
    /// The workspace handed to [`crate::Plan::run`] is smaller than one thread's share.
    #[error("workspace has {got} elements, the plan needs at least {need}")]
    WorkspaceTooSmall {
        /// Elements given.
        got: usize,
        /// Elements required.
        need: usize,
    },
    /// A bias was given for a problem without one, or none for a problem with one.
    #[error("the problem {expects} a bias, but {given}")]
    BiasMismatch {
        /// `has` or `has no`.
        expects: &'static str,
        /// `none was given` or `one was given`.
        given: &'static str,
    },
    /// A problem descriptor that does not parse.
    #[error("descriptor {descriptor:?}: {reason}")]
    Descriptor {
        /// The text given.
        descriptor: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A layer suite that cannot be read.
    #[error("suite {source_name}: {reason}")]
    Suite {
        /// File name or `embedded`.
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// One layer of a suite describes an invalid problem.
    #[error("layer {layer}: {error}")]
    Layer {
        /// The layer's name.
        layer: String,
        /// Why it is invalid.
        error: Box<ConvError>,
    },
    /// A backend name that is not in the registry.
    #[error("unknown backend {name:?}; known backends: {known}")]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The registry's names, comma separated.
        known: String,
    },
    /// An ISA name that is not one of `scalar`, `portable`, `avx2`, `avx512`.
    #[error("{origin} {value:?} is not an ISA; valid values: scalar, portable, avx2, avx512")]
    UnknownIsa {
        /// Where the value came from, e.g. `CONVKIT_MAX_ISA`.
        origin: &'static str,
        /// The value.
        value: String,
    },
    /// A plan asked for an ISA tier above what this CPU and `CONVKIT_MAX_ISA` allow.
    #[error("ISA {requested} is not available: this CPU and CONVKIT_MAX_ISA allow at most {active}")]
    IsaUnavailable {
        /// The tier asked for.
        requested: Isa,
        /// The highest tier allowed.
        active: Isa,
    },
    /// The backend cannot compute this (valid) problem.
    #[error("{0}")]
    Unsupported(#[from] Unsupported),
    /// A wisdom file that cannot be read or written.
    #[error("wisdom file {path}: {reason}")]
    Wisdom {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Why a backend declines a problem: returned by [`crate::Backend::supports`].
///
/// ```
/// use convkit::{Backend, ConvProblem, backend};
/// let p = ConvProblem::new(1, 8, 9, 9, 8, 5, 5);
/// let why = backend("winograd").unwrap().supports(&p).unwrap_err();
/// assert!(why.reason.contains("3x3"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("backend {backend} does not support this problem: {reason}")]
pub struct Unsupported {
    /// The backend that declined.
    pub backend: &'static str,
    /// Why, in words.
    pub reason: String,
}

impl Unsupported {
    /// A refusal by `backend` for `reason`.
    pub fn new(backend: &'static str, reason: impl Into<String>) -> Self {
        Unsupported { backend, reason: reason.into() }
    }
}
