//! The `auto` backend: for each problem, the fastest backend, measured rather than guessed.
//!
//! On plan, `auto` looks up the choice recorded for (problem, active ISA, thread count) in this
//! process; if there is none it times every backend that supports the problem (interleaved
//! rounds, best of the medians, within [`AutoOptions::budget`], default 50 ms per problem, or
//! one run of each candidate when a single run takes longer), picks the fastest and records
//! it. The two fastest are then compared again in paired samples for up to another budget (at
//! least 5 pairs; [`crate::timing::paired_ratio`]), and the pairs decide between them. With
//! measuring switched off ([`AutoOptions::rules_only`])
//! a rules-based choice is used instead. Once a choice is recorded, `auto` is deterministic.
//!
//! Choices save to and load from a versioned JSON **wisdom** file ([`save_wisdom`],
//! [`load_wisdom`]); a file from another crate version or CPU is ignored with a warning on
//! stderr, and a corrupt file is an error naming the file.
//!
//! ```no_run
//! use convkit::{Backend, ConvProblem, auto, backend};
//! auto::load_wisdom("convkit-wisdom.json")?;      // optional: reuse earlier measurements
//! let p = ConvProblem::new(1, 64, 56, 56, 64, 3, 3).with_padding([1; 4]);
//! let plan = backend("auto")?.plan(&p, &vec![0.1; 64 * 64 * 9], None)?;
//! println!("auto chose {}", plan.kernel());
//! auto::save_wisdom("convkit-wisdom.json")?;
//! # Ok::<(), convkit::ConvError>(())
//! ```
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::{Accuracy, Backend, Plan, PlanOptions, backend};
use crate::error::{ConvError, Unsupported};
use crate::isa::{Isa, detected_isa};
use crate::problem::{ConvProblem, ConvShape};
use crate::timing::{Bench, paired_ratio, time_interleaved};

/// The backends `auto` chooses between, in order of preference on ties.
pub const CANDIDATES: [&str; 3] = ["tiled", "im2col", "winograd"];

/// The wisdom file format this crate reads and writes.
pub const WISDOM_FORMAT: &str = "convkit-wisdom";
/// Version of the wisdom file layout.
pub const WISDOM_FORMAT_VERSION: u32 = 1;

/// How `auto` chooses.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoOptions {
    /// Time the candidates when no choice is recorded (default `true`); `false` uses rules.
    pub measure: bool,
    /// Timing budget per problem (default 50 ms).
    pub budget: Duration,
}

impl Default for AutoOptions {
    fn default() -> Self {
        AutoOptions { measure: true, budget: Duration::from_millis(50) }
    }
}

impl AutoOptions {
    /// Never time anything: recorded choices, else the rules.
    pub fn rules_only() -> Self {
        AutoOptions { measure: false, ..AutoOptions::default() }
    }

    /// Measure within `budget` per problem.
    pub fn with_budget(budget: Duration) -> Self {
        AutoOptions { measure: true, budget }
    }
}

/// One recorded choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The problem's descriptor ([`ConvProblem`]'s `Display`).
    pub problem: String,
    /// The ISA tier it was measured on.
    pub isa: Isa,
    /// The rayon thread count it was measured with.
    pub threads: usize,
    /// The chosen backend.
    pub backend: String,
    /// Median milliseconds per candidate (empty for rules-based or single-candidate choices).
    #[serde(default)]
    pub times_ms: BTreeMap<String, f64>,
    /// When two or more candidates were timed: the other of the two fastest medians and the
    /// median over paired samples of its time over the chosen backend's (>= 1). The choice
    /// follows the pairs, which may overrule `times_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<(String, f64)>,
}

/// The contents of a wisdom file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wisdom {
    /// Always [`WISDOM_FORMAT`].
    pub format: String,
    /// [`WISDOM_FORMAT_VERSION`].
    pub format_version: u32,
    /// The convkit version that measured it.
    pub crate_version: String,
    /// The CPU it was measured on ([`cpu_id`]).
    pub cpu: String,
    /// The choices.
    pub choices: Vec<Choice>,
}

type Key = (String, Isa, usize);

fn cache() -> &'static Mutex<HashMap<Key, Choice>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Choice>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<Key, Choice>> {
    cache().lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The CPU identity recorded in wisdom: the model name (from `/proc/cpuinfo` where there is
/// one) and the detected ISA tier.
pub fn cpu_id() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{model} ({})", detected_isa())
}

/// The choice recorded for `problem` at `isa` with `threads` threads, if any.
pub fn recorded_choice(problem: &ConvProblem, isa: Isa, threads: usize) -> Option<Choice> {
    lock().get(&(problem.to_string(), isa, threads)).cloned()
}

/// Records (or replaces) a choice.
pub fn record_choice(choice: Choice) {
    lock().insert((choice.problem.clone(), choice.isa, choice.threads), choice);
}

/// Forgets every recorded choice.
pub fn clear_choices() {
    lock().clear();
}

/// Every recorded choice, as wisdom for this crate version and CPU (sorted, so files diff well).
pub fn wisdom() -> Wisdom {
    let mut choices: Vec<Choice> = lock().values().cloned().collect();
    choices.sort_by(|a, b| (&a.problem, a.isa, a.threads).cmp(&(&b.problem, b.isa, b.threads)));
    Wisdom {
        format: WISDOM_FORMAT.into(),
        format_version: WISDOM_FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").into(),
        cpu: cpu_id(),
        choices,
    }
}

/// Writes every recorded choice to `path`.
pub fn save_wisdom(path: impl AsRef<Path>) -> Result<(), ConvError> {
    let path = path.as_ref();
    let err = |reason: String| ConvError::Wisdom { path: path.display().to_string(), reason };
    let text = serde_json::to_string_pretty(&wisdom()).map_err(|e| err(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| err(e.to_string()))
}

/// Reads wisdom from `path` and records its choices; returns how many. A file from another
/// convkit version or CPU is ignored (0) with a warning on stderr; an unreadable or corrupt
/// file, or one of another format, is an error naming the file.
pub fn load_wisdom(path: impl AsRef<Path>) -> Result<usize, ConvError> {
    let path = path.as_ref();
    let err = |reason: String| ConvError::Wisdom { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let w: Wisdom = serde_json::from_str(&text).map_err(|e| err(format!("corrupt: {e}")))?;
    if w.format != WISDOM_FORMAT || w.format_version != WISDOM_FORMAT_VERSION {
        return Err(err(format!(
            "format {:?} version {} is not {WISDOM_FORMAT:?} version {WISDOM_FORMAT_VERSION}",
            w.format, w.format_version
        )));
    }
    let (version, cpu) = (env!("CARGO_PKG_VERSION"), cpu_id());
    if w.crate_version != version || w.cpu != cpu {
        eprintln!(
            "convkit: ignoring wisdom file {}: measured by convkit {} on {:?}, this is convkit {version} on {cpu:?}",
            path.display(),
            w.crate_version,
            w.cpu
        );
        return Ok(0);
    }
    for c in &w.choices {
        let p: ConvProblem = c.problem.parse().map_err(|e| err(format!("choice for {:?}: {e}", c.problem)))?;
        let b = backend(&c.backend).map_err(|e| err(format!("choice for {:?}: {e}", c.problem)))?;
        if b.name() == "auto" || b.name() == "naive" {
            return Err(err(format!("choice for {:?}: backend {} cannot be chosen", c.problem, b.name())));
        }
        if let Err(u) = b.supports(&p) {
            return Err(err(format!("choice for {:?}: {u}", c.problem)));
        }
    }
    let n = w.choices.len();
    for c in w.choices {
        record_choice(c);
    }
    Ok(n)
}

/// The rules-based choice, used when measuring is off.
pub fn rules_choice(problem: &ConvProblem, shape: &ConvShape) -> &'static str {
    let p = problem;
    let winograd_ok = backend("winograd").map(|b| b.supports(p).is_ok()).unwrap_or(false);
    if shape.cg == 1 {
        "tiled"
    } else if winograd_ok && shape.cg >= 32 && shape.kg >= 32 && shape.oh * shape.ow >= 64 {
        "winograd"
    } else if p.r == 1 && p.s == 1 && p.params.stride == [1, 1] && p.params.padding == [0; 4] && shape.kg >= 64 {
        "im2col"
    } else {
        "tiled"
    }
}

/// A deterministic, finite input for timing (values do not affect speed).
fn timing_input(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 17) as f32 * 0.125 - 1.0).collect()
}

/// Times every candidate that supports `problem` on the tier `options` selects, records the
/// fastest, and returns the choice with every candidate's median. Always measures.
pub fn tune(
    problem: &ConvProblem,
    weights: &[f32],
    bias: Option<&[f32]>,
    options: &PlanOptions,
    budget: Duration,
) -> Result<Choice, ConvError> {
    let (choice, _) = measure(problem, weights, bias, options, budget)?;
    Ok(choice)
}

fn measure(
    problem: &ConvProblem,
    weights: &[f32],
    bias: Option<&[f32]>,
    options: &PlanOptions,
    budget: Duration,
) -> Result<(Choice, Box<dyn Plan>), ConvError> {
    let shape = problem.validate()?;
    let isa = options.tier()?.isa();
    let threads = rayon::current_num_threads();
    let mut names = Vec::new();
    let mut plans: Vec<Box<dyn Plan>> = Vec::new();
    for name in CANDIDATES {
        let b = backend(name)?;
        if b.supports(problem).is_ok() {
            plans.push(b.plan_with(problem, weights, bias, options)?);
            names.push(name);
        }
    }
    let input = timing_input(shape.input_len);
    let mut times_ms = BTreeMap::new();
    let mut paired = None;
    let best = if plans.len() == 1 {
        0
    } else {
        let mut benches: Vec<Bench<'_>> = plans.iter().map(|p| Bench::new(p.as_ref(), &input)).collect();
        let timings = time_interleaved(&mut benches, budget, 3)?;
        for (name, t) in names.iter().zip(&timings) {
            times_ms.insert(name.to_string(), t.median.as_secs_f64() * 1e3);
        }
        // Fastest; ties go to the earlier candidate.
        let mut order: Vec<usize> = (0..timings.len()).collect();
        order.sort_by_key(|&i| timings[i].median);
        let (first, second) = (order[0], order[1]);
        // The two fastest are settled by paired samples. Separate medians could not tell
        // lenet_c1's im2col and tiled apart (~15% apart, they swapped places between runs of
        // `convbench time`), and during one slow spell of the shared machine they ranked tiled
        // ahead of im2col on resnet50_res2_1x1, where im2col is twice as fast. Pairs measured
        // within a millisecond of each other see the same machine speed.
        let (lo, hi) = (first.min(second), first.max(second));
        let (head, tail) = benches.split_at_mut(hi);
        let ratio = paired_ratio(&mut head[lo], &mut tail[0], budget, 5)?;
        // `ratio` is time(lo) / time(hi); ties go to the earlier candidate.
        let (chosen, other, r) = if ratio <= 1.0 { (lo, hi, 1.0 / ratio) } else { (hi, lo, ratio) };
        paired = Some((names[other].to_string(), r));
        chosen
    };
    let choice = Choice { problem: problem.to_string(), isa, threads, backend: names[best].to_string(), times_ms, paired };
    record_choice(choice.clone());
    Ok((choice, plans.swap_remove(best)))
}

/// The measured-choice backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Auto;

impl Backend for Auto {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported> {
        crate::backend::supports_valid("auto", problem).map(|_| ())
    }

    fn plan_with(
        &self,
        problem: &ConvProblem,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: &PlanOptions,
    ) -> Result<Box<dyn Plan>, ConvError> {
        let shape = crate::backend::validate_plan_inputs(problem, weights, bias)?;
        let isa = options.tier()?.isa();
        let threads = rayon::current_num_threads();
        let auto_options = options.auto().cloned().unwrap_or_default();
        let inner = if let Some(choice) = recorded_choice(problem, isa, threads) {
            backend(&choice.backend)?.plan_with(problem, weights, bias, options)?
        } else if auto_options.measure {
            measure(problem, weights, bias, options, auto_options.budget)?.1
        } else {
            backend(rules_choice(problem, &shape))?.plan_with(problem, weights, bias, options)?
        };
        Ok(Box::new(AutoPlan { inner }))
    }
}

struct AutoPlan {
    inner: Box<dyn Plan>,
}

impl Plan for AutoPlan {
    fn backend(&self) -> &'static str {
        "auto"
    }
    fn kernel(&self) -> String {
        format!("{}:{}", self.inner.backend(), self.inner.kernel())
    }
    fn isa(&self) -> Isa {
        self.inner.isa()
    }
    fn problem(&self) -> &ConvProblem {
        self.inner.problem()
    }
    fn shape(&self) -> &ConvShape {
        self.inner.shape()
    }
    fn accuracy(&self) -> Accuracy {
        self.inner.accuracy()
    }
    fn workspace_len_per_thread(&self) -> usize {
        self.inner.workspace_len_per_thread()
    }
    fn workspace_len(&self) -> usize {
        self.inner.workspace_len()
    }
    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        self.inner.run(input, output, workspace)
    }
}
