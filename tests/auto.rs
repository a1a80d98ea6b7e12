//! The `auto` backend: measured choices, recorded and deterministic; wisdom files saved,
//! loaded, refused when corrupt, ignored when from another version or CPU; rules-only mode.
//! (One test function: the choice cache is process-wide.)

use std::time::Duration;

use convkit::auto::{self, AutoOptions, Choice};
use convkit::testing::{Data, DataKind};
use convkit::{ConvError, ConvProblem, PlanOptions, backend};

#[test]
fn auto_chooses_records_saves_and_loads() {
    let dir = std::env::temp_dir().join(format!("convkit-auto-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = ConvProblem::new(1, 16, 20, 20, 32, 3, 3).with_padding([1; 4]).with_bias(true);
    let d = Data::new(&p, DataKind::Random, 1);
    auto::clear_choices();

    // Rules only: no choice recorded, a sensible backend.
    let rules = PlanOptions::default().with_auto(AutoOptions::rules_only());
    let plan = backend("auto").unwrap().plan_with(&p, &d.weights, d.bias.as_deref(), &rules).unwrap();
    assert_eq!(plan.backend(), "auto");
    assert!(plan.kernel().starts_with("tiled:") || plan.kernel().starts_with("winograd:"), "{}", plan.kernel());
    let isa = convkit::active_isa().unwrap();
    let threads = rayon::current_num_threads();
    assert!(auto::recorded_choice(&p, isa, threads).is_none());

    // Measuring records the fastest candidate with every candidate's time.
    let measured = PlanOptions::default().with_auto(AutoOptions::with_budget(Duration::from_millis(30)));
    let plan = backend("auto").unwrap().plan_with(&p, &d.weights, d.bias.as_deref(), &measured).unwrap();
    let choice = auto::recorded_choice(&p, isa, threads).expect("recorded");
    assert!(plan.kernel().starts_with(&format!("{}:", choice.backend)));
    assert!(choice.times_ms.len() >= 2, "{choice:?}");
    // The two fastest medians were settled by paired samples: the choice is one of them, and
    // the pairs found it faster.
    let mut by_time: Vec<(&String, &f64)> = choice.times_ms.iter().collect();
    by_time.sort_by(|a, b| a.1.total_cmp(b.1));
    let (other, ratio) = choice.paired.as_ref().expect("two or more candidates: paired");
    let two = [by_time[0].0, by_time[1].0];
    assert!(two.contains(&&choice.backend) && two.contains(&other) && *ratio >= 1.0, "{choice:?}");
    assert_ne!(&choice.backend, other, "{choice:?}");
    // The answer is right.
    let y = plan.run_alloc(&d.input).unwrap();
    let yn = backend("naive").unwrap().plan(&p, &d.weights, d.bias.as_deref()).unwrap().run_alloc(&d.input).unwrap();
    let max = y.iter().zip(&yn).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max < 1e-3, "{max}");

    // Deterministic once recorded: a forced choice is always used.
    auto::record_choice(Choice {
        problem: p.to_string(),
        isa,
        threads,
        backend: "im2col".into(),
        times_ms: Default::default(),
        paired: None,
    });
    for _ in 0..3 {
        let plan = backend("auto").unwrap().plan_with(&p, &d.weights, d.bias.as_deref(), &measured).unwrap();
        assert!(plan.kernel().starts_with("im2col:"), "{}", plan.kernel());
    }

    // Save, clear, load: the choice comes back.
    let path = dir.join("wisdom.json");
    auto::save_wisdom(&path).unwrap();
    auto::clear_choices();
    assert_eq!(auto::load_wisdom(&path).unwrap(), 1);
    assert_eq!(auto::recorded_choice(&p, isa, threads).unwrap().backend, "im2col");

    // Another crate version: ignored (0 choices), not an error.
    let mut w = auto::wisdom();
    w.crate_version = "0.0.0-other".into();
    let other = dir.join("other.json");
    std::fs::write(&other, serde_json::to_string(&w).unwrap()).unwrap();
    auto::clear_choices();
    assert_eq!(auto::load_wisdom(&other).unwrap(), 0);
    assert!(auto::recorded_choice(&p, isa, threads).is_none());
    // Another CPU: ignored too.
    let mut w2 = w.clone();
    w2.crate_version = env!("CARGO_PKG_VERSION").into();
    w2.cpu = "a different CPU".into();
    std::fs::write(&other, serde_json::to_string(&w2).unwrap()).unwrap();
    assert_eq!(auto::load_wisdom(&other).unwrap(), 0);

    // Corrupt or missing: an error naming the file.
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, "{ not json").unwrap();
    let e = auto::load_wisdom(&corrupt).unwrap_err();
    assert!(matches!(e, ConvError::Wisdom { .. }) && e.to_string().contains("corrupt.json"), "{e}");
    let e = auto::load_wisdom(dir.join("missing.json")).unwrap_err();
    assert!(e.to_string().contains("missing.json"), "{e}");
    // A choice of a backend that cannot be chosen is refused.
    let mut w3 = w2.clone();
    w3.cpu = auto::cpu_id();
    w3.choices = vec![Choice { problem: p.to_string(), isa, threads, backend: "naive".into(), times_ms: Default::default(), paired: None }];
    std::fs::write(&corrupt, serde_json::to_string(&w3).unwrap()).unwrap();
    assert!(auto::load_wisdom(&corrupt).is_err());

    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn conv2d_one_shot_uses_rules_and_is_right() {
    let p = ConvProblem::new(1, 1, 7, 7, 1, 3, 3).with_activation(convkit::Activation::Relu);
    let x: Vec<f32> = (0..49).map(|i| (i % 3) as f32).collect();
    let w = [1.0, 0.0, -1.0, 1.0, 0.0, -1.0, 1.0, 0.0, -1.0];
    let y = convkit::conv2d(&p, &x, &w, None).unwrap();
    let yn = backend("naive").unwrap().plan(&p, &w, None).unwrap().run_alloc(&x).unwrap();
    assert_eq!(y, yn);
}

/// `paired_ratio` says which of two plans is faster: here one does 16 times the other's work.
///
/// Both run in a one-thread pool: the other tests of this file run at the same time, and on a
/// two-core machine a run split over two workers waited for a preempted one for whole
/// milliseconds (under `CONVKIT_MAX_ISA=scalar` the 16x problem once measured only 1.9x).
#[test]
fn paired_samples_tell_a_small_problem_from_a_big_one() {
    use convkit::timing::{Bench, paired_ratio};
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    pool.install(|| {
        let small = ConvProblem::new(1, 8, 16, 16, 8, 3, 3).with_padding([1; 4]);
        let big = ConvProblem::new(1, 8, 64, 64, 8, 3, 3).with_padding([1; 4]);
        let (ds, db) = (Data::new(&small, DataKind::Random, 1), Data::new(&big, DataKind::Random, 2));
        let ps = backend("tiled").unwrap().plan(&small, &ds.weights, None).unwrap();
        let pb = backend("tiled").unwrap().plan(&big, &db.weights, None).unwrap();
        let (mut bs, mut bb) = (Bench::new(ps.as_ref(), &ds.input), Bench::new(pb.as_ref(), &db.input));
        let r = paired_ratio(&mut bs, &mut bb, Duration::from_millis(50), 11).unwrap();
        assert!(r > 0.0 && r < 0.5, "small / big time ratio {r}");
        let r = paired_ratio(&mut bb, &mut bs, Duration::from_millis(50), 11).unwrap();
        assert!(r > 2.0, "big / small time ratio {r}");
    });
}
