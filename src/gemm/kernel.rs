//! The GEMM micro-kernel, written once over [`Simd`] with its `MR x (NV * LANES)` register
//! tile as const generics, and the macro-kernel (the `jr`/`ir` loops over one packed block)
//! that each tier's `#[target_feature]` entry point runs.
//!
//! Tiles per tier (MR rows x NR columns, accumulators + B vectors + 1 broadcast <= registers):
//!
//! | tier | tile | kernel name |
//! |---|---|---|
//! | scalar | 4 x 2 | `scalar_gemm_f32_4x2` |
//! | portable | 6 x 8 (2 x f32x4) | `portable_gemm_f32_6x8` |
//! | avx2 | 6 x 16 (2 x ymm, 12 accumulators of 16 ymm) | `avx2_gemm_f32_6x16` |
//! | avx512 | 6 x 64 (4 x zmm, 24 accumulators of 32 zmm) | `avx512_gemm_f32_6x64` |
//!
//! The epilogue (bias, activation) runs on the accumulators of the last KC block before the
//! store, so the output is written once, finished.
//!
//! [`sgemm`](crate::gemm::sgemm) with few columns runs the same micro-kernel over A's
//! rows in place (`ROWS`: a per-row offset instead of the packed panel's stride).
//!
//! A ragged last column panel of one or two columns (49 pixels or Winograd tiles: 3 panels
//! of 16 and 1) takes a column path with the operands' roles turned (vectors down the A
//! panel's MR rows, B broadcast), which computes every output by the same FMA chain and so
//! agrees with the tile path bit for bit.

use crate::epilogue::Epilogue;
use crate::simd::{Simd, Tier, WithSimd};

/// Runs `$op<MR, NV>` with each tier's GEMM tile. The one table of tiles: every user of the
/// micro-kernel (sgemm, im2col, winograd) dispatches through it.
macro_rules! gemm_dispatch {
    ($tier:expr, $op:ident ( $($arg:expr),* )) => {
        $crate::simd::dispatch!($tier, $op<scalar: 4, 2; portable: 6, 2; avx2: 6, 2; avx512: 6, 4>($($arg),*))
    };
}
pub(crate) use gemm_dispatch;

/// Widest micro-tile row of any tier (avx512: 4 x 16 lanes), for the edge-tile spill.
const MAX_TILE_COLS: usize = 64;

struct TileOf<const MR: usize, const NV: usize>();

impl<const MR: usize, const NV: usize> WithSimd for TileOf<MR, NV> {
    type Output = (usize, usize);
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (usize, usize) {
        (MR, NV * S::LANES)
    }
}

/// `(MR, NR)` of the tier's micro-kernel.
pub(crate) fn tile(tier: Tier) -> (usize, usize) {
    gemm_dispatch!(tier, TileOf())
}

/// The micro-kernel's name for `tier`, e.g. `avx2_gemm_f32_6x16`.
pub(crate) fn kernel_name(tier: Tier) -> String {
    let (mr, nr) = tile(tier);
    format!("{}_gemm_f32_{mr}x{nr}", tier.name())
}

/// One macro-kernel call: C[m x n] (+)= A-block * B-block over `kc`, with the epilogue if
/// `last`.
///
/// B is addressed as `b[panel * b_panel_stride + k * ldb + lane]` for NR-column panel
/// `panel`: packed panels have `ldb = NR, b_panel_stride = kc * NR`; a row-major block (the
/// im2col lowering) has `ldb` = its row length and `b_panel_stride = NR`. Every panel must
/// have NR readable lanes per row (the blocks are padded), lanes past `n` are ignored.
#[derive(Clone, Copy)]
pub(crate) struct BlockArgs<'a> {
    /// Packed A micro-panels (`m.div_ceil(MR)` panels of `kc * MR`), or with `lda`, a
    /// row-major block: row `i` is `kc` floats at `i * lda`.
    pub a: &'a [f32],
    /// `None`: `a` is packed. `Some(lda)`: `a` is row-major, read in place (only
    /// [`gemm_block`] takes it; the backends' plans always pack).
    pub lda: Option<usize>,
    /// The B block.
    pub b: &'a [f32],
    pub ldb: usize,
    pub b_panel_stride: usize,
    /// C's first element; row `i` starts at `c + i * ldc`.
    pub c: *mut f32,
    pub ldc: usize,
    pub m: usize,
    pub n: usize,
    pub kc: usize,
    /// Overwrite C (first KC block) instead of adding to it.
    pub first: bool,
    /// Apply the epilogue (last KC block).
    pub last: bool,
    pub epilogue: Epilogue<'a>,
    /// Output channel (bias index) of C's row 0.
    pub row0: usize,
    /// Prefetch the C tile before the reduction also when it is only written (`first`); it is
    /// always prefetched when it is read back. Off for [`sgemm`]: measured (2026-12-06, Zen 3,
    /// avx2, one thread, paired) 256^3 +1.6%, 512^3 +1.0-2.1%, 1024^3 +0.9%, the suite's GEMM
    /// shapes level to +1.7%. On for im2col and Winograd, which were mixed without it
    /// (res2_1x1 +1.8%, Winograd res2/res3/vgg +0.7-1.5%, but whisper_conv1d slower in 80% of
    /// rounds and Winograd res5 in 58%).
    ///
    /// [`sgemm`]: crate::gemm::sgemm
    pub prefetch_written: bool,
}

/// Runs one macro-kernel block on `tier`.
///
/// # Safety
/// `args.c` must be valid for reads and writes of `m` rows of `n` floats at stride `ldc`, and
/// no other thread may access those elements during the call.
pub(crate) unsafe fn gemm_block(tier: Tier, args: BlockArgs<'_>) {
    gemm_dispatch!(tier, GemmBlock(args))
}

struct GemmBlock<'a, const MR: usize, const NV: usize>(BlockArgs<'a>);

impl<const MR: usize, const NV: usize> WithSimd for GemmBlock<'_, MR, NV> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: forwarded from `gemm_block`'s contract.
        unsafe {
            match self.0.lda {
                None => macro_kernel::<S, MR, NV, false>(s, &self.0),
                Some(_) => macro_kernel::<S, MR, NV, true>(s, &self.0),
            }
        }
    }
}

/// The `jr` / `ir` loops over one block: every MR x NR micro-tile of C. A is packed, or with
/// `ROWS` (`g.lda` set, [`sgemm`] with few column panels) row-major and read in place; the
/// column path needs packed panels, so with `ROWS` ragged columns take the tile path.
///
/// [`sgemm`]: crate::gemm::sgemm
///
/// # Safety
/// As [`gemm_block`].
#[inline(always)]
pub(crate) unsafe fn macro_kernel<S: Simd, const MR: usize, const NV: usize, const ROWS: bool>(s: S, g: &BlockArgs<'_>) {
    let nr = NV * S::LANES;
    let panels = g.n.div_ceil(nr);
    let lda = g.lda.unwrap_or(0);
    assert!(g.lda.is_some() == ROWS, "A layout does not match the instantiation");
    if ROWS {
        assert!(g.m == 0 || g.kc == 0 || (lda >= g.kc && g.a.len() >= (g.m - 1) * lda + g.kc), "row-major A too short");
    } else {
        assert!(g.a.len() >= g.m.div_ceil(MR) * g.kc * MR, "packed A too short");
    }
    assert!(panels == 0 || g.kc == 0 || g.b.len() >= (panels - 1) * g.b_panel_stride + (g.kc - 1) * g.ldb + nr, "B block too short");
    // The column path reads A past the last panel by up to a vector minus MR floats
    // (PackedA's slack); blocks without those floats take the tile path.
    let columns_readable = !ROWS && g.a.len() >= g.m.div_ceil(MR) * g.kc * MR + MR.div_ceil(S::LANES) * S::LANES - MR;
    let mut jr = 0;
    while jr < g.n {
        let nb = nr.min(g.n - jr);
        let bp = g.b[(jr / nr) * g.b_panel_stride..].as_ptr();
        // A ragged last panel of one or two columns (a 7x7 image's 49th pixel, a 28x28 image's
        // 49th Winograd tile) would cost the one-vector tile MR FMAs per reduction step for
        // each MR rows; the column path costs `nb` (times the vectors an MR-row column takes)
        // and still reads A once. Measured (2026-11-26, Zen 3, one thread): winograd
        // res3_3x3 +14%, im2col res5_3x3 +14%; with four columns (res5 Winograd, A read per
        // column) it lost 7%, hence at most two.
        if nb < nr && nb <= 2 && 2 * nb * MR.div_ceil(S::LANES) <= MR && columns_readable {
            // SAFETY: A holds the panels plus the floats a whole vector reads past the last
            // one (`columns_readable`); B's panel at `bp` has `kc` rows of NR >= nb readable
            // floats (the assert above); C's columns `jr .. jr + nb` of all `m` rows are
            // inside the caller's tile.
            unsafe { if nb == 1 { column_panel::<S, MR, 1>(s, g, bp, jr) } else { column_panel::<S, MR, 2>(s, g, bp, jr) } };
            jr += nr;
            continue;
        }
        // A ragged last panel one or two columns past whole vectors (49 = 3 x 16 + 1: a 7x7
        // image's pixels, a 28x28 image's F(4x4) tiles) runs the whole vectors as a tile and
        // the one or two columns on the column path, instead of a tile of NV vectors of which
        // the last holds one column. Measured (2026-11-27, Sapphire Rapids class, avx512 6 x 64,
        // one thread, paired against tiled in old and new builds): im2col resnet50_res5_3x3
        // +11.5% (twice), Winograd resnet50_res4_3x3 (F(2x2), 49 tiles) +2-5%, Winograd
        // resnet50_res3_3x3 (F(4x4), 49 tiles) level.
        let rem = nb % S::LANES;
        let split = nb > S::LANES && rem > 0 && rem <= 2 && 2 * rem * MR.div_ceil(S::LANES) <= MR && columns_readable;
        let nb = if split { nb - rem } else { nb };
        // A ragged last panel (a 7x7 image's 49 pixels, a 14x14 image's 16 Winograd tiles, 28
        // tiles of a half 28x28 image) runs a tile of just the vectors it needs instead of all
        // NV, over several A panels at a time where the registers allow (`narrow_stack`).
        let vectors = nb.div_ceil(S::LANES);
        let narrow = NV > 1 && vectors < NV;
        let stack = if narrow && !ROWS { narrow_stack(S::LANES, nb) } else { 1 };
        let mut ir = 0;
        while ir < g.m {
            // Panels this call computes: `stack` while that many remain, then one at a time.
            let panels_left = (g.m - ir).div_ceil(MR);
            let p = if panels_left >= stack { stack } else { 1 };
            let mb = (p * MR).min(g.m - ir);
            let ap = g.a[if ROWS { ir * lda } else { (ir / MR) * g.kc * MR }..].as_ptr();
            // One call site per tile shape: `$nv` vectors over `$p` stacked panels (`$rows`: A
            // row-major, only with one panel).
            macro_rules! tile {
                ($nv:expr, $p:expr, $rows:expr) => {
                    micro_kernel::<S, MR, $nv, $p, $rows>(
                        s,
                        g.kc,
                        ap,
                        lda,
                        bp,
                        g.ldb,
                        g.c.add(ir * g.ldc + jr),
                        g.ldc,
                        mb,
                        nb,
                        g.first,
                        g.last,
                        g.prefetch_written,
                        &g.epilogue,
                        g.row0 + ir,
                    )
                };
            }
            // SAFETY: the `p` A panels from `ap` hold `p * kc * MR` floats (`p` panels remain;
            // with `ROWS`, `p == 1` and rows `ir .. ir + mb` hold `kc` floats each at stride
            // `lda`) and the B panel at `bp` has `kc` rows of NR floats at stride `ldb` (the
            // asserts above); C rows `ir .. ir + mb`, columns `jr .. jr + nb` lie inside the
            // `m x n` tile the caller guarantees exclusive and valid.
            unsafe {
                // Each narrow shape only where the tier can reach it (the guards are constants
                // per instantiation): compiled in a tier that never runs it, a shape with more
                // accumulators than registers (avx2: 3 x 6, 2 x 12) was dead code that
                // tests/disassembly.rs could not tell from a live kernel spilling its registers.
                match (narrow, vectors, p) {
                    // Stacked panels (`p > 1`) only without `ROWS` (`stack` above), on tiers with
                    // 16 lanes (`narrow_stack`).
                    (true, 1, 4) if S::LANES >= 16 => tile!(1, 4, false),
                    (true, 1, _) => tile!(1, 1, ROWS),
                    (true, 2, _) if NV > 2 => tile!(2, 1, ROWS),
                    (true, 3, _) if NV > 3 => tile!(3, 1, ROWS),
                    // Full tiles (and any shape the guards rule out, which `narrow` never
                    // gives: the full tile computes any `nb <= NV * LANES` columns as well).
                    _ => tile!(NV, 1, ROWS),
                }
            };
            ir += p * MR;
        }
        if split {
            // SAFETY: as for the column path above, at columns `nb .. nb + rem` of this panel
            // (inside its NR readable floats per row) and of C.
            unsafe {
                if rem == 1 {
                    column_panel::<S, MR, 1>(s, g, bp.add(nb), jr + nb)
                } else {
                    column_panel::<S, MR, 2>(s, g, bp.add(nb), jr + nb)
                }
            };
        }
        jr += nr;
    }
}

/// Independent FMA chains of the column path: enough to hide the FMA latency (avx2: 2 FMAs
/// per cycle, 4 cycles of latency).
const COLUMN_CHAINS: usize = 8;

/// The `NC` columns `jr .. jr + NC` of every row of the block, with the roles of the operands
/// turned: a vector runs down an A panel's MR rows (each reduction step's MR floats are
/// contiguous in the packed panel) and one B element per column is broadcast,
/// `COLUMN_CHAINS / NC` panels at a time. Every output is the same chain of FMAs over the
/// reduction, in the same order, as in [`micro_kernel`], so the two paths agree bit for bit
/// (thread counts that move a panel edge change nothing).
///
/// # Safety
/// `g.a` holds `m.div_ceil(MR)` panels of `kc * MR` floats and `MR.div_ceil(LANES) * LANES -
/// MR` readable floats after them; `b` has `kc` rows of `NC` readable floats at stride `ldb`;
/// C's columns `jr .. jr + NC` of rows `< m` are valid and exclusive to the caller.
#[inline(always)]
unsafe fn column_panel<S: Simd, const MR: usize, const NC: usize>(s: S, g: &BlockArgs<'_>, b: *const f32, jr: usize) {
    const MAX_MV: usize = 4;
    const MAX_P: usize = COLUMN_CHAINS;
    let l = S::LANES;
    let mv = MR.div_ceil(l);
    let pp = (COLUMN_CHAINS / NC).max(1);
    assert!(mv <= MAX_MV && mv * l <= MAX_TILE_COLS && NC <= 2);
    let panels = g.m.div_ceil(MR);
    let panel_len = g.kc * MR;
    let mut p0 = 0;
    while p0 < panels {
        let np = pp.min(panels - p0);
        // Past the last panel, repeat it: those chains are computed and dropped (no branches
        // in the reduction loop).
        let ap: [*const f32; MAX_P] = std::array::from_fn(|p| g.a[(p0 + p.min(np - 1)) * panel_len..].as_ptr());
        let mut acc = [[[s.zero(); MAX_MV]; NC]; MAX_P];
        for k in 0..g.kc {
            // `from_fn` compiles the broadcast out of line (a call per step), yet the inline
            // forms (a loop filling `bv`, or a broadcast per FMA) ran resnext_g32_3x3's
            // Winograd 15-25% slower (2026-11-26, Zen 3; cause not found: see the closing note).
            // tests/disassembly.rs allows exactly these out-of-line broadcasts.
            // SAFETY: row `k < kc` of the B panel has `NC` readable floats.
            let bv: [S::V; NC] = std::array::from_fn(|j| unsafe { s.broadcast(b.add(k * g.ldb + j)) });
            for (cols, a) in acc.iter_mut().zip(&ap).take(pp) {
                for v in 0..mv {
                    // SAFETY: reduction step `k` of a panel is `MR` floats at `k * MR`; the
                    // vector reads up to `mv * LANES - MR` more, inside the next panel or the
                    // slack after the last one.
                    let av = unsafe { s.load(a.add(k * MR + v * l)) };
                    for (col, bj) in cols.iter_mut().zip(&bv) {
                        col[v] = s.fma(av, *bj, col[v]);
                    }
                }
            }
        }
        for (p, cols) in acc.iter().enumerate().take(np) {
            let r0 = (p0 + p) * MR;
            for (j, col) in cols.iter().enumerate() {
                let mut spill = [0.0f32; MAX_TILE_COLS];
                for (v, x) in col.iter().enumerate().take(mv) {
                    // SAFETY: `(v + 1) * LANES <= mv * LANES <= MAX_TILE_COLS` floats.
                    unsafe { s.store(spill.as_mut_ptr().add(v * l), *x) };
                }
                for (i, x) in spill.iter().enumerate().take(MR.min(g.m - r0)) {
                    // SAFETY: row `r0 + i < m`, column `jr + j < jr + NC` of C.
                    unsafe {
                        let c = g.c.add((r0 + i) * g.ldc + jr + j);
                        // The tile path's order: the sum, `C +` it unless first, then the
                        // epilogue (its scalar form is the vector form lane for lane).
                        let mut y = *x;
                        if !g.first {
                            // `C + sum` as the tile path adds (with two NaNs the first wins).
                            #[allow(clippy::assign_op_pattern)]
                            {
                                y = *c + y;
                            }
                        }
                        if g.last {
                            y = g.epilogue.apply_scalar(y, g.row0 + r0 + i);
                        }
                        *c = y;
                    }
                }
            }
        }
        p0 += pp;
    }
}

/// `C[mb x nb] (+)= A * B-panel (kc x NV*LANES)`, epilogue if `last`, where A is `P` packed
/// panels of `kc x MR` one after the other (`mb <= P * MR` rows: the full tile is `P = 1`,
/// [`narrow_stack`] stacks more under a narrow one) or, with `ROWS` (and `P = 1`), `mb` row-major
/// rows of `kc` floats at stride `lda` (rows past `mb` repeat the last one: computed, never
/// stored). Every output is one FMA chain over the reduction steps in order, whatever `P`, so
/// all tile shapes agree bit for bit.
///
/// # Safety
/// `a` holds `P * kc * MR` floats (or with `ROWS`, `mb >= 1` rows of `kc` at stride `lda`);
/// `b` has `kc` rows of `NV * LANES` readable floats at stride `ldb`; `c` is valid for
/// `mb <= P * MR` rows of `nb <= NV * LANES` floats at stride `ldc`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn micro_kernel<S: Simd, const MR: usize, const NV: usize, const P: usize, const ROWS: bool>(
    s: S,
    kc: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    mb: usize,
    nb: usize,
    first: bool,
    last: bool,
    prefetch_written: bool,
    epi: &Epilogue<'_>,
    row0: usize,
) {
    let l = S::LANES;
    const { assert!(P >= 1 && P <= 4 && (P == 1 || !ROWS)) };
    assert!(mb <= P * MR && nb <= NV * l);
    if !first || prefetch_written {
        prefetch_tile(s, c, ldc, mb, nb);
    }
    let mut acc = [[[s.zero(); NV]; MR]; P];
    // Where row `i` of panel `p` is, from a reduction step's A pointer: the packed panels'
    // `p * kc * MR + i`, or row `min(i, mb - 1)` of the row-major block.
    let mut a_off = [[0usize; MR]; P];
    for (p, offs) in a_off.iter_mut().enumerate() {
        for (i, off) in offs.iter_mut().enumerate() {
            *off = if ROWS { i.min(mb.max(1) - 1) * lda } else { p * kc * MR + i };
        }
    }
    let a_step = if ROWS { 1 } else { MR };
    let (mut ap, mut bp) = (a, b);
    for _ in 0..kc {
        let mut bv = [s.zero(); NV];
        for (v, slot) in bv.iter_mut().enumerate() {
            // SAFETY: `v * l + l <= NV * LANES` floats of this B row are readable.
            *slot = unsafe { s.load(bp.add(v * l)) };
        }
        for (tile, offs) in acc.iter_mut().zip(&a_off) {
            for (row, off) in tile.iter_mut().zip(offs) {
                // SAFETY: this step's float of row `i` of panel `p` is in bounds (packed:
                // `p * kc * MR + k * MR + i < P * kc * MR`; row-major: a row `< mb`, column
                // `< kc`).
                let av = unsafe { s.broadcast(ap.add(*off)) };
                for (x, b) in row.iter_mut().zip(&bv) {
                    *x = s.fma(av, *b, *x);
                }
            }
        }
        // Wrapping: after the last row the pointers may point past their buffers (B rows are
        // `ldb` apart); they are only dereferenced for rows `< kc`. (Found by Miri.)
        ap = ap.wrapping_add(a_step);
        bp = bp.wrapping_add(ldb);
    }
    // Unrolled with constant indices, as `store_tile`'s rows: a loop over `p` indexed the
    // accumulators in memory, and LLVM stored them to the stack after every FMA (and, when
    // the full tile went through this loop too, after the reduction: im2col whisper -12..-50%).
    macro_rules! panels {
        ($($p:literal)*) => { $( if $p < P {
            let rows = mb.saturating_sub($p * MR).min(MR);
            if rows > 0 {
                // SAFETY: rows `p * MR .. p * MR + rows <= mb` and columns `< nb` of C are
                // valid by the caller's contract.
                unsafe { store_tile::<S, MR, NV>(s, acc[$p], c.add($p * MR * ldc), ldc, rows, nb, first, last, epi, row0 + $p * MR) }
            }
        } )* };
    }
    panels!(0 1 2 3);
}

/// Prefetches the C tile toward L1 while the reduction runs (it is read back unless `first`,
/// and written in any case; [`BlockArgs::prefetch_written`] says whether a tile only written
/// is prefetched): every cache line of its rows.
#[inline(always)]
fn prefetch_tile<S: Simd>(s: S, c: *mut f32, ldc: usize, mb: usize, nb: usize) {
    const LINE_FLOATS: usize = 16;
    for i in 0..mb {
        let row = c.wrapping_add(i * ldc);
        let mut j = 0;
        while j < nb {
            s.prefetch(row.wrapping_add(j));
            j += LINE_FLOATS;
        }
        s.prefetch(row.wrapping_add(nb - 1));
    }
}

/// A panels stacked in one narrow tile of `nb` columns: 4 for one partial vector (`nb <
/// LANES`) on tiers with 32 vector registers (avx512: 24 of 32 zmm as accumulators, like the
/// full 6 x 64 tile), so each B vector loaded feeds more FMAs; else 1. Measured (2026-11-26,
/// Sapphire Rapids, avx512 6 x 64, one thread, paired against one panel at a time): winograd
/// resnet50_res5_3x3 (then F(4x4), 4 tiles) +10%, res4_3x3 (16 tiles) +2% (noise level).
///
/// Whole vectors run one panel at a time, and two vectors are no longer stacked in pairs: on
/// Zen 4 stacking lost there and won only under one partial vector. Measured (2026-12-07, AMD
/// EPYC Zen 4, avx512, one thread, the F(2x2) and F(4x4) plans run in turn, two rounds or more,
/// stacked over one panel at a time, best of each): one whole vector (16 tiles): 7x7 F(2x2) at
/// 512 channels 0.60-0.90x, at 256 0.96x; 14x14 F(4x4) at 64 / 256 / 512 channels 0.98x /
/// 0.80-0.95x / 0.83x; 8x8 F(2x2) at 256 0.96x. Two vectors (25 tiles, in pairs): 10x10 F(2x2)
/// at 512 0.73-0.77x, 20x20 F(4x4) at 512 0.75x, at 128 0.98x, 18x18 F(4x4) at 256 0.8-1.0x.
/// One partial vector: 9 tiles (F(4x4)) at 10x10 / 12x12 with 256 channels 1.12x / 1.13-1.17x,
/// 12x12 at 128 1.10x, at 512 0.90x; 4 tiles (7x7 F(4x4)) at 256 / 512 1.13x / 1.09x. The
/// cause was not found: the stacked loop is 24 FMAs with folded broadcasts from four A streams,
/// and neither a software prefetch of the four streams nor a reduction block whose panels are
/// not 4 KiB apart changed it.
const fn narrow_stack(lanes: usize, nb: usize) -> usize {
    if lanes >= 16 && nb < lanes { 4 } else { 1 }
}

/// Stores an accumulator tile: `C = acc` (first) or `C += acc`, then the epilogue if `last`.
///
/// # Safety
/// `c` is valid for `mb <= MR` rows of `nb <= NV * LANES` floats at stride `ldc`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn store_tile<S: Simd, const MR: usize, const NV: usize>(
    s: S,
    acc: [[S::V; NV]; MR],
    c: *mut f32,
    ldc: usize,
    mb: usize,
    nb: usize,
    first: bool,
    last: bool,
    epi: &Epilogue<'_>,
    row0: usize,
) {
    let l = S::LANES;
    const { assert!(MR <= 16) };
    assert!(NV * l <= MAX_TILE_COLS);
    let epi = &epi.pinned();
    if mb == MR && nb == NV * l {
        // Full tile. The rows are unrolled with constant indices, so the accumulators stay in
        // registers: as a loop over `i`, LLVM kept the loop and spilled all 24 accumulators of
        // the avx512 6 x 64 tile to the stack to index them. (A macro, not a closure: a
        // closure is a function of its own, without the entry point's target features, and
        // its intrinsics became calls: 4x slower.)
        macro_rules! rows {
            ($($i:literal)*) => { $( if $i < MR {
                // SAFETY: all MR rows of NV * LANES floats are valid (`mb == MR`, `nb == NV * LANES`).
                let row = unsafe { c.add($i * ldc) };
                let bias = if last && epi.has_bias() { Some(s.splat(epi.bias_of(row0 + $i))) } else { None };
                for (v, x) in acc[$i].iter().enumerate() {
                    // SAFETY: as above.
                    unsafe {
                        let p = row.add(v * l);
                        let mut x = *x;
                        if !first {
                            x = s.add(s.load(p), x);
                        }
                        if last {
                            x = epi.apply_with(s, x, bias);
                        }
                        s.store(p, x);
                    }
                }
            } )* };
        }
        rows!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        return;
    }
    // Edge tile: spill the accumulators with constant indices (so the full-tile path above
    // keeps them in registers), then store what lies inside C.
    let mut spill = [[0.0f32; MAX_TILE_COLS]; MR];
    for (i, row_acc) in acc.iter().enumerate() {
        for (v, x) in row_acc.iter().enumerate() {
            // SAFETY: `v * l + l <= NV * LANES <= MAX_TILE_COLS` (asserted at compile time).
            unsafe { s.store(spill[i].as_mut_ptr().add(v * l), *x) };
        }
    }
    for (i, row_spill) in spill.iter().enumerate().take(mb) {
        // SAFETY: row `i < mb` is valid.
        let row = unsafe { c.add(i * ldc) };
        let bias = if last && epi.has_bias() { Some(s.splat(epi.bias_of(row0 + i))) } else { None };
        let mut col = 0;
        while col < nb {
            let cnt = (nb - col).min(l);
            // SAFETY: columns `col .. col + cnt <= nb` of row `i` are valid; the spill row
            // holds `NV * LANES >= nb` floats.
            unsafe {
                let p = row.add(col);
                let mut x = s.load(row_spill.as_ptr().add(col));
                if !first {
                    let old = if cnt == l { s.load(p) } else { s.load_partial(p, cnt) };
                    x = s.add(old, x);
                }
                if last {
                    x = epi.apply_with(s, x, bias);
                }
                if cnt == l { s.store(p, x) } else { s.store_partial(p, cnt, x) }
            }
            col += l;
        }
    }
}
