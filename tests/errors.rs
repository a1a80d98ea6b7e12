//! Bad input gets a typed error naming the field, never a panic or a huge allocation.

use convkit::testing;
use convkit::{Backend, ConvError, ConvProblem, backends};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    /// Every invalid problem is an `Err` from validation and from every backend's `supports`
    /// and `plan`, whatever the buffers; nothing panics or allocates the problem's size.
    #[test]
    fn invalid_problems_are_errors_everywhere(p in testing::invalid_problems()) {
        let e = p.validate();
        prop_assert!(e.is_err(), "{p:?} validated");
        for b in backends() {
            prop_assert!(b.supports(&p).is_err(), "{} supports {p:?}", b.name());
            let plan = b.plan(&p, &[0.0; 16], None);
            prop_assert!(plan.is_err(), "{} planned {p:?}", b.name());
        }
        // The descriptor of an invalid problem does not parse either.
        prop_assert!(p.to_string().parse::<ConvProblem>().is_err());
    }
}

fn plan_ok(name: &str) -> Box<dyn convkit::Plan> {
    let p = ConvProblem::new(1, 2, 5, 5, 3, 3, 3).with_bias(true);
    convkit::backend(name).unwrap().plan(&p, &[1.0; 54], Some(&[0.0; 3])).unwrap()
}

#[test]
fn wrong_lengths_name_the_buffer_and_sizes() {
    let p = ConvProblem::new(1, 2, 5, 5, 3, 3, 3).with_bias(true);
    for b in backends() {
        let e = b.plan(&p, &[1.0; 53], Some(&[0.0; 3])).err().unwrap();
        assert_eq!(e.to_string(), "weights has 53 elements, the problem needs 54", "{}", b.name());
        let e = b.plan(&p, &[1.0; 54], Some(&[0.0; 2])).err().unwrap();
        assert_eq!(e.to_string(), "bias has 2 elements, the problem needs 3", "{}", b.name());
        let e = b.plan(&p, &[1.0; 54], None).err().unwrap();
        assert!(matches!(e, ConvError::BiasMismatch { .. }), "{}: {e}", b.name());
        let e = b.plan(&p.with_bias(false), &[1.0; 54], Some(&[0.0; 3])).err().unwrap();
        assert!(matches!(e, ConvError::BiasMismatch { .. }), "{}: {e}", b.name());
    }
    for name in convkit::backend_names() {
        if convkit::backend(name).unwrap().supports(&p).is_err() {
            continue;
        }
        let plan = plan_ok(name);
        let mut out = vec![0.0; 27];
        let mut ws = vec![0.0; plan.workspace_len()];
        let e = plan.run(&[0.0; 49], &mut out, &mut ws).unwrap_err();
        assert_eq!(e.to_string(), "input has 49 elements, the problem needs 50", "{name}");
        let e = plan.run(&[0.0; 50], &mut out[..26], &mut ws).unwrap_err();
        assert_eq!(e.to_string(), "output has 26 elements, the problem needs 27", "{name}");
        assert!(plan.run_alloc(&[0.0; 51]).is_err());
        if plan.workspace_len_per_thread() > 0 {
            let short = plan.workspace_len_per_thread() - 1;
            let e = plan.run(&[0.0; 50], &mut out, &mut vec![0.0f32; short][..]).unwrap_err();
            assert!(matches!(e, ConvError::WorkspaceTooSmall { .. }), "{name}: {e}");
        }
        // Misaligned buffers (offset by one float) work.
        let x = [0.5f32; 51];
        let mut o = [0.0f32; 28];
        let mut w = vec![0.0f32; plan.workspace_len() + 1];
        plan.run(&x[1..], &mut o[1..], &mut w[1..]).unwrap();
        assert_eq!(o[1..], plan.run_alloc(&x[1..]).unwrap()[..], "{name}");
    }
}

#[test]
fn messages_name_field_and_values() {
    let e = ConvProblem::new(1, 16, 8, 8, 16, 3, 3).with_groups(3).validate().unwrap_err();
    assert_eq!(e.to_string(), "groups 3 does not divide input channels 16");
    let e = ConvProblem::new(1, 1, 7, 7, 1, 5, 5).with_dilation([2, 2]).validate().unwrap_err();
    assert_eq!(e.to_string(), "dilated kernel height 9 exceeds padded input height 7");
    let e = ConvProblem::new(0, 1, 7, 7, 1, 3, 3).validate().unwrap_err();
    assert_eq!(e.to_string(), "batch n must be at least 1, got 0");
    let e = convkit::backend("fft").err().unwrap();
    assert_eq!(e.to_string(), "unknown backend \"fft\"; known backends: naive, im2col, tiled, winograd, auto");
}

/// h = 2^40 is refused before anything is allocated; so are products that overflow.
#[test]
fn huge_dimensions_are_errors_not_allocations() {
    let p = ConvProblem::new(1, 1, 1 << 40, 1, 1, 1, 1);
    assert!(matches!(p.validate(), Err(ConvError::TooLarge { field: "input height h", .. })));
    for b in backends() {
        assert!(b.plan(&p, &[1.0], None).is_err(), "{}", b.name());
    }
    let p = ConvProblem::new(1 << 30, 1 << 30, 1 << 30, 1 << 30, 1, 1, 1);
    assert!(p.validate().is_err());
    let p = ConvProblem::new(1, 1, 8, 8, 1, 3, 3).with_padding([usize::MAX - 1, 0, 1, 0]);
    assert!(p.validate().is_err());
    let p = ConvProblem::new(1, 1, 8, 8, 1, 3, 3).with_stride([usize::MAX, 1]);
    assert!(p.validate().is_err());
}

/// Batch 0 is an error (documented in `ConvProblem::validate`), never an empty success that
/// some backends might mishandle.
#[test]
fn batch_zero_is_an_error() {
    let p = ConvProblem::new(0, 3, 8, 8, 4, 3, 3);
    assert!(matches!(p.validate(), Err(ConvError::ZeroDimension { field: "batch n" })));
    for b in backends() {
        assert!(b.plan(&p, &[0.0; 108], None).is_err(), "{}", b.name());
    }
}

#[test]
fn bad_descriptors_and_suites_are_errors() {
    for text in [
        "",
        "ic",
        "ic3",
        "ic3oc4",
        "ic3ih9oc4",
        "ic3ih9oc4kh3kh3",
        "zz3ic3ih9oc4kh3",
        "ic3ih9oc4kh3_clamp",
        "ic3ih99999999999999999999999oc4kh3",
        "ic3ih9oc4kh3_relu_relu",
        "ic0ih9oc4kh3",
    ] {
        assert!(text.parse::<ConvProblem>().is_err(), "{text:?} parsed");
    }
    assert!(convkit::Suite::from_json("{}", "x").is_err());
    assert!(convkit::Suite::from_json(r#"{"layers":[{"name":"a","c":1,"h":1,"w":1,"k":1,"r":1,"s":1,"extra":1}]}"#, "x").is_err());
    let e = convkit::Suite::from_json(
        r#"{"layers":[{"name":"a","c":1,"h":1,"w":1,"k":1,"r":1,"s":1},{"name":"a","c":1,"h":1,"w":1,"k":1,"r":1,"s":1}]}"#,
        "x",
    )
    .unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
}

#[test]
fn plan_options_refuse_tiers_above_the_active_one() {
    let active = convkit::active_isa().unwrap();
    let p = ConvProblem::new(1, 1, 4, 4, 1, 3, 3);
    if let Some(above) = convkit::Isa::ALL.iter().find(|i| **i > active) {
        let opts = convkit::PlanOptions::default().with_isa(*above);
        let e = convkit::backend("im2col").unwrap().plan_with(&p, &[1.0; 9], None, &opts).err().unwrap();
        assert!(matches!(e, ConvError::IsaUnavailable { .. }), "{e}");
    }
    let b: &dyn Backend = convkit::backend("naive").unwrap();
    assert!(b.plan(&p, &[1.0; 9], None).is_ok());
}
