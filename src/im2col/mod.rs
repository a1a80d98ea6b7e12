//! The `im2col` backend: patch lowering (`lower`) feeding convkit's own packed GEMM.
//!
//! Per group, the convolution is `Y[kg x OH*OW] = W[kg x L] * X_col[L x OH*OW]` with
//! `L = (C/groups) * R * S`. The weights are packed once, at plan time, into the micro-kernel's
//! MR-row panels; the input is lowered block by block (`KC` reduction rows x a chunk of output
//! pixels) into a per-thread workspace, so the workspace stays under [`WORKSPACE_BUDGET_BYTES`]
//! whatever the image size. 1x1 stride-1 unpadded layers skip im2col: their B rows are
//! slices of the input, copied as they are. Bias and activation run in the micro-kernel on the
//! last reduction block, while the tile is in registers.
//!
//! Threads: tasks are (image, group, pixel chunk, output-channel part), scheduled over the
//! caller's rayon pool; the reduction is never split, so results are identical for any
//! thread count.

mod lower;

use crate::backend::{
    Backend, Plan, PlanOptions, band_count, band_range, channel_parts, plan_accessors, run_tasks, validate_plan_inputs,
    validate_run_buffers,
};
use crate::caches::cache_sizes;
use crate::epilogue::Epilogue;
use crate::error::{ConvError, Unsupported};
use crate::gemm::SharedMut;
use crate::gemm::blocking::{Blocking, balanced_kc, blocking, streamed_mc_here};
use crate::gemm::kernel::{self, BlockArgs, gemm_dispatch, macro_kernel};
use crate::gemm::pack::PackedA;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::{Simd, Tier, WithSimd};
use lower::{Geometry, Tap, copy_panels, lower_block};

/// Upper bound on one thread's lowering workspace: 4 MiB. In practice it is one `KC x chunk`
/// block (about a quarter of L2), independent of the image size.
pub const WORKSPACE_BUDGET_BYTES: usize = 4 << 20;

/// Floats per 64-byte cache line.
const LINE: usize = 16;
/// Bytes per page (the x86 base page).
const PAGE_BYTES: usize = 4096;

/// The im2col + GEMM backend. Supports every valid problem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Im2col;

impl Backend for Im2col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported> {
        crate::backend::supports_valid("im2col", problem).map(|_| ())
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
        Ok(Box::new(Im2colPlan::new(problem, shape, weights, bias, tier)))
    }
}

struct Im2colPlan {
    problem: ConvProblem,
    shape: ConvShape,
    tier: Tier,
    mr: usize,
    nr: usize,
    blocking: Blocking,
    /// Packed weights, one per group.
    packed: Vec<PackedA>,
    bias: Option<Vec<f32>>,
    geometry: Geometry,
    /// Output pixels per task.
    chunk: usize,
    /// Row length of the lowered block (>= chunk rounded up to NR).
    ldb: usize,
    /// Direct (1x1) input copied in the GEMM's packed-panel order ([`copy_panels`]) rather
    /// than as rows `ldb` apart: when those rows are a page or more apart, so that a
    /// micro-tile's `kc` rows of B would sit on `kc` pages. Measured (2026-11-26, Zen 3, one
    /// thread, interleaved): resnet50_res2_1x1 (rows 4 KiB apart) +1.5-3%; resnet50_res4_1x1
    /// (rows 0.9 KiB apart) -2.6%, so it keeps rows.
    panels: bool,
    kernel: String,
}

impl Im2colPlan {
    fn new(problem: &ConvProblem, shape: ConvShape, weights: &[f32], bias: Option<&[f32]>, tier: Tier) -> Im2colPlan {
        let p = problem;
        let (mr, nr) = kernel::tile(tier);
        let mut bl = blocking(mr, nr);
        let l = shape.reduction;
        bl.kc = balanced_kc(bl.kc, l);
        let packed =
            (0..p.params.groups).map(|g| PackedA::pack_on(tier, &weights[g * shape.kg * l..], l, shape.kg, l, mr, bl.kc)).collect();
        let plane = shape.oh * shape.ow;
        // The lowered block (KC x chunk floats) takes about half of L2, within the budget.
        let target = (cache_sizes().l2 / 2 / 4 / bl.kc).min(WORKSPACE_BUDGET_BYTES / 4 / bl.kc);
        let chunk = (target / nr * nr).max(nr).min(plane.div_ceil(nr) * nr);

        // Rows start on cache lines (the workspace is aligned in `run`) and span an odd
        // number of lines, so the KC rows of one B panel spread over every L1 set.
        let mut ldb = chunk.div_ceil(nr) * nr;
        ldb = ldb.div_ceil(LINE) * LINE;
        if (ldb / LINE).is_multiple_of(2) {
            ldb += LINE;
        }
        let [dh, dw] = p.params.dilation;
        let hw = p.h * p.w;
        let taps = (0..shape.cg)
            .flat_map(|c| (0..p.r).flat_map(move |r| (0..p.s).map(move |s| Tap { c_off: c * hw, rd: r * dh, sd: s * dw })))
            .collect();
        let direct = p.r == 1 && p.s == 1 && p.params.stride == [1, 1] && p.params.padding == [0; 4];
        let geometry = Geometry {
            h: p.h,
            w: p.w,
            ow: shape.ow,
            sh: p.params.stride[0],
            sw: p.params.stride[1],
            pt: p.params.padding[0],
            pl: p.params.padding[1],
            taps,
            direct,
            contiguous_rows: p.params.stride[1] == 1 && p.w.checked_mul(p.params.stride[0]) == Some(shape.ow),
        };
        Im2colPlan {
            problem: *p,
            shape,
            tier,
            mr,
            nr,
            blocking: bl,
            packed,
            bias: bias.map(<[f32]>::to_vec),
            geometry,
            chunk,
            ldb,
            panels: direct && ldb * 4 >= PAGE_BYTES,
            kernel: kernel::kernel_name(tier),
        }
    }
}

/// One task: lower and multiply one pixel chunk of one image and group, for output channels
/// `m0 .. m1` of the group.
struct Im2colTask<'a> {
    plan: &'a Im2colPlan,
    /// The group's input channels of this image.
    x: &'a [f32],
    /// Output element (group's first channel, pixel 0) of this image and group.
    out: SharedMut,
    group: usize,
    m0: usize,
    m1: usize,
    p0: usize,
    npix: usize,
    ws: &'a mut [f32],
}

impl<const MR: usize, const NV: usize> WithSimd for Im2colTaskOf<'_, MR, NV> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let t = self.0;
        let plan = t.plan;
        let sh = &plan.shape;
        let l = sh.reduction;
        let plane = sh.oh * sh.ow;
        let kc = plan.blocking.kc;
        let lanes = t.npix.div_ceil(plan.nr) * plan.nr;
        let epilogue = Epilogue::new(plan.bias.as_deref(), plan.problem.params.activation);
        let a = &plan.packed[t.group];
        // Fewer rows per block when this task's C streams past L2; the lowered block (B)
        // fits half of L2 by construction (`chunk`).
        let mc = streamed_mc_here(plan.blocking.mc, plan.mr, (t.m1 - t.m0).saturating_mul(lanes), kc.saturating_mul(lanes));
        let mut pc = 0;
        while pc < l {
            let kcb = kc.min(l - pc);
            let panels = plan.panels;
            if panels {
                copy_panels(s, &plan.geometry, t.x, t.p0, t.npix, plan.nr, pc, kcb, t.ws);
            } else {
                lower_block(s, &plan.geometry, t.x, t.p0, t.npix, lanes, pc, kcb, plan.ldb, t.ws);
            }
            let mut ic = t.m0;
            while ic < t.m1 {
                let mcb = mc.min(t.m1 - ic);
                let args = BlockArgs {
                    a: a.block(pc, ic),
                    lda: None,
                    b: t.ws,
                    ldb: if panels { plan.nr } else { plan.ldb },
                    b_panel_stride: if panels { kcb * plan.nr } else { plan.nr },
                    // SAFETY (arithmetic): row `ic < kg` and pixel `p0 < plane` are inside this
                    // image and group's output.
                    c: unsafe { t.out.get().add(ic * plane + t.p0) },
                    ldc: plane,
                    m: mcb,
                    n: t.npix,
                    kc: kcb,
                    first: pc == 0,
                    last: pc + kcb == l,
                    epilogue,
                    row0: t.group * sh.kg + ic,
                    prefetch_written: true,
                };
                // SAFETY: this task alone owns output rows `m0 .. m1` x pixels `p0 .. p0 + npix`
                // of this image and group (tasks partition them), and the block lies inside.
                unsafe { macro_kernel::<S, MR, NV, false>(s, &args) };
                ic += mcb;
            }
            pc += kcb;
        }
    }
}

struct Im2colTaskOf<'a, const MR: usize, const NV: usize>(Im2colTask<'a>);

impl Plan for Im2colPlan {
    plan_accessors!("im2col");
    fn workspace_len_per_thread(&self) -> usize {
        // One lowered block, plus slack to start it on a cache line.
        self.blocking.kc * self.ldb + LINE
    }

    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        let per = self.workspace_len_per_thread();
        validate_run_buffers(&self.shape, input, output, workspace, per)?;
        self.tier.record_run();
        let p = &self.problem;
        let sh = &self.shape;
        let groups = p.params.groups;
        let plane = sh.oh * sh.ow;
        // Chunks of whole NR-pixel panels, at most `self.chunk` pixels, balanced over the pool:
        // resnet50_res2_1x1 (3136 pixels) ran as 1024 x 3 + 64, so two threads reached 1.5x.
        let panels = plane.div_ceil(self.nr);
        let chunks = band_count(panels, self.chunk / self.nr, p.n * groups);
        let base = p.n * groups * chunks;
        // Too few tasks for the pool: split the output channels too (in MR multiples).
        let (parts, part_rows) = channel_parts(base, sh.kg, self.mr);
        let tasks = base * parts;
        let out = SharedMut(output.as_mut_ptr());
        let chw = p.c * p.h * p.w;
        let cg_len = sh.cg * p.h * p.w;
        run_tasks(workspace, per, tasks, |t, ws| {
            let (part, rest) = (t % parts, t / parts);
            let (chunk, rest) = (rest % chunks, rest / chunks);
            let (g, n) = (rest % groups, rest / groups);
            let (panel0, panel1) = band_range(chunk, chunks, panels);
            let p0 = panel0 * self.nr;
            let align = ws.as_ptr().align_offset(64).min(LINE);
            let task = Im2colTask {
                plan: self,
                x: &input[n * chw + g * cg_len..][..cg_len],
                // SAFETY (arithmetic): image `n`, channel `g * kg` is inside the output.
                out: SharedMut(unsafe { out.get().add((n * p.k + g * sh.kg) * plane) }),
                group: g,
                m0: part * part_rows,
                m1: ((part + 1) * part_rows).min(sh.kg),
                p0,
                npix: (panel1 * self.nr).min(plane) - p0,
                ws: &mut ws[align..],
            };
            gemm_dispatch!(self.tier, Im2colTaskOf(task));
        });
        Ok(())
    }
}
