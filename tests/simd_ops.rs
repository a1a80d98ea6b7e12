//! Every operation of the vector vocabulary, at every tier this host has (run inside the
//! tier's `#[target_feature]` entry point) and on the lane-emulating tiers, against the scalar
//! tier, tails included.

use convkit::simd::{Emulated, Portable, Scalar, Simd, WithSimd, run_portable, run_scalar};

/// Inputs covering signs, zeros of both signs, NaN, infinities and ordinary values.
fn inputs() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let special = [0.0, -0.0, 1.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 3.0, -2.0, 0.5, 7.0, -7.5, 1e-3, 2.0, -0.0, 0.0];
    let a: Vec<f32> = (0..64).map(|i| special[i % special.len()]).collect();
    let b: Vec<f32> = (0..64).map(|i| special[(i * 7 + 3) % special.len()]).collect();
    let c: Vec<f32> = (0..64).map(|i| (i as f32) - 20.0).collect();
    (a, b, c)
}

/// The results of every operation on `inputs()`, lane by lane, for one tier.
#[derive(Debug, PartialEq)]
struct Results {
    ops: Vec<(&'static str, Vec<u32>)>,
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| if x.is_nan() { 0x7fc0_0000 } else { x.to_bits() }).collect()
}

struct AllOps;

impl WithSimd for AllOps {
    type Output = Results;

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> Results {
        let (a, b, c) = inputs();
        let l = S::LANES;
        let mut ops: Vec<(&'static str, Vec<u32>)> = Vec::new();
        let lanewise = |f: &dyn Fn(S::V, S::V, S::V) -> S::V| -> Vec<f32> {
            let mut out = vec![0.0f32; 64];
            for i in (0..64).step_by(l) {
                let r = f(s.load_slice(&a[i..]), s.load_slice(&b[i..]), s.load_slice(&c[i..]));
                s.store_slice(r, &mut out[i..i + l]);
            }
            out
        };
        ops.push(("add", bits(&lanewise(&|x, y, _| s.add(x, y)))));
        ops.push(("sub", bits(&lanewise(&|x, y, _| s.sub(x, y)))));
        ops.push(("mul", bits(&lanewise(&|x, y, _| s.mul(x, y)))));
        ops.push(("max", bits(&lanewise(&|x, y, _| s.max(x, y)))));
        ops.push(("min", bits(&lanewise(&|x, y, _| s.min(x, y)))));
        ops.push(("max_rev", bits(&lanewise(&|x, y, _| s.max(y, x)))));
        ops.push(("min_rev", bits(&lanewise(&|x, y, _| s.min(y, x)))));
        // fma on exactly representable products and sums (fused or not gives the same).
        ops.push(("fma", bits(&lanewise(&|_, _, z| s.fma(z, s.splat(2.0), s.splat(0.5))))));
        ops.push(("zero", bits(&lanewise(&|_, _, _| s.zero()))));
        ops.push(("splat", bits(&lanewise(&|_, _, _| s.splat(-3.25)))));
        // Unaligned full loads and stores at every offset.
        for off in 0..l.min(5) {
            let mut out = vec![9.0f32; 64 + 2 * l];
            // SAFETY: `off + l <= 64` floats read from `c`, written to `out`.
            unsafe { s.store(out.as_mut_ptr().add(off + 1), s.load(c.as_ptr().add(off))) };
            ops.push(("load_store", bits(&out[..2 * l + 2])));
        }
        // Partial loads and stores: exactly n lanes, zero-filled, nothing past n touched.
        for n in 0..=l {
            let mut out = vec![9.0f32; 2 * l + 2];
            let src: Vec<f32> = c[..n].to_vec();
            // SAFETY: `src` has n floats and `out` has room for n at offset 1.
            unsafe {
                let v = s.load_partial(src.as_ptr(), n);
                s.store(out.as_mut_ptr().add(l + 1), v);
                s.store_partial(out.as_mut_ptr().add(1), n, s.add(v, s.splat(100.0)));
            }
            ops.push(("partial", bits(&out)));
        }
        // Broadcast from memory.
        // SAFETY: index 5 of `c` is readable.
        ops.push(("broadcast", bits(&lanewise(&|_, _, _| unsafe { s.broadcast(c.as_ptr().add(5)) }))));
        // Deinterleave of 2 * LANES consecutive floats.
        let mut d = vec![0.0f32; 2 * l];
        let (e, o) = s.deinterleave(s.load_slice(&c[..l]), s.load_slice(&c[l..2 * l]));
        s.store_slice(e, &mut d[..l]);
        s.store_slice(o, &mut d[l..]);
        let expected: Vec<f32> = (0..l).map(|i| c[2 * i]).chain((0..l).map(|i| c[2 * i + 1])).collect();
        assert_eq!(d, expected, "deinterleave on {}", s.name());
        let (lo, hi) = s.interleave(e, o);
        let mut back = vec![0.0f32; 2 * l];
        s.store_slice(lo, &mut back[..l]);
        s.store_slice(hi, &mut back[l..]);
        assert_eq!(back, c[..2 * l].to_vec(), "interleave on {}", s.name());
        s.prefetch(c.as_ptr());
        s.prefetch(std::ptr::null());
        Results { ops }
    }
}

/// The lane-independent parts of `Results` must equal scalar's; `partial` and `load_store`
/// depend on the lane count, so they are compared with the scalar semantics applied to that
/// lane count.
fn expected_partial(l: usize) -> Vec<(&'static str, Vec<u32>)> {
    let (_, _, c) = inputs();
    let mut ops = Vec::new();
    for off in 0..l.min(5) {
        let mut out = vec![9.0f32; 64 + 2 * l];
        out[off + 1..off + 1 + l].copy_from_slice(&c[off..off + l]);
        ops.push(("load_store", bits(&out[..2 * l + 2])));
    }
    for n in 0..=l {
        let mut out = vec![9.0f32; 2 * l + 2];
        for i in 0..l {
            out[l + 1 + i] = if i < n { c[i] } else { 0.0 };
        }
        for i in 0..n {
            out[1 + i] = c[i] + 100.0;
        }
        ops.push(("partial", bits(&out)));
    }
    ops
}

fn compare(name: &str, lanes: usize, got: Results, scalar: &Results) {
    let lane_free: Vec<_> = scalar.ops.iter().filter(|(n, _)| *n != "partial" && *n != "load_store").collect();
    for (op, want) in lane_free {
        let (_, have) = got.ops.iter().find(|(n, _)| n == op).unwrap_or_else(|| panic!("{name}: {op} missing"));
        assert_eq!(have, want, "tier {name}: operation {op} differs from scalar");
    }
    let want = expected_partial(lanes);
    let have: Vec<_> = got.ops.into_iter().filter(|(n, _)| *n == "partial" || *n == "load_store").collect();
    assert_eq!(have, want, "tier {name}: loads/stores/tails");
}

#[test]
fn every_tier_matches_scalar_op_for_op() {
    let scalar = run_scalar(AllOps);
    assert_eq!(scalar.ops.iter().find(|(n, _)| *n == "partial").map(|_| ()), Some(()));
    compare("scalar", Scalar::LANES, run_scalar(AllOps), &scalar);
    compare("portable", Portable::LANES, run_portable(AllOps), &scalar);
    compare("emu8", 8, AllOps.with_simd(Emulated::<8>), &scalar);
    compare("emu16", 16, AllOps.with_simd(Emulated::<16>), &scalar);
    #[cfg(target_arch = "x86_64")]
    {
        let active = convkit::active_isa().unwrap();
        if let Some(t) = convkit::simd::Avx2::new().filter(|_| active >= convkit::Isa::Avx2) {
            compare("avx2", 8, convkit::simd::x86_64::run_avx2(t, AllOps), &scalar);
        }
        if let Some(t) = convkit::simd::Avx512::new().filter(|_| active >= convkit::Isa::Avx512) {
            compare("avx512", 16, convkit::simd::x86_64::run_avx512(t, AllOps), &scalar);
        }
    }
}

#[test]
fn max_min_follow_x86_semantics_on_nan_and_signed_zero() {
    let s = Scalar;
    assert!(s.max(f32::NAN, 1.0) == 1.0 && s.max(1.0, f32::NAN).is_nan());
    assert!(s.min(f32::NAN, 1.0) == 1.0 && s.min(1.0, f32::NAN).is_nan());
    assert!(s.max(0.0, -0.0).is_sign_negative() && s.max(-0.0, 0.0).is_sign_positive());
}
