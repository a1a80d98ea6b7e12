//! `Isa`: the instruction-set tiers convkit dispatches between, detected once and cached,
//! capped by the `CONVKIT_MAX_ISA` environment variable (read once), plus per-tier counters
//! that prove which tier's kernels actually ran.
//!
//! | tier | vectors | kernels compiled with |
//! |---|---|---|
//! | `scalar` | `f32` | baseline, the twin every tier is tested against |
//! | `portable` | `wide::f32x4` (SSE2 on x86-64, NEON on aarch64) | baseline |
//! | `avx2` | `__m256` via `std::arch` | `#[target_feature(enable = "avx2,fma")]` |
//! | `avx512` | `__m512` via `std::arch` | `#[target_feature(enable = "avx512f,avx2,fma")]` |
#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ConvError;

/// The environment variable that caps the tier: `scalar`, `portable`, `avx2` or `avx512`.
/// Empty or unset means no cap. Any other value makes every plan fail with
/// [`ConvError::UnknownIsa`].
pub const MAX_ISA_ENV: &str = "CONVKIT_MAX_ISA";

/// An instruction-set tier, ordered from least to most capable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// Plain `f32` code.
    Scalar,
    /// 128-bit vectors through the `wide` crate, compiled for the build target's baseline.
    Portable,
    /// 256-bit AVX2 with FMA.
    Avx2,
    /// 512-bit AVX-512F.
    Avx512,
}

impl Isa {
    /// Every tier, lowest first.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// `scalar`, `portable`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn parse_from(value: &str, origin: &'static str) -> Result<Isa, ConvError> {
        Isa::ALL
            .into_iter()
            .find(|i| i.name() == value.trim().to_ascii_lowercase())
            .ok_or_else(|| ConvError::UnknownIsa { origin, value: value.to_string() })
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Isa {
    type Err = ConvError;
    /// ```
    /// assert_eq!("avx2".parse::<convkit::Isa>()?, convkit::Isa::Avx2);
    /// assert!("sse9".parse::<convkit::Isa>().unwrap_err().to_string().contains("scalar, portable, avx2, avx512"));
    /// # Ok::<(), convkit::ConvError>(())
    /// ```
    fn from_str(s: &str) -> Result<Isa, ConvError> {
        Isa::parse_from(s, "ISA name")
    }
}

/// The best tier this CPU supports (ignoring `CONVKIT_MAX_ISA`), detected once.
pub fn detected_isa() -> Isa {
    static DETECTED: OnceLock<Isa> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        cfg_if::cfg_if! {
            if #[cfg(target_arch = "x86_64")] {
                if crate::simd::Avx512::new().is_some() {
                    Isa::Avx512
                } else if crate::simd::Avx2::new().is_some() {
                    Isa::Avx2
                } else {
                    Isa::Portable
                }
            } else {
                Isa::Portable
            }
        }
    })
}

/// The cap set by `CONVKIT_MAX_ISA`, read once: `Ok(None)` when unset or empty.
pub fn max_isa_from_env() -> Result<Option<Isa>, ConvError> {
    static CAP: OnceLock<Result<Option<Isa>, ConvError>> = OnceLock::new();
    CAP.get_or_init(|| match std::env::var(MAX_ISA_ENV) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Isa::parse_from(&v, MAX_ISA_ENV).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(ConvError::UnknownIsa { origin: MAX_ISA_ENV, value: v.to_string_lossy().into_owned() })
        }
    })
    .clone()
}

/// The tier plans use by default: the detected tier, lowered to `CONVKIT_MAX_ISA` if set.
///
/// ```
/// let active = convkit::active_isa()?;
/// assert!(active <= convkit::detected_isa());
/// # Ok::<(), convkit::ConvError>(())
/// ```
pub fn active_isa() -> Result<Isa, ConvError> {
    let detected = detected_isa();
    Ok(match max_isa_from_env()? {
        Some(cap) => cap.min(detected),
        None => detected,
    })
}

/// Every tier a plan may use here: `scalar` up to [`active_isa`].
pub fn available_isas() -> Result<Vec<Isa>, ConvError> {
    let active = active_isa()?;
    Ok(Isa::ALL.into_iter().filter(|i| *i <= active).collect())
}

static RUNS: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// How many times kernels of tier `isa` have run in this process (one count per plan run or
/// kernel call batch). Tests use it to prove that a capped tier really ran.
pub fn kernel_runs(isa: Isa) -> u64 {
    RUNS[isa.index()].load(Ordering::Relaxed)
}

pub(crate) fn record_run(isa: Isa) {
    RUNS[isa.index()].fetch_add(1, Ordering::Relaxed);
}
