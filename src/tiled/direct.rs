//! The dense direct-convolution kernel: a register tile of `P` output pixels by `KV` vectors of
//! output channels, written once over [`Simd`].
//!
//! For every tap `(c, r, s)` the tile loads `KV` vectors of packed weights (one per block of
//! `LANES` output channels) and broadcasts each pixel's input value: `P x KV` FMAs per
//! `KV + P` loads. Pixels are addressed through per-pixel offsets, so a tile may span output
//! rows and any stride or dilation costs nothing extra; borders were removed beforehand (the
//! input is either unpadded or a zero-padded band). Bias and activation are applied to the
//! accumulators, which are then written to NCHW transposed (each channel's `P` pixels are
//! contiguous in the output): in registers, two channels per vector (one per half) where a
//! tile's pixels fit half a vector (the avx512 wide tile and the 4-pixel avx2 tile), one
//! channel per vector where they fit a whole one (the avx2 wide tile); through a small stack
//! tile otherwise.
//!
//! Tiles per tier (accumulators + weight vectors + 1 broadcast <= vector registers, and the
//! wide tile's `P` pixel offsets fit the general registers beside the loop's pointers):
//!
//! | tier | wide `P x KV*LANES` | narrow |
//! |---|---|---|
//! | scalar | 6 x 2 | 12 x 1 |
//! | portable | 6 x 8 | 12 x 4 |
//! | avx2 | 6 x 16 | 8 x 8 |
//! | avx512 | 6 x 64 | 28 x 16 |
//!
//! The avx512 wide tile was 14 x 32 (28 accumulators) until it first ran on an avx512 machine
//! (2026-11-26, Intel Xeon, Sapphire Rapids class): its 14 pixel offsets did not fit the general
//! registers and LLVM spilled accumulators to the stack inside the tap loop. 6 x 64 (24
//! accumulators, 4 weight vectors, 6 offsets; 24 FMAs per 10 loads) ran 1.3-1.65x faster on
//! every dense suite layer (resnet50_res3_3x3 86 -> 141 GFLOP/s, conv1 77 -> 125). The narrow
//! 28 x 16 tile stays: 12 x 16 halved resnext_g32_3x3 (4 channels per group).
//!
//! The avx2 narrow tile was 12 x 8 until 2026-12-07: 12 pixel pointers besides its 12
//! accumulators, and LLVM issued all 12 broadcasts before the FMAs, so accumulators and
//! broadcasts went through the stack every tap (found by `tests/disassembly.rs`'s spill check).
//! 8 x 8 (one Zen 3 core, forced direct tiles, the old build in the same binary, three plans
//! each): 64 -> 8 channels at 56x56 1.83x, 256 channels in 32 groups at 28x28 2.17x, stride 2
//! 1.70x; 10 x 8 compiled spill-free too but ran 1.84x, 1.67x, 1.60x.
//!
//! A task's last pixels run in tiles of `TA` or `TB` pixels where a full tile would be mostly
//! idle or a tiny one would wait on its few accumulators' latency ([`TileSchedule`]): avx2
//! tiles of 5 and 4 pixels beside 6, narrow ones of 6 and 4 beside 8.

use crate::epilogue::Epilogue;
use crate::gemm::SharedMut;
use crate::simd::transpose::{MAX_LANES, transpose, transpose_half};
use crate::simd::{Simd, Tier, WithSimd, dispatch};

use super::band::BandLayout;
use super::pack::PackedDense;

/// Widest tile row (channels) of any tier, for the transpose buffer.
const MAX_KB: usize = 64;

/// How many taps ahead the weight stream is prefetched (~200 cycles at one tap per 6-14).
const WEIGHT_PREFETCH_TAPS: usize = 32;

/// Whether a plan uses the wide (2 vectors of channels) or narrow (1 vector) tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TileKind {
    Wide,
    Narrow,
}

macro_rules! dense_dispatch {
    ($tier:expr, $kind:expr, $op:ident ( $($arg:expr),* )) => {
        match $kind {
            TileKind::Wide => dispatch!($tier, $op<scalar: 6, 2, 4, 2; portable: 6, 2, 5, 4; avx2: 6, 2, 5, 4; avx512: 6, 4, 4, 2>($($arg),*)),
            TileKind::Narrow => dispatch!($tier, $op<scalar: 12, 1, 8, 4; portable: 12, 1, 10, 8; avx2: 8, 1, 6, 4; avx512: 28, 1, 14, 9>($($arg),*)),
        }
    };
}

struct ShapeOf<const P: usize, const KV: usize, const TA: usize, const TB: usize>();

impl<const P: usize, const KV: usize, const TA: usize, const TB: usize> WithSimd for ShapeOf<P, KV, TA, TB> {
    type Output = (usize, usize);
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (usize, usize) {
        (P, KV * S::LANES)
    }
}

/// `(pixels, channels)` of the tier's tile of this kind.
pub(crate) fn tile(tier: Tier, kind: TileKind) -> (usize, usize) {
    dense_dispatch!(tier, kind, ShapeOf())
}

/// Maps output pixels to offsets in the (band or input) buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PixelMap {
    /// Output width.
    pub ow: usize,
    /// Buffer offset between consecutive output rows: `stride_h * row_length`.
    pub row_step: usize,
    /// `stride_w`.
    pub col_step: usize,
    /// Output row whose first pixel is at offset 0.
    pub oh_base: usize,
}

impl PixelMap {
    #[inline(always)]
    pub(crate) fn offset(&self, oh: usize, ow: usize) -> usize {
        (oh - self.oh_base) * self.row_step + ow * self.col_step
    }
}

/// One task's dense work: output pixels `q0 .. q1` of one image and group, channel blocks
/// `blk0 .. blk1`.
pub(crate) struct DenseWork<'a> {
    /// What the offsets index.
    pub input: DenseInput<'a>,
    /// Reduction offsets, one per tap, increasing.
    pub taps: &'a [usize],
    /// Taps per reduction block: one block's packed weights stay in L1 (short blocks) or L2
    /// while every tile of the task uses them; partial sums wait in `acc` between blocks.
    pub taps_per_block: usize,
    pub weights: &'a PackedDense,
    pub group: usize,
    pub blk0: usize,
    pub blk1: usize,
    /// Output channels per group.
    pub kg: usize,
    /// The group's output channel 0, pixel 0 of this image.
    pub out: SharedMut,
    pub plane: usize,
    pub q0: usize,
    pub q1: usize,
    pub pixels: PixelMap,
    pub epilogue: Epilogue<'a>,
    /// Partial sums between reduction blocks: `ceil((q1 - q0) / P) * P * KB` floats (unused
    /// when the reduction is one block).
    pub acc: &'a mut [f32],
}

/// Where a dense task reads its input.
pub(crate) enum DenseInput<'a> {
    /// The group's unpadded input, in place.
    Direct(&'a [f32]),
    /// A zero-padded band of output rows `oh0 .. oh0 + out_rows`, filled inside the tier's
    /// entry point (so its copies use the tier's vectors) before the tiles read it.
    Band { layout: &'a BandLayout, x: &'a [f32], channels: usize, oh0: usize, out_rows: usize, buf: &'a mut [f32] },
}

impl<'a> DenseInput<'a> {
    /// The buffer the tiles index: the input in place, or the band, filled now.
    #[inline(always)]
    pub(crate) fn ready<S: Simd>(self, s: S) -> &'a [f32] {
        match self {
            DenseInput::Direct(x) => x,
            DenseInput::Band { layout, x, channels, oh0, out_rows, buf } => {
                layout.fill(s, x, channels, oh0, out_rows, buf);
                buf
            }
        }
    }
}

/// Floats of partial sums a task over `pixels` output pixels needs (0 if the reduction fits
/// one block).
pub(crate) fn acc_len(tier: Tier, kind: TileKind, pixels: usize, taps: usize, taps_per_block: usize) -> usize {
    let (p, kb) = tile(tier, kind);
    // Pixel `i` of a task parks its sums at `i * kb`; a tile at the task's last pixel may run
    // `p - 1` pixels past it.
    if taps <= taps_per_block { 0 } else { (pixels + p) * kb }
}

/// Runs the dense tiles of `work` on `tier`.
///
/// # Safety
/// `work.out` must be valid for writes of channels `blk0 * KB ..` (up to `kg`) of pixels
/// `q0 .. q1` (channel stride `plane`), and no other thread may access them.
pub(crate) unsafe fn run_dense(tier: Tier, kind: TileKind, work: DenseWork<'_>) {
    dense_dispatch!(tier, kind, DenseOp(work))
}

/// How many independent accumulator chains keep the FMA units busy: two FMA pipes of 4
/// cycles' latency (Zen 3 and 4, Intel since Skylake). A tile of fewer accumulators (`pixels x
/// KV`) waits on its chains: a 2 x 2 tile takes as long per tap as a 4 x 2 one.
const FMA_CHAINS: usize = 8;

/// Largest tile of any tier (pixels), for the schedule's table.
const MAX_P: usize = 28;

/// The sizes of a task's last tiles. Tiles of `P` pixels run while more than `3P` pixels
/// remain; the last `2P + 1 ..= 3P` (or all, in a smaller task) are cut into tiles of `P`,
/// `TA` or `TB` pixels (a tile may run past the task's last pixel: those pixels are computed
/// and not stored) at the least cost, a tile costing `max(pixels * KV, FMA_CHAINS) + 1` (its
/// FMAs, or its chains' latency, plus the tile's own overhead). Every pixel's sums are the same
/// whatever tile it falls in (each accumulator takes the taps in order), so the cut changes the
/// speed only.
///
/// Measured (2026-12-07, Zen 3, avx2, one thread, three plans each way run in turn, geometric
/// means): resnet50_res5_3x3's 49 pixels ran as 8 x 6 + a 2-pixel tile (4 accumulators: as
/// slow per tap as 4 x 2), ~10% of its time in that tile; as 6 x 6 + 5 + 4 + 4, +6.3%
/// (+3.9% with tiles of 4 pixels only); res4_3x3 +2.0%, vgg16_conv2_2 +1.2%, res2_3x3 +0.4%,
/// conv1 level. A 4 x 16 tile still runs at ~85% of a 6 x 16 tile's speed per pixel, a 5 x 16
/// at ~90%.
struct TileSchedule {
    /// `choice[r]`: the size of the next tile when `r <= 3P` pixels remain.
    choice: [u8; 3 * MAX_P + 1],
    p: usize,
}

impl TileSchedule {
    fn new(p: usize, kv: usize, sizes: [usize; 3]) -> TileSchedule {
        assert!(p <= MAX_P && sizes.iter().all(|&t| t > 0 && t <= p));
        let cost = |t: usize| (t * kv).max(FMA_CHAINS) + 1;
        let mut best = [0usize; 3 * MAX_P + 1];
        let mut choice = [p as u8; 3 * MAX_P + 1];
        for r in 1..=3 * p {
            best[r] = usize::MAX;
            for &t in &sizes {
                let c = cost(t) + best[r.saturating_sub(t)];
                if c < best[r] {
                    best[r] = c;
                    choice[r] = t as u8;
                }
            }
        }
        TileSchedule { choice, p }
    }

    /// The next tile's size when `remaining > 0` pixels remain.
    #[inline(always)]
    fn next(&self, remaining: usize) -> usize {
        if remaining > 3 * self.p { self.p } else { self.choice[remaining] as usize }
    }
}

/// The dense tiles of one task: `P x KV * LANES` tiles, and for its last pixels tiles of
/// `TA` or `TB` pixels where they waste less ([`TileSchedule`]).
struct DenseOp<'a, const P: usize, const KV: usize, const TA: usize, const TB: usize>(DenseWork<'a>);

impl<const P: usize, const KV: usize, const TA: usize, const TB: usize> WithSimd for DenseOp<'_, P, KV, TA, TB> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let mut w = self.0;
        let kb = KV * S::LANES;
        assert!(TB <= TA && TA <= P && TB > 0);
        assert!(kb <= MAX_KB && w.weights.kb == kb && w.q0 < w.q1 && w.weights.bias.len() >= w.weights.blocks * kb);
        let x = std::mem::replace(&mut w.input, DenseInput::Direct(&[])).ready(s);
        let ntaps = w.taps.len();
        assert!(ntaps == w.weights.reduction && ntaps > 0);
        let last_pixel = w.q1 - 1;
        let max_off = w.pixels.offset(last_pixel / w.pixels.ow, last_pixel % w.pixels.ow);
        assert!(max_off + w.taps[ntaps - 1] < x.len(), "band too small for the tile offsets");
        let per_block = w.taps_per_block.max(1);
        let pixels = w.q1 - w.q0;
        assert!(ntaps <= per_block || w.acc.len() >= (pixels + P) * kb, "partial-sum buffer too small");
        let schedule = TileSchedule::new(P, KV, [P, TA, TB]);
        let acc = w.acc.as_mut_ptr();
        for blk in w.blk0..w.blk1 {
            let wblk = w.weights.block(w.group, blk);
            let bias = w.epilogue.has_bias().then(|| w.weights.bias(w.group, blk));
            let kvalid = kb.min(w.kg - blk * kb);
            let mut t0 = 0;
            while t0 < ntaps {
                let t1 = (t0 + per_block).min(ntaps);
                let (first, last) = (t0 == 0, t1 == ntaps);
                let (mut oh, mut ow) = (w.q0 / w.pixels.ow, w.q0 % w.pixels.ow);
                let mut q = w.q0;
                while q < w.q1 {
                    let size = schedule.next(w.q1 - q);
                    let pvalid = size.min(w.q1 - q);
                    let mut offs = [0usize; P];
                    #[allow(clippy::needless_range_loop)]
                    for p in 0..P {
                        if p < pvalid {
                            offs[p] = w.pixels.offset(oh, ow);
                            ow += 1;
                            if ow == w.pixels.ow {
                                ow = 0;
                                oh += 1;
                            }
                        } else {
                            // Past the task's last pixel: repeat it (computed, not stored).
                            offs[p] = offs[p - 1];
                        }
                    }
                    // SAFETY: offsets <= max_off, taps <= the last tap, and their sum stays
                    // inside `x` (asserted); the block's packed weights hold `ntaps * kb`
                    // floats; the partial-sum slot of pixels `q - q0 .. + size` is inside `acc`
                    // (asserted) and only used when the reduction has several blocks; output
                    // channels `blk * kb .. + kvalid`, pixels `q .. q + pvalid` are this task's
                    // (the caller's contract).
                    unsafe {
                        let slot = acc.wrapping_add((q - w.q0) * kb);
                        let out = if last {
                            TileOut::Finish {
                                bias,
                                epi: &w.epilogue,
                                out: w.out.get().add(blk * kb * w.plane + q),
                                plane: w.plane,
                                pvalid,
                                kvalid,
                                spare: w.q1 - q - pvalid,
                            }
                        } else {
                            TileOut::Spill(slot)
                        };
                        // The block's weights are cold only for its first tile (they then stay
                        // in L1 or L2 for the task's other tiles): only that tile prefetches them.
                        // Prefetching in every tile cost 3-7% with L1-sized blocks (2026-11-26,
                        // Zen 3: res3_3x3 +6.7%, vgg16 +5.6%, res5 +3.2% with first-tile-only)
                        // and was level with L2-sized ones (2026-11-27, Sapphire Rapids class).
                        // Tiles of `TA` and `TB` pixels come last in a task, or make up a task
                        // of at most `3P` pixels: they never prefetch.
                        macro_rules! run_tile {
                            ($p:expr, $prefetch:expr) => {{
                                let mut o = [0usize; $p];
                                o.copy_from_slice(&offs[..$p]);
                                dense_tile::<S, $p, KV, $prefetch>(
                                    s,
                                    x.as_ptr(),
                                    &o,
                                    &w.taps[t0..t1],
                                    wblk.as_ptr().add(t0 * kb),
                                    (!first).then_some(slot as *const f32),
                                    out,
                                )
                            }};
                        }
                        if size == P {
                            if q == w.q0 { run_tile!(P, true) } else { run_tile!(P, false) }
                        } else if size == TA {
                            run_tile!(TA, false)
                        } else {
                            run_tile!(TB, false)
                        }
                    }
                    q += pvalid;
                }
                t0 = t1;
            }
        }
    }
}

/// Where a tile's accumulators go after its taps.
enum TileOut<'a> {
    /// More reduction blocks follow: park the raw sums (`P * KB` floats).
    Spill(*mut f32),
    /// Last block: bias, activation, transposed store into NCHW. `spare`: pixels after the
    /// tile's `pvalid` that the task writes later (so they may be overwritten now).
    Finish { bias: Option<&'a [f32]>, epi: &'a Epilogue<'a>, out: *mut f32, plane: usize, pvalid: usize, kvalid: usize, spare: usize },
}

/// One `P x KV*LANES` tile over `taps`, starting from zero or from parked sums; `PREFETCH`
/// streams the weights ahead of use (for the first tile of a reduction block).
///
/// # Safety
/// `x + offs[p] + taps[t]` readable for all `p, t`; `w` holds `taps.len() * KV * LANES`
/// floats; `acc_in` (if any) holds `P * KV * LANES` readable floats; the `TileOut` pointers
/// are writable: `Spill` for `P * KV * LANES` floats, `Finish` at `out + k * plane + p` for
/// `k < kvalid`, `p < pvalid + spare`.
#[inline(always)]
unsafe fn dense_tile<S: Simd, const P: usize, const KV: usize, const PREFETCH: bool>(
    s: S,
    x: *const f32,
    offs: &[usize; P],
    taps: &[usize],
    w: *const f32,
    acc_in: Option<*const f32>,
    out: TileOut<'_>,
) {
    let l = S::LANES;
    let mut acc = [[s.zero(); KV]; P];
    if let Some(src) = acc_in {
        for (p, row) in acc.iter_mut().enumerate() {
            for (v, a) in row.iter_mut().enumerate() {
                // SAFETY: `p * KV * l + v * l + l <= P * KV * l` floats of `src` are readable.
                *a = unsafe { s.load(src.add((p * KV + v) * l)) };
            }
        }
    }
    // One pointer per pixel, the tap an index from it: no base register and no add per tap
    // (with `x + t + offs[p]`, the register for `x` pushed the weight pointer to the stack in
    // the larger tile loops of several tile sizes: a reload per tap).
    let mut pixel = [x; P];
    for (ptr, &o) in pixel.iter_mut().zip(offs) {
        *ptr = x.wrapping_add(o);
    }
    let mut wp = w;
    for &t in taps {
        // Weights of a block are cold for the first tile that uses it: prefetch them a few
        // hundred cycles ahead (they are contiguous, also across blocks).
        let mut line = 0;
        while PREFETCH && line < KV * l {
            s.prefetch(wp.wrapping_add(WEIGHT_PREFETCH_TAPS * KV * l + line));
            line += 16;
        }
        // SAFETY: the caller guarantees these reads are in bounds.
        unsafe {
            let mut wv = [s.zero(); KV];
            for (v, slot) in wv.iter_mut().enumerate() {
                *slot = s.load(wp.add(v * l));
            }
            for (p, row) in acc.iter_mut().enumerate() {
                let b = s.broadcast(pixel[p].add(t));
                for (v, a) in row.iter_mut().enumerate() {
                    *a = s.fma(wv[v], b, *a);
                }
            }
        }
        wp = wp.wrapping_add(KV * l);
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { finish_tile::<S, P, KV>(s, acc, out) }
}

/// Stores a finished [`dense_tile`]. The accumulators come by value: borrowing them here kept
/// LLVM from promoting them to registers in the avx512 instantiation, which then stored every
/// accumulator to the stack after each FMA.
///
/// # Safety
/// As [`dense_tile`]'s `TileOut` contract.
#[inline(always)]
unsafe fn finish_tile<S: Simd, const P: usize, const KV: usize>(s: S, acc: [[S::V; KV]; P], out: TileOut<'_>) {
    let l = S::LANES;
    match out {
        TileOut::Spill(dst) => {
            for (p, row) in acc.iter().enumerate() {
                for (v, a) in row.iter().enumerate() {
                    // SAFETY: as for `acc_in`, `dst` holds `P * KV * l` writable floats.
                    unsafe { s.store(dst.add((p * KV + v) * l), *a) };
                }
            }
        }
        TileOut::Finish { bias, epi, out, plane, pvalid, kvalid, spare } => {
            // Channel k's pixels are contiguous in NCHW. A full tile whose pixels fit one
            // vector (avx2's wide tile) is transposed in registers and stored as one vector per
            // channel, running `LANES - P` pixels past the tile: the task's next tile (written
            // later, `spare` says it exists) overwrites them. Through the stack and element by
            // element, this store took 10% of resnet50_conv1 (147 taps a tile). A tile of at
            // most half a vector of pixels (avx512's 6-pixel tile, and its tail tiles) takes
            // half the transpose: two channels per vector, one per half, each half stored with
            // a mask of exactly the tile's valid pixels, so any tile of a task takes this path;
            // the full transpose's interleaves (64 per 16 channels) took 6% of resnet50_conv1
            // (2026-11-27). The masked stores cost the same as whole half-vector stores
            // (level on conv1, res3_3x3, res3_3x3_s2, res5_3x3, 2026-11-27).
            let half = 2 * P <= l;
            let run = if half { l / 2 } else { l };
            // `P <= run` first: `run - P` must not be formed for wider tiles (the narrow one).
            let whole = P <= run && pvalid == P && spare >= run - P;
            if KV <= 4 && l <= MAX_LANES && l.is_power_of_two() && kvalid == KV * l && (half || whole) {
                // One call per vector of channels, its index a constant: with a loop over
                // `v`, LLVM kept the accumulators and the finished values in stack arrays
                // (2026-11-27, avx512, one thread, alternating runs: resnet50_conv1 +2.8%,
                // res3_3x3_s2 +1.0%, res3_3x3 +0.7%; with the masked stores for every tile
                // +3.5%, +1.6%, +0.9%).
                // SAFETY: forwarded (the fast path's conditions hold).
                unsafe {
                    store_columns::<S, P, KV, 0>(s, &acc, bias, epi, out, plane, pvalid);
                    store_columns::<S, P, KV, 1>(s, &acc, bias, epi, out, plane, pvalid);
                    store_columns::<S, P, KV, 2>(s, &acc, bias, epi, out, plane, pvalid);
                    store_columns::<S, P, KV, 3>(s, &acc, bias, epi, out, plane, pvalid);
                }
                return;
            }
            // Epilogue in registers. Loops, not `std::array::from_fn`: its closures compile
            // outside the tier's `#[target_feature]` entry point, and every vector operation
            // in them became a function call (6% of resnet50_res3_3x3_s2).
            let mut ys = [[s.zero(); KV]; P];
            for (yrow, arow) in ys.iter_mut().zip(&acc) {
                for (v, (y, a)) in yrow.iter_mut().zip(arow).enumerate() {
                    // SAFETY: the padded bias holds KB = KV * LANES floats (asserted in the caller).
                    // A `match`, not `Option::map`: the closure would compile outside the tier.
                    #[allow(clippy::manual_map)]
                    let b = match bias {
                        Some(b) => Some(unsafe { s.load(b.as_ptr().add(v * l)) }),
                        None => None,
                    };
                    *y = epi.apply_with(s, *a, b);
                }
            }
            let mut tile = [[0.0f32; MAX_KB]; P];
            for (p, row) in ys.iter().enumerate() {
                for (v, y) in row.iter().enumerate() {
                    // SAFETY: `v * l + l <= KV * LANES <= MAX_KB`.
                    unsafe { s.store(tile[p].as_mut_ptr().add(v * l), *y) };
                }
            }
            for k in 0..kvalid {
                // SAFETY: channel `k < kvalid`, pixels `< pvalid` are writable (caller's contract).
                let o = unsafe { out.add(k * plane) };
                for (p, row) in tile.iter().enumerate().take(pvalid) {
                    // SAFETY: as above.
                    unsafe { o.add(p).write(row[k]) };
                }
            }
        }
    }
}

/// Finishes channel vector `V` of a tile (nothing if `V >= KV`): bias and activation,
/// transposed in registers, then per channel either its `pvalid` pixels from half a vector
/// (if `2 * P <= LANES`) or a whole vector.
///
/// # Safety
/// As [`dense_tile`]'s `Finish` contract with `kvalid == KV * LANES`, `pvalid <= P` if
/// `2 * P <= LANES`, else `pvalid == P <= LANES` and `spare >= LANES - P`; the
/// bias (if any) holds `KV * LANES` floats.
#[inline(always)]
unsafe fn store_columns<S: Simd, const P: usize, const KV: usize, const V: usize>(
    s: S,
    acc: &[[S::V; KV]; P],
    bias: Option<&[f32]>,
    epi: &Epilogue<'_>,
    out: *mut f32,
    plane: usize,
    pvalid: usize,
) {
    if V >= KV {
        return;
    }
    let l = S::LANES;
    let half = 2 * P <= l;
    // SAFETY: `V * l + l <= KV * l` floats of the bias are readable.
    #[allow(clippy::manual_map)]
    let b = match bias {
        Some(b) => Some(unsafe { s.load(b.as_ptr().add(V * l)) }),
        None => None,
    };
    let mut rows = [s.zero(); MAX_LANES];
    for (row, a) in rows.iter_mut().zip(acc) {
        *row = epi.apply_with(s, a[V], b);
    }
    if half {
        for (j, pair) in transpose_half(s, rows).iter().enumerate().take(l / 2) {
            // SAFETY: channels `V * l + 2j, + 1 < kvalid`; pixels `< pvalid` are writable
            // (caller's contract).
            unsafe {
                s.store_partial(out.add((V * l + 2 * j) * plane), pvalid, *pair);
                s.store_high_partial(out.add((V * l + 2 * j + 1) * plane), pvalid, *pair);
            }
        }
    } else {
        for (j, col) in transpose(s, rows).iter().enumerate().take(l) {
            // SAFETY: channel `V * l + j < kvalid`, pixels `< pvalid + spare` are writable
            // (caller's contract) and `l <= P + spare`.
            unsafe { s.store(out.add((V * l + j) * plane), *col) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FMA_CHAINS, TileSchedule};

    /// The sizes a schedule gives for a task of `n` pixels.
    fn walk(s: &TileSchedule, n: usize) -> Vec<usize> {
        let mut sizes = Vec::new();
        let mut q = 0;
        while q < n {
            let t = s.next(n - q);
            sizes.push(t);
            q += t.min(n - q);
        }
        sizes
    }

    /// Every tier's tile sets: the schedule covers every task exactly with its own sizes, runs
    /// full tiles until the last `3P` pixels, costs no more than full tiles with a small tail
    /// tile (the rule before it), and cuts resnet50_res5_3x3's 49 pixels as measured.
    #[test]
    fn schedule_covers_tasks_with_the_cheapest_tail() {
        for (p, kv, ta, tb) in [(6, 2, 4, 2), (12, 1, 8, 4), (6, 2, 5, 4), (8, 1, 6, 4), (6, 4, 4, 2), (28, 1, 14, 9)] {
            let s = TileSchedule::new(p, kv, [p, ta, tb]);
            let cost = |t: usize| (t * kv).max(FMA_CHAINS) + 1;
            for n in 1..400 {
                let sizes = walk(&s, n);
                assert!(sizes.iter().all(|t| [p, ta, tb].contains(t)), "{p}x{kv}: {n} -> {sizes:?}");
                let covered: usize = sizes.iter().sum();
                let last = *sizes.last().unwrap();
                assert!(covered >= n && covered - n < last, "{p}x{kv}: {n} -> {sizes:?}");
                let full = sizes.iter().take_while(|&&t| t == p).count();
                assert!(n - full * p <= 3 * p || full == sizes.len(), "{p}x{kv}: {n} -> {sizes:?}");
                // Full tiles, then one tile of the smallest size if it covers the rest.
                let old = if n % p == 0 {
                    n / p * cost(p)
                } else if n % p <= tb {
                    n / p * cost(p) + cost(tb)
                } else {
                    n.div_ceil(p) * cost(p)
                };
                assert!(sizes.iter().map(|&t| cost(t)).sum::<usize>() <= old, "{p}x{kv}: {n} -> {sizes:?}");
            }
        }
        let avx2 = TileSchedule::new(6, 2, [6, 5, 4]);
        assert_eq!(walk(&avx2, 49), [6, 6, 6, 6, 6, 6, 5, 4, 4]);
        assert_eq!(walk(&avx2, 48), [6; 8]);
        assert_eq!(walk(&avx2, 1), [4]);
    }
}
