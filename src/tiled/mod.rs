//! The `tiled` backend: register- and cache-tiled direct convolution, convkit's flagship.
//!
//! * Dense and grouped layers (`direct`): weights packed at plan time into blocks of
//!   output channels of the vector width (`pack`); each register tile is `P` output pixels
//!   by one or two vectors of output channels, accumulated over every tap `(c, r, s)` with the
//!   input broadcast. Padding is removed before the kernels run: each task copies the padded
//!   input rows it needs into a zero-bordered band (`band`); unpadded layers read the input
//!   in place. Tiles may span output rows, so small images waste nothing.
//! * Dense layers with short reductions over wide rows, or few channels per group (`rows`):
//!   vectors of output pixels along a row by a few output channels, over an always
//!   phase-split band; the sums are stored as they are, with no transpose. [`TiledKernel`]
//!   says which dense tile a plan runs and why.
//! * Depthwise layers (`groups == C`, any depth multiplier) (`depthwise`): vectors run
//!   along output rows instead, over a zero-padded (and, for stride 2, phase-split) plane.
//!
//! Input and output stay NCHW; every layout change happens inside `run`. Tasks are (image,
//! group, band of output rows, channel blocks) on the caller's rayon pool; the reduction is
//! never split, so results are identical for any thread count.

mod band;
mod depthwise;
mod direct;
mod pack;
mod rows;

use crate::backend::{
    Backend, Plan, PlanOptions, band_count, band_range, channel_parts, plan_accessors, run_tasks, validate_plan_inputs,
    validate_run_buffers,
};
use crate::caches::cache_sizes;
use crate::epilogue::Epilogue;
use crate::error::{ConvError, Unsupported};
use crate::gemm::SharedMut;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::Tier;
use band::BandLayout;
use depthwise::DepthwisePlan;
use direct::{DenseInput, DenseWork, PixelMap, TileKind, run_dense};
use pack::PackedDense;

/// The tiled direct-convolution backend. Supports every valid problem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tiled;

impl Backend for Tiled {
    fn name(&self) -> &'static str {
        "tiled"
    }

    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported> {
        crate::backend::supports_valid("tiled", problem).map(|_| ())
    }

    fn plan_with(
        &self,
        problem: &ConvProblem,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: &PlanOptions,
    ) -> Result<Box<dyn Plan>, ConvError> {
        let shape = validate_plan_inputs(problem, weights, bias)?;
        let tier = options.tier()?;
        if depthwise::suits(problem, &shape) {
            return Ok(DepthwisePlan::boxed(problem, shape, weights, bias, tier));
        }
        let kernel = match options.tiled_kernel() {
            Some(k) => k,
            None => TiledKernel::choose(problem, &shape, tier),
        };
        Ok(Box::new(DensePlan::new(problem, shape, weights, bias, tier, kernel)))
    }
}

/// Which register tile a dense `tiled` plan runs (depthwise layers have their own). Plans
/// choose per shape unless [`PlanOptions::with_tiled_kernel`](crate::PlanOptions::with_tiled_kernel)
/// says: [`TiledKernel::Rows`] for short reductions over wide rows (first layers such as
/// resnet50_conv1 on avx512) and for few output channels per group (resnext_g32_3x3),
/// [`TiledKernel::Direct`] otherwise.
///
/// ```
/// use convkit::{Backend, ConvProblem, PlanOptions, tiled::{Tiled, TiledKernel}};
/// let p = ConvProblem::new(1, 3, 32, 32, 8, 3, 3).with_padding([1; 4]);
/// let w = vec![1.0; 8 * 3 * 3 * 3];
/// let plan = Tiled.plan_with(&p, &w, None, &PlanOptions::default().with_tiled_kernel(TiledKernel::Rows))?;
/// assert!(plan.kernel().contains("_rows_"));
/// # Ok::<(), convkit::ConvError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TiledKernel {
    /// `P` output pixels by one or two vectors of output channels, input broadcast, sums
    /// transposed into NCHW at the end of each tile (`src/tiled/direct.rs`): the tile for long reductions.
    Direct,
    /// Vectors of output pixels along rows by a few output channels, weights broadcast, sums
    /// stored as they are (`src/tiled/rows.rs`): the tile for short reductions (first layers), whose
    /// direct tiles spend much of their time transposing and storing.
    Rows,
}

impl TiledKernel {
    /// The tile a plan uses unless told otherwise (the enum's docs): [`TiledKernel::Rows`] on
    /// the SIMD tiers where its lanes do at least as much useful work as the direct tile's,
    /// else [`TiledKernel::Direct`] (always on the scalar tier, where both tiles are the twins
    /// of the others).
    ///
    /// A rows tile's lanes are used in proportion to `ow / (ceil(ow / LANES) * LANES)` (a
    /// row's last vector) times its channel blocks' fill (`kg` over whole blocks of `KC`); a
    /// direct tile's in proportion to its channel blocks' fill, halved for the narrow
    /// (one-vector) tile, whose transposes through the stack ran at about half the wide tile's
    /// speed. Rows wins when its share is at least the direct tile's (avx512: 97% of it), or
    /// 85% of it on a padded layer of at most 64 taps (there the direct tile's band fill and
    /// epilogue weigh most). A rows tile reads `cg * r` input rows per tap sweep: at most
    /// [`MAX_ROWS_STREAMS`], or they spill L1.
    ///
    /// Measured, one thread, plans built both ways and run alternately, rows / direct:
    /// * avx512 (2026-11-27, Sapphire Rapids class Xeon): resnet50_conv1 (147 taps, 112 wide)
    ///   1.06-1.13x; resnext_g32_3x3 2.25x; odd_asymmetric 1.10x; 3 -> 64 channels 3x3 at 224
    ///   2.0x, at 56 1.14x; 3 -> 32 3x3 stride 2 2.0x; 8 -> 32 5x5 1.5x; 12 -> 24 3x3 at 56
    ///   1.7x; 16 -> 32 1x1 2.2x; 16 -> 64 3x3 at 112 1.04-1.09x; and against it: conv1's shape
    ///   at 112 (56 wide) 0.94x, 32 -> 64 and 64 -> 64 1x1 at 56 0.84x, 32 -> 64 3x3 (96 rows)
    ///   0.96-1.0x, resnet50 3x3 layers 0.73-0.9x.
    /// * avx2 (2026-12-06, AMD EPYC Zen 3): resnext_g32_3x3 1.80x, 4 channels per group at 28
    ///   and 56 3.5x and 4.5x (the narrow direct tile runs at 10 GFLOP/s there), 12 -> 24 3x3
    ///   1.43x, 3 -> 64 3x3 at 224 and 56 1.28x and 1.16x, odd_asymmetric 1.16x, 3 -> 32 3x3
    ///   stride 2 1.0x; and against it: conv1 0.97x and its shape at 112 0.99x (equal shares,
    ///   147 taps: why avx2 wants rows' share at least direct's), 16 -> 64 3x3 0.97x, 8 -> 32
    ///   5x5 0.89x, 32 -> 64 3x3 0.91x, 16 channels per group 0.79x, 1x1 layers 0.65-0.82x.
    /// * portable (same day and machine): 4 channels per group 2.2x, resnext 1.10x, 3 -> 64
    ///   3x3 1.33x, 16 -> 32 and 32 -> 64 1x1 1.39x and 1.22x, 12 -> 24 3x3 and 16 -> 64 3x3
    ///   1.06x, conv1 at 112 1.04x, odd_asymmetric 0.96x; resnet50_res3_3x3 0.95x (384 input
    ///   rows a sweep: direct).
    pub(crate) fn choose(problem: &ConvProblem, shape: &ConvShape, tier: Tier) -> TiledKernel {
        let equal_share = match tier.isa() {
            crate::isa::Isa::Scalar => return TiledKernel::Direct,
            crate::isa::Isa::Portable | crate::isa::Isa::Avx2 => 1.0,
            crate::isa::Isa::Avx512 => 0.97,
        };
        let (_, kc, lanes) = rows::rows_tile(tier);
        let (_, wide_kb) = direct::tile(tier, TileKind::Wide);
        let (_, narrow_kb) = direct::tile(tier, TileKind::Narrow);
        let narrow = shape.kg * 2 <= wide_kb;
        let kb = if narrow { narrow_kb } else { wide_kb };
        if shape.cg.saturating_mul(problem.r) > MAX_ROWS_STREAMS || shape.ow == 0 || shape.kg == 0 {
            return TiledKernel::Direct;
        }
        // Lane shares as fractions of small counts (no overflow concerns in f64).
        let fill = |used: usize, block: usize| used as f64 / (used.div_ceil(block) * block) as f64;
        let rows = fill(shape.ow, lanes) * fill(shape.kg, kc);
        let direct = fill(shape.kg, kb) * if narrow { 0.5 } else { 1.0 };
        let padded = problem.params.padding != [0; 4];
        if rows >= equal_share * direct || (padded && shape.reduction <= 64 && rows >= 0.85 * direct) {
            TiledKernel::Rows
        } else {
            TiledKernel::Direct
        }
    }

    /// Short name, as in kernel names.
    pub fn name(self) -> &'static str {
        match self {
            TiledKernel::Direct => "direct",
            TiledKernel::Rows => "rows",
        }
    }
}

/// Most input rows (`cg * r`) a rows tile may read per tap sweep.
const MAX_ROWS_STREAMS: usize = 48;

/// Where a dense task reads its input.
#[derive(Clone, Debug)]
enum Source {
    /// No padding: the group's input, in place.
    Input,
    /// Padding: a zero-bordered band copied per task.
    Band(BandLayout),
}

struct DensePlan {
    problem: ConvProblem,
    shape: ConvShape,
    tier: Tier,
    kind: TileKind,
    /// The rows tile ([`rows`]) instead of the dense `P x KB` tile.
    rows: bool,
    weights: PackedDense,
    taps: Vec<usize>,
    source: Source,
    /// Buffer offset between consecutive output rows.
    row_step: usize,
    /// Buffer offset between consecutive output columns.
    col_step: usize,
    /// Output rows per task.
    band_rows: usize,
    /// Input rows a band reads beyond its own output rows' strides (`dk_h - stride`): what
    /// every further band fills again.
    halo_rows: usize,
    /// Taps per reduction block: the whole reduction when its packed weights fit in 4/5 of L1,
    /// else L1-sized blocks if they hold at least [`MIN_L1_BLOCK_TAPS`] taps and one L2-sized
    /// block would hold the whole reduction, else [`l2_block_taps`].
    taps_per_block: usize,
    /// Partial-sum floats per task.
    acc_len: usize,
    kernel: String,
}

impl DensePlan {
    fn new(problem: &ConvProblem, shape: ConvShape, weights: &[f32], bias: Option<&[f32]>, tier: Tier, kernel: TiledKernel) -> DensePlan {
        let p = problem;
        let [sh, sw] = p.params.stride;
        let [dh, dw] = p.params.dilation;
        // Narrow tiles (one vector of channels) when a group's channels fit one vector.
        let (_, wide_kb) = direct::tile(tier, TileKind::Wide);
        let kind = if shape.kg * 2 <= wide_kb { TileKind::Narrow } else { TileKind::Wide };
        let (ptile, kb) = direct::tile(tier, kind);
        let (rows_pv, rows_kc, lanes) = rows::rows_tile(tier);
        let use_rows = kernel == TiledKernel::Rows;
        let kb = if use_rows { rows_kc } else { kb };
        let packed = PackedDense::pack(weights, bias, p.params.groups, shape.kg, shape.reduction, kb);
        let dk_h = (p.r - 1) * dh + 1;
        let padded = p.params.padding != [0; 4];
        let [pt, pl, _, _] = p.params.padding;
        let probe = BandLayout::new(p.h, p.w, pt, pl, (sh, sw), (dh, dw), (p.r, p.s), shape.ow, 1, None);
        let rs = p.r * p.s;
        // A reduction whose packed weights fit in 4/5 of L1 runs as one block: no partial sums
        // parked and reloaded between blocks. Measured (2026-11-27, 48 KiB L1, one thread,
        // paired): resnet50_conv1 (147 taps, 37.6 KiB; was 3 blocks of 49) +9% (twice);
        // 12 channels 3x3 at 56x56 (108 taps; was 90 + 18) +8-11%; 16 channels (144 taps) level.
        // Longer reductions run in blocks that stay in L1 if such a block holds at least
        // `MIN_L1_BLOCK_TAPS` taps. A block's weights share L1 with the input lines its tiles
        // read, one line run per tap row and column segment (a stride-2 tile spreads over twice
        // the columns), so an L1 block gets L1 / (1 + segments): half for stride 1, a third for
        // stride 2 (measured 2026-11-26, Zen 3: res3_3x3_s2 +4.8% with a third rather than half;
        // deeplab lost 1-2% with a third). The avx2 tile's 16 channels (64 bytes a tap) get 378
        // taps at stride 1 and 252 at stride 2; L2-sized blocks there lost 3-6% (vgg16_conv2_2,
        // res3_3x3_s2, deeplab; res2-res5 level or +2%).
        // Shorter L1 blocks (avx512's 64-channel tile: 90 taps at stride 1, 63 at stride 2,
        // which parked the partial sums 13 times in resnet50_res3_3x3, ~5% of its samples)
        // give way to `l2_block_taps`: blocks of at most an eighth of L2, split evenly into
        // whole `r x s` taps, their weights streamed from L2 (the hardware prefetcher keeps
        // ahead of a sequential stream). Measured (2026-11-27, Sapphire Rapids class, 48 KiB L1,
        // 2 MiB L2, avx512 6 x 64, one thread, plans built both ways and run alternately,
        // medians of three or more runs): res2_3x3 +0.8..3.3% (one block of 576), res3_3x3
        // +0.1..0.7% (2 x 576), res4_3x3 +2.7..4.4% (3 blocks), res5_3x3 +2.7..3.0% (5 blocks),
        // vgg16_conv2_2 -0.4..2.4%, deeplab_dilated_d2 -0.9..2.4%, res3_3x3_s2 +4.4..5.6% (one
        // run of six -6%), res3_3x3_n8 +1.4%; resnext_g32 and odd_asymmetric level. Prefetching
        // the weights in every tile (not only a block's first) added nothing.
        // Re-checked 2026-12-06 on a Zen 3 (32 KiB L1, 512 KiB L2, avx2 16-channel tile: 252
        // taps of L1 with one column segment, 162 with two, so res3_3x3_s2 takes L2 blocks),
        // one thread, plans built both ways (`MIN_L1_BLOCK_TAPS` 192 and 100) and run
        // alternately: L2 blocks rather than the shorter L1 blocks won 83% of the rounds on
        // res3_3x3_s2 (+0.4% best to best) and 80% on res5_3x3 (+2.3%); res4_3x3 and
        // vgg16_conv2_2 level.
        // An L1-block reduction that one L2 block would hold whole keeps its L1 blocks; a
        // longer one takes L2 blocks even when its L1 blocks are long enough. Measured
        // (2026-12-07, Zen 3, avx2, one thread, three plans of each kind run in turn, geometric
        // means; 252-tap L1 blocks against at most 1024-tap L2 blocks): res3_3x3 +1.0..1.5%
        // (2 x 576 rather than 4 x 252 + 144), res4_3x3 +1.4..1.8%, res5_3x3 +0.9..3.4%,
        // deeplab +0.8..1.1%, vgg16_conv2_2 +0.7..1.3%, res3_3x3_n8 +1.6%; but where the L2
        // block would be the only one, it lost: res2_3x3 (576 taps) -3.3..3.6%, res4_1x1 (1024
        // taps) -1.4%.
        let l1 = cache_sizes().l1d;
        let segments = if padded { probe.columns.bases.len().max(probe.col_step) } else { sw };
        let l1_taps = (l1 / (1 + segments.clamp(1, 3)) / (kb * 4) / rs * rs).max(rs);
        let l2_taps = l2_block_taps(shape.reduction, rs, kb * 4, cache_sizes().l2);
        let taps_per_block = if use_rows || shape.reduction.saturating_mul(kb * 4) <= l1 / 5 * 4 {
            shape.reduction
        } else if l1_taps >= MIN_L1_BLOCK_TAPS && l2_taps >= shape.reduction {
            l1_taps
        } else {
            l2_taps
        };
        // Output rows per task: the band of input rows they read and, when the reduction takes
        // several blocks, the partial sums of their pixels take about half of L2. Without the
        // partial sums in the budget, resnet50_conv1 (then 3 blocks of 49 taps, 28 KiB of sums per
        // output row) ran as one 112-row band on a 2 MiB L2, its sums spilling to L3: 4% slower.
        let rows_probe = BandLayout::new(p.h, p.w, pt, pl, (sh, sw), (dh, dw), (p.r, p.s), shape.ow, 1, Some(lanes));
        let row_len = if use_rows {
            rows_probe.row_len()
        } else if padded {
            probe.row_len()
        } else {
            p.w
        };
        let row_bytes = shape.cg * row_len * 4;
        let acc_row_bytes = if shape.reduction > taps_per_block { shape.ow.saturating_mul(kb * 4) } else { 0 };
        let budget = (cache_sizes().l2 / 2).saturating_sub(dk_h.saturating_mul(row_bytes));
        let band_rows = (budget / sh.saturating_mul(row_bytes).saturating_add(acc_row_bytes).max(1) + 1).clamp(1, shape.oh);
        let (source, taps, col_step): (Source, Vec<usize>, usize) = if padded || use_rows {
            let slack = use_rows.then_some(lanes);
            let mut layout = BandLayout::new(p.h, p.w, pt, pl, (sh, sw), (dh, dw), (p.r, p.s), shape.ow, band_rows, slack);
            // The fill prefetches the rows it copies only when they come from past L2.
            layout.prefetch_input = shape.cg.saturating_mul(p.h).saturating_mul(p.w).saturating_mul(4) > cache_sizes().l2;
            let mut taps = Vec::with_capacity(shape.reduction);
            for c in 0..shape.cg {
                for r in 0..p.r {
                    for s in 0..p.s {
                        taps.push(c * layout.channel_stride + r * layout.tap_row_step() + layout.column_offset(s));
                    }
                }
            }
            let col_step = layout.col_step;
            (Source::Band(layout), taps, col_step)
        } else {
            let plane = p.h * p.w;
            let taps =
                (0..shape.cg).flat_map(|c| (0..p.r).flat_map(move |r| (0..p.s).map(move |s| c * plane + r * dh * p.w + s * dw))).collect();
            (Source::Input, taps, sw)
        };
        let row_step = match &source {
            Source::Band(b) => b.row_step(),
            Source::Input => sh * row_len,
        };
        let kernel = if use_rows {
            format!("{}_rows_f32_{}x{rows_kc}", tier.name(), rows_pv * lanes)
        } else {
            format!("{}_direct_f32_{ptile}x{kb}", tier.name())
        };
        let acc_len = if use_rows { 0 } else { direct::acc_len(tier, kind, band_rows * shape.ow, shape.reduction, taps_per_block) };
        DensePlan {
            problem: *p,
            shape,
            tier,
            kind,
            rows: use_rows,
            weights: packed,
            taps,
            source,
            row_step,
            col_step,
            band_rows,
            halo_rows: dk_h.saturating_sub(sh),
            taps_per_block,
            acc_len,
            kernel,
        }
    }
}

/// The fewest taps an L1-sized reduction block may hold before the blocks are sized for L2
/// instead: every block boundary parks and reloads a tile's `P x KV` accumulators (two vector
/// operations each against one FMA per tap), under about 1% from here on.
const MIN_L1_BLOCK_TAPS: usize = 192;

/// Taps per reduction block for a reduction of `reduction` taps (whole `rs`-tap filter
/// positions of one input channel) whose packed weights take `tap_bytes` per tap: the fewest
/// blocks of at most an eighth of L2 each, split evenly and rounded up to whole `rs` taps (at
/// most `reduction`, at least `rs`).
fn l2_block_taps(reduction: usize, rs: usize, tap_bytes: usize, l2: usize) -> usize {
    let rs = rs.max(1);
    let max_taps = (l2 / 8 / tap_bytes.max(1) / rs * rs).max(rs);
    let blocks = reduction.div_ceil(max_taps).max(1);
    (reduction.div_ceil(blocks).div_ceil(rs) * rs).clamp(rs.min(reduction).max(1), reduction.max(1))
}

impl Plan for DensePlan {
    plan_accessors!("tiled");
    fn workspace_len_per_thread(&self) -> usize {
        self.band_len() + self.acc_len
    }

    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        let per = self.workspace_len_per_thread();
        validate_run_buffers(&self.shape, input, output, workspace, per)?;
        self.tier.record_run();
        let p = &self.problem;
        let sh = &self.shape;
        let groups = p.params.groups;
        let plane = sh.oh * sh.ow;
        let blocks = self.weights.blocks;
        // Fewer (image, group) tasks than threads: cut the rows into at least as many bands as
        // threads if there are fewer channel blocks than threads too (resnet50_conv1, one block
        // of 64 channels, fits one band on a 2 MiB L2 and ran on one of two threads), or if
        // each thread's band is tall enough (`rows_first`). Otherwise the channel blocks split
        // (`channel_parts`), and every part fills the whole band itself.
        let threads = rayon::current_num_threads().max(1);
        let split_rows = p.n * groups < threads && (p.n * groups * blocks < threads || rows_first(sh.oh, threads, self.halo_rows));
        let max_rows = if split_rows { self.band_rows.min(sh.oh.div_ceil(threads)) } else { self.band_rows };
        let bands = band_count(sh.oh, max_rows, p.n * groups);
        let base = p.n * groups * bands;
        let (parts, per_part) = channel_parts(base, blocks, 1);
        let tasks = base * parts;
        let out = SharedMut(output.as_mut_ptr());
        let chw = p.c * p.h * p.w;
        let cg_len = sh.cg * p.h * p.w;
        let epilogue = Epilogue::new(self.weights_bias(), p.params.activation);
        run_tasks(workspace, per, tasks, |t, ws| {
            let (part, rest) = (t % parts, t / parts);
            let (band, rest) = (rest % bands, rest / bands);
            let (g, n) = (rest % groups, rest / groups);
            let (oh0, oh1) = band_range(band, bands, sh.oh);
            let x_group = &input[n * chw + g * cg_len..][..cg_len];
            let (band, acc) = ws.split_at_mut(self.band_len());
            let (input, oh_base) = match &self.source {
                Source::Input => (DenseInput::Direct(x_group), 0),
                Source::Band(layout) => {
                    (DenseInput::Band { layout, x: x_group, channels: sh.cg, oh0, out_rows: oh1 - oh0, buf: band }, oh0)
                }
            };
            let work = DenseWork {
                input,
                taps: &self.taps,
                taps_per_block: self.taps_per_block,
                weights: &self.weights,
                group: g,
                blk0: part * per_part,
                blk1: ((part + 1) * per_part).min(blocks),
                kg: sh.kg,
                // SAFETY (arithmetic): image `n`, channel `g * kg` is inside the output.
                out: SharedMut(unsafe { out.get().add((n * p.k + g * sh.kg) * plane) }),
                plane,
                q0: oh0 * sh.ow,
                q1: oh1 * sh.ow,
                pixels: PixelMap { ow: sh.ow, row_step: self.row_step, col_step: self.col_step, oh_base },
                epilogue,
                acc,
            };
            // SAFETY: tasks partition (image, group, rows, channel blocks), so this task
            // alone writes its channels and pixels, all inside the output.
            unsafe { if self.rows { rows::run_rows(self.tier, work) } else { run_dense(self.tier, self.kind, work) } };
        });
        Ok(())
    }
}

/// Output rows each thread needs, at least, to take a band of rows of its own instead of a
/// part of the channel blocks: 8, and 4 per halo row (each band fills its halo rows again).
const MIN_ROWS_PER_THREAD: usize = 8;

/// Whether `oh` output rows, cut into one band per thread, give every thread at least
/// [`MIN_ROWS_PER_THREAD`] rows and 4 per halo row. Channel parts each fill the whole band
/// (all the rows' inputs); bands fill only their own rows and halo, but every thread then
/// streams all the weights. Measured (2026-11-27, avx512, two threads, one plan timed both
/// ways in turn): resnet50_res3_3x3 (28 rows, halo 2: 14 per thread) +2.3, +2.3, +2.8, +1.8%;
/// 40 rows, 64 -> 128 channels +1.8, +1.0%; resnet50_res4_3x3 (14 rows) -0.7, -0.3%;
/// resnet50_res5_3x3 (7 rows) -18%.
fn rows_first(oh: usize, threads: usize, halo_rows: usize) -> bool {
    oh / threads.max(1) >= MIN_ROWS_PER_THREAD.max(halo_rows.saturating_mul(4))
}

impl DensePlan {
    /// Floats of the padded input band (0 when the input is read in place).
    fn band_len(&self) -> usize {
        match &self.source {
            Source::Input => 0,
            Source::Band(b) => self.shape.cg * b.channel_stride,
        }
    }

    /// The epilogue's bias marker: the packed (padded) bias is what the kernel reads.
    fn weights_bias(&self) -> Option<&[f32]> {
        self.problem.params.bias.then_some(&self.weights.bias[..])
    }
}

#[cfg(test)]
mod tests {
    use super::{l2_block_taps, rows_first};

    /// The documented choices: rows where its lanes do at least as much (first layers, few
    /// channels per group), direct elsewhere and on every tier but avx512 (emulated here).
    #[cfg(feature = "testing")]
    #[test]
    fn rows_tile_chosen_where_its_lanes_do_as_much() {
        use super::TiledKernel;
        use crate::problem::ConvProblem;
        use crate::simd::Tier;
        let choose = |p: &ConvProblem, tier: Tier| TiledKernel::choose(p, &p.validate().unwrap(), tier);
        let conv1 = ConvProblem::new(1, 3, 224, 224, 64, 7, 7).with_stride([2, 2]).with_padding([3; 4]);
        let resnext = ConvProblem::new(1, 128, 28, 28, 128, 3, 3).with_padding([1; 4]).with_groups(32);
        let res3 = ConvProblem::new(1, 128, 28, 28, 128, 3, 3).with_padding([1; 4]);
        let half_conv1 = ConvProblem::new(1, 3, 112, 112, 64, 7, 7).with_stride([2, 2]).with_padding([3; 4]);
        let pointwise = ConvProblem::new(1, 32, 56, 56, 64, 1, 1);
        let first_3x3 = ConvProblem::new(1, 3, 56, 56, 64, 3, 3).with_padding([1; 4]);
        let odd = ConvProblem::new(2, 5, 17, 23, 7, 4, 3).with_stride([3, 2]).with_padding([1, 0, 2, 3]).with_dilation([1, 2]);
        let (rows, direct) = (TiledKernel::Rows, TiledKernel::Direct);
        // (problem, avx512, avx2, portable); scalar always runs the direct tile.
        for (p, avx512, avx2, portable) in [
            (&conv1, rows, direct, rows),
            (&resnext, rows, rows, rows),
            (&first_3x3, rows, rows, rows),
            (&odd, rows, rows, rows),
            (&res3, direct, direct, direct),
            (&half_conv1, direct, direct, rows),
            (&pointwise, direct, direct, rows),
        ] {
            assert_eq!(choose(p, Tier::Emu16), avx512, "{p}");
            assert_eq!(choose(p, Tier::Emu8), avx2, "{p}");
            assert_eq!(choose(p, Tier::Portable), portable, "{p}");
            assert_eq!(choose(p, Tier::Scalar), direct, "{p}");
        }
    }

    #[test]
    fn l2_blocks_are_even_whole_filter_positions_within_an_eighth_of_l2() {
        let l2 = 2 << 20;
        // 64 channels x 4 bytes a tap: at most 1017 taps (whole 9-tap positions in 256 KiB).
        assert_eq!(l2_block_taps(576, 9, 256, l2), 576);
        assert_eq!(l2_block_taps(1152, 9, 256, l2), 576);
        assert_eq!(l2_block_taps(2304, 9, 256, l2), 774);
        assert_eq!(l2_block_taps(4608, 9, 256, l2), 927);
        // A 1 MiB L2 (Zen 4): 512 taps.
        assert_eq!(l2_block_taps(1152, 9, 256, 1 << 20), 387);
        for (reduction, rs, tap_bytes, l2) in
            [(1, 1, 4, 0), (7, 9, 256, 1024), (100_000, 49, 64, 1 << 20), (5, 3, 1 << 30, 1 << 20), (0, 1, 4, 4)]
        {
            let t = l2_block_taps(reduction, rs, tap_bytes, l2);
            assert!(t >= 1 && t <= reduction.max(1), "{reduction} {rs} {tap_bytes} {l2}: {t}");
        }
        for reduction in (9..20_000).step_by(9) {
            let t = l2_block_taps(reduction, 9, 256, l2);
            assert!(t.is_multiple_of(9) && t <= reduction, "{reduction}: {t}");
            assert!(t * 256 <= l2 / 8 || t == 9, "{reduction}: {t} taps over L2/8");
            assert_eq!(reduction.div_ceil(t), reduction.div_ceil(1017), "{reduction}: more blocks than needed");
        }
    }

    #[test]
    fn rows_split_over_threads_only_when_each_band_stays_tall() {
        // resnet50_res3_3x3 on two threads: 14 rows each, halo 2.
        assert!(rows_first(28, 2, 2));
        // res4 (7 rows each) and res5 (3): channel parts.
        assert!(!rows_first(14, 2, 2));
        assert!(!rows_first(7, 2, 2));
        // A halo of 4 rows (dilation 2) needs 16 rows per thread.
        assert!(!rows_first(28, 2, 4));
        assert!(rows_first(32, 2, 4));
        // No threads reported: as one.
        assert!(rows_first(8, 0, 0));
    }
}
