//! The test harness (feature `testing`), shared by the tests, the fuzz targets and `convbench`:
//! deterministic data, an f64 reference with a per-element error bound, one [`check`] that
//! every backend test reuses, the list of tiers to test, and proptest strategies for valid
//! problems (biased toward the edges that break convolution libraries) and invalid ones.
//!
//! # The error bound
//! Integer-valued data (inputs in -3..=3, weights in -2..=2, bias in -8..=8) keep every partial
//! sum an exactly representable integer, so every exact backend must equal `naive` bit for bit
//! (up to the sign of zero). For random data in `[-1, 1]`, a backend's output `y` must satisfy,
//! element by element,
//!
//! `|y - ref| <= (L + 2) * 2^-24 * (sum |x * w| + |b|)`
//!
//! where `ref` is the f64 reference and `L = (C/groups) * R * S` is the reduction length. This
//! is the classical worst-case bound for a length-`L` dot product in any summation order
//! (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), plus one rounding for the bias;
//! the activation is 1-Lipschitz. It is rigorous: a backend that exceeds it has a bug.
//! Backends that are not exact (Winograd) declare their own [`Accuracy`]: a factor over the
//! same bound, with `sum |x * w|` replaced by the tile-mixing sum of [`Reference::tile_sums`]
//! maximized over the outputs that share a tile (a transform mixes every tap with every input
//! of the tile, so its error does not vanish where the exact sum's terms do).
#![forbid(unsafe_code)]

use proptest::prelude::*;
use rayon::prelude::*;

pub mod fuzz;

pub use crate::backend::Accuracy;
use crate::backend::{Backend, PlanOptions};
use crate::isa::{self, Isa};
use crate::problem::{Activation, ConvProblem, MAX_DIM};

/// Unit roundoff of f32.
pub const U32: f64 = 1.0 / (1u64 << 24) as f64;

/// Which values to fill buffers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Small integers: every backend must match naive exactly.
    Integer,
    /// Uniform in `[-1, 1]`: compared with the f64 reference within the bound.
    Random,
}

/// Input, weights and bias for one problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    /// `N x C x H x W`.
    pub input: Vec<f32>,
    /// `K x C/groups x R x S`.
    pub weights: Vec<f32>,
    /// `K`, if the problem has a bias.
    pub bias: Option<Vec<f32>>,
}

impl Data {
    /// Deterministic data for `problem` (which must be valid).
    pub fn new(problem: &ConvProblem, kind: DataKind, seed: u64) -> Data {
        let shape = problem.validate().expect("Data::new needs a valid problem");
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut fill = |len: usize, int_range: i32| -> Vec<f32> {
            (0..len)
                .map(|_| match kind {
                    DataKind::Integer => rng.i32(-int_range..=int_range) as f32,
                    DataKind::Random => rng.f32() * 2.0 - 1.0,
                })
                .collect()
        };
        let input = fill(shape.input_len, 3);
        let weights = fill(shape.weights_len, 2);
        let bias = problem.params.bias.then(|| fill(problem.k, 8));
        Data { input, weights, bias }
    }
}

/// The f64 reference: values and, per element, the sums the error bounds scale with.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Reference outputs (activation applied), NCHW.
    pub values: Vec<f64>,
    /// `sum |x * w| + |b|` per output element: the dot-product bound's scale.
    pub abs_sums: Vec<f64>,
    /// `sum_c (sum_rs |w[k, c, r, s]|) * max_rs |x[c, ..]| + |b|` per output element, the max
    /// over the receptive field (padding counts as 0): the scale of transform algorithms'
    /// error. A transform (Winograd) mixes every filter tap with every input of a tile, so
    /// a large tap that meets a padded zero in the exact sum still adds rounding error
    /// (Barabasz et al., *Error analysis and improving the accuracy of Winograd convolution
    /// for deep neural networks*, 2020, bound the error by norms of the whole tile and filter).
    /// Always `>= abs_sums`.
    pub tile_sums: Vec<f64>,
}

impl Reference {
    /// Per element, the sum [`Accuracy::bound`] takes for a backend of accuracy `accuracy`:
    /// `abs_sums` for dot-product backends (`window == 0`); for transform backends the
    /// largest `tile_sums` within `window` output pixels (the outputs that share a tile).
    pub fn bound_sums(&self, problem: &ConvProblem, accuracy: &Accuracy) -> Vec<f64> {
        if accuracy.window == 0 { self.abs_sums.clone() } else { window_max(problem, &self.tile_sums, accuracy.window) }
    }
}

/// The convolution in f64, with the same zero-padding semantics as naive.
pub fn reference(problem: &ConvProblem, data: &Data) -> Reference {
    let p = problem;
    let sh = p.validate().expect("reference needs a valid problem");
    let [st_h, st_w] = p.params.stride;
    let [di_h, di_w] = p.params.dilation;
    let [pad_t, pad_l, _, _] = p.params.padding;
    let (lo, hi) = p.params.activation.bounds();
    let plane = sh.oh * sh.ow;
    // Output planes in parallel (each element's sum is sequential: deterministic).
    let planes: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..p.n * p.k)
        .into_par_iter()
        .map(|nk| {
            let (n, k) = (nk / p.k, nk % p.k);
            let mut values = vec![0.0f64; plane];
            let mut abs_sums = vec![0.0f64; plane];
            let mut tile_sums = vec![0.0f64; plane];
            let g = k / sh.kg;
            // sum_rs |w[k, c, r, s]| per input channel of the group.
            let w_l1: Vec<f64> = (0..sh.cg)
                .map(|c| data.weights[(k * sh.cg + c) * p.r * p.s..][..p.r * p.s].iter().map(|w| (*w as f64).abs()).sum())
                .collect();
            for oh in 0..sh.oh {
                for ow in 0..sh.ow {
                    let (mut acc, mut abs, mut tile) = (0.0f64, 0.0f64, 0.0f64);
                    for (c, w_l1_c) in w_l1.iter().enumerate() {
                        let ci = g * sh.cg + c;
                        let mut x_max = 0.0f64;
                        for r in 0..p.r {
                            for s in 0..p.s {
                                let ph = oh * st_h + r * di_h;
                                let pw = ow * st_w + s * di_w;
                                let x = if ph >= pad_t && ph - pad_t < p.h && pw >= pad_l && pw - pad_l < p.w {
                                    data.input[((n * p.c + ci) * p.h + ph - pad_t) * p.w + pw - pad_l] as f64
                                } else {
                                    0.0
                                };
                                let w = data.weights[((k * sh.cg + c) * p.r + r) * p.s + s] as f64;
                                acc += x * w;
                                abs += (x * w).abs();
                                x_max = x_max.max(x.abs());
                            }
                        }
                        tile += w_l1_c * x_max;
                    }
                    if let Some(b) = &data.bias {
                        acc += b[k] as f64;
                        abs += (b[k] as f64).abs();
                        tile += (b[k] as f64).abs();
                    }
                    let v = if (lo as f64) > acc { lo as f64 } else { acc };
                    let v = if (hi as f64) < v { hi as f64 } else { v };
                    values[oh * sh.ow + ow] = v;
                    abs_sums[oh * sh.ow + ow] = abs;
                    tile_sums[oh * sh.ow + ow] = tile;
                }
            }
            (values, abs_sums, tile_sums)
        })
        .collect();
    let mut r = Reference {
        values: Vec::with_capacity(sh.output_len),
        abs_sums: Vec::with_capacity(sh.output_len),
        tile_sums: Vec::with_capacity(sh.output_len),
    };
    for (v, a, t) in planes {
        r.values.extend(v);
        r.abs_sums.extend(a);
        r.tile_sums.extend(t);
    }
    r
}

/// Equal as naive means it: the same value (either zero sign), or both NaN.
pub fn same_value(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// A tier to test: its name and the options that select it.
#[derive(Clone, Debug)]
pub struct TestTier {
    /// `scalar`, `portable`, `avx2`, `avx512`, `emu8` or `emu16`.
    pub name: &'static str,
    /// Plan options selecting it.
    pub options: PlanOptions,
}

/// Every tier this host can run (up to `CONVKIT_MAX_ISA`), then the lane-emulating tiers
/// `emu8` and `emu16` that run the avx2 and avx512 tiles in plain Rust (so the avx512 tile
/// logic is checked even where the CPU lacks AVX-512).
pub fn test_tiers() -> Vec<TestTier> {
    let mut v: Vec<TestTier> = isa::available_isas()
        .expect("CONVKIT_MAX_ISA must be valid in tests")
        .into_iter()
        .map(|i| TestTier { name: i.name(), options: PlanOptions::default().with_isa(i) })
        .collect();
    v.push(TestTier { name: "emu8", options: PlanOptions::default().with_emulated_lanes(8) });
    v.push(TestTier { name: "emu16", options: PlanOptions::default().with_emulated_lanes(16) });
    v
}

/// What [`check`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Backend name.
    pub backend: &'static str,
    /// Kernel name of the plan.
    pub kernel: String,
    /// ISA tier of the plan.
    pub isa: Isa,
    /// Max |y - naive| on integer data (0 for exact backends).
    pub max_err_integer: f64,
    /// Max |y - ref| on random data.
    pub max_err_random: f64,
    /// Max of |y - ref| / bound on random data (<= 1 passes).
    pub max_bound_ratio: f64,
}

/// The outcome of [`check`] when the backend declines the problem.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckOutcome {
    /// Compared and agreed.
    Agreed(CheckReport),
    /// The backend does not support the problem (the reason).
    Unsupported(String),
}

/// The data seed [`check`] uses: a [`Checker`] built with it checks the same data as `check`.
pub const CHECK_SEED: u64 = 0x5eed;

/// Compares `backend` with naive on integer data (exact, or within the bound for inexact
/// backends) and with the f64 reference on random data (within the bound). `Err` carries a
/// message naming the backend, kernel, tier, problem and the first bad element.
pub fn check(backend: &dyn Backend, problem: &ConvProblem, options: &PlanOptions) -> Result<CheckOutcome, String> {
    Checker::new(problem, CHECK_SEED)?.check(backend, options)
}

/// The expensive half of [`check`], computed once per problem: the data, naive's output on
/// integer data and the f64 reference on random data. Then [`Checker::check`] is cheap per
/// backend and tier.
pub struct Checker {
    problem: ConvProblem,
    reduction: usize,
    integer: Data,
    naive_integer: Vec<f32>,
    random: Data,
    reference: Reference,
    integer_reference: std::sync::OnceLock<Reference>,
}

impl Checker {
    /// Prepares data and references for `problem` with data seed `seed`.
    pub fn new(problem: &ConvProblem, seed: u64) -> Result<Checker, String> {
        let shape = problem.validate().map_err(|e| format!("{problem}: invalid problem: {e}"))?;
        let integer = Data::new(problem, DataKind::Integer, seed);
        let naive = crate::backend::backend("naive").expect("naive is registered");
        let plan = naive.plan(problem, &integer.weights, integer.bias.as_deref()).map_err(|e| format!("naive on {problem}: {e}"))?;
        let naive_integer = plan.run_alloc(&integer.input).map_err(|e| format!("naive on {problem}: {e}"))?;
        let random = Data::new(problem, DataKind::Random, seed ^ 0x9e37_79b9);
        let reference = reference(problem, &random);
        Ok(Checker {
            problem: *problem,
            reduction: shape.reduction,
            integer,
            naive_integer,
            random,
            reference,
            integer_reference: std::sync::OnceLock::new(),
        })
    }

    /// Checks `backend` on the tier `options` selects.
    pub fn check(&self, backend: &dyn Backend, options: &PlanOptions) -> Result<CheckOutcome, String> {
        let problem = &self.problem;
        if let Err(u) = backend.supports(problem) {
            return Ok(CheckOutcome::Unsupported(u.reason));
        }
        let run = |d: &Data| -> Result<(Vec<f32>, String, Isa, Accuracy), String> {
            let plan = backend
                .plan_with(problem, &d.weights, d.bias.as_deref(), options)
                .map_err(|e| format!("{} on {problem}: plan failed: {e}", backend.name()))?;
            let y =
                plan.run_alloc(&d.input).map_err(|e| format!("{} ({}) on {problem}: run failed: {e}", backend.name(), plan.kernel()))?;
            Ok((y, plan.kernel(), plan.isa(), plan.accuracy()))
        };

        // Integer data: exact against naive.
        let (y, kernel, isa, accuracy) = run(&self.integer)?;
        let yn = &self.naive_integer;
        let label = format!("{} kernel {kernel} ({isa}) on {problem}", backend.name());
        let mut max_err_integer = 0.0f64;
        let ri = if accuracy.exact_on_integers {
            None
        } else {
            Some(self.integer_reference.get_or_init(|| reference(problem, &self.integer)).bound_sums(problem, &accuracy))
        };
        for i in 0..y.len() {
            let err = (y[i] as f64 - yn[i] as f64).abs();
            let ok = match &ri {
                None => same_value(y[i], yn[i]),
                Some(sums) => err <= accuracy.bound(self.reduction, sums[i]) || same_value(y[i], yn[i]),
            };
            if !ok {
                return Err(format!("{label}: integer data, element {} ({}) = {} but naive = {}", i, index_name(problem, i), y[i], yn[i]));
            }
            if err.is_finite() {
                max_err_integer = max_err_integer.max(err);
            }
        }

        // Random data: within the bound of the f64 reference.
        let (y, ..) = run(&self.random)?;
        let rr = &self.reference;
        let sums = rr.bound_sums(problem, &accuracy);
        let (mut max_err_random, mut max_bound_ratio) = (0.0f64, 0.0f64);
        for i in 0..y.len() {
            let err = (y[i] as f64 - rr.values[i]).abs();
            let bound = accuracy.bound(self.reduction, sums[i]);
            // Also fails when either is NaN.
            if !matches!(err.partial_cmp(&bound), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)) {
                return Err(format!(
                    "{label}: random data, element {} ({}) = {} but reference = {} (error {:.3e} > bound {:.3e})",
                    i,
                    index_name(problem, i),
                    y[i],
                    rr.values[i],
                    err,
                    bound
                ));
            }
            max_err_random = max_err_random.max(err);
            if bound > 0.0 {
                max_bound_ratio = max_bound_ratio.max(err / bound);
            }
        }
        Ok(CheckOutcome::Agreed(CheckReport { backend: backend.name(), kernel, isa, max_err_integer, max_err_random, max_bound_ratio }))
    }
}

/// For each output element, the largest of `sums` within `radius` pixels in both axes of
/// the same image and channel (`radius == 0`: `sums` itself). The error bound of algorithms
/// that mix a tile of outputs ([`Accuracy::window`]).
pub fn window_max(problem: &ConvProblem, sums: &[f64], radius: usize) -> Vec<f64> {
    if radius == 0 {
        return sums.to_vec();
    }
    let s = problem.validate().expect("window_max needs a valid problem");
    let (oh, ow) = (s.oh, s.ow);
    let mut out = vec![0.0f64; sums.len()];
    for (plane_in, plane_out) in sums.chunks(oh * ow).zip(out.chunks_mut(oh * ow)) {
        // Rows first, then columns: the max over a (2r+1) x (2r+1) window.
        let mut rows = vec![0.0f64; oh * ow];
        for y in 0..oh {
            for x in 0..ow {
                let (a, b) = (x.saturating_sub(radius), (x + radius).min(ow - 1));
                rows[y * ow + x] = plane_in[y * ow + a..=y * ow + b].iter().copied().fold(0.0, f64::max);
            }
        }
        for y in 0..oh {
            for x in 0..ow {
                let (a, b) = (y.saturating_sub(radius), (y + radius).min(oh - 1));
                plane_out[y * ow + x] = (a..=b).map(|yy| rows[yy * ow + x]).fold(0.0, f64::max);
            }
        }
    }
    out
}

/// `n,k,oh,ow` of an output index.
pub fn index_name(problem: &ConvProblem, i: usize) -> String {
    match problem.validate() {
        Ok(s) => {
            let ow = i % s.ow;
            let oh = (i / s.ow) % s.oh;
            let k = (i / (s.ow * s.oh)) % problem.k;
            let n = i / (s.ow * s.oh * problem.k);
            format!("n{n} k{k} oh{oh} ow{ow}")
        }
        Err(_) => format!("#{i}"),
    }
}

/// Checks `backend` on `problem` at every tier of [`test_tiers`]; `Err` on the first failure.
pub fn check_all_tiers(backend: &dyn Backend, problem: &ConvProblem) -> Result<(), String> {
    for tier in test_tiers() {
        check(backend, problem, &tier.options).map_err(|e| format!("[tier {}] {e}", tier.name))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Largest FLOP count [`problems`] generates, so thousands of cases stay fast.
pub const MAX_STRATEGY_FLOPS: u64 = 3_000_000;

fn channels() -> impl Strategy<Value = usize> {
    // Around every tile width in use: 4, 6, 8, 14, 16, 32 lanes or rows.
    prop_oneof![
        3 => 1usize..=12,
        2 => prop::sample::select(vec![3usize, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 31, 32, 33]),
        1 => 1usize..=40,
    ]
}

fn kernel_extent() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(3usize), 2 => Just(1usize), 2 => 1usize..=7]
}

fn small_factor() -> impl Strategy<Value = usize> {
    prop_oneof![6 => Just(1usize), 2 => Just(2usize), 1 => 3usize..=4]
}

/// One axis: (input, kernel, stride, dilation, pad_begin, pad_end), always valid.
fn axis() -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize)> {
    axis_up_to(14)
}

/// As [`axis`], with inputs up to `extra` beyond the minimum.
fn axis_up_to(extra: usize) -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize)> {
    (kernel_extent(), small_factor(), small_factor(), 0usize..=8, 0usize..=8, 0usize..=3).prop_flat_map(
        move |(k, stride, dil, pa, pb, mode)| {
            let dk = (k - 1) * dil + 1;
            // Pads are usually small, sometimes >= the kernel.
            let (pa, pb) = match mode {
                0 => (0, 0),
                1 => (pa.min(dk), pb.min(dk)),
                _ => (pa % (dk + 2), pb % (dk + 2)),
            };
            let min_in = dk.saturating_sub(pa + pb).max(1);
            // Inputs: exactly the minimum (output extent 1; a single row or column whenever
            // the padding covers the kernel), or larger.
            let input = prop_oneof![2 => Just(min_in), 5 => min_in..=min_in + extra];
            (input, Just(k), Just(stride), Just(dil), Just(pa), Just(pb))
        },
    )
}

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        2 => Just(Activation::None),
        2 => Just(Activation::Relu),
        1 => Just(Activation::RELU6),
        1 => (-3i32..=0, 0i32..=3).prop_map(|(a, b)| Activation::Clamp { min: a as f32 - 0.5, max: b as f32 + 0.5 }),
    ]
}

/// Channel structure: (c, k, groups), covering dense, depthwise, depth multiplier 2, grouped.
fn groups() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        4 => (channels(), channels()).prop_map(|(c, k)| (c, k, 1)),
        2 => channels().prop_map(|c| (c, c, c)),
        1 => (1usize..=20).prop_map(|c| (c, 2 * c, c)),
        2 => (2usize..=4, 1usize..=10, 1usize..=10).prop_map(|(g, cg, kg)| (g * cg, g * kg, g)),
    ]
}

/// Valid problems, biased toward the edges: padding >= kernel, stride > kernel, dilation up to
/// 4, depthwise and depth multiplier 2, grouped, output 1x1, asymmetric padding, batch > 1,
/// 1-row and 1-column images, channels 1..40 and at tile widths +-1, every activation, with
/// and without bias. At most [`MAX_STRATEGY_FLOPS`].
pub fn problems() -> impl Strategy<Value = ConvProblem> {
    (prop_oneof![4 => Just(1usize), 1 => 2usize..=3], groups(), axis(), axis(), any::<bool>(), activation())
        .prop_map(|(n, (c, k, g), (h, r, sh, dh, pt, pb), (w, s, sw, dw, pl, pr), bias, act)| {
            ConvProblem::new(n, c, h, w, k, r, s)
                .with_stride([sh, sw])
                .with_dilation([dh, dw])
                .with_padding([pt, pl, pb, pr])
                .with_groups(g)
                .with_bias(bias)
                .with_activation(act)
        })
        .prop_filter("valid and small", |p| p.validate().map(|s| s.flops <= MAX_STRATEGY_FLOPS).unwrap_or(false))
}

/// Problems with output rows up to several vectors of 16 lanes wide (inputs up to 70 columns
/// beyond the kernel's extent), few rows, and [`problems`]' channel structure and edge bias
/// otherwise: for the `tiled` rows tile's multi-vector rows, tiles spanning rows and partial
/// last vectors on every tier.
pub fn problems_wide_rows() -> impl Strategy<Value = ConvProblem> {
    (1usize..=2, groups(), axis(), axis_up_to(70), any::<bool>(), activation())
        .prop_map(|(n, (c, k, g), (h, r, sh, dh, pt, pb), (w, s, sw, dw, pl, pr), bias, act)| {
            ConvProblem::new(n, c, h, w, k, r, s)
                .with_stride([sh, sw])
                .with_dilation([dh, dw])
                .with_padding([pt, pl, pb, pr])
                .with_groups(g)
                .with_bias(bias)
                .with_activation(act)
        })
        .prop_filter("valid and small", |p| p.validate().map(|s| s.flops <= MAX_STRATEGY_FLOPS).unwrap_or(false))
}

/// Problems whose 3x3 stride-1 dense structure suits Winograd, with the same edge bias.
pub fn problems_3x3_s1() -> impl Strategy<Value = ConvProblem> {
    (prop_oneof![4 => Just(1usize), 1 => 2usize..=3], prop_oneof![3 => (channels(), channels()).prop_map(|(c, k)| (c, k, 1)), 1 => (2usize..=4, 1usize..=10, 1usize..=10).prop_map(|(g, cg, kg)| (g * cg, g * kg, g))], 1usize..=30, 1usize..=30, prop::array::uniform4(0usize..=3), any::<bool>(), activation())
        .prop_map(|(n, (c, k, g), h, w, pad, bias, act)| ConvProblem::new(n, c, h, w, k, 3, 3).with_padding(pad).with_groups(g).with_bias(bias).with_activation(act))
        .prop_filter("valid and small", |p| p.validate().map(|s| s.flops <= MAX_STRATEGY_FLOPS).unwrap_or(false))
}

/// Invalid problems: a valid problem with one field broken (zero, huge, near `usize::MAX`,
/// groups not dividing, kernel larger than the padded input, bad clamp).
pub fn invalid_problems() -> impl Strategy<Value = ConvProblem> {
    let huge = prop_oneof![Just(0usize), Just(MAX_DIM + 1), Just(1usize << 40), Just(usize::MAX), Just(usize::MAX / 2 + 1)];
    (problems(), 0usize..=21, huge).prop_map(|(mut p, which, v)| {
        match which {
            0 => p.n = v,
            1 => p.c = v,
            2 => p.h = v,
            3 => p.w = v,
            4 => p.k = v,
            5 => p.r = v,
            6 => p.s = v,
            7 => p.params.stride[0] = v,
            8 => p.params.stride[1] = v,
            9 => p.params.dilation[0] = v,
            10 => p.params.dilation[1] = v,
            11 => p.params.groups = v,
            12 => p.params.padding[0] = v.max(MAX_DIM + 1),
            13 => p.params.padding[3] = v.max(MAX_DIM + 1),
            14 => {
                // groups that divides neither
                p.params.groups = p.c + 1;
            }
            15 => {
                // groups dividing c but not k
                p.params.groups = p.c;
                p.k = p.c + 1;
                if p.c == 1 {
                    p.c = 2;
                    p.params.groups = 2;
                    p.k = 3;
                }
            }
            16 => {
                p.params.padding = [0; 4];
                p.r = p.h + 1;
            }
            17 => {
                p.params.padding = [0; 4];
                p.params.dilation[1] = 2;
                p.s = p.w.div_ceil(2) + 1;
            }
            18 => p.params.activation = Activation::Clamp { min: 1.0, max: -1.0 },
            19 => p.params.activation = Activation::Clamp { min: f32::NAN, max: 1.0 },
            20 => {
                p.n = 1 << 20;
                p.c = 1 << 20;
                p.params.groups = 1;
            }
            _ => {
                p.h = 1 << 30;
                p.w = 1 << 30;
            }
        }
        p
    })
}
