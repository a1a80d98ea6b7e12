//! Packing A's full MR-row micro-panels with vector transposes, per tier.
//!
//! A micro-panel is a transpose: row `i` of A's `MR x kc` block becomes lane `i` of `kc`
//! groups of MR floats. Where a tier's vector holds a whole group (`MR <= LANES`: avx2 6 in 8,
//! avx512 6 in 16), `LANES` columns at a time are loaded as MR row vectors (plus zero rows up
//! to `LANES`), transposed in registers by `log2(LANES)` rounds of [`Simd::interleave`] and
//! stored as `LANES` column vectors at stride MR, each store overlapping the previous one's
//! `LANES - MR` unused lanes. The scalar 6-row transpose this replaces cost ~0.75 ns per
//! element: 6% of a 512^3 `sgemm` and a third of a 240x64x272 one (A is packed per call).
//! Tiers whose vectors are narrower than MR (scalar, portable) report that they packed
//! nothing and the caller's scalar transpose runs.

use super::kernel::gemm_dispatch;
use crate::simd::transpose::{MAX_LANES, transpose};
use crate::simd::{Simd, Tier, WithSimd};

/// Appends the `panels` full micro-panels of KC block `pc .. pc + kcb` of row-major `a`
/// (leading dimension `lda`, panel `p` = rows `p * mr ..`) to `out`, if `tier`'s micro-kernel
/// height is `mr` and a vector holds a panel's group. Returns whether it did; if not, `out`
/// is unchanged.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pack_full_panels(
    tier: Tier,
    a: &[f32],
    lda: usize,
    mr: usize,
    panels: usize,
    pc: usize,
    kcb: usize,
    out: &mut Vec<f32>,
) -> bool {
    gemm_dispatch!(tier, PackPanels(PanelsArgs { a, lda, mr, panels, pc, kcb, out }))
}

struct PanelsArgs<'a> {
    a: &'a [f32],
    lda: usize,
    mr: usize,
    panels: usize,
    pc: usize,
    kcb: usize,
    out: &'a mut Vec<f32>,
}

struct PackPanels<'a, const MR: usize, const NV: usize>(PanelsArgs<'a>);

impl<const MR: usize, const NV: usize> WithSimd for PackPanels<'_, MR, NV> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> bool {
        let PanelsArgs { a, lda, mr, panels, pc, kcb, out } = self.0;
        let l = S::LANES;
        if mr != MR || MR > l || l > MAX_LANES || !l.is_power_of_two() {
            return false;
        }
        if panels == 0 || kcb == 0 {
            return true;
        }
        // Every row read: rows `< panels * MR`, columns `pc .. pc + kcb`.
        let last_row = (panels * MR - 1).checked_mul(lda).and_then(|o| o.checked_add(pc + kcb));
        assert!(last_row.is_some_and(|end| end <= a.len()), "A too short for its panels");
        let len = panels * MR * kcb;
        // The last column vector's store reaches `LANES - MR` floats past the data.
        out.reserve(len + l);
        let start = out.len();
        let groups = kcb / l;
        // SAFETY: `out` has capacity for `start + len + l` floats, and every float written is
        // below that: panel `p`'s group `g` stores `l` vectors of `l` floats at `dst + (g * l + j)
        // * MR` for `j < l`, the last ending at `(g * l + l - 1) * MR + l <= kcb * MR + l - MR`,
        // and the scalar tail writes columns `groups * l .. kcb` of the panel, so all of
        // `start .. start + len` is written before `set_len`. Reads: row `p * MR + i`,
        // columns `pc + g * l .. + l` or `pc + kk` with `kk < kcb`, inside `a` (asserted).
        unsafe {
            let base = out.as_mut_ptr().add(start);
            for p in 0..panels {
                let dst = base.add(p * MR * kcb);
                let row = |i: usize| a.as_ptr().add((p * MR + i) * lda + pc);
                for g in 0..groups {
                    let mut v = [s.zero(); MAX_LANES];
                    for (i, slot) in v.iter_mut().enumerate().take(MR) {
                        *slot = s.load(row(i).add(g * l));
                    }
                    let cols = transpose::<S>(s, v);
                    for (j, col) in cols.iter().enumerate().take(l) {
                        s.store(dst.add((g * l + j) * MR), *col);
                    }
                }
                for kk in groups * l..kcb {
                    for i in 0..MR {
                        dst.add(kk * MR + i).write(*row(i).add(kk));
                    }
                }
            }
            out.set_len(start + len);
        }
        true
    }
}
