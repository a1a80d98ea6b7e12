//! The shared trait every backend implements ([`Backend`] makes a [`Plan`]; a plan runs), the
//! options a plan is made with, and the registry of backends by name.
//!
//! Data flows one way: problem -> plan -> run -> kernels. A plan holds the validated shape,
//! the weights packed the way its kernels want them and the ISA tier chosen for this CPU; it
//! is immutable, `Send + Sync`, and many threads may run it at once. Threads come from the
//! caller's rayon pool (`pool.install(|| plan.run(..))`); work is split over output tiles only,
//! never over the reduction, so a plan's results are bitwise identical for any thread count.
#![forbid(unsafe_code)]

use crate::error::{ConvError, Unsupported};
use crate::isa::{self, Isa};
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::Tier;

/// A convolution algorithm.
///
/// ```
/// use convkit::{Backend, ConvProblem, backend};
/// let p = ConvProblem::new(1, 1, 4, 4, 1, 3, 3);
/// let plan = backend("im2col")?.plan(&p, &[1.0; 9], None)?;
/// let y = plan.run_alloc(&[1.0; 16])?;
/// assert_eq!(y, vec![9.0; 4]);
/// # Ok::<(), convkit::ConvError>(())
/// ```
pub trait Backend: Send + Sync {
    /// The registry name: `naive`, `im2col`, `tiled`, `winograd` or `auto`.
    fn name(&self) -> &'static str;

    /// Whether this backend can compute `problem`; if not, why. Never panics; an invalid
    /// problem is declined with the validation message.
    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported>;

    /// Validates the problem and the buffer lengths, packs the weights, picks the kernels for
    /// the tier in `options` (default: [`crate::active_isa`]) and returns the plan.
    fn plan_with(
        &self,
        problem: &ConvProblem,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: &PlanOptions,
    ) -> Result<Box<dyn Plan>, ConvError>;

    /// [`Backend::plan_with`] with default options.
    fn plan(&self, problem: &ConvProblem, weights: &[f32], bias: Option<&[f32]>) -> Result<Box<dyn Plan>, ConvError> {
        self.plan_with(problem, weights, bias, &PlanOptions::default())
    }
}

/// A problem bound to packed weights and chosen kernels, ready to run many times.
pub trait Plan: Send + Sync {
    /// The backend that made it.
    fn backend(&self) -> &'static str;
    /// The kernel it runs, e.g. `avx2_gemm_f32_6x16`: shown in bench labels and failures.
    fn kernel(&self) -> String;
    /// The ISA tier of its kernels.
    fn isa(&self) -> Isa;
    /// The problem it computes.
    fn problem(&self) -> &ConvProblem;
    /// The validated sizes of the problem.
    fn shape(&self) -> &ConvShape;
    /// The accuracy this plan promises (exact dot products unless the backend says otherwise).
    fn accuracy(&self) -> Accuracy {
        Accuracy::DOT_PRODUCT
    }

    /// Scratch elements [`Plan::run`] needs to use every thread of the current rayon pool.
    /// A smaller workspace (but at least [`Plan::workspace_len_per_thread`]) still works, with
    /// fewer threads; results do not depend on it.
    fn workspace_len(&self) -> usize {
        self.workspace_len_per_thread().saturating_mul(rayon::current_num_threads())
    }

    /// Scratch elements one thread needs (0 if the plan needs none).
    fn workspace_len_per_thread(&self) -> usize;

    /// Computes `output = act(conv(input, weights) + bias)`.
    ///
    /// `input` must have [`ConvShape::input_len`] elements and `output`
    /// [`ConvShape::output_len`]; `workspace` at least [`Plan::workspace_len_per_thread`].
    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError>;

    /// [`Plan::run`] into a new vector, allocating its own workspace.
    fn run_alloc(&self, input: &[f32]) -> Result<Vec<f32>, ConvError> {
        check_len("input", input.len(), self.shape().input_len)?;
        let mut out = vec![0.0f32; self.shape().output_len];
        let mut ws = vec![0.0f32; self.workspace_len()];
        self.run(input, &mut out, &mut ws)?;
        Ok(out)
    }
}

/// The accuracy a plan promises, as a multiple of the dot-product error bound.
///
/// For an output element with reduction length `L = (C/groups) * R * S` the bound is
/// `factor * (L + 2) * 2^-24 * S`, where `S = sum |x * w| + |b|` of the element itself: the
/// classical worst-case bound of a length-`L` f32 dot product in any order (`factor = 1`),
/// plus one rounding for the bias. Algorithms that mix neighbouring outputs (Winograd tiles)
/// take `S` as the largest such sum within `window` pixels (same image and channel, in both
/// axes), since an element's rounding error comes from its whole tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// Integer-valued data gives exactly naive's result.
    pub exact_on_integers: bool,
    /// Multiple of the dot-product bound; 1 for exact backends.
    pub factor: f64,
    /// 0 for backends whose outputs are dot products in some order (the bound scales with
    /// `sum |x w| + |b|`). Otherwise the backend transforms tiles of outputs (Winograd), its
    /// error scales with the tile-mixing sum `sum_c |w_kc|_1 max|x_c| + |b|`, and `window` is
    /// the radius (in output pixels) of the neighbourhood whose largest such sum the bound
    /// uses (see `convkit::testing::Reference::tile_sums`).
    pub window: usize,
}

impl Accuracy {
    /// A dot product in some order: exact on integer data, factor 1, no window.
    pub const DOT_PRODUCT: Accuracy = Accuracy { exact_on_integers: true, factor: 1.0, window: 0 };

    /// The bound for one element of reduction length `reduction` whose scale (`sum |x w| + |b|`
    /// for a dot product, the tile-mixing sum for a transform; see [`Accuracy::window`]) is
    /// `abs_sum`.
    pub fn bound(&self, reduction: usize, abs_sum: f64) -> f64 {
        self.factor * (reduction as f64 + 2.0) * (1.0 / (1u64 << 24) as f64) * abs_sum
    }
}

/// Options for [`Backend::plan_with`].
///
/// ```
/// use convkit::{Isa, PlanOptions};
/// let opts = PlanOptions::default().with_isa(Isa::Scalar);
/// assert_eq!(opts.isa(), Some(Isa::Scalar));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PlanOptions {
    isa: Option<Isa>,
    #[cfg(feature = "testing")]
    emulate: Option<usize>,
    auto: Option<crate::auto::AutoOptions>,
    winograd_tile: Option<crate::winograd::WinogradTile>,
    tiled_kernel: Option<crate::tiled::TiledKernel>,
}

impl PlanOptions {
    /// Use tier `isa` instead of the active one; it must not exceed [`crate::active_isa`].
    pub fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// The tier asked for, if any.
    pub fn isa(&self) -> Option<Isa> {
        self.isa
    }

    /// Options for the `auto` backend (ignored by the others).
    pub fn with_auto(mut self, auto: crate::auto::AutoOptions) -> Self {
        self.auto = Some(auto);
        self
    }

    /// The `auto` options, if set.
    pub fn auto(&self) -> Option<&crate::auto::AutoOptions> {
        self.auto.as_ref()
    }

    /// Make `winograd` plans use this variant instead of the default
    /// ([`WinogradTile::for_layer`](crate::winograd::WinogradTile::for_layer): F(2x2) on small
    /// images, else F(4x4)); ignored by the other backends. F(2x2) is the most accurate and
    /// F(6x6) does the fewest multiplies.
    ///
    /// ```
    /// use convkit::{PlanOptions, winograd::WinogradTile};
    /// let opts = PlanOptions::default().with_winograd_tile(WinogradTile::F4x4);
    /// assert_eq!(opts.winograd_tile(), Some(WinogradTile::F4x4));
    /// ```
    pub fn with_winograd_tile(mut self, tile: crate::winograd::WinogradTile) -> Self {
        self.winograd_tile = Some(tile);
        self
    }

    /// The Winograd variant asked for, if any.
    pub fn winograd_tile(&self) -> Option<crate::winograd::WinogradTile> {
        self.winograd_tile
    }

    /// Make dense `tiled` plans use this register tile instead of the one chosen per shape
    /// (see [`TiledKernel`](crate::tiled::TiledKernel)); ignored by the other backends and by
    /// depthwise layers.
    ///
    /// ```
    /// use convkit::{PlanOptions, tiled::TiledKernel};
    /// let opts = PlanOptions::default().with_tiled_kernel(TiledKernel::Rows);
    /// assert_eq!(opts.tiled_kernel(), Some(TiledKernel::Rows));
    /// ```
    pub fn with_tiled_kernel(mut self, kernel: crate::tiled::TiledKernel) -> Self {
        self.tiled_kernel = Some(kernel);
        self
    }

    /// The `tiled` register tile asked for, if any.
    pub fn tiled_kernel(&self) -> Option<crate::tiled::TiledKernel> {
        self.tiled_kernel
    }

    /// Test-only (feature `testing`): run the kernels on the lane-emulating tier of `lanes`
    /// (8: the avx2 tiles, 16: the avx512 tiles) in plain Rust, on any CPU.
    #[cfg(feature = "testing")]
    pub fn with_emulated_lanes(mut self, lanes: usize) -> Self {
        self.emulate = Some(lanes);
        self
    }

    /// The tier a plan made with these options runs on.
    pub(crate) fn tier(&self) -> Result<Tier, ConvError> {
        #[cfg(feature = "testing")]
        if let Some(lanes) = self.emulate {
            return match lanes {
                8 => Ok(Tier::Emu8),
                16 => Ok(Tier::Emu16),
                _ => Err(ConvError::UnknownIsa { origin: "emulated lanes", value: lanes.to_string() }),
            };
        }
        let active = isa::active_isa()?;
        let want = self.isa.unwrap_or(active);
        if want > active {
            return Err(ConvError::IsaUnavailable { requested: want, active });
        }
        Tier::for_isa(want).ok_or(ConvError::IsaUnavailable { requested: want, active })
    }
}

/// What every backend's `supports` starts with: the problem must be valid.
pub(crate) fn supports_valid(backend: &'static str, problem: &ConvProblem) -> Result<ConvShape, Unsupported> {
    problem.validate().map_err(|e| Unsupported::new(backend, format!("invalid problem: {e}")))
}

/// Splits `channels` output channels into parts (multiples of `align`) when `base` tasks
/// would leave threads of the current pool idle: returns `(parts, channels per part)`.
/// Part `i` covers channels `i * per .. min((i + 1) * per, channels)`.
pub(crate) fn channel_parts(base: usize, channels: usize, align: usize) -> (usize, usize) {
    let threads = rayon::current_num_threads();
    let wanted = if base >= threads { 1 } else { threads.div_ceil(base.max(1)).min(channels.div_ceil(align)) };
    let per = channels.div_ceil(wanted.max(1)).div_ceil(align) * align;
    (channels.div_ceil(per), per)
}

/// How many bands to cut `rows` rows (output rows, or pixel panels) into, each at most
/// `max_rows` (what the workspace holds), when `others` independent tasks (images x groups)
/// run beside each band: of `fewest ..= fewest + threads` bands (at most twice the fewest),
/// the count whose busiest thread has the least work, counting each band's rows plus one row
/// for what every band pays again (its halo rows, its setup); on ties the fewest. Band `i`
/// covers rows `i * rows / bands .. (i + 1) * rows / bands` ([`band_range`]), so bands
/// differ by at most one row. One thread, or one band in all: the fewest.
///
/// deeplab_dilated_d2 (32 rows of at most 10) ran as bands of 10, 10, 10 and 2 rows: two
/// threads scaled 1.6x. As 4 x 8 rows they scale 1.9x (2026-11-26, Zen 3). vgg16_conv2_2
/// (112 rows of at most 11) ran as 11 bands, 6 on one thread and 5 on the other; as 12 bands
/// two threads ran it up to 4% faster (2026-11-27, avx512, one plan timed with the old and the
/// new count in turn, four runs: +0.4, +3.8, -0.4, +3.2%); im2col's chunks were level.
pub(crate) fn band_count(rows: usize, max_rows: usize, others: usize) -> usize {
    let fewest = rows.div_ceil(max_rows.max(1)).max(1);
    let threads = rayon::current_num_threads().max(1);
    if fewest == 1 || threads == 1 {
        return fewest;
    }
    // The busiest thread's tasks times a band's rows (`rows / b`, plus one), as a float: a
    // heuristic, and the same on every run for the same pool.
    let busiest = |b: usize| {
        let tasks = others.max(1).saturating_mul(b).div_ceil(threads) as f64;
        tasks * (rows as f64 / b as f64 + 1.0)
    };
    // Within `threads` more bands lies the next count that splits evenly; searching no further
    // keeps this O(threads) for a tall image cut into single rows.
    let last = rows.min(fewest.saturating_mul(2)).min(fewest.saturating_add(threads));
    (fewest..=last).fold(fewest, |best, b| if busiest(b) < busiest(best) { b } else { best })
}

/// Rows `start .. end` of band `i` of `bands` over `rows` rows (see [`band_count`]).
pub(crate) fn band_range(i: usize, bands: usize, rows: usize) -> (usize, usize) {
    // In u128: `j * rows` cannot overflow, and the quotient is at most `rows`.
    let at = |j: usize| ((j as u128 * rows as u128) / bands.max(1) as u128) as usize;
    (at(i), at(i + 1))
}

/// The accessors every tiered plan shares, from fields `problem`, `shape`, `tier` and
/// `kernel`; `$backend` is the registry name.
macro_rules! plan_accessors {
    ($backend:literal) => {
        fn backend(&self) -> &'static str {
            $backend
        }
        fn kernel(&self) -> String {
            self.kernel.clone()
        }
        fn isa(&self) -> $crate::isa::Isa {
            self.tier.isa()
        }
        fn problem(&self) -> &$crate::problem::ConvProblem {
            &self.problem
        }
        fn shape(&self) -> &$crate::problem::ConvShape {
            &self.shape
        }
    };
}
pub(crate) use plan_accessors;

/// `Err(LengthMismatch)` unless `got == need`.
pub(crate) fn check_len(buffer: &'static str, got: usize, need: usize) -> Result<(), ConvError> {
    if got != need {
        return Err(ConvError::LengthMismatch { buffer, got, need });
    }
    Ok(())
}

/// Validates the problem and the plan-time buffers every backend receives.
pub(crate) fn validate_plan_inputs(problem: &ConvProblem, weights: &[f32], bias: Option<&[f32]>) -> Result<ConvShape, ConvError> {
    let shape = problem.validate()?;
    check_len("weights", weights.len(), shape.weights_len)?;
    match (problem.params.bias, bias) {
        (true, Some(b)) => check_len("bias", b.len(), problem.k)?,
        (false, None) => {}
        (true, None) => {
            return Err(ConvError::BiasMismatch { expects: "has", given: "none was given" });
        }
        (false, Some(_)) => {
            return Err(ConvError::BiasMismatch { expects: "has no", given: "one was given" });
        }
    }
    Ok(shape)
}

/// Checks the run-time buffers of a plan.
pub(crate) fn validate_run_buffers(
    shape: &ConvShape,
    input: &[f32],
    output: &[f32],
    workspace: &[f32],
    per_thread: usize,
) -> Result<(), ConvError> {
    check_len("input", input.len(), shape.input_len)?;
    check_len("output", output.len(), shape.output_len)?;
    if workspace.len() < per_thread {
        return Err(ConvError::WorkspaceTooSmall { got: workspace.len(), need: per_thread });
    }
    Ok(())
}

/// How many workspace slots of `per_thread` elements a run may use: bounded by the pool size,
/// the workspace given and the number of independent tasks. At least 1.
pub(crate) fn slots(workspace_len: usize, per_thread: usize, tasks: usize) -> usize {
    let by_ws = workspace_len.checked_div(per_thread).unwrap_or(usize::MAX);
    rayon::current_num_threads().min(by_ws).min(tasks).max(1)
}

/// Runs tasks `0 .. tasks` on the caller's rayon pool, each with a private `per_thread`-element
/// slice of `workspace`. Slots take the next task from a shared counter (dynamic scheduling:
/// on a shared, noisy machine a static split waits for the slowest core). Which slot runs a
/// task never changes what the task computes, so results do not depend on the thread count
/// or the schedule.
pub(crate) fn run_tasks(workspace: &mut [f32], per_thread: usize, tasks: usize, task: impl Fn(usize, &mut [f32]) + Sync + Send) {
    run_tasks_with_init(workspace, per_thread, tasks, |_| {}, task)
}

/// [`run_tasks`], with `init` run on each slot's workspace once, before the slot's first task
/// (for state that every task of the run shares, such as zero padding that tasks never write).
pub(crate) fn run_tasks_with_init(
    workspace: &mut [f32],
    per_thread: usize,
    tasks: usize,
    init: impl Fn(&mut [f32]) + Sync + Send,
    task: impl Fn(usize, &mut [f32]) + Sync + Send,
) {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let nslots = slots(workspace.len(), per_thread, tasks);
    let counter = AtomicUsize::new(0);
    let body = |ws: &mut [f32]| {
        let mut first = true;
        loop {
            // Relaxed: the counter only hands out indices; the tasks share no data.
            let t = counter.fetch_add(1, Ordering::Relaxed);
            if t >= tasks {
                break;
            }
            if first {
                init(ws);
                first = false;
            }
            task(t, ws);
        }
    };
    if nslots == 1 {
        // One slot (one thread, or one task): run on the caller's thread, no rayon job.
        body(&mut workspace[..per_thread]);
    } else if per_thread == 0 {
        (0..nslots).into_par_iter().for_each(|_| body(&mut []));
    } else {
        workspace[..nslots * per_thread].par_chunks_mut(per_thread).for_each(body);
    }
}

static NAIVE: crate::naive::Naive = crate::naive::Naive;
static IM2COL: crate::im2col::Im2col = crate::im2col::Im2col;
static TILED: crate::tiled::Tiled = crate::tiled::Tiled;
static WINOGRAD: crate::winograd::Winograd = crate::winograd::Winograd;
static AUTO: crate::auto::Auto = crate::auto::Auto;

/// Every backend, in registry order.
pub fn backends() -> [&'static dyn Backend; 5] {
    [&NAIVE, &IM2COL, &TILED, &WINOGRAD, &AUTO]
}

/// The registry names, in order: `naive`, `im2col`, `tiled`, `winograd`, `auto`.
pub fn backend_names() -> Vec<&'static str> {
    backends().iter().map(|b| b.name()).collect()
}

/// The backend called `name`, or [`ConvError::UnknownBackend`] listing the known names.
///
/// ```
/// assert_eq!(convkit::backend("tiled")?.name(), "tiled");
/// let e = convkit::backend("fft").err().unwrap().to_string();
/// assert_eq!(e, "unknown backend \"fft\"; known backends: naive, im2col, tiled, winograd, auto");
/// # Ok::<(), convkit::ConvError>(())
/// ```
pub fn backend(name: &str) -> Result<&'static dyn Backend, ConvError> {
    backends()
        .into_iter()
        .find(|b| b.name() == name)
        .ok_or_else(|| ConvError::UnknownBackend { name: name.to_string(), known: backend_names().join(", ") })
}

#[cfg(test)]
mod tests {
    use super::{band_count, band_range};

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    #[test]
    fn bands_cover_the_rows_within_the_limit_and_split_evenly_over_threads() {
        for threads in [1, 2, 3, 7] {
            for rows in 1..40 {
                for max_rows in 1..12 {
                    for others in [1, 2, 3, 8] {
                        let bands = in_pool(threads, || band_count(rows, max_rows, others));
                        assert!(bands >= rows.div_ceil(max_rows) && bands <= rows, "{rows} rows / {max_rows}: {bands} bands");
                        let mut next = 0;
                        for i in 0..bands {
                            let (a, b) = band_range(i, bands, rows);
                            assert!(a == next && b > a && b - a <= max_rows, "{rows} rows, {bands} bands: band {i} = {a}..{b}");
                            next = b;
                        }
                        assert_eq!(next, rows);
                    }
                }
            }
        }
        // Two threads: 32 rows of at most 7 are 6 bands, not 5 (3 + 3 bands, not 3 + 2).
        assert_eq!(in_pool(2, || band_count(32, 7, 1)), 6);
        assert_eq!(in_pool(1, || band_count(32, 7, 1)), 5);
        // vgg16_conv2_2: 112 rows of at most 11 are 12 bands on two threads (6 + 6, not 6 + 5).
        assert_eq!(in_pool(2, || band_count(112, 11, 1)), 12);
        assert_eq!(in_pool(1, || band_count(112, 11, 1)), 11);
        // Three images of 5 bands are 15 tasks (8 + 7); of 6 bands, 18 (9 + 9) with less each.
        assert_eq!(in_pool(2, || band_count(32, 7, 3)), 6);
        // Many tasks: more bands only add rows, so the fewest.
        assert_eq!(in_pool(2, || band_count(32, 7, 64)), 5);
        // A tall image in bands of a few rows: a count near the fewest, found without walking
        // millions of candidates.
        let tall = in_pool(2, || band_count(10_000_000, 3, 1));
        assert!((3_333_334..=3_333_336).contains(&tall), "{tall}");
        // One band: one band (channel parts split the work instead).
        assert_eq!(in_pool(2, || band_count(28, 100, 1)), 1);
    }
}
