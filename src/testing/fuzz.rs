//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs` call these), shared with the
//! stable test that replays every corpus file (`tests/fuzz_corpus.rs`), so what the fuzzer
//! found keeps being tested without a nightly toolchain. Each panics on a broken promise.

use arbitrary::Unstructured;

use crate::auto::AutoOptions;
use crate::backend::{PlanOptions, backends};
use crate::problem::{Activation, ConvProblem, MAX_DIM, MAX_ELEMENTS};
use crate::testing::{CheckOutcome, Checker, Data, DataKind, test_tiers};

/// Largest FLOP count `conv_differential` runs the backends on (validation runs on all).
pub const DIFFERENTIAL_MAX_FLOPS: u64 = 50_000;

/// Whether a valid problem is small enough to run (its data is allocated and checked): at most
/// [`DIFFERENTIAL_MAX_FLOPS`] and a million elements in its buffers (a huge stride can give a
/// tiny output from a huge input).
fn small_enough(shape: &crate::problem::ConvShape) -> bool {
    shape.flops <= DIFFERENTIAL_MAX_FLOPS && shape.input_len + shape.output_len + shape.weights_len <= 1 << 20
}

/// Runs `f` in a one-thread rayon pool made once: fuzz inputs are tiny, and a pool of one
/// keeps the executions per second up (results do not depend on the thread count, which
/// `tests/guarantees.rs` checks).
fn in_small_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    match POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().ok()) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

fn small(u: &mut Unstructured<'_>, max: usize) -> arbitrary::Result<usize> {
    // Mostly in range, sometimes zero or huge: the values that break shape arithmetic.
    Ok(match u.int_in_range(0u8..=31)? {
        0 => 0,
        1 => MAX_DIM + 1,
        2 => usize::MAX - u.int_in_range(0usize..=3)?,
        3 => 1 << u.int_in_range(20u32..=40)?,
        _ => u.int_in_range(1..=max)?,
    })
}

/// A bounded problem, valid or not, decoded from fuzz bytes.
pub fn arbitrary_problem(u: &mut Unstructured<'_>) -> arbitrary::Result<ConvProblem> {
    let c = small(u, 12)?;
    let groups = match u.int_in_range(0u8..=3)? {
        0 => 1,
        1 => c,
        _ => small(u, 6)?,
    };
    let k = match u.int_in_range(0u8..=2)? {
        0 => c.saturating_mul(u.int_in_range(1..=2)?),
        _ => small(u, 12)?,
    };
    let activation = match u.int_in_range(0u8..=3)? {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::RELU6,
        _ => Activation::Clamp { min: u.arbitrary()?, max: u.arbitrary()? },
    };
    Ok(ConvProblem::new(small(u, 3)?, c, small(u, 14)?, small(u, 14)?, k, small(u, 5)?, small(u, 5)?)
        .with_stride([small(u, 4)?, small(u, 4)?])
        .with_dilation([small(u, 3)?, small(u, 3)?])
        .with_padding([small(u, 6)?, small(u, 6)?, small(u, 6)?, small(u, 6)?])
        .with_groups(groups)
        .with_bias(u.arbitrary()?)
        .with_activation(activation))
}

/// An independent re-derivation of validity and output size, in i128 arithmetic: `None` if
/// the problem must be refused.
pub fn derive_output(p: &ConvProblem) -> Option<(usize, usize)> {
    let pp = &p.params;
    let dims = [p.n, p.c, p.h, p.w, p.k, p.r, p.s, pp.stride[0], pp.stride[1], pp.dilation[0], pp.dilation[1], pp.groups];
    if dims.iter().any(|&d| d == 0 || d > MAX_DIM) || pp.padding.iter().any(|&d| d > MAX_DIM) {
        return None;
    }
    if !p.c.is_multiple_of(pp.groups) || !p.k.is_multiple_of(pp.groups) {
        return None;
    }
    if let Activation::Clamp { min, max } = pp.activation
        && (min.is_nan() || max.is_nan() || min > max)
    {
        return None;
    }
    let i = |x: usize| x as i128;
    let extent = |input: usize, a: usize, b: usize, k: usize, s: usize, d: usize| -> Option<i128> {
        let padded = i(input) + i(a) + i(b);
        let dk = (i(k) - 1) * i(d) + 1;
        (dk <= padded).then(|| (padded - dk) / i(s) + 1)
    };
    let oh = extent(p.h, pp.padding[0], pp.padding[2], p.r, pp.stride[0], pp.dilation[0])?;
    let ow = extent(p.w, pp.padding[1], pp.padding[3], p.s, pp.stride[1], pp.dilation[1])?;
    let cg = i(p.c / pp.groups);
    let lens = [i(p.n) * i(p.c) * i(p.h) * i(p.w), i(p.k) * cg * i(p.r) * i(p.s), i(p.n) * i(p.k) * oh * ow];
    if lens.iter().any(|&l| l > i(MAX_ELEMENTS)) {
        return None;
    }
    if 2 * lens[2] * cg * i(p.r) * i(p.s) > u64::MAX as i128 {
        return None;
    }
    Some((oh as usize, ow as usize))
}

/// Target `conv_differential`: validation agrees with [`derive_output`]; on small valid
/// problems every backend, at the tier (and Winograd variant) the input picks, matches naive (exactly on integer
/// data, within the bound on random data); nothing panics.
pub fn conv_differential(data: &[u8]) {
    in_small_pool(|| conv_differential_body(data));
}

fn conv_differential_body(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(p) = arbitrary_problem(&mut u) else { return };
    let tier_pick: u8 = u.arbitrary().unwrap_or(0);
    let seed: u64 = u.arbitrary().unwrap_or(0);
    let derived = derive_output(&p);
    let shape = match (p.validate(), derived) {
        (Ok(s), Some(d)) => {
            assert_eq!((s.oh, s.ow), d, "output size of {p:?}");
            s
        }
        (Err(_), None) => {
            for b in backends() {
                assert!(b.supports(&p).is_err() && b.plan(&p, &[0.0; 4], None).is_err(), "{} accepts invalid {p:?}", b.name());
            }
            return;
        }
        (v, d) => panic!("validation {v:?} disagrees with the re-derivation {d:?} for {p:?}"),
    };
    if !small_enough(&shape) {
        return;
    }
    let tiers = test_tiers();
    let tier = &tiers[tier_pick as usize % tiers.len()];
    let mut options = tier.options.clone().with_auto(AutoOptions::rules_only());
    // The seed's low bits pick the Winograd variant (keeps the input layout of the corpus):
    // the default for the size, F(6x6), F(2x2) or F(4x4).
    use crate::winograd::WinogradTile;
    match seed & 3 {
        1 => options = options.with_winograd_tile(WinogradTile::F6x6),
        2 => options = options.with_winograd_tile(WinogradTile::F2x2),
        3 => options = options.with_winograd_tile(WinogradTile::F4x4),
        _ => {}
    }
    let checker = Checker::new(&p, seed).unwrap_or_else(|e| panic!("{e}"));
    for b in backends() {
        match checker.check(b, &options) {
            Ok(CheckOutcome::Agreed(_)) => {}
            Ok(CheckOutcome::Unsupported(why)) => assert!(b.name() == "winograd", "{} declined {p}: {why}", b.name()),
            Err(e) => panic!("[tier {}] {e}", tier.name),
        }
    }
}

/// Target `descriptor_parse`: arbitrary bytes into the descriptor parser and the suite-JSON
/// reader: an error or a round trip, never a panic.
pub fn descriptor_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = text.parse::<ConvProblem>() {
        assert!(p.validate().is_ok(), "parsed an invalid problem from {text:?}");
        let again: ConvProblem = p.to_string().parse().unwrap_or_else(|e| panic!("{p} does not re-parse: {e}"));
        assert_eq!(again, p, "round trip of {text:?}");
    }
    if let Ok(suite) = crate::suite::Suite::from_json(&text, "fuzz") {
        for layer in &suite.layers {
            let p = layer.problem().unwrap_or_else(|e| panic!("accepted suite has invalid layer: {e}"));
            let back: ConvProblem = p.to_string().parse().expect("layer descriptor re-parses");
            assert_eq!(back, p);
        }
        let json = serde_json::to_string(&suite).expect("serialize suite");
        assert_eq!(crate::suite::Suite::from_json(&json, "fuzz").expect("re-read suite"), suite);
    }
}

/// Target `plan_run`: a small valid problem run with wrong-length, misaligned, short or long
/// buffers and workspaces: wrong lengths are errors, right ones (at any alignment) give
/// naive's answer.
pub fn plan_run(data: &[u8]) {
    in_small_pool(|| plan_run_body(data));
}

fn plan_run_body(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(p) = arbitrary_problem(&mut u) else { return };
    let Ok(shape) = p.validate() else { return };
    if !small_enough(&shape) {
        return;
    }
    let pick: u8 = u.arbitrary().unwrap_or(0);
    let all = backends();
    let b = all[pick as usize % all.len()];
    if b.supports(&p).is_err() {
        return;
    }
    let delta = |u: &mut Unstructured<'_>| -> isize { u.int_in_range(-2isize..=2).unwrap_or(0) };
    let (dw, dx, dy) = (delta(&mut u), delta(&mut u), delta(&mut u));
    let d = Data::new(&p, DataKind::Integer, 1);
    let opts = PlanOptions::default().with_auto(AutoOptions::rules_only());
    // The pick's upper part forces tiled's dense tile one way or the other (or leaves the
    // choice to the plan), without reading another byte (so saved inputs keep their meaning).
    let opts = match (pick as usize / all.len()) % 3 {
        1 => opts.with_tiled_kernel(crate::tiled::TiledKernel::Rows),
        2 => opts.with_tiled_kernel(crate::tiled::TiledKernel::Direct),
        _ => opts,
    };
    let wlen = (shape.weights_len as isize + dw).max(0) as usize;
    let mut weights = d.weights.clone();
    weights.resize(wlen, 1.0);
    let plan = match b.plan_with(&p, &weights, d.bias.as_deref(), &opts) {
        Ok(plan) => {
            assert_eq!(dw, 0, "{} planned with {wlen} weights, needs {}", b.name(), shape.weights_len);
            plan
        }
        Err(_) => {
            assert_ne!(dw, 0, "{} refused correct weights for {p}", b.name());
            return;
        }
    };
    let offset = u.int_in_range(0usize..=3).unwrap_or(0);
    let ws_scale = u.int_in_range(0usize..=3).unwrap_or(1);
    let xlen = (shape.input_len as isize + dx).max(0) as usize;
    let ylen = (shape.output_len as isize + dy).max(0) as usize;
    let mut xbuf = vec![0.0f32; xlen + offset];
    xbuf[offset..offset + xlen.min(shape.input_len)].copy_from_slice(&d.input[..xlen.min(shape.input_len)]);
    let mut ybuf = vec![f32::NAN; ylen + offset];
    let per = plan.workspace_len_per_thread();
    let wslen = match ws_scale {
        0 => per.saturating_sub(1),
        1 => per,
        2 => plan.workspace_len(),
        _ => plan.workspace_len() + 7,
    };
    let mut ws = vec![f32::NAN; wslen + offset];
    let r = plan.run(&xbuf[offset..], &mut ybuf[offset..], &mut ws[offset..]);
    let right = dx == 0 && dy == 0 && (wslen >= per);
    match r {
        Ok(()) => {
            assert!(
                right,
                "{} ran with input {xlen}/{}, output {ylen}/{}, workspace {wslen}/{per}",
                b.name(),
                shape.input_len,
                shape.output_len
            );
            let naive = crate::backend::backend("naive").expect("registered");
            let want = naive.plan(&p, &d.weights, d.bias.as_deref()).expect("naive plans").run_alloc(&d.input).expect("naive runs");
            for (i, (g, w)) in ybuf[offset..].iter().zip(&want).enumerate() {
                let ok =
                    if plan.accuracy().exact_on_integers { crate::testing::same_value(*g, *w) } else { g.is_finite() == w.is_finite() };
                assert!(ok, "{} on {p}: element {i} = {g}, naive {w}", b.name());
            }
        }
        Err(e) => assert!(!right, "{} refused right buffers for {p}: {e}", b.name()),
    }
}
