//! Timing plans the way `auto`, `convbench time` and `convbench tune` do it: warm up, then take
//! the median of timed samples, each long enough for the clock; and the machine's FMA peak
//! (an FMA loop in registers on the active tier), for the "fraction of peak" columns.
//!
//! The machines this runs on are shared and noisy: compare timings only within one run, and
//! prefer the best of several medians taken in interleaved rounds ([`time_interleaved`]).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use crate::backend::Plan;
use crate::error::ConvError;

/// The result of timing one plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Median time of one run.
    pub median: Duration,
    /// Runs timed (after warm-up).
    pub runs: usize,
}

/// Buffers for running a plan: input, output and workspace, allocated once.
pub struct Bench<'a> {
    /// The plan.
    pub plan: &'a dyn Plan,
    input: &'a [f32],
    output: Vec<f32>,
    workspace: Vec<f32>,
}

impl<'a> Bench<'a> {
    /// Allocates output and workspace for `plan` (workspace for the current rayon pool).
    pub fn new(plan: &'a dyn Plan, input: &'a [f32]) -> Bench<'a> {
        Bench { plan, input, output: vec![0.0; plan.shape().output_len], workspace: vec![0.0; plan.workspace_len()] }
    }

    /// One run; returns its duration.
    pub fn run_once(&mut self) -> Result<Duration, ConvError> {
        let t = Instant::now();
        self.plan.run(self.input, &mut self.output, &mut self.workspace)?;
        Ok(t.elapsed())
    }

    /// `reps` runs back to back; returns their total duration.
    pub fn run_repeated(&mut self, reps: usize) -> Result<Duration, ConvError> {
        let t = Instant::now();
        for _ in 0..reps {
            self.plan.run(self.input, &mut self.output, &mut self.workspace)?;
        }
        Ok(t.elapsed())
    }

    /// Warms up (one run), then times samples for about `budget` (at least `min_samples`):
    /// each sample repeats the run enough times to last about a millisecond. Returns the
    /// median time per run.
    pub fn time(&mut self, budget: Duration, min_samples: usize) -> Result<Timing, ConvError> {
        let reps = reps_for(Duration::from_millis(1), self.run_once()?);
        let start = Instant::now();
        let mut samples = Vec::new();
        while samples.len() < min_samples.max(1) || start.elapsed() < budget {
            samples.push(self.run_repeated(reps)? / reps as u32);
            if samples.len() >= 10_000 {
                break;
            }
        }
        samples.sort();
        Ok(Timing { median: samples[samples.len() / 2], runs: samples.len() * reps })
    }

    /// The output of the last run.
    pub fn output(&self) -> &[f32] {
        &self.output
    }
}

/// Times several plans in `rounds` interleaved rounds (each round gives every plan `budget /
/// rounds`) and keeps each plan's best median: robust to noise that comes and goes.
pub fn time_interleaved(benches: &mut [Bench<'_>], budget: Duration, rounds: usize) -> Result<Vec<Timing>, ConvError> {
    let rounds = rounds.max(1);
    let per = budget / (rounds * benches.len().max(1)) as u32;
    let mut best: Vec<Option<Timing>> = vec![None; benches.len()];
    for _ in 0..rounds {
        for (b, slot) in benches.iter_mut().zip(best.iter_mut()) {
            let t = b.time(per, 3)?;
            let keep = match slot {
                Some(old) => Timing { median: old.median.min(t.median), runs: old.runs + t.runs },
                None => t,
            };
            *slot = Some(keep);
        }
    }
    Ok(best.into_iter().map(|t| t.expect("every plan timed")).collect())
}

/// Runs per sample so that a sample lasts about `target` (1 ..= 10,000), given one run's time.
fn reps_for(target: Duration, one_run: Duration) -> usize {
    (target.as_secs_f64() / one_run.as_secs_f64().max(1e-9)).ceil().clamp(1.0, 10_000.0) as usize
}

/// Compares two plans in paired samples, A then B, then B then A, each sample about half a
/// millisecond of repeated runs, for about `budget` (at least `min_pairs` pairs), and returns
/// the median over pairs of `time(A) / time(B)`: below 1 when A is faster. Each pair is
/// measured within a millisecond, so the slow swings of a shared machine's speed, which move
/// separate medians by 10-30%, cancel out of every ratio. `auto` settles its choice between the two fastest so.
pub fn paired_ratio(a: &mut Bench<'_>, b: &mut Bench<'_>, budget: Duration, min_pairs: usize) -> Result<f64, ConvError> {
    let reps = reps_for(Duration::from_micros(500), a.run_once()?.max(b.run_once()?));
    let sample = |bench: &mut Bench<'_>| bench.run_repeated(reps).map(|t| t.as_secs_f64());
    let start = Instant::now();
    let mut ratios = Vec::new();
    while ratios.len() < min_pairs.max(1) || start.elapsed() < budget {
        let (ta, tb) = if ratios.len() % 2 == 0 {
            let ta = sample(a)?;
            (ta, sample(b)?)
        } else {
            let tb = sample(b)?;
            (sample(a)?, tb)
        };
        ratios.push(ta / tb.max(1e-12));
        if ratios.len() >= 10_000 {
            break;
        }
    }
    ratios.sort_by(f64::total_cmp);
    Ok(ratios[ratios.len() / 2])
}

struct FmaLoop<const ACC: usize>(u64);

impl<const ACC: usize> crate::simd::WithSimd for FmaLoop<ACC> {
    type Output = f32;
    #[inline(always)]
    fn with_simd<S: crate::simd::Simd>(self, s: S) -> f32 {
        // The factors go through `black_box`: as constants LLVM folded the chain that starts at
        // 1.0 (`fma(1.0, 1.000_000_1, -1e-7)` rounds to 1.0, a fixed point) out of the loop, so
        // 11 of 12 (avx2) and 23 of 24 (avx512) chains ran while all were counted: the peak read
        // 9% (4%) high until 2026-12-06. tests/disassembly.rs counts the chains. (`black_box` on
        // each start value instead made LLVM keep nine avx512 accumulators on the stack.)
        let mut acc = [s.zero(); ACC];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = s.splat(i as f32);
        }
        let (x, y) = (s.splat(std::hint::black_box(1.000_000_1)), s.splat(std::hint::black_box(-1e-7)));
        for _ in 0..std::hint::black_box(self.0) {
            for a in acc.iter_mut() {
                *a = s.fma(*a, x, y);
            }
        }
        let mut sum = s.zero();
        for a in acc {
            sum = s.add(sum, a);
        }
        let mut out = [0.0f32; 1];
        s.store_slice(sum, &mut out);
        out[0]
    }
}

/// FLOPs per call of [`FmaLoop`] per iteration: `2 * ACC * LANES`.
struct FmaShape<const ACC: usize>();

impl<const ACC: usize> crate::simd::WithSimd for FmaShape<ACC> {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: crate::simd::Simd>(self, _: S) -> usize {
        2 * ACC * S::LANES
    }
}

/// The f32 FMA peak in GFLOP/s of the tier `options` selects, summed over the threads of the
/// current rayon pool: independent FMA chains in registers (12 accumulators, 24 on avx512),
/// timed for about `duration` per thread; the best of 5 repetitions.
pub fn fma_peak_gflops(options: &crate::backend::PlanOptions, duration: Duration) -> Result<f64, ConvError> {
    use crate::simd::dispatch;
    use rayon::prelude::*;
    let tier = options.tier()?;
    let flops_per_iter = dispatch!(tier, FmaShape<scalar: 12; portable: 12; avx2: 12; avx512: 24>()) as f64;
    let run = |iters: u64| -> Duration {
        let t = Instant::now();
        std::hint::black_box(dispatch!(tier, FmaLoop<scalar: 12; portable: 12; avx2: 12; avx512: 24>(iters)));
        t.elapsed()
    };
    let mut iters = 1024u64;
    while run(iters) < duration / 10 {
        iters *= 2;
    }
    let iters = (iters as f64 * (duration.as_secs_f64() / run(iters).as_secs_f64().max(1e-9))).max(1.0) as u64;
    let threads = rayon::current_num_threads();
    let mut best = 0.0f64;
    for _ in 0..5 {
        let t = Instant::now();
        (0..threads).into_par_iter().for_each(|_| {
            run(iters);
        });
        let secs = t.elapsed().as_secs_f64();
        best = best.max(flops_per_iter * iters as f64 * threads as f64 / secs * 1e-9);
    }
    Ok(best)
}
