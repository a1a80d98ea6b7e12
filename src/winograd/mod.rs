//! The `winograd` backend: 3x3, stride-1, dense (or grouped) convolutions by Winograd's
//! minimal filtering F(4x4, 3x3) (Lavin & Gray): 36 multiplies per 16 outputs instead of 144.
//!
//! Per group: the filters are transformed once, at plan time (`U = G g G^T`, in f64, rounded
//! to f32) and packed per transform-domain position `xi` into the GEMM micro-kernel's panels.
//! Each task takes a chunk of tile rows of one image: it copies the zero-padded input rows
//! (split into phases, so one vector holds the same element of consecutive tiles),
//! transforms them (`V = B^T d B`), multiplies `M_xi = U_xi * V_xi` for every `xi` on convkit's
//! own GEMM micro-kernels, and transforms back (`Y = A^T M A`) with bias and activation fused,
//! writing only the pixels inside the output (ragged edges are exact). Tasks are (image,
//! group, tile rows, output channels); results are identical for any thread count.
//!
//! # Accuracy
//! Winograd is not exact on integer data, and its rounding error can exceed a direct dot
//! product's: the transforms mix every filter tap with every input of a tile (coefficients
//! up to 8, and 1/6, 1/24 that are inexact in binary), so a large tap that meets a padded
//! zero still adds error. Plans report [`Accuracy`] with `exact_on_integers: false`,
//! `window: 3` (the error scales with the tile-mixing sum of the tile's outputs) and a
//! `factor` that was measured (see the README) and is tested on every run.
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
use crate::gemm::pack::PackedA;
use crate::problem::{Activation, ConvProblem, ConvShape};
use crate::simd::{Simd, Tier, WithSimd};
use matrices::F4X4;
use transform::{ALPHA, Band, M, fill_band, input_channel, output_channel};

/// Smallest channels per group (input and output) Winograd accepts: below it the transforms
/// cost more than the multiplies they save.
pub const MIN_CHANNELS_PER_GROUP: usize = 4;

/// Error factor promised by F(4x4, 3x3) plans over the transform bound: the dot-product
/// bound with the tile-mixing sum ([`Accuracy::window`] = 3, the outputs that share a tile).
/// Measured worst over the suite and 2544 problems of the edge-biased 3x3 strategy, random
/// and integer data: 0.97 (`tests/winograd_accuracy.rs`, which runs 400 on every test run);
/// promised with margin.
pub const F4X4_ERROR_FACTOR: f64 = 2.0;

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
        Ok(Box::new(WinogradPlan::new(problem, shape, weights, bias, tier)))
    }
}

struct WinogradPlan {
    problem: ConvProblem,
    shape: ConvShape,
    tier: Tier,
    mr: usize,
    blocking: Blocking,
    /// Transformed filters, `[group * alpha^2 + xi]`, each `kg x cg`.
    packed: Vec<PackedA>,
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
    fn new(problem: &ConvProblem, shape: ConvShape, weights: &[f32], bias: Option<&[f32]>, tier: Tier) -> WinogradPlan {
        let p = problem;
        let (alpha, m) = (ALPHA, M);
        let (mr, nr) = kernel::tile(tier);
        let mut bl = blocking(mr, nr);
        bl.kc = bl.kc.min(shape.cg);
        let lanes = tier.lanes();
        let (cg, kg, groups) = (shape.cg, shape.kg, p.params.groups);
        // Filter transform in f64, per group and xi: U_xi[k][c].
        let mut packed = Vec::with_capacity(groups * alpha * alpha);
        let mut u = vec![vec![0.0f32; kg * cg]; alpha * alpha];
        for g in 0..groups {
            for k in 0..kg {
                for c in 0..cg {
                    let f = &weights[((g * kg + k) * cg + c) * 9..][..9];
                    for (xi, v) in F4X4.filter(f).iter().flatten().enumerate() {
                        u[xi][k * cg + c] = *v as f32;
                    }
                }
            }
            for uxi in &u {
                packed.push(PackedA::pack(uxi, cg, kg, cg, mr, bl.kc));
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
        let band = Band {
            h: p.h,
            w: p.w,
            pad_top: p.params.padding[0],
            pad_left: p.params.padding[1],
            wq: tw + 1 + lanes,
            rows: chunk_rows * m + 2,
        };
        let kernel = format!("{}_winograd_f{m}x{m}_gemm_{mr}x{nr}", tier.name());
        WinogradPlan {
            problem: *p,
            shape,
            tier,
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
        }
    }

    fn alpha2(&self) -> usize {
        ALPHA * ALPHA
    }

    /// Workspace pieces per thread: band, staging row, transformed input, products.
    fn pieces(&self) -> [usize; 4] {
        let m = M;
        [
            self.shape.cg * self.band.channel_len(m),
            m * self.band.wq,
            self.alpha2() * self.shape.cg * self.ldv,
            self.alpha2() * self.shape.kg * self.ldv,
        ]
    }
}

impl Plan for WinogradPlan {
    plan_accessors!("winograd");
    fn accuracy(&self) -> Accuracy {
        Accuracy { exact_on_integers: false, factor: F4X4_ERROR_FACTOR, window: M - 1 }
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
        let chunks = self.th.div_ceil(self.chunk_rows);
        let base = p.n * groups * chunks;
        let (parts, part_rows) = channel_parts(base, sh.kg, self.mr);
        let out = SharedMut(output.as_mut_ptr());
        let plane = sh.oh * sh.ow;
        let (chw, cg_len) = (p.c * p.h * p.w, sh.cg * p.h * p.w);
        run_tasks(workspace, per, base * parts, |t, _next, ws| {
            let (part, rest) = (t % parts, t / parts);
            let (chunk, rest) = (rest % chunks, rest / chunks);
            let (g, n) = (rest % groups, rest / groups);
            let align = ws.as_ptr().align_offset(64).min(LINE);
            let [band_len, staging_len, v_len, _] = self.pieces();
            let (band, rest) = ws[align..].split_at_mut(band_len);
            let (staging, rest) = rest.split_at_mut(staging_len);
            let (v, m) = rest.split_at_mut(v_len);
            let tr0 = chunk * self.chunk_rows;
            let work = Work {
                plan: self,
                x: &input[n * chw + g * cg_len..][..cg_len],
                group: g,
                tr0,
                tile_rows: self.chunk_rows.min(self.th - tr0),
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
            gemm_dispatch!(self.tier, WinogradTask(work));
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
    m0: usize,
    m1: usize,
    /// Output channel `group * kg`, pixel 0, of this image.
    out: SharedMut,
    band: &'a mut [f32],
    staging: &'a mut [f32],
    v: &'a mut [f32],
    m: &'a mut [f32],
}

struct WinogradTask<'a, const MR: usize, const NV: usize>(Work<'a>);

impl<const MR: usize, const NV: usize> WithSimd for WinogradTask<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        run_task::<S, MR, NV>(s, self.0)
    }
}

#[inline(always)]
fn run_task<S: Simd, const MR: usize, const NV: usize>(s: S, w: Work<'_>) {
    let plan = w.plan;
    let sh = &plan.shape;
    let (cg, kg, ldv) = (sh.cg, sh.kg, plan.ldv);
    let l = S::LANES;
    let tiles = w.tile_rows * plan.tw;
    // Bounds every unsafe access below relies on.
    assert!(tiles + l <= ldv && tiles.div_ceil(NV * l) * NV * l <= ldv);
    assert!(
        w.band.len() >= cg * plan.band.channel_len(M) && w.v.len() >= ALPHA * ALPHA * cg * ldv && w.m.len() >= ALPHA * ALPHA * kg * ldv
    );
    assert!(plan.band.wq >= plan.tw + 1 + l && plan.band.rows >= w.tile_rows * M + 2);

    // 1. Padded, phase-split input rows of this chunk.
    fill_band::<S>(s, &plan.band, w.x, cg, w.tr0 * M, w.band, w.staging);
    // 2. Input transform, channel by channel: V[xi][c][t].
    let channel_len = plan.band.channel_len(M);
    for c in 0..cg {
        // SAFETY: channel `c`'s band holds `band.rows >= tile_rows * M + 2` rows of `M * wq`
        // floats with `wq >= tw + 1 + LANES`; V row `c` of every xi has `ldv >= tiles + LANES`.
        unsafe {
            input_channel::<S>(
                s,
                w.band.as_ptr().add(c * channel_len),
                plan.band.wq,
                w.tile_rows,
                plan.tw,
                w.v.as_mut_ptr().add(c * ldv),
                cg * ldv,
            )
        };
    }

    // 3. The products: M_xi[k][t] = U_xi[k][.] * V_xi[.][t], on the GEMM micro-kernel.
    let none = Epilogue::new(None, Activation::None);
    let bl = &plan.blocking;
    for xi in 0..ALPHA * ALPHA {
        let a = &plan.packed[w.group * ALPHA * ALPHA + xi];
        let vx = &w.v[xi * cg * ldv..(xi + 1) * cg * ldv];
        let mx = w.m[xi * kg * ldv..(xi + 1) * kg * ldv].as_mut_ptr();
        let mut pc = 0;
        while pc < cg {
            let kcb = bl.kc.min(cg - pc);
            let mut ic = w.m0;
            while ic < w.m1 {
                let mcb = bl.mc.min(w.m1 - ic);
                let args = BlockArgs {
                    a: a.block(pc, ic),
                    b: &vx[pc * ldv..],
                    ldb: ldv,
                    b_panel_stride: NV * l,
                    // SAFETY (arithmetic): row `ic < kg` of this xi's products.
                    c: unsafe { mx.add(ic * ldv) },
                    ldc: ldv,
                    m: mcb,
                    n: tiles,
                    kc: kcb,
                    first: pc == 0,
                    last: pc + kcb == cg,
                    epilogue: none,
                    row0: 0,
                };
                // SAFETY: rows `ic .. ic + mcb` x columns `< tiles <= ldv` of this task's own
                // product buffer.
                unsafe { macro_kernel::<S, MR, NV>(s, &args) };
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
            output_channel::<S>(
                s,
                w.m.as_ptr().add(k * ldv),
                kg * ldv,
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
