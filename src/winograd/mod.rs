//! The `winograd` backend: 3x3, stride-1, dense (or grouped) convolutions by Winograd's
//! minimal filtering (Lavin & Gray): F(4x4, 3x3) (36 multiplies per 16 outputs instead of
//! 144) by default, F(2x2, 3x3) (16 per 4 instead of 36) by default on small images, or
//! F(6x6, 3x3) (64 per 36 instead of 324) on request ([`WinogradTile`]).
//!
//! Per group: the filters are transformed once, at plan time (`U = G g G^T`, in f64, rounded
//! to f32) and packed per transform-domain position `xi` into the GEMM micro-kernel's panels,
//! all of a plan's matrices in one huge-page backed buffer when large
//! (`gemm::pack::PackedASet`).
//! Each task takes a chunk of tile rows of one image: it copies the zero-padded input rows
//! (split into phases, so one vector holds the same element of consecutive tiles),
//! transforms them (`V = B^T d B`), multiplies `M_xi = U_xi * V_xi` for every `xi` on convkit's
//! own GEMM micro-kernels, and transforms back (`Y = A^T M A`) with bias and activation fused,
//! writing only the pixels inside the output (ragged edges are exact). Tasks are (image,
//! group, tile rows, output channels); results are identical for any thread count.
//!
//! # Accuracy
//! Winograd is not exact on integer data, and its rounding error can exceed a direct dot
//! product's: the transforms mix every filter tap with every input of a tile (F(4x4):
//! coefficients up to 8 and 1/6, 1/24 that are inexact in binary; F(6x6): up to 32 and
//! 2/9, 1/90, 32/45), so a large tap that meets a padded zero still adds error. Plans report
//! [`Accuracy`] with `exact_on_integers: false`, `window: M - 1` (the error scales with the
//! tile-mixing sum of the tile's outputs) and a `factor` per variant that was measured (see
//! [`WinogradTile::error_factor`] and the README) and is tested on every run.
//!
//! Non-finite inputs: the transforms mix a tile's inputs, so an infinity in the input makes
//! its tiles NaN; an output is non-finite wherever naive's is, but may be NaN where naive's
//! is infinite.

mod matrices;
mod transform;

use crate::backend::{
    Accuracy, Backend, Plan, PlanOptions, channel_parts, plan_accessors, run_tasks, validate_plan_inputs, validate_run_buffers,
};
use crate::epilogue::Epilogue;
use crate::error::{ConvError, Unsupported};
use crate::gemm::SharedMut;
use crate::gemm::blocking::{Blocking, blocking};
use crate::gemm::kernel::{self, BlockArgs, gemm_dispatch, macro_kernel};
use crate::gemm::pack::{PackedA, PackedASet};
use crate::isa::Isa;
use crate::problem::{Activation, ConvProblem, ConvShape};
use crate::simd::{Simd, Tier, WithSimd};
use matrices::{F2X2, F4X4, F6X6};
use transform::{Band, F2, F4, F6, TileTransform, fill_band, input_channel, output_channel};

/// Smallest channels per group (input and output) Winograd accepts: below it the transforms
/// cost more than the multiplies they save.
pub const MIN_CHANNELS_PER_GROUP: usize = 4;

/// Error factor promised by F(2x2, 3x3) plans over the transform bound (window 1). Its
/// coefficients are 0, +-1 and 1/2, all exact, so its errors are far below F(4x4)'s: measured
/// worst over the suite and 2544 problems of the edge-biased 3x3 strategy, random and integer
/// data: 0.039 (`tests/winograd_accuracy.rs`, 400 on every test run); promised with margin.
pub const F2X2_ERROR_FACTOR: f64 = 0.25;

/// Error factor promised by F(4x4, 3x3) plans over the transform bound: the dot-product
/// bound with the tile-mixing sum ([`Accuracy::window`] = 3, the outputs that share a tile).
/// Measured worst over the suite and 2544 problems of the edge-biased 3x3 strategy, random
/// and integer data: 0.97 (`tests/winograd_accuracy.rs`, which runs 400 on every test run);
/// promised with margin.
pub const F4X4_ERROR_FACTOR: f64 = 2.0;

/// Error factor promised by F(6x6, 3x3) plans over the transform bound (window 5). Its
/// transforms have larger coefficients than F(4x4)'s, so its errors are larger: measured worst
/// over the suite and 2544 problems of the edge-biased 3x3 strategy, random and integer data:
/// 1.43 (`tests/winograd_accuracy.rs`, 400 on every test run); promised with margin.
pub const F6X6_ERROR_FACTOR: f64 = 3.0;

/// The Winograd variant of a plan: the output tile it computes per transform.
///
/// Plans use [`WinogradTile::for_layer`] (F(2x2) on small images, else F(4x4)) unless
/// [`PlanOptions::with_winograd_tile`] asks for a variant. F(6x6) does
/// 21% fewer multiplies per output (ragged edges aside) but measured slower here on every
/// layer tried (2026-11-25, Zen 3 AVX2, one thread, GFLOP/s F(4x4) vs F(6x6): res2_3x3 141
/// vs 103, res3_3x3 172 vs 128, vgg16_conv2_2 200 vs 145, 256 channels at 54x54 207 vs 209):
/// its 64 transform-domain planes cost more in transforms and memory traffic than its GEMM
/// saves at these channel counts, and its errors are about twice F(4x4)'s.
///
/// ```
/// use convkit::{ConvProblem, PlanOptions, backend};
/// use convkit::winograd::WinogradTile;
/// let p: ConvProblem = "mb1ic8ih12iw12oc8kh3kw3ph1pw1".parse().unwrap();
/// let (w, x) = (vec![0.5f32; 8 * 8 * 9], vec![1.0f32; 8 * 12 * 12]);
/// let opts = PlanOptions::default().with_winograd_tile(WinogradTile::F6x6);
/// let plan = backend("winograd").unwrap().plan_with(&p, &w, None, &opts).unwrap();
/// assert!(plan.kernel().contains("f6x6"));
/// assert_eq!(plan.accuracy().factor, WinogradTile::F6x6.error_factor());
/// let y = plan.run_alloc(&x).unwrap();
/// assert!((y[12 + 1] - 36.0).abs() < 1e-4); // an interior pixel: 8 channels x 9 taps x 0.5
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WinogradTile {
    /// F(2x2, 3x3): 4x4 input tiles, 16 products per 4 outputs; the smallest transformed
    /// filters and the most accurate.
    F2x2,
    /// F(4x4, 3x3): 6x6 input tiles, 36 products per 16 outputs; the more accurate.
    #[default]
    F4x4,
    /// F(6x6, 3x3): 8x8 input tiles, 64 products per 36 outputs; the fewest multiplies.
    F6x6,
}

/// Outputs of fewer F(4x4) tiles than this take F(4x4) by default on tiers of fewer than 16
/// lanes only if its transformed filters fit in half of L3 ([`WinogradTile::for_layer`]).
pub const F2X2_BELOW_F4X4_TILES: usize = 32;

impl WinogradTile {
    /// The default variant for an `oh x ow` output of a group of `cg` input and `kg` output
    /// channels on `isa`: the variant whose GEMM takes fewer vector FMAs, each transform-domain
    /// plane costing one per whole or partial vector of tiles (`alpha^2 * ceil(tiles / lanes)`),
    /// F(2x2) on a tie; on tiers of fewer than 16 lanes, F(4x4) on fewer than
    /// [`F2X2_BELOW_F4X4_TILES`] tiles only when its transformed filters (`36 * cg * kg`
    /// floats) fit in half of L3.
    ///
    /// Every transformed filter element is used once per tile of the image in the GEMM, so
    /// on small images the lanes of the tile vectors decide: a 14x14 output is 16 F(4x4)
    /// tiles (one avx512 vector, 36 vector FMAs per filter pair) against 49 F(2x2) tiles (four
    /// vectors of which the last holds one tile: 64). Measured (2026-12-07, AMD EPYC Zen 4, one
    /// thread, both plans run in turn, best of five rounds, F(4x4) speed over F(2x2); F(4x4)
    /// tiles after the size), avx512: 14x14 (16) at 64 / 256 / 384 / 512 / 1024 channels
    /// 1.27x / 1.32x / 1.02x / 1.04x / 1.08x (resnet50_res4_3x3 is 14x14 at 256); 16x16 (16) at
    /// 512 1.11x; 20x20 (25) at 128 / 512 1.31x / 1.18x; 18x18 (25) at 256 1.00x; 24x24 (36) at
    /// 512 1.24x; 12x12 (9) at 256 / 512 1.22x / 0.78x; 10x10 (9, F(2x2) 25: 36 against 32)
    /// 0.93x / 0.52x at 128 / 512; 7x7 (4; resnet50_res5_3x3) 0.24x. avx2 (8 lanes): 14x14 at
    /// 256 1.08x, at 384 / 512 0.70x / 0.71x (filters of 21 and 38 MiB against 32 MiB of L3),
    /// 16x16 at 512 0.84x, 20x20 at 512 1.00x, 12x12 at 512 0.64x, 10x10 at 128 0.90x. Before
    /// (2026-11-27, Sapphire Rapids class, avx512, one thread) the rule was F(2x2) below 32
    /// F(4x4) tiles, whatever the channels; it picked F(2x2) for res4_3x3, 1.3x slower here.
    ///
    /// ```
    /// use convkit::{Isa, winograd::WinogradTile};
    /// // resnet50_res4_3x3 (14x14, 256 channels) and res5_3x3 (7x7, 512).
    /// assert_eq!(WinogradTile::for_layer(Isa::Avx512, 14, 14, 256, 256), WinogradTile::F4x4);
    /// assert_eq!(WinogradTile::for_layer(Isa::Avx512, 7, 7, 512, 512), WinogradTile::F2x2);
    /// assert_eq!(WinogradTile::for_layer(Isa::Avx2, 28, 28, 128, 128), WinogradTile::F4x4);
    /// ```
    pub fn for_layer(isa: Isa, oh: usize, ow: usize, cg: usize, kg: usize) -> WinogradTile {
        let lanes = match isa {
            Isa::Scalar => 1,
            Isa::Portable => 4,
            Isa::Avx2 => 8,
            Isa::Avx512 => 16,
        };
        let tiles = |m: usize| oh.div_ceil(m).saturating_mul(ow.div_ceil(m));
        let (t4, t2) = (tiles(4), tiles(2));
        let cost4 = 36usize.saturating_mul(t4.div_ceil(lanes));
        let cost2 = 16usize.saturating_mul(t2.div_ceil(lanes));
        let filter_bytes = 36usize.saturating_mul(cg).saturating_mul(kg).saturating_mul(4);
        let streams_fine = lanes >= 16 || t4 >= F2X2_BELOW_F4X4_TILES || filter_bytes <= crate::caches::cache_sizes().l3 / 2;
        if cost4 < cost2 && streams_fine { WinogradTile::F4x4 } else { WinogradTile::F2x2 }
    }

    /// Output tile extent `M` (2, 4 or 6).
    pub fn m(self) -> usize {
        match self {
            WinogradTile::F2x2 => 2,
            WinogradTile::F4x4 => 4,
            WinogradTile::F6x6 => 6,
        }
    }

    /// Input tile extent `M + 2`.
    pub fn alpha(self) -> usize {
        self.m() + 2
    }

    /// The error factor plans of this variant promise ([`Accuracy::factor`]).
    pub fn error_factor(self) -> f64 {
        match self {
            WinogradTile::F2x2 => F2X2_ERROR_FACTOR,
            WinogradTile::F4x4 => F4X4_ERROR_FACTOR,
            WinogradTile::F6x6 => F6X6_ERROR_FACTOR,
        }
    }

    fn name(self) -> &'static str {
        match self {
            WinogradTile::F2x2 => "f2x2",
            WinogradTile::F4x4 => "f4x4",
            WinogradTile::F6x6 => "f6x6",
        }
    }
}

/// The Winograd backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Winograd;

impl Backend for Winograd {
    fn name(&self) -> &'static str {
        "winograd"
    }

    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported> {
        let no = |why: String| Err(Unsupported::new("winograd", why));
        let shape = crate::backend::supports_valid("winograd", problem)?;
        let p = &problem.params;
        if problem.r != 3 || problem.s != 3 {
            return no(format!("only 3x3 kernels, not {}x{}", problem.r, problem.s));
        }
        if p.stride != [1, 1] {
            return no(format!("only stride 1, not {}x{}", p.stride[0], p.stride[1]));
        }
        if p.dilation != [1, 1] {
            return no(format!("only dilation 1, not {}x{}", p.dilation[0], p.dilation[1]));
        }
        if shape.cg < MIN_CHANNELS_PER_GROUP || shape.kg < MIN_CHANNELS_PER_GROUP {
            return no(format!(
                "{} input and {} output channels per group: below {MIN_CHANNELS_PER_GROUP} the transforms cost more than they save",
                shape.cg, shape.kg
            ));
        }
        Ok(())
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
        self.supports(problem)?;
        let tile = options.winograd_tile().unwrap_or_else(|| WinogradTile::for_layer(tier.isa(), shape.oh, shape.ow, shape.cg, shape.kg));
        Ok(Box::new(WinogradPlan::new(problem, shape, weights, bias, tier, tile)?))
    }
}

struct WinogradPlan {
    problem: ConvProblem,
    shape: ConvShape,
    tier: Tier,
    tile: WinogradTile,
    mr: usize,
    blocking: Blocking,
    /// V and M are `[channel][xi][tile]` (else `[xi][channel][tile]`), rows `ldv` floats.
    channel_major: bool,
    /// Transformed filters, `[group * alpha^2 + xi]`, each `kg x cg`, in one buffer.
    packed: PackedASet,
    bias: Option<Vec<f32>>,
    /// Tiles per output row and column.
    tw: usize,
    th: usize,
    /// Tile rows per task.
    chunk_rows: usize,
    /// Row length of the transformed input and products (>= tiles per chunk + a vector).
    ldv: usize,
    band: Band,
    kernel: String,
}

/// Floats per cache line.
const LINE: usize = 16;

impl WinogradPlan {
    fn new(
        problem: &ConvProblem,
        shape: ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        tier: Tier,
        tile: WinogradTile,
    ) -> Result<WinogradPlan, ConvError> {
        let p = problem;
        let (alpha, m) = (tile.alpha(), tile.m());
        let (mr, nr) = kernel::tile(tier);
        let mut bl = blocking(mr, nr);
        bl.kc = bl.kc.min(shape.cg);
        let lanes = tier.lanes();
        let (cg, kg, groups) = (shape.cg, shape.kg, p.params.groups);
        // Filter transform in f64, per group and xi: U_xi[k][c].
        // Packed one at a time through `scratch`, so planning holds the whole set only once.
        let count = groups.checked_mul(alpha * alpha).ok_or(ConvError::Overflow { what: "transformed filter count" })?;
        let mut packed = PackedASet::zeroed(count, kg, cg, mr, bl.kc).ok_or(ConvError::Overflow { what: "transformed filter size" })?;
        let mut scratch = PackedA::pack(&[], 0, 0, 0, mr, bl.kc);
        let mut u = vec![vec![0.0f32; kg * cg]; alpha * alpha];
        for g in 0..groups {
            for k in 0..kg {
                for c in 0..cg {
                    let f = &weights[((g * kg + k) * cg + c) * 9..][..9];
                    let mut put = |xi: usize, v: f64| u[xi][k * cg + c] = v as f32;
                    match tile {
                        WinogradTile::F2x2 => F2X2.filter(f).iter().flatten().enumerate().for_each(|(xi, v)| put(xi, *v)),
                        WinogradTile::F4x4 => F4X4.filter(f).iter().flatten().enumerate().for_each(|(xi, v)| put(xi, *v)),
                        WinogradTile::F6x6 => F6X6.filter(f).iter().flatten().enumerate().for_each(|(xi, v)| put(xi, *v)),
                    }
                }
            }
            for (xi, uxi) in u.iter().enumerate() {
                scratch.repack_on(tier, uxi, cg, kg, cg, mr, bl.kc);
                packed.put(g * alpha * alpha + xi, &scratch);
            }
        }
        let tw = shape.ow.div_ceil(m);
        let th = shape.oh.div_ceil(m);
        // About 128 tiles per task (several GEMM panels), whole tile rows.
        let target = 128usize;
        let chunk_rows = (target / tw).clamp(1, th);
        let tiles = chunk_rows * tw;
        let mut ldv = (tiles.div_ceil(nr) * nr).max(tiles + lanes).div_ceil(LINE) * LINE;
        if (ldv / LINE).is_multiple_of(2) {
            ldv += LINE;
        }
        // Channel-major V and M (`[c][xi][t]`) keep each channel's transform writes and reads
        // in one block, but put the GEMM's B rows `alpha^2 * ldv` apart. Measured (2026-11-25,
        // Zen 3, 512 KiB L2): channel-major is faster for F(4x4) up to 128 reduction rows per
        // block (res2 +24%, res3 +7%, vgg +2..6%) or small chunks (7x7: +8%), slower at
        // 192..256 rows of large chunks (-2..5%) and for F(6x6) (-9%). With a 2 MiB L2
        // (2026-11-27, Sapphire Rapids class, paired, row-major over channel-major) large chunks
        // are faster row-major at any reduction block (res2 +5/+9.5/+4.5%, vgg +7/+5/+2%),
        // chunks of 49 tiles (`alpha^2 * ldv` = 2880) level or faster channel-major (res3
        // -2/+5/-2%, 28x28 at 64 channels -7/-4%); F(2x2) level either way (res4 +0.7%, res5
        // -2.6%, 20x20 +4%, 14x14 at 512 channels -6.5%). So: small chunks, or up to 128 rows
        // per block while L2 is under 1 MiB.
        let small_l2 = crate::caches::cache_sizes().l2 < 1 << 20;
        let channel_major = tile == WinogradTile::F4x4 && (alpha * alpha * ldv <= 3072 || (small_l2 && bl.kc <= 128));
        let band = Band {
            h: p.h,
            w: p.w,
            pad_top: p.params.padding[0],
            pad_left: p.params.padding[1],
            wq: tw + 1 + lanes,
            rows: chunk_rows * m + 2,
        };
        let kernel = format!("{}_winograd_{}_gemm_{mr}x{nr}", tier.name(), tile.name());
        Ok(WinogradPlan {
            problem: *p,
            shape,
            tier,
            tile,
            channel_major,
            mr,
            blocking: bl,
            packed,
            bias: bias.map(<[f32]>::to_vec),
            tw,
            th,
            chunk_rows,
            ldv,
            band,
            kernel,
        })
    }

    fn alpha2(&self) -> usize {
        self.tile.alpha() * self.tile.alpha()
    }

    /// Tile-row chunks per image for a pool of `threads`: as few as chunks of at most
    /// `chunk_rows` rows allow, then, while the (image, chunk) tasks are few, rounded up to a
    /// multiple of the threads so each gets the same number of rows (res2_3x3 on two threads:
    /// 7 + 7 tile rows, not 9 + 5; vgg16_conv2_2: 8 chunks, not 7). Tile rows are computed
    /// the same in any chunk, so results do not depend on the split.
    fn chunks(&self, images: usize, threads: usize) -> usize {
        let least = self.th.div_ceil(self.chunk_rows);
        let tasks = images * least;
        if threads > 1 && tasks < threads {
            // Fewer tasks than threads: split the tile rows too when each chunk still holds
            // a vector of tiles (a GEMM column vector), else only the output channels (every
            // channel part transforms the whole input again). Measured (2026-11-26, Sapphire
            // Rapids class, two threads, paired, avx512 14 x 32 GEMM tile): resnet50_res3_3x3
            // (7 x 7 tiles, chunks of 4 and 3 rows) +21%; resnet50_res4_3x3 (4 x 4 tiles, 8
            // per chunk) -27%, so it splits channels only. On avx2 (6 x 16 GEMM tile) a chunk
            // needs four vectors of tiles: measured (2026-12-06, Zen 3, two threads, one plan
            // run alternately both ways, channel split / row split) chunks of 21-28 tiles lost
            // to the channel split (res3_3x3 +6.5%, res4_3x3 +13.6%, 512 channels at 14x14
            // +19%, 64 at 28x28 +3%; 8 tiles, res5_3x3: +30%; 10-15 tiles +3%), chunks of 50
            // won (128 channels at 20x20, F(2x2): 0.84x; 64 at 40x40, F(4x4): 0.81x).
            let split = threads.div_ceil(images).min(self.th);
            let min_tiles = match self.tier.isa() {
                crate::isa::Isa::Avx2 => 4 * self.tier.lanes(),
                _ => self.tier.lanes(),
            };
            if (self.th / split) * self.tw >= min_tiles {
                return split.max(least);
            }
            return least;
        }
        if threads <= 1 || tasks >= 4 * threads || tasks.is_multiple_of(threads) {
            // One task per thread, or enough tasks to balance by themselves.
            return least;
        }
        (tasks.div_ceil(threads) * threads).div_ceil(images).min(self.th)
    }

    /// Workspace pieces per thread: band, staging row, transformed input, products.
    fn pieces(&self) -> [usize; 4] {
        let m = self.tile.m();
        let line = |n: usize| n.div_ceil(LINE) * LINE;
        [
            line(self.shape.cg * self.band.channel_len(m)),
            line(m * self.band.wq),
            self.alpha2() * self.shape.cg * self.ldv,
            self.alpha2() * self.shape.kg * self.ldv,
        ]
    }
}

impl Plan for WinogradPlan {
    plan_accessors!("winograd");
    fn accuracy(&self) -> Accuracy {
        Accuracy { exact_on_integers: false, factor: self.tile.error_factor(), window: self.tile.m() - 1 }
    }
    fn workspace_len_per_thread(&self) -> usize {
        self.pieces().iter().sum::<usize>() + LINE
    }

    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        let per = self.workspace_len_per_thread();
        validate_run_buffers(&self.shape, input, output, workspace, per)?;
        self.tier.record_run();
        let p = &self.problem;
        let sh = &self.shape;
        let groups = p.params.groups;
        let chunks = self.chunks(p.n * groups, rayon::current_num_threads());
        let base = p.n * groups * chunks;
        let (parts, part_rows) = channel_parts(base, sh.kg, self.mr);
        let out = SharedMut(output.as_mut_ptr());
        let plane = sh.oh * sh.ow;
        let (chw, cg_len) = (p.c * p.h * p.w, sh.cg * p.h * p.w);
        run_tasks(workspace, per, base * parts, |t, ws| {
            let (part, rest) = (t % parts, t / parts);
            let (chunk, rest) = (rest % chunks, rest / chunks);
            let (g, n) = (rest % groups, rest / groups);
            let align = ws.as_ptr().align_offset(64).min(LINE);
            let [band_len, staging_len, v_len, _] = self.pieces();
            let (band, rest) = ws[align..].split_at_mut(band_len);
            let (staging, rest) = rest.split_at_mut(staging_len);
            let (v, m) = rest.split_at_mut(v_len);
            // Chunk sizes differ by at most one tile row, none above `chunk_rows` (the
            // buffers' size), since `chunks >= th / chunk_rows`.
            let tr0 = chunk * self.th / chunks;
            let tile_rows = (chunk + 1) * self.th / chunks - tr0;
            let work = Work {
                plan: self,
                x: &input[n * chw + g * cg_len..][..cg_len],
                group: g,
                tr0,
                tile_rows,
                // Only the rows this chunk reads (a short chunk fills fewer).
                band_geom: Band { rows: tile_rows * self.tile.m() + 2, ..self.band },
                m0: part * part_rows,
                m1: ((part + 1) * part_rows).min(sh.kg),
                // SAFETY (arithmetic): image n, channel g * kg is inside the output.
                out: SharedMut(unsafe { out.get().add((n * p.k + g * sh.kg) * plane) }),
                band,
                staging,
                v,
                m,
            };
            // SAFETY: task (n, g, tile rows, channel part) alone writes its output pixels.
            match self.tile {
                WinogradTile::F2x2 => gemm_dispatch!(self.tier, WinogradF2Task(work)),
                WinogradTile::F4x4 => gemm_dispatch!(self.tier, WinogradF4Task(work)),
                WinogradTile::F6x6 => gemm_dispatch!(self.tier, WinogradF6Task(work)),
            }
        });
        Ok(())
    }
}

struct Work<'a> {
    plan: &'a WinogradPlan,
    x: &'a [f32],
    group: usize,
    tr0: usize,
    tile_rows: usize,
    /// The band of this task: `tile_rows * M + 2` rows.
    band_geom: Band,
    m0: usize,
    m1: usize,
    /// Output channel `group * kg`, pixel 0, of this image.
    out: SharedMut,
    band: &'a mut [f32],
    staging: &'a mut [f32],
    v: &'a mut [f32],
    m: &'a mut [f32],
}

/// One task of an F(2x2, 3x3) plan.
struct WinogradF2Task<'a, const MR: usize, const NV: usize>(Work<'a>);
/// One task of an F(4x4, 3x3) plan.
struct WinogradF4Task<'a, const MR: usize, const NV: usize>(Work<'a>);
/// One task of an F(6x6, 3x3) plan.
struct WinogradF6Task<'a, const MR: usize, const NV: usize>(Work<'a>);

impl<const MR: usize, const NV: usize> WithSimd for WinogradF2Task<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        run_task::<S, MR, NV, F2, 4, 2>(s, self.0)
    }
}

impl<const MR: usize, const NV: usize> WithSimd for WinogradF4Task<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        run_task::<S, MR, NV, F4, 6, 4>(s, self.0)
    }
}

impl<const MR: usize, const NV: usize> WithSimd for WinogradF6Task<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        run_task::<S, MR, NV, F6, 8, 6>(s, self.0)
    }
}

#[inline(always)]
fn run_task<S: Simd, const MR: usize, const NV: usize, T: TileTransform<ALPHA, M>, const ALPHA: usize, const M: usize>(s: S, w: Work<'_>) {
    let plan = w.plan;
    let sh = &plan.shape;
    let (cg, kg, ldv) = (sh.cg, sh.kg, plan.ldv);
    let l = S::LANES;
    let tiles = w.tile_rows * plan.tw;
    // Bounds every unsafe access below relies on.
    assert!(tiles + l <= ldv && tiles.div_ceil(NV * l) * NV * l <= ldv);
    assert!(
        w.band.len() >= cg * w.band_geom.channel_len(M) && w.v.len() >= ALPHA * ALPHA * cg * ldv && w.m.len() >= ALPHA * ALPHA * kg * ldv
    );
    assert!(plan.tile.m() == M && plan.tile.alpha() == ALPHA);
    assert!(w.band_geom.wq >= plan.tw + 1 + l && w.band_geom.rows >= w.tile_rows * M + 2);

    // 1. Padded, phase-split input rows of this chunk.
    fill_band::<S, M>(s, &w.band_geom, w.x, cg, w.tr0 * M, w.band, w.staging);
    let a2 = ALPHA * ALPHA;
    // Row strides of V (and M): per channel and per xi.
    let (v_c, v_xi, m_k, m_xi) = if plan.channel_major { (a2 * ldv, ldv, a2 * ldv, ldv) } else { (ldv, cg * ldv, ldv, kg * ldv) };
    // 2. Input transform, channel by channel: V[xi][c][t].
    let channel_len = w.band_geom.channel_len(M);
    for c in 0..cg {
        // SAFETY: channel `c`'s band holds `band.rows >= tile_rows * M + 2` rows of `M * wq`
        // floats with `wq >= tw + 1 + LANES`; V row `c` of every xi has `ldv >= tiles + LANES`.
        unsafe {
            input_channel::<S, T, ALPHA, M>(
                s,
                w.band.as_ptr().add(c * channel_len),
                w.band_geom.wq,
                w.tile_rows,
                plan.tw,
                w.v.as_mut_ptr().add(c * v_c),
                v_xi,
            )
        };
    }

    // 3. The products: M_xi[k][t] = U_xi[k][.] * V_xi[.][t], on the GEMM micro-kernel.
    let none = Epilogue::new(None, Activation::None);
    let bl = &plan.blocking;
    for xi in 0..ALPHA * ALPHA {
        let a = w.group * ALPHA * ALPHA + xi;
        let vx = &w.v[xi * v_xi..];
        let mx = w.m[xi * m_xi..].as_mut_ptr();
        let mut pc = 0;
        while pc < cg {
            let kcb = bl.kc.min(cg - pc);
            let mut ic = w.m0;
            while ic < w.m1 {
                let mcb = bl.mc.min(w.m1 - ic);
                let args = BlockArgs {
                    a: plan.packed.block(a, pc, ic),
                    lda: None,
                    b: &vx[pc * v_c..],
                    ldb: v_c,
                    b_panel_stride: NV * l,
                    // SAFETY (arithmetic): row `ic < kg` of this xi's products.
                    c: unsafe { mx.add(ic * m_k) },
                    ldc: m_k,
                    m: mcb,
                    n: tiles,
                    kc: kcb,
                    first: pc == 0,
                    last: pc + kcb == cg,
                    epilogue: none,
                    row0: 0,
                    prefetch_written: true,
                };
                // SAFETY: rows `ic .. ic + mcb` x columns `< tiles <= ldv` of this task's own
                // product buffer.
                unsafe { macro_kernel::<S, MR, NV, false>(s, &args) };
                ic += mcb;
            }
            pc += kcb;
        }
    }
    // 4. Output transform with bias and activation, into NCHW.
    let epi = Epilogue::new(plan.bias.as_deref(), plan.problem.params.activation);
    let plane = sh.oh * sh.ow;
    for k in w.m0..w.m1 {
        // SAFETY: products row `k` of every xi holds `ldv >= tiles + LANES` floats; output
        // channel `k` of this group is this task's to write (rows of its tile rows only).
        unsafe {
            output_channel::<S, T, ALPHA, M>(
                s,
                w.m.as_ptr().add(k * m_k),
                m_xi,
                w.tile_rows,
                plan.tw,
                w.tr0 * M,
                (sh.oh, sh.ow),
                w.out.get().add(k * plane),
                &epi,
                w.group * kg + k,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::{WinogradPlan, WinogradTile};
    use crate::problem::ConvProblem;
    use crate::simd::Tier;

    /// One image on two threads: a chunk of tile rows each, or the output channels split,
    /// as the comment in `chunks` measured per tier.
    #[test]
    fn one_image_on_two_threads_splits_rows_only_where_chunks_hold_enough_tiles() {
        let plan = |hw: usize, tile: WinogradTile, tier: Tier| {
            let p = ConvProblem::new(1, 16, hw, hw, 16, 3, 3).with_padding([1; 4]);
            let shape = p.validate().unwrap();
            let w = vec![1.0; shape.weights_len];
            WinogradPlan::new(&p, shape, &w, None, tier, tile).expect("a small plan")
        };
        // (image, tile, avx2 chunks, avx512 chunks): 28x28 F(4x4) is 7 x 7 tiles (21-28 a
        // chunk), 40x40 F(4x4) 10 x 10 (50), 7x7 F(2x2) 4 x 4 (8).
        for (hw, tile, avx2, avx512) in [(28, WinogradTile::F4x4, 1, 2), (40, WinogradTile::F4x4, 2, 2), (7, WinogradTile::F2x2, 1, 1)] {
            for (tier, want) in [(Tier::Emu8, avx2), (Tier::Emu16, avx512)] {
                let plan = plan(hw, tile, tier);
                assert_eq!(plan.th.div_ceil(plan.chunk_rows), 1, "{hw}: one chunk on one thread");
                assert_eq!(plan.chunks(1, 2), want, "{hw} {tile:?} on {tier:?}");
                assert_eq!(plan.chunks(1, 1), 1);
            }
        }
    }
}
