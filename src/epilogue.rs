//! Bias and activation applied to a finished output tile while it is still in registers.
//!
//! The order is fixed for every backend: the full reduction, then `+ bias`, then the
//! activation ([`Activation::apply`] semantics, lane for lane). No bias means no addition
//! (so a `-0.0` sum stays `-0.0`, as in naive).
#![forbid(unsafe_code)]

use crate::problem::Activation;
use crate::simd::Simd;

/// What happens to a finished accumulator before it is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Epilogue<'a> {
    /// Per-output-channel bias, indexed by absolute output channel.
    pub bias: Option<&'a [f32]>,
    /// The activation as bounds: every activation is `min(hi, max(lo, x))` with x86 max/min
    /// semantics (`None`: -inf, +inf; `Relu`: 0, +inf), so it costs no branch per vector and
    /// NaN and signed zeros come out exactly as [`Activation::apply`] gives them.
    lo: f32,
    hi: f32,
}

impl<'a> Epilogue<'a> {
    pub(crate) fn new(bias: Option<&'a [f32]>, activation: Activation) -> Self {
        let (lo, hi) = activation.bounds();
        Epilogue { bias, lo, hi }
    }

    /// This epilogue with its activation bounds read afresh, here ([`crate::simd::opaque`]):
    /// a kernel calls it after its reduction loop, so the bounds' vectors cannot be hoisted
    /// above the loop, where they would hold two registers its accumulators need.
    #[inline(always)]
    pub(crate) fn pinned(&self) -> Epilogue<'a> {
        Epilogue { bias: self.bias, lo: crate::simd::opaque(&self.lo), hi: crate::simd::opaque(&self.hi) }
    }

    /// The bias of output channel `k` (0 when there is none; callers use [`Self::has_bias`]).
    #[inline(always)]
    pub(crate) fn bias_of(&self, k: usize) -> f32 {
        match self.bias {
            Some(b) => b[k],
            None => 0.0,
        }
    }

    #[inline(always)]
    pub(crate) fn has_bias(&self) -> bool {
        self.bias.is_some()
    }

    /// `act(v + bias)` for a vector of lanes belonging to consecutive channels, with the bias
    /// vector already loaded (`None` if there is no bias).
    #[inline(always)]
    pub(crate) fn apply_with<S: Simd>(&self, s: S, v: S::V, bias: Option<S::V>) -> S::V {
        let v = match bias {
            Some(b) => s.add(v, b),
            None => v,
        };
        self.activate(s, v)
    }

    /// The activation alone.
    #[inline(always)]
    pub(crate) fn activate<S: Simd>(&self, s: S, v: S::V) -> S::V {
        s.min(s.splat(self.hi), s.max(s.splat(self.lo), v))
    }

    /// Scalar form, for code that finishes one value at a time.
    #[inline(always)]
    pub(crate) fn apply_scalar(&self, v: f32, k: usize) -> f32 {
        let v = match self.bias {
            Some(b) => v + b[k],
            None => v,
        };
        let t = if self.lo > v { self.lo } else { v };
        if self.hi < t { self.hi } else { t }
    }
}
