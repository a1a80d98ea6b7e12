//! The promises a pipeline builds on: bitwise-identical results for any thread count, one
//! plan shared by many threads, NaN and infinity propagated as naive propagates them.

use convkit::testing::{Data, DataKind};
use convkit::{Backend, ConvProblem, Plan, backend, backends};

fn problems() -> Vec<ConvProblem> {
    let suite = convkit::Suite::embedded().unwrap();
    let mut v: Vec<ConvProblem> =
        ["lenet_c1", "odd_asymmetric", "seed_7x7", "resnet50_res5_3x3", "resnet50_res4_1x1", "mobilenetv2_dw_s2", "resnext_g32_3x3"]
            .iter()
            .map(|n| suite.layer(n).unwrap().problem().unwrap())
            .collect();
    v.push(ConvProblem::new(3, 17, 19, 23, 33, 3, 3).with_padding([1, 2, 0, 1]).with_stride([2, 1]).with_bias(true));
    v.push(ConvProblem::new(2, 64, 20, 20, 64, 3, 3).with_padding([1; 4]).with_activation(convkit::Activation::RELU6));
    v.push(ConvProblem::new(1, 6, 30, 9, 12, 5, 3).with_groups(3).with_dilation([2, 3]).with_padding([4, 1, 3, 0]));
    // Winograd splits its 25 rows of 11 tiles into 3 chunks on one thread, 4 on two.
    v.push(ConvProblem::new(1, 8, 100, 44, 8, 3, 3).with_padding([1; 4]).with_bias(true));
    // Tiled cuts its 20 output rows (at most 12 per band fit half of L2) into bands of
    // 10 + 10 rows, or 6 + 7 + 7 on three threads.
    v.push(ConvProblem::new(1, 256, 20, 16, 16, 3, 3).with_padding([1; 4]));
    // Tiled on two threads gives each its own band of 9 of the 18 rows (3 channel blocks of
    // 64 on avx512, one image); on three threads, 6 rows each are too few: channel parts.
    v.push(ConvProblem::new(1, 8, 18, 10, 130, 3, 3).with_padding([1; 4]).with_bias(true));
    // im2col multiplies its 1600 pixels (at most 1024 per chunk) as 2 chunks, or 3 on three threads.
    v.push(ConvProblem::new(1, 64, 40, 40, 8, 1, 1).with_bias(true));
    // Depthwise, stride 1: a slot zeroes its plane's padding once per run, tasks copy only
    // the input (with a depth multiplier of 2, and a row that is not a whole number of vectors).
    v.push(ConvProblem::new(2, 5, 9, 21, 10, 3, 3).with_groups(5).with_padding([1, 2, 1, 0]).with_bias(true));
    // Dense stride 2 whose taps read both column phases: tiled keeps plain padded rows.
    v.push(ConvProblem::new(1, 9, 15, 17, 20, 3, 3).with_stride([2, 2]).with_padding([1; 4]));
    v
}

/// Calls `check` with every backend that supports `p`, planned on every test tier (the tier's
/// name beside the plan).
fn for_every_plan(p: &ConvProblem, d: &Data, mut check: impl FnMut(&dyn Backend, &str, &dyn Plan)) {
    for b in backends() {
        if b.supports(p).is_err() {
            continue;
        }
        for tier in convkit::testing::test_tiers() {
            let plan = b.plan_with(p, &d.weights, d.bias.as_deref(), &tier.options).unwrap();
            check(b, tier.name, plan.as_ref());
        }
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_backend_is_bitwise_identical_for_1_2_3_and_7_threads() {
    for p in problems() {
        let d = Data::new(&p, DataKind::Random, 3);
        for_every_plan(&p, &d, |b, tier, plan| {
            let one = in_pool(1, || plan.run_alloc(&d.input).unwrap());
            for threads in [2, 3, 7] {
                let many = in_pool(threads, || plan.run_alloc(&d.input).unwrap());
                assert!(bits(&one) == bits(&many), "{} {} ({tier}) on {p}: {threads} threads differ from 1", b.name(), plan.kernel());
            }
        });
    }
}

#[test]
fn one_plan_run_from_8_threads_at_once_agrees() {
    let p = ConvProblem::new(2, 32, 24, 24, 48, 3, 3).with_padding([1; 4]).with_bias(true).with_activation(convkit::Activation::Relu);
    let d = Data::new(&p, DataKind::Random, 4);
    for b in backends() {
        if b.supports(&p).is_err() {
            continue;
        }
        let plan: Box<dyn Plan> = b.plan(&p, &d.weights, d.bias.as_deref()).unwrap();
        let expected = bits(&plan.run_alloc(&d.input).unwrap());
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| bits(&plan.run_alloc(&d.input).unwrap()))).collect();
            for h in handles {
                assert!(h.join().unwrap() == expected, "{}: concurrent runs disagree", b.name());
            }
        });
    }
}

/// Non-finite values propagate as in naive: NaN where naive has NaN, the same infinity where
/// naive has one, and identical finite values elsewhere (integer data). Winograd's transforms
/// mix a tile's inputs, so it only promises non-finite where naive is non-finite (see its
/// docs); it is checked for that.
#[test]
fn nan_and_infinity_propagate_as_in_naive() {
    let naive: &dyn Backend = backend("naive").unwrap();
    for p in problems() {
        let s = p.validate().unwrap();
        let mut d = Data::new(&p, DataKind::Integer, 5);
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        for (j, i) in (0..s.input_len).step_by(s.input_len / 5 + 1).enumerate() {
            d.input[i] = specials[j % 3];
        }
        d.weights[s.weights_len / 2] = f32::INFINITY;
        let want = naive.plan(&p, &d.weights, d.bias.as_deref()).unwrap().run_alloc(&d.input).unwrap();
        for_every_plan(&p, &d, |b, tier, plan| {
            let got = plan.run_alloc(&d.input).unwrap();
            let exact = plan.accuracy().exact_on_integers;
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let ok = if exact { convkit::testing::same_value(*g, *w) } else { w.is_finite() || !g.is_finite() };
                assert!(ok, "{} {} ({tier}) on {p}: element {i} = {g}, naive = {w}", b.name(), plan.kernel());
            }
        });
    }
}

#[test]
fn results_do_not_depend_on_what_the_workspace_held() {
    // Plans may keep state in the workspace across the tasks of one run (the depthwise
    // plane's zero padding); a workspace full of NaN, or one reused from a run on other data
    // with a different thread count, must change nothing.
    for p in problems() {
        let d = Data::new(&p, DataKind::Random, 5);
        let other = Data::new(&p, DataKind::Integer, 6);
        for_every_plan(&p, &d, |b, tier, plan| {
            let clean = in_pool(1, || plan.run_alloc(&d.input).unwrap());
            for threads in [1, 2] {
                let ws_len = in_pool(threads, || plan.workspace_len());
                let mut ws = vec![f32::NAN; ws_len];
                let mut out = vec![f32::NAN; clean.len()];
                in_pool(threads, || plan.run(&d.input, &mut out, &mut ws).unwrap());
                let label = format!("{} {} ({tier}) on {p}, {threads} threads", b.name(), plan.kernel());
                assert!(bits(&clean) == bits(&out), "{label}: a NaN-filled workspace changed the result");
                let mut scratch = vec![0.0; clean.len()];
                in_pool(3 - threads, || plan.run(&other.input, &mut scratch, &mut ws).unwrap());
                in_pool(threads, || plan.run(&d.input, &mut out, &mut ws).unwrap());
                assert!(bits(&clean) == bits(&out), "{label}: a reused workspace changed the result");
            }
        });
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

    /// The shared edge-biased problems, not only the fixed list above: every backend's plan (on
    /// the active tier) gives the same bits on 1, 2, 3 and 7 threads, whatever bands, chunks and
    /// channel parts each thread count cuts the work into.
    #[test]
    fn random_problems_are_bitwise_identical_across_thread_counts(p in convkit::testing::problems()) {
        let d = Data::new(&p, DataKind::Random, 7);
        for b in backends() {
            if b.supports(&p).is_err() {
                continue;
            }
            let plan = b.plan(&p, &d.weights, d.bias.as_deref()).unwrap();
            let one = in_pool(1, || plan.run_alloc(&d.input).unwrap());
            for threads in [2, 3, 7] {
                let many = in_pool(threads, || plan.run_alloc(&d.input).unwrap());
                proptest::prop_assert!(bits(&one) == bits(&many), "{} {} on {p}: {threads} threads differ from 1", b.name(), plan.kernel());
            }
        }
    }
}
