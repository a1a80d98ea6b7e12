//! Packing of GEMM operands into micro-panel order.
//!
//! * A (`m x k`, the weights in a convolution) is packed once, at plan time, into
//!   [`PackedA`]: for each KC block of the reduction, for each MR-row micro-panel, `kc` groups
//!   of MR values (rows past `m` are zeros).
//! * B (`k x n`) is packed per `KC x NC` block into NR-column micro-panels: for each panel,
//!   `kc` groups of NR values (columns past `n` are zeros). The convolution's lowering writes
//!   this layout directly; [`pack_b`] does it for a plain row-major matrix.
#![forbid(unsafe_code)]

use super::kernel::gemm_dispatch;
use super::transpose;
use crate::buffer::WeightBuf;
use crate::simd::Tier;

/// Zeros after the last packed panel of a [`PackedA`] (a widest vector, 16 lanes).
pub const PANEL_SLACK: usize = 16;

/// A row-major `m x k` matrix packed into MR-row micro-panels, per KC block.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedA {
    /// Rows.
    pub m: usize,
    /// Reduction length.
    pub k: usize,
    /// Micro-panel height.
    pub mr: usize,
    /// KC block length.
    pub kc: usize,
    /// `m` rounded up to a multiple of `mr`.
    pub m_padded: usize,
    data: Vec<f32>,
}

impl PackedA {
    /// Packs `a` (row `i` at `a[i * lda ..][.. k]`).
    ///
    /// ```
    /// use convkit::gemm::pack::PackedA;
    /// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3
    /// let p = PackedA::pack(&a, 3, 2, 3, 2, 3);
    /// assert_eq!(p.block(0, 0)[..6], [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    pub fn pack(a: &[f32], lda: usize, m: usize, k: usize, mr: usize, kc: usize) -> PackedA {
        Self::pack_on(Tier::Scalar, a, lda, m, k, mr, kc)
    }

    /// [`PackedA::pack`] with `tier`'s vector transposes where its micro-kernel height is `mr`
    /// (the same layout, faster: `sgemm` packs A on every call).
    pub(crate) fn pack_on(tier: Tier, a: &[f32], lda: usize, m: usize, k: usize, mr: usize, kc: usize) -> PackedA {
        let mut packed = PackedA { m: 0, k: 0, mr, kc, m_padded: 0, data: Vec::new() };
        packed.repack_on(tier, a, lda, m, k, mr, kc);
        packed
    }

    /// [`PackedA::pack_on`] into this buffer, reusing its allocation (`sgemm` packs A block by
    /// block into one buffer per task).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn repack_on(&mut self, tier: Tier, a: &[f32], lda: usize, m: usize, k: usize, mr: usize, kc: usize) {
        let m_padded = m.div_ceil(mr) * mr;
        // Filled by appending, panel after panel, so the buffer is written once (zeroing it
        // first cost a separate pass).
        let mut data = std::mem::take(&mut self.data);
        data.clear();
        data.reserve(m_padded * k + PANEL_SLACK);
        let mut pc = 0;
        while pc < k {
            let kcb = kc.min(k - pc);
            let full = if transpose::pack_full_panels(tier, a, lda, mr, m / mr, pc, kcb, &mut data) { m / mr } else { 0 };
            for panel in full..m_padded / mr {
                let rows = mr.min(m - panel * mr);
                let src = |i: usize| &a[(panel * mr + i) * lda + pc..][..kcb];
                match (rows == mr, mr) {
                    // The tiers' tile heights: fixed-size transposes without bounds checks (a
                    // per-element loop cost 8% of a 512^3 sgemm).
                    (true, 4) => pack_panel::<4>(std::array::from_fn(src), &mut data),
                    (true, 6) => pack_panel::<6>(std::array::from_fn(src), &mut data),
                    _ => {
                        let start = data.len();
                        data.resize(start + kcb * mr, 0.0);
                        for i in 0..rows {
                            for (d, v) in data[start + i..].iter_mut().step_by(mr).zip(src(i)) {
                                *d = *v;
                            }
                        }
                    }
                }
            }
            pc += kcb;
        }
        debug_assert_eq!(data.len(), m_padded * k);
        // Readable floats past the last panel: the micro-kernel's column path loads whole
        // vectors down a panel's MR rows, up to a vector minus MR floats past its end.
        data.resize(m_padded * k + PANEL_SLACK, 0.0);
        *self = PackedA { m, k, mr, kc, m_padded, data };
    }

    /// The packed micro-panels of KC block starting at `pc`, from row `row0` (a multiple of
    /// `mr`): the block's panels, then what follows them in the buffer (the next blocks and
    /// [`PANEL_SLACK`] floats), which the micro-kernel may read past a panel's end.
    pub fn block(&self, pc: usize, row0: usize) -> &[f32] {
        let kcb = self.kc.min(self.k - pc);
        &self.data[pc * self.m_padded + row0 * kcb..]
    }

    /// Packed size in floats (without the slack).
    pub fn len(&self) -> usize {
        self.data.len() - PANEL_SLACK
    }

    /// True if nothing is packed (`m` or `k` is zero).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Packed matrices of one shape (`m x k`, the same `mr` and `kc`), one after another in a
/// single [`WeightBuf`]: Winograd's transformed filters, `alpha^2` per group. Large sets are
/// huge-page backed, so a set streamed from L3 on every run (resnet50_res5_3x3's F(2x2)
/// filters: 16 matrices of 512 x 512, 16.8 MB) walks one page-table entry per 2 MiB.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PackedASet {
    m: usize,
    m_padded: usize,
    k: usize,
    mr: usize,
    kc: usize,
    /// Floats per matrix (`m_padded * k`).
    stride: usize,
    count: usize,
    /// The matrices, then [`PANEL_SLACK`] zeros.
    data: WeightBuf,
}

impl PackedASet {
    /// Room for `count` packed `m x k` matrices of `mr`-row panels and `kc` blocks (zeros).
    /// Shape arithmetic is checked: `None` if the set's size overflows.
    pub fn zeroed(count: usize, m: usize, k: usize, mr: usize, kc: usize) -> Option<PackedASet> {
        let m_padded = m.checked_next_multiple_of(mr.max(1))?;
        let stride = m_padded.checked_mul(k)?;
        let data = WeightBuf::zeroed(stride.checked_mul(count)?.checked_add(PANEL_SLACK)?);
        Some(PackedASet { m, m_padded, k, mr, kc, stride, count, data })
    }

    /// Stores `packed` as matrix `i`. Panics if its shape is not the set's (a caller bug).
    pub fn put(&mut self, i: usize, packed: &PackedA) {
        assert!(i < self.count, "matrix {i} of {}", self.count);
        assert_eq!((packed.m, packed.k, packed.mr, packed.kc), (self.m, self.k, self.mr, self.kc), "packed shape");
        self.data.as_mut_slice()[i * self.stride..][..self.stride].copy_from_slice(&packed.data[..self.stride]);
    }

    /// Matrix `i`'s KC block at `pc` from row `row0`, as [`PackedA::block`]: what follows it in
    /// the buffer (later blocks, later matrices, the slack) stays readable.
    pub fn block(&self, i: usize, pc: usize, row0: usize) -> &[f32] {
        assert!(i < self.count, "matrix {i} of {}", self.count);
        let kcb = self.kc.min(self.k - pc);
        &self.data.as_slice()[i * self.stride + pc * self.m_padded + row0 * kcb..]
    }
}

/// Appends `MR` rows of `kc` floats to `out` as `kc` groups of `MR` (one micro-panel), eight
/// columns at a time through fixed-size arrays.
fn pack_panel<const MR: usize>(src: [&[f32]; MR], out: &mut Vec<f32>) {
    const W: usize = 8;
    let kc = src[0].len();
    let full = kc / W * W;
    for k0 in (0..full).step_by(W) {
        let tile: [[f32; W]; MR] = std::array::from_fn(|i| src[i][k0..k0 + W].try_into().expect("W floats"));
        let mut groups = [[0.0f32; MR]; W];
        for (j, group) in groups.iter_mut().enumerate() {
            for (d, row) in group.iter_mut().zip(&tile) {
                *d = row[j];
            }
        }
        out.extend_from_slice(groups.as_flattened());
    }
    for kk in full..kc {
        out.extend(src.iter().map(|row| row[kk]));
    }
}

/// Packs `b[pc .. pc + kcb][jc .. jc + ncb]` (row-major, leading dimension `ldb`) into
/// NR-column micro-panels in `dst` (`ncb.div_ceil(nr) * nr * kcb` floats).
#[allow(clippy::too_many_arguments)]
pub fn pack_b(b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, ncb: usize, nr: usize, dst: &mut [f32]) {
    pack_b_inline(b, ldb, pc, kcb, jc, ncb, nr, dst)
}

/// [`pack_b`]'s body, inlined into [`pack_b_on`]'s tier entry points.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pack_b_inline(b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, ncb: usize, nr: usize, dst: &mut [f32]) {
    let full = ncb / nr;
    match nr {
        // The tiers' tile widths as fixed-size copies: LLVM turned the element loop into a
        // `memcpy` call per 16-float row, 11% of a 512^3 sgemm. 64 (avx512 6 x 64) was
        // missing after the tile changed from 14 x 32: its rows went through the element loop
        // (2026-11-27, Sapphire Rapids class, one thread, paired: 512^3 +1.4%, 1024^3 +0.9%,
        // 256^3 +0.4%; a copy of 64 floats is still a `memmove` call, now 2.6% of 512^3).
        2 => pack_b_full::<2>(b, ldb, pc, kcb, jc, full, dst),
        8 => pack_b_full::<8>(b, ldb, pc, kcb, jc, full, dst),
        16 => pack_b_full::<16>(b, ldb, pc, kcb, jc, full, dst),
        32 => pack_b_full::<32>(b, ldb, pc, kcb, jc, full, dst),
        64 => pack_b_full::<64>(b, ldb, pc, kcb, jc, full, dst),
        _ => pack_b_ragged(b, ldb, pc, kcb, jc, 0, ncb, nr, dst),
    }
    if full * nr < ncb {
        pack_b_ragged(b, ldb, pc, kcb, jc, full, ncb, nr, dst);
    }
}

/// [`pack_b`] compiled for `tier` (inside its entry point, so the copies of NR floats use its
/// vector moves rather than baseline SSE's 16-byte ones). Measured (2026-12-06, Zen 3, avx2,
/// one thread, paired, 21 rounds): sgemm 512^3 +1.9% (a 15-round run: level), 256^3 +1.1%,
/// 128^3 +1.6%, 64x3136x576 +3%.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pack_b_on(tier: Tier, b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, ncb: usize, nr: usize, dst: &mut [f32]) {
    struct PackBArgs<'a> {
        b: &'a [f32],
        ldb: usize,
        pc: usize,
        kcb: usize,
        jc: usize,
        ncb: usize,
        nr: usize,
        dst: &'a mut [f32],
    }
    /// The copy inside the tier's entry point (the tile parameters of `gemm_dispatch` unused).
    struct PackB<'a, const MR: usize, const NV: usize>(PackBArgs<'a>);
    impl<const MR: usize, const NV: usize> crate::simd::WithSimd for PackB<'_, MR, NV> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: crate::simd::Simd>(self, _: S) {
            let a = self.0;
            pack_b_inline(a.b, a.ldb, a.pc, a.kcb, a.jc, a.ncb, a.nr, a.dst)
        }
    }
    gemm_dispatch!(tier, PackB(PackBArgs { b, ldb, pc, kcb, jc, ncb, nr, dst }))
}

/// Rows of B that [`pack_b_full`] copies into one panel before it moves to the next.
///
/// Row by row (each row's pieces to every panel in turn) the writes stride `kc * NR` floats
/// (16 KiB at KC 256, NR 16): every panel's line falls in the same L1 set. Sixteen rows at a
/// time write 1 KiB runs per panel and read 16 row streams. Measured (2026-12-06, Zen 3,
/// avx2, B hot in cache): `pack_b` 256 x 256 22 -> 9.4 us, 512 x 512 92 -> 44 us (4 rows 10.6,
/// 8 rows 10.2, 32 rows 14.6); sgemm 512^3 and 256^3 +0.6% (one thread, paired).
const PACK_B_ROWS: usize = 16;

/// The first `panels` (full, NR-column) micro-panels of [`pack_b`]: [`PACK_B_ROWS`] rows of B
/// at a time, panel after panel.
#[inline(always)]
fn pack_b_full<const NR: usize>(b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, panels: usize, dst: &mut [f32]) {
    let mut k0 = 0;
    while k0 < kcb {
        let rows = PACK_B_ROWS.min(kcb - k0);
        for panel in 0..panels {
            for kk in k0..k0 + rows {
                let piece: &[f32; NR] = b[(pc + kk) * ldb + jc + panel * NR..][..NR].try_into().expect("NR floats");
                let d: &mut [f32; NR] = (&mut dst[(panel * kcb + kk) * NR..][..NR]).try_into().expect("NR floats");
                *d = *piece;
            }
        }
        k0 += rows;
    }
}

/// Panels `from ..` of [`pack_b`] by element loops, zero-filling columns past `ncb`.
#[allow(clippy::too_many_arguments)]
fn pack_b_ragged(b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, from: usize, ncb: usize, nr: usize, dst: &mut [f32]) {
    for (panel, out) in dst.chunks_exact_mut(kcb * nr).take(ncb.div_ceil(nr)).enumerate().skip(from) {
        let col0 = jc + panel * nr;
        let cols = nr.min(jc + ncb - col0);
        for (kk, group) in out.chunks_exact_mut(nr).enumerate() {
            let row = &b[(pc + kk) * ldb + col0..][..cols];
            for (d, s) in group.iter_mut().zip(row) {
                *d = *s;
            }
            for d in &mut group[cols..] {
                *d = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tile shape, the tiers' fixed-size paths and the generic fallbacks (mr 5, nr 3),
    /// against the layout's definition.
    #[test]
    fn packed_layouts_match_their_definition() {
        let (m, k) = (23, 37);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32).collect();
        for mr in [4, 5, 6, 14] {
            for kc in [8, 16, 37] {
                let p = PackedA::pack(&a, k, m, k, mr, kc);
                for pc in (0..k).step_by(kc) {
                    let kcb = kc.min(k - pc);
                    let block = p.block(pc, 0);
                    for i in 0..p.m_padded {
                        for kk in 0..kcb {
                            let want = if i < m { a[i * k + pc + kk] } else { 0.0 };
                            assert_eq!(block[(i / mr) * kcb * mr + kk * mr + i % mr], want, "mr {mr} kc {kc} i {i} k {kk}");
                        }
                    }
                }
            }
        }
        // B wide enough for two full 64-column panels and a ragged one.
        let nb = 3 + 2 * 64 + 5;
        let b: Vec<f32> = (0..k * nb).map(|i| i as f32).collect();
        for (nr, ncb) in [2, 3, 8, 16, 32, 64].into_iter().flat_map(|nr| [(nr, 35usize), (nr, nb - 3)]) {
            let (pc, kcb, jc, n) = (5, 17, 3, nb);
            let mut dst = vec![f32::NAN; ncb.div_ceil(nr) * nr * kcb];
            pack_b(&b, n, pc, kcb, jc, ncb, nr, &mut dst);
            for j in 0..ncb.div_ceil(nr) * nr {
                for kk in 0..kcb {
                    let want = if j < ncb { b[(pc + kk) * n + jc + j] } else { 0.0 };
                    assert_eq!(dst[(j / nr) * kcb * nr + kk * nr + j % nr], want, "nr {nr} j {j} k {kk}");
                }
            }
            // The same copy compiled inside each tier's entry point (`pack_b_on`).
            let tiers = crate::isa::available_isas().expect("valid CONVKIT_MAX_ISA").into_iter().filter_map(Tier::for_isa);
            for tier in tiers {
                let mut on = vec![f32::NAN; dst.len()];
                pack_b_on(tier, &b, n, pc, kcb, jc, ncb, nr, &mut on);
                assert_eq!(on, dst, "tier {tier:?} nr {nr} ncb {ncb}");
            }
        }
    }

    /// Every tier's vector transposes give the scalar layout: its own tile height and others,
    /// KC blocks shorter and longer than a vector and not a multiple of one, rows past the
    /// last full panel, a leading dimension wider than `k`.
    #[test]
    fn tier_transposes_match_the_scalar_packing() {
        let mut tiers: Vec<Tier> =
            crate::isa::available_isas().expect("valid CONVKIT_MAX_ISA").into_iter().filter_map(Tier::for_isa).collect();
        #[cfg(feature = "testing")]
        tiers.extend([Tier::Emu8, Tier::Emu16]);
        let (m, k, lda) = (37, 45, 50);
        let a: Vec<f32> = (0..m * lda).map(|i| i as f32).collect();
        for tier in tiers {
            let (own, _) = crate::gemm::kernel::tile(tier);
            for mr in [own, 4, 6, 14] {
                for kc in [3, 8, 16, 17, 40, 45] {
                    for rows in [0, 1, mr - 1, mr, mr + 1, m] {
                        let want = PackedA::pack(&a, lda, rows, k, mr, kc);
                        assert_eq!(PackedA::pack_on(tier, &a, lda, rows, k, mr, kc), want, "{} mr {mr} kc {kc} rows {rows}", tier.name());
                    }
                }
            }
        }
    }

    /// A set holds each matrix exactly as its own `PackedA` does, every block readable to the
    /// set's end with the slack after the last; small sets (heap) and a large one (huge-page
    /// mapping on Linux, 2 MiB and up) alike; a shape mismatch is refused.
    #[test]
    fn packed_sets_hold_each_matrix_as_packed_alone() {
        for (count, m, k) in [(1, 5, 7), (4, 23, 37), (3, 512, 400)] {
            let (mr, kc) = (6, 16);
            let mats: Vec<PackedA> = (0..count)
                .map(|i| {
                    let a: Vec<f32> = (0..m * k).map(|j| (i * 1000 + j % 997) as f32).collect();
                    PackedA::pack(&a, k, m, k, mr, kc)
                })
                .collect();
            let mut set = PackedASet::zeroed(count, m, k, mr, kc).expect("small shape");
            for (i, p) in mats.iter().enumerate() {
                set.put(i, p);
            }
            for (i, p) in mats.iter().enumerate() {
                for pc in (0..k).step_by(kc) {
                    for row0 in (0..m).step_by(mr) {
                        let (got, want) = (set.block(i, pc, row0), p.block(pc, row0));
                        assert_eq!(&got[..want.len() - PANEL_SLACK], &want[..want.len() - PANEL_SLACK], "matrix {i} pc {pc} row {row0}");
                        assert!(got.len() >= want.len(), "matrix {i}: the slack stays readable");
                    }
                }
            }
            assert!(set.block(count - 1, 0, 0)[mats[0].len()..].iter().all(|&x| x == 0.0));
        }
        assert!(PackedASet::zeroed(usize::MAX / 2, 8, 8, 6, 16).is_none(), "size overflow is refused");
        let wrong = PackedA::pack(&[1.0; 12], 3, 4, 3, 6, 16);
        let mut set = PackedASet::zeroed(1, 4, 4, 6, 16).expect("small shape");
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| set.put(0, &wrong))).is_err());
    }
}
