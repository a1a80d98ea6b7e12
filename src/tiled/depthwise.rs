//! The depthwise path of the tiled backend: one input channel per group (`C / groups == 1`),
//! any depth multiplier (`K / groups` output channels per input channel), any stride, dilation
//! and padding.
//!
//! Each task copies one input channel into a zero-padded plane that keeps only the padded rows
//! some output row reads (so neither a huge stride nor huge padding makes it large); for
//! stride `sw > 1` each row is split into phase rows (columns `ph, ph + sw, ..`, deinterleaved
//! with vector shuffles for `sw == 2`; only the phases the taps use are kept, at most one per
//! kernel column), so every tap of every stride and dilation reads whole contiguous vectors.
//! The padding is the same for every channel: a workspace slot zeroes its plane once per run
//! and each task writes only the input's own columns (the per-row padding writes were half
//! the cost of a stride-1 copy).
//!
//! Vectors run along output rows. Three kernels, chosen at plan time, each its own
//! `#[target_feature]` instantiation ([`kind`]):
//! * 3x3, stride 1 and no dilation down: **vector columns**. One vector column of the output,
//!   top to bottom; each plane row's tap vectors are loaded once and give one partial
//!   sum per kernel row, so 3 loads per output vector instead of 9 and no long FMA chains.
//! * other 3x3 (stride 2, dilation): **row tiles** of `V` vectors with the nine taps unrolled
//!   as three row pointers plus constant column offsets where the stride allows.
//! * any kernel size: row tiles with taps from a table.
//!
//! A row's last pixels are a full vector that overlaps the previous one (no masked stores),
//! unless the row is narrower than a vector. Bias and activation are applied in registers.
//!
//! The vector-column kernel on plain rows (stride 1 across) fills the plane itself, a row at a
//! time [`FILL_AHEAD`] rows below the row its first column (or column pair) reads, so the
//! copy overlaps the FMAs; the other kernels fill the whole plane first.
//!
//! Tried and dropped (2026-11-26, Zen 3, mobilenetv2_dw_s1/s2): software prefetch (spreading
//! prefetches of the next channel's input over this channel's rows, or of input rows a few
//! ahead, lost 5-15% against the hardware prefetcher); tiles of 7 vectors; filling the plane
//! row by row just ahead of the rows computed in the row kernels (twice: the last time 27%
//! slower, the fill code in the row loop spilled the kernel's registers; in the vector-column
//! kernel it pays, see `columns_3x3_s1`); plane rows aligned to whole vectors (-5%);
//! blocks of 4 output rows sharing their loads (the 16 ymm registers cannot hold 9 weights,
//! 4 accumulators and the loads: LLVM spilled the weights).

use crate::backend::{Plan, plan_accessors, run_tasks_with_init, validate_run_buffers};
use crate::epilogue::Epilogue;
use crate::error::ConvError;
use crate::gemm::SharedMut;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::rows::copy_exact_raw;
use crate::simd::{Simd, Tier, WithSimd, dispatch};
use crate::tiled::band::Columns;

/// Whether `problem` takes the depthwise path: one input channel per group.
pub(crate) fn suits(_problem: &ConvProblem, shape: &ConvShape) -> bool {
    shape.cg == 1
}

macro_rules! dw_dispatch {
    ($tier:expr, $op:ident ( $($arg:expr),* )) => {
        dispatch!($tier, $op<scalar: 4; portable: 4; avx2: 4; avx512: 4>($($arg),*))
    };
    ($tier:expr, $op:ident ( $($arg:expr),* ), $kind:expr) => {
        dispatch!($tier, $op<scalar: 4, {$kind}; portable: 4, {$kind}; avx2: 4, {$kind}; avx512: 4, {$kind}>($($arg),*))
    };
}

struct LanesOf<const V: usize>();

impl<const V: usize> WithSimd for LanesOf<V> {
    type Output = (usize, usize);
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (usize, usize) {
        (S::LANES, V)
    }
}

/// The depthwise plan: geometry of the padded, phase-split plane and the weights as given.
pub(crate) struct DepthwisePlan {
    problem: ConvProblem,
    shape: ConvShape,
    tier: Tier,
    weights: Vec<f32>,
    bias: Option<Vec<f32>>,
    /// The padded rows kept, ascending: every `oh * sh + r * dh`.
    rows: Vec<usize>,
    /// For output row `oh` and tap row `r`, the index in `rows` of the row it reads.
    row_index: Vec<usize>,
    /// How each kept row's columns are laid out (the stride's phases, or one segment per
    /// kernel column), each segment the output width rounded up to a vector, plus shifts.
    columns: Columns,
    /// Which kernel runs (a [`kind`] constant).
    kind: u8,
    /// For the 3x3 kinds: the plane offsets of kernel rows 0, 1, 2 of output row 0, and of
    /// kernel columns 0, 1, 2 within a row.
    rows_3x3: [usize; 3],
    cols_3x3: [usize; 3],
    kernel: String,
}

impl DepthwisePlan {
    pub(crate) fn boxed(problem: &ConvProblem, shape: ConvShape, weights: &[f32], bias: Option<&[f32]>, tier: Tier) -> Box<dyn Plan> {
        let p = problem;
        let [sh, sw] = p.params.stride;
        let [dh, dw] = p.params.dilation;
        let (lanes, v) = dw_dispatch!(tier, LanesOf());
        let mut rows: Vec<usize> = (0..shape.oh).flat_map(|oh| (0..p.r).map(move |r| oh * sh + r * dh)).collect();
        rows.sort_unstable();
        rows.dedup();
        let row_index: Vec<usize> = (0..shape.oh)
            .flat_map(|oh| (0..p.r).map(move |r| oh * sh + r * dh))
            .map(|pr| rows.binary_search(&pr).expect("row kept"))
            .collect();
        // Output row `oh` reads the rows of output row 0 moved down by `oh * sh`: its taps
        // are row 0's plus a constant.
        let uniform_rows = (0..shape.oh).all(|oh| (0..p.r).all(|r| row_index[oh * p.r + r] == row_index[r] + oh * sh));
        let columns = Columns::new(sw, p.s, dw, shape.ow.next_multiple_of(lanes), 1);
        assert!(row_index.iter().all(|&i| i < rows.len()), "a tap row outside the kept rows");
        // (Aligning plain rows to vectors, row strides a whole number of vectors and each row's
        // first input column on a vector boundary, lost 4-6%: 2026-11-26, mobilenetv2_dw_s1.)
        let stride = columns.row_len();
        let (kind, rows_3x3, cols_3x3) = if uniform_rows && p.r == 3 && p.s == 3 {
            let rows_3x3 = [0, 1, 2].map(|r| row_index[r] * stride + columns.offsets[0]);
            let cols_3x3 = [0, 1, 2].map(|c| columns.offsets[c] - columns.offsets[0]);
            // Vector columns read three consecutive rows per output row: stride 1 down, no
            // dilation down.
            let consecutive = sh == 1 && row_index[..3] == [row_index[0], row_index[0] + 1, row_index[0] + 2];
            let kind = match cols_3x3 {
                [0, 1, 2] if consecutive => kind::COLUMNS_3X3_0_1_2,
                _ if consecutive => kind::COLUMNS_3X3,
                [0, 1, 2] => kind::ROWS_3X3_0_1_2,
                [0, _, 1] => kind::ROWS_3X3_0_X_1,
                _ => kind::ROWS_3X3,
            };
            (kind, rows_3x3, cols_3x3)
        } else {
            (kind::ANY, [0; 3], [0; 3])
        };
        // The name says which kernel: vector columns (one vector wide) or row tiles (`v`
        // vectors), 3x3 unrolled or any size.
        let kernel = match kind {
            kind::COLUMNS_3X3 | kind::COLUMNS_3X3_0_1_2 => format!("{}_depthwise_columns_3x3_f32_{}", tier.name(), lanes),
            kind::ANY => format!("{}_depthwise_rows_f32_{}", tier.name(), v * lanes),
            _ => format!("{}_depthwise_rows_3x3_f32_{}", tier.name(), v * lanes),
        };
        Box::new(DepthwisePlan {
            problem: *p,
            shape,
            tier,
            weights: weights.to_vec(),
            bias: bias.map(<[f32]>::to_vec),
            rows,
            row_index,
            columns,
            kind,
            rows_3x3,
            cols_3x3,
            kernel,
        })
    }

    /// Floats per kept padded row (all its phases).
    fn row_stride(&self) -> usize {
        self.columns.row_len()
    }

    /// Whether the plane's rows are the input rows with padding (stride 1 across, one
    /// segment), as [`fill_plane`]'s common case and [`FillAhead`] write them.
    fn plain_rows(&self) -> bool {
        self.columns.sw == 1 && self.columns.bases == [0]
    }

    /// Floats of one padded, phase-split plane.
    fn plane_len(&self) -> usize {
        self.rows.len() * self.row_stride()
    }
}

impl Plan for DepthwisePlan {
    plan_accessors!("tiled");
    fn workspace_len_per_thread(&self) -> usize {
        self.plane_len()
    }

    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        let per = self.workspace_len_per_thread();
        validate_run_buffers(&self.shape, input, output, workspace, per)?;
        self.tier.record_run();
        let p = &self.problem;
        let plane_out = self.shape.oh * self.shape.ow;
        let hw = p.h * p.w;
        let out = SharedMut(output.as_mut_ptr());
        let epilogue = Epilogue::new(self.bias.as_deref(), p.params.activation);
        let plane_len = self.plane_len();
        // The plane's padding is the same zeros for every channel: a slot zeroes its plane
        // once per run, and each task writes only the input's own columns.
        let init = |ws: &mut [f32]| ws[..plane_len].fill(0.0);
        run_tasks_with_init(workspace, per, p.n * p.c, init, |t, ws| {
            let (n, c) = (t / p.c, t % p.c);
            let plane = &mut ws[..plane_len];
            let work = DepthwiseWork {
                plan: self,
                x: &input[(n * p.c + c) * hw..][..hw],
                channel: c,
                // SAFETY (arithmetic): image `n`, output channel `c * kg` is inside the output.
                out: SharedMut(unsafe { out.get().add((n * p.k + c * self.shape.kg) * plane_out) }),
                plane,
                epilogue,
            };
            // SAFETY: task (n, c) alone writes output channels c * kg .. (c + 1) * kg of image n.
            match self.kind {
                kind::ROWS_3X3 => dw_dispatch!(self.tier, DepthwiseOp(work), kind::ROWS_3X3),
                kind::ROWS_3X3_0_1_2 => dw_dispatch!(self.tier, DepthwiseOp(work), kind::ROWS_3X3_0_1_2),
                kind::ROWS_3X3_0_X_1 => dw_dispatch!(self.tier, DepthwiseOp(work), kind::ROWS_3X3_0_X_1),
                kind::COLUMNS_3X3_0_1_2 => dw_dispatch!(self.tier, DepthwiseOp(work), kind::COLUMNS_3X3_0_1_2),
                kind::COLUMNS_3X3 => dw_dispatch!(self.tier, DepthwiseOp(work), kind::COLUMNS_3X3),
                _ => dw_dispatch!(self.tier, DepthwiseOp(work), kind::ANY),
            }
        });
        Ok(())
    }
}

/// One task: one image's input channel `channel` and its `kg` output channels.
struct DepthwiseWork<'a> {
    plan: &'a DepthwisePlan,
    /// The input channel, `h x w`.
    x: &'a [f32],
    channel: usize,
    /// Output channel `channel * kg`, pixel 0.
    out: SharedMut,
    plane: &'a mut [f32],
    epilogue: Epilogue<'a>,
}

/// The kernel a plan runs, chosen at plan time; each is its own instantiation of
/// [`DepthwiseOp`] (and so its own `#[target_feature]` function, whose registers no other
/// kernel's code competes for: one entry holding them all ran 28% slower).
mod kind {
    /// Any kernel size or row pattern: taps from a table.
    pub const ANY: u8 = 0;
    /// 3x3 with every output row's taps those of row 0 moved down, column offsets at run time.
    pub const ROWS_3X3: u8 = 1;
    /// As `ROWS_3X3` with column offsets `[0, 1, 2]` (stride 1, no dilation across).
    pub const ROWS_3X3_0_1_2: u8 = 2;
    /// As `ROWS_3X3` with column offsets `[0, x, 1]` (stride 2, no dilation across).
    pub const ROWS_3X3_0_X_1: u8 = 3;
    /// 3x3, stride 1 and no dilation down, column offsets `[0, 1, 2]`: vector columns.
    pub const COLUMNS_3X3_0_1_2: u8 = 4;
    /// As `COLUMNS_3X3_0_1_2` with column offsets at run time.
    pub const COLUMNS_3X3: u8 = 5;
}

struct DepthwiseOp<'a, const V: usize, const KIND: u8>(DepthwiseWork<'a>);

impl<const V: usize, const KIND: u8> WithSimd for DepthwiseOp<'_, V, KIND> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let w = self.0;
        let plan = w.plan;
        let p = &plan.problem;
        let sh = &plan.shape;
        // The vector-column kernel on plain rows copies the input rows into the plane as its
        // first column walks down (`FillAhead`); every other kernel fills the plane first.
        let fused = matches!(KIND, kind::COLUMNS_3X3_0_1_2 | kind::COLUMNS_3X3) && plan.plain_rows() && sh.ow >= S::LANES;
        if !fused {
            fill_plane(s, plan, w.x, w.plane);
        }
        let l = S::LANES;
        let (oh_n, ow_n) = (sh.oh, sh.ow);
        let rs = p.r * p.s;
        // Highest plane index a vector load can touch (asserted once, used by every tile): the
        // last kept row, the widest tap shift, a vector starting at the row's rounded width.
        // (Every `row_index` entry is below `rows.len()`: asserted at plan time.)
        let stride = plan.row_stride();
        let max_col = plan.columns.offsets.iter().copied().max().unwrap_or(0);
        assert!((plan.rows.len() - 1) * stride + max_col + ow_n.next_multiple_of(l) <= w.plane.len(), "plane too small");
        let plane_out = oh_n * ow_n;
        // Both pointers come from the one mutable borrow: `FillAhead` writes rows through it
        // while the kernel reads rows it has already written.
        let plane_mut = w.plane.as_mut_ptr();
        let plane = plane_mut.cast_const();
        let row_step = p.params.stride[0] * stride;
        for j in 0..sh.kg {
            let k = w.channel * sh.kg + j;
            let taps_w = &plan.weights[k * rs..][..rs];
            let bias = w.epilogue.has_bias().then(|| s.splat(w.epilogue.bias_of(k)));
            // SAFETY (arithmetic): channel `j`'s output plane is this task's.
            let out_plane = unsafe { w.out.get().add(j * plane_out) };
            if KIND == kind::ANY {
                any_rows::<S, V>(s, plan, taps_w, bias, &w.epilogue, plane, out_plane);
                continue;
            }
            // 3x3 with the weights broadcast once. Tap (r, s) is row offset `r` plus column
            // offset `s`: three row pointers and three column indices, so no tap offset
            // spills out of the registers.
            let mut w9 = [s.zero(); 9];
            for (v, x) in w9.iter_mut().zip(taps_w) {
                *v = s.splat(*x);
            }
            let k9 = Taps9 { rows: plan.rows_3x3, cols: plan.cols_3x3, w: w9, bias, epi: &w.epilogue };
            // Column offsets known at compile time become address displacements (a runtime
            // one costs a register, and nine of them spilled to the stack).
            match KIND {
                kind::ROWS_3X3_0_1_2 => rows_3x3::<S, V, COLS_0_1_2>(s, &k9, plane, row_step, out_plane, oh_n, ow_n),
                kind::ROWS_3X3_0_X_1 => rows_3x3::<S, V, COLS_0_X_1>(s, &k9, plane, row_step, out_plane, oh_n, ow_n),
                kind::COLUMNS_3X3_0_1_2 | kind::COLUMNS_3X3 if fused && j == 0 => {
                    let fill = FillAhead::new(plan, w.x, plane_mut);
                    match KIND {
                        kind::COLUMNS_3X3_0_1_2 => columns_3x3_s1::<S, COLS_0_1_2, _>(s, &k9, plane, stride, out_plane, oh_n, ow_n, &fill),
                        _ => columns_3x3_s1::<S, COLS_ANY, _>(s, &k9, plane, stride, out_plane, oh_n, ow_n, &fill),
                    }
                }
                kind::COLUMNS_3X3_0_1_2 => columns_3x3_s1::<S, COLS_0_1_2, _>(s, &k9, plane, stride, out_plane, oh_n, ow_n, &Filled),
                kind::COLUMNS_3X3 => columns_3x3_s1::<S, COLS_ANY, _>(s, &k9, plane, stride, out_plane, oh_n, ow_n, &Filled),
                _ => rows_3x3::<S, V, COLS_ANY>(s, &k9, plane, row_step, out_plane, oh_n, ow_n),
            }
        }
    }
}

/// Every output row of one output channel, taps from the plan's table (any kernel size and
/// row pattern).
#[inline(always)]
fn any_rows<S: Simd, const V: usize>(
    s: S,
    plan: &DepthwisePlan,
    taps_w: &[f32],
    bias: Option<S::V>,
    epi: &Epilogue<'_>,
    plane: *const f32,
    out_plane: *mut f32,
) {
    let p = &plan.problem;
    let (oh_n, ow_n) = (plan.shape.oh, plan.shape.ow);
    let rs = p.r * p.s;
    let stride = plan.row_stride();
    // Taps on the stack up to 7x7 (a heap allocation per task showed in the profile).
    let mut taps_stack = [0usize; 49];
    let mut taps_heap = Vec::new();
    let taps: &mut [usize] = if rs <= taps_stack.len() {
        &mut taps_stack[..rs]
    } else {
        taps_heap.resize(rs, 0);
        &mut taps_heap
    };
    for oh in 0..oh_n {
        fill_taps(plan, oh, stride, taps);
        // SAFETY: every tap is a kept row plus a column offset, and a vector starting before
        // the row's end ends within its width rounded up to a vector (asserted by the caller);
        // stores stay inside output row `oh`.
        unsafe { output_row::<S, V, _>(s, &TapsAny { taps, w: taps_w, bias, epi }, plane, out_plane.add(oh * ow_n), ow_n) };
    }
}

/// Every output row of a uniform 3x3 kernel: row `oh` reads the plane from `oh * row_step`.
/// `COLS` says which column offsets are constants.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_3x3<S: Simd, const V: usize, const COLS: u8>(
    s: S,
    k9: &Taps9<'_, S>,
    plane: *const f32,
    row_step: usize,
    out_plane: *mut f32,
    oh_n: usize,
    ow_n: usize,
) {
    let k = Taps9Cols::<S, COLS>(k9);
    for oh in 0..oh_n {
        // SAFETY: every tap is a kept row plus a column offset, and a vector starting before
        // the row's end ends within its width rounded up to a vector (asserted by the
        // caller); stores stay inside output row `oh`.
        unsafe { output_row::<S, V, _>(s, &k, plane.wrapping_add(oh * row_step), out_plane.add(oh * ow_n), ow_n) };
    }
}

/// Taps of output row `oh`: kept row of each kernel row plus each column's offset.
#[inline(always)]
fn fill_taps(plan: &DepthwisePlan, oh: usize, stride: usize, taps: &mut [usize]) {
    let p = &plan.problem;
    for r in 0..p.r {
        let row = plan.row_index[oh * p.r + r] * stride;
        for (s, off) in plan.columns.offsets.iter().enumerate() {
            taps[r * p.s + s] = row + off;
        }
    }
}

/// One output row: tiles of `V` vectors, then the remaining 1 to 3 full vectors (one tile, or
/// one vector at a time: [`RowTile::ONE_TILE_REST`]), then the last pixels as a full vector
/// ending at the row's end (recomputing a few pixels)
/// or, for rows narrower than a vector, a partial one.
///
/// # Safety
/// As [`RowTile::tile`] for every tile of the row.
#[inline(always)]
unsafe fn output_row<S: Simd, const V: usize, K: RowTile<S>>(s: S, k: &K, plane: *const f32, out_row: *mut f32, ow_n: usize) {
    let l = S::LANES;
    let mut ow0 = 0;
    // SAFETY (all calls): the caller's contract.
    unsafe {
        while ow0 + V * l <= ow_n {
            k.tile::<V>(s, plane.add(ow0), out_row.add(ow0), V * l);
            ow0 += V * l;
        }
        if K::ONE_TILE_REST {
            let rest = (ow_n - ow0) / l;
            debug_assert!(rest < 4 && V == 4);
            match rest {
                0 => {}
                1 => k.tile::<1>(s, plane.add(ow0), out_row.add(ow0), l),
                2 => k.tile::<2>(s, plane.add(ow0), out_row.add(ow0), 2 * l),
                _ => k.tile::<3>(s, plane.add(ow0), out_row.add(ow0), 3 * l),
            }
            ow0 += rest.min(3) * l;
        } else {
            while ow0 + l <= ow_n {
                k.tile::<1>(s, plane.add(ow0), out_row.add(ow0), l);
                ow0 += l;
            }
        }
        if ow0 < ow_n {
            let (start, n) = if ow_n >= l { (ow_n - l, l) } else { (0, ow_n) };
            k.tile::<1>(s, plane.add(start), out_row.add(start), n);
        }
    }
}

/// A row tile: `n` output pixels (at most `V * LANES`, a partial vector only when
/// `n < LANES`) as the sum over taps of `w[t] * src[taps[t] ..]`, then the epilogue.
trait RowTile<S: Simd> {
    /// Whether a row's remaining 1 to 3 full vectors run as one tile (else one vector at a
    /// time). Taps from a table broadcast each weight once per tile: single-vector tiles cost
    /// lenet's 5x5 16%. The unrolled 3x3 keeps its weights in registers, and its 3-vector
    /// tile ran 5% slower than three single ones (mobilenetv2_dw_s2).
    const ONE_TILE_REST: bool;

    /// # Safety
    /// `src + taps[t] .. + V * LANES` readable for every tap; `out .. out + n` writable.
    unsafe fn tile<const V: usize>(&self, s: S, src: *const f32, out: *mut f32, n: usize);
}

/// Any kernel size: taps and weights from slices.
struct TapsAny<'a, S: Simd> {
    taps: &'a [usize],
    w: &'a [f32],
    bias: Option<S::V>,
    epi: &'a Epilogue<'a>,
}

impl<S: Simd> RowTile<S> for TapsAny<'_, S> {
    const ONE_TILE_REST: bool = true;

    #[inline(always)]
    unsafe fn tile<const V: usize>(&self, s: S, src: *const f32, out: *mut f32, n: usize) {
        // SAFETY: forwarded.
        unsafe { row_tile::<S, V>(s, src, self.taps, self.w, self.bias, self.epi, out, n) }
    }
}

/// 3x3: nine taps unrolled, weights already broadcast; one accumulator per vector. Tap
/// `(r, s)` is at `rows[r] + cols[s]` (the plane's column segments are the same in every row).
struct Taps9<'a, S: Simd> {
    rows: [usize; 3],
    cols: [usize; 3],
    w: [S::V; 9],
    bias: Option<S::V>,
    epi: &'a Epilogue<'a>,
}

/// A 3x3 kernel whose rows read consecutive plane rows (vertical stride and dilation 1), one
/// vector column at a time from the top row to the bottom: each plane row's tap vectors are
/// loaded once and feed the three output rows that read them (3 loads per output vector, not
/// 9). A row's last vector overlaps its predecessor (or is partial when the row is narrower
/// than a vector).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn columns_3x3_s1<S: Simd, const COLS: u8, F: PlaneRows>(
    s: S,
    k9: &Taps9<'_, S>,
    plane: *const f32,
    stride: usize,
    out: *mut f32,
    oh_n: usize,
    ow_n: usize,
    fill: &F,
) {
    let l = S::LANES;
    let cols = match COLS {
        COLS_0_1_2 => [0, 1, 2],
        _ => k9.cols,
    };
    let (p, o) = (plane.wrapping_add(k9.rows[0]), out);
    // SAFETY (all columns): plane rows 0 .. oh_n + 2 are kept rows, a vector starting before a
    // row's end stays inside its rounded width (asserted by the caller), and every column's
    // stores stay inside output rows 0 .. oh_n, columns `at .. at + LANES` (or `.. ow_n`).
    unsafe {
        if ow_n < l {
            column_3x3::<S, 1, false, F>(s, k9, cols, p, stride, o, oh_n, ow_n, [0], fill);
            return;
        }
        // The first column (pair) fills the plane's rows (if `fill` does) ahead of the rows
        // it reads. With 32 registers (avx512: 16 lanes) two columns at a time; with 16
        // (avx2) two ran 10% slower, short of registers (Zen 3), so one at a time.
        // Measured (2026-12-07, Zen 4, avx512, mobilenetv2_dw_s1, one thread, paired with the
        // plane filled first and one column at a time): pairs alone +1-2%, pairs with the fill
        // in the first pair +4-5.5% (+4% with the data in L2); the fill alone, one column at
        // a time, 0 to -1.5%. avx2 with the fill: +3-5%.
        let at = |i: usize| (i * l).min(ow_n - l);
        let ncols = ow_n.div_ceil(l);
        if S::LANES >= 16 && ncols >= 2 {
            column_3x3::<S, 2, true, F>(s, k9, cols, p, stride, o, oh_n, ow_n, [0, at(1)], fill);
            let mut i = 2;
            while i + 2 <= ncols {
                column_3x3::<S, 2, true, Filled>(s, k9, cols, p, stride, o, oh_n, ow_n, [at(i), at(i + 1)], &Filled);
                i += 2;
            }
            if i < ncols {
                column_3x3::<S, 1, true, Filled>(s, k9, cols, p, stride, o, oh_n, ow_n, [at(i)], &Filled);
            }
            return;
        }
        column_3x3::<S, 1, true, F>(s, k9, cols, p, stride, o, oh_n, ow_n, [0], fill);
        for i in 1..ncols {
            column_3x3::<S, 1, true, Filled>(s, k9, cols, p, stride, o, oh_n, ow_n, [at(i)], &Filled);
        }
    }
}

/// `V` vector columns (starting at columns `at`) of every output row. Each plane row gives
/// three partial sums per column, one per kernel row; output row `oh` is
/// `(h0(oh) + h1(oh + 1)) + h2(oh + 2)`. `a` holds the first two terms of output row j - 2, `b`
/// the first of row j - 1. The partial sums do not depend on earlier rows, so the only
/// dependency from row to row is an addition (a 9-FMA chain per output, as in the row
/// kernels, left too few independent chains in flight). `FULL`: whole vectors are stored
/// (else the first `n` lanes of one).
///
/// # Safety
/// Plane rows `0 .. oh_n + 2` (from `plane`, `stride` apart) readable at `at[v] + cols[c]` for a
/// vector; output rows `0 .. oh_n` (`ow_n` apart) writable at `at[v] ..` for a vector (`ow_n`
/// floats unless `FULL`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn column_3x3<S: Simd, const V: usize, const FULL: bool, F: PlaneRows>(
    s: S,
    k9: &Taps9<'_, S>,
    cols: [usize; 3],
    plane: *const f32,
    stride: usize,
    out: *mut f32,
    oh_n: usize,
    ow_n: usize,
    at: [usize; V],
    fill: &F,
) {
    let n = if FULL { S::LANES } else { ow_n };
    let mut a = [s.zero(); V];
    let mut b = [s.zero(); V];
    // SAFETY (all loads and stores): the caller's contract. Plane row `j` finishes output row
    // `j - 2`; the last two rows' other partial sums go unused. `fill` writes plane row
    // `j + FILL_AHEAD` before row `j` is read (rows below FILL_AHEAD + 2 before any).
    unsafe {
        for j in 0..(FILL_AHEAD + 2).min(oh_n + 2) {
            fill.fill_row(s, j);
        }
        for v in 0..V {
            let x = load_3(s, plane.add(at[v]), cols);
            let h0 = kernel_row(s, x, &k9.w, 0);
            let x = load_3(s, plane.add(stride + at[v]), cols);
            a[v] = s.add(h0, kernel_row(s, x, &k9.w, 1));
            b[v] = kernel_row(s, x, &k9.w, 0);
        }
        for j in 2..oh_n + 2 {
            if j + FILL_AHEAD < oh_n + 2 {
                fill.fill_row(s, j + FILL_AHEAD);
            }
            let row = plane.add(j * stride);
            let dst = out.add((j - 2) * ow_n);
            for v in 0..V {
                let x = load_3(s, row.add(at[v]), cols);
                let done = s.add(a[v], kernel_row(s, x, &k9.w, 2));
                a[v] = s.add(b[v], kernel_row(s, x, &k9.w, 1));
                b[v] = kernel_row(s, x, &k9.w, 0);
                store_row::<S, 1>(s, &[done], k9.bias, k9.epi, dst.add(at[v]), n);
            }
        }
    }
}

/// Rows between the plane row [`FillAhead`] writes and the row the kernel reads: the row just
/// stored is not read back at once (its three overlapping loads could not be forwarded from
/// the stores).
const FILL_AHEAD: usize = 2;

/// What the vector-column kernel's first column does as it walks down the plane: nothing
/// ([`Filled`]: the plane was filled before) or copy the input rows in ([`FillAhead`]).
trait PlaneRows {
    /// Makes plane row `j` (a kept row) ready to read.
    ///
    /// # Safety
    /// `j` is a kept row of the plane the implementor points to, and no reference to that
    /// plane is alive.
    unsafe fn fill_row<S: Simd>(&self, s: S, j: usize);
}

/// The plane was filled before the kernel ran.
struct Filled;

impl PlaneRows for Filled {
    #[inline(always)]
    unsafe fn fill_row<S: Simd>(&self, _: S, _: usize) {}
}

/// Copies input rows into a plain-rows plane (stride 1 across, one segment) one row at a
/// time, so the copy of one row overlaps the FMAs of the rows above it instead of running as
/// a pass of its own before them (the input usually comes from L3). The padding is already
/// zero (the slot's init).
struct FillAhead<'a> {
    x: *const f32,
    plane: *mut f32,
    /// Floats per plane row.
    stride: usize,
    /// Plane column of input column 0, and input columns copied per row.
    lead: usize,
    len: usize,
    /// The padded row of each plane row (`DepthwisePlan::rows`: consecutive plane rows need
    /// not be consecutive padded rows, e.g. with a dilation down that skips rows no output
    /// reads), the top padding, and the input's height and width.
    rows: &'a [usize],
    pt: usize,
    h: usize,
    w: usize,
}

impl<'a> FillAhead<'a> {
    #[inline(always)]
    fn new(plan: &'a DepthwisePlan, x: &[f32], plane: *mut f32) -> FillAhead<'a> {
        let p = &plan.problem;
        let [pt, pl, _, _] = p.params.padding;
        let stride = plan.row_stride();
        let lead = pl.min(stride);
        assert!(x.len() >= p.h * p.w, "input channel too short");
        FillAhead { x: x.as_ptr(), plane, stride, lead, len: p.w.min(stride - lead), rows: &plan.rows, pt, h: p.h, w: p.w }
    }
}

impl PlaneRows for FillAhead<'_> {
    #[inline(always)]
    unsafe fn fill_row<S: Simd>(&self, s: S, j: usize) {
        let pr = self.rows[j];
        if pr < self.pt || pr - self.pt >= self.h {
            return; // a padding row: zero already
        }
        let r = pr - self.pt;
        // SAFETY: input row `r < h` holds `w >= len` floats; plane row `j` is kept (the
        // caller's contract) and its columns `lead .. lead + len` are inside its `stride`
        // floats (`len <= stride - lead`); the input and the plane are separate buffers.
        unsafe { copy_exact_raw(s, self.plane.add(j * self.stride + self.lead), self.x.add(r * self.w), self.len) }
    }
}

/// The three tap vectors of one plane row: `q[cols[c] ..]` for c = 0, 1, 2.
///
/// # Safety
/// `q + cols[c] .. + LANES` readable for each column.
#[inline(always)]
unsafe fn load_3<S: Simd>(s: S, q: *const f32, cols: [usize; 3]) -> [S::V; 3] {
    // SAFETY: the caller's contract.
    unsafe { [s.load(q.add(cols[0])), s.load(q.add(cols[1])), s.load(q.add(cols[2]))] }
}

/// Kernel row `r` applied to one plane row's tap vectors `x`: `w[3r] x0 + w[3r+1] x1 +
/// w[3r+2] x2`, in that order. (Chaining the three kernel rows' FMAs into one accumulator
/// instead of adding three partial sums saves two additions per output vector but ran 2%
/// slower: 2026-12-07, Zen 4, avx512, mobilenetv2_dw_s1.)
#[inline(always)]
fn kernel_row<S: Simd>(s: S, x: [S::V; 3], w: &[S::V; 9], r: usize) -> S::V {
    s.fma(w[3 * r + 2], x[2], s.fma(w[3 * r + 1], x[1], s.mul(w[3 * r], x[0])))
}

/// Column offsets all taken from [`Taps9::cols`].
const COLS_ANY: u8 = 0;
/// Column offsets `[0, 1, 2]`.
const COLS_0_1_2: u8 = 1;
/// Column offsets `[0, cols[1], 1]`.
const COLS_0_X_1: u8 = 2;

/// [`Taps9`] with the column offsets that `COLS` names as constants.
struct Taps9Cols<'a, 'b, S: Simd, const COLS: u8>(&'b Taps9<'a, S>);

impl<S: Simd, const COLS: u8> RowTile<S> for Taps9Cols<'_, '_, S, COLS> {
    const ONE_TILE_REST: bool = false;

    #[inline(always)]
    unsafe fn tile<const V: usize>(&self, s: S, src: *const f32, out: *mut f32, n: usize) {
        let t = self.0;
        let l = S::LANES;
        let mut acc = [s.zero(); V];
        let [c0, c1, c2] = match COLS {
            COLS_0_1_2 => [0, 1, 2],
            COLS_0_X_1 => [0, t.cols[1], 1],
            _ => t.cols,
        };
        let [w0, w1, w2, w3, w4, w5, w6, w7, w8] = t.w;
        let [p0, p1, p2] = t.rows.map(|r| src.wrapping_add(r));
        // Written out: LLVM does not always unroll 9 x V, and every tap must stay a register.
        // One accumulator per vector: V chains plus the 9 weights fit the 16 ymm registers
        // (two per vector spilled the weights), and out-of-order execution overlaps tiles.
        for (v, a) in acc.iter_mut().enumerate() {
            let q = v * l;
            // SAFETY: the caller guarantees the taps' vectors are readable.
            unsafe {
                let e = s.mul(w0, s.load(p0.add(c0 + q)));
                let e = s.fma(w1, s.load(p0.add(c1 + q)), e);
                let e = s.fma(w2, s.load(p0.add(c2 + q)), e);
                let e = s.fma(w3, s.load(p1.add(c0 + q)), e);
                let e = s.fma(w4, s.load(p1.add(c1 + q)), e);
                let e = s.fma(w5, s.load(p1.add(c2 + q)), e);
                let e = s.fma(w6, s.load(p2.add(c0 + q)), e);
                let e = s.fma(w7, s.load(p2.add(c1 + q)), e);
                *a = s.fma(w8, s.load(p2.add(c2 + q)), e);
            }
        }
        // SAFETY: `out .. out + n` writable (the caller's contract).
        unsafe { store_row::<S, V>(s, &acc, t.bias, t.epi, out, n) }
    }
}

/// `act(acc + bias)` stored to `out .. out + n`.
///
/// # Safety
/// `out .. out + n` writable, `n <= V * LANES`.
#[inline(always)]
unsafe fn store_row<S: Simd, const V: usize>(s: S, acc: &[S::V; V], bias: Option<S::V>, epi: &Epilogue<'_>, out: *mut f32, n: usize) {
    let l = S::LANES;
    for (v, a) in acc.iter().enumerate() {
        let y = epi.apply_with(s, *a, bias);
        let col = v * l;
        // SAFETY: full vectors are stored only while they fit in `n`.
        unsafe {
            if col + l <= n {
                s.store(out.add(col), y);
            } else if col < n {
                s.store_partial(out.add(col), n - col, y);
            }
        }
    }
}

/// `n` output pixels (at most `V * LANES`, a partial vector only when `n < LANES`) of one
/// output row: the sum over taps of `w[t] * plane[origin + taps[t] ..]`, then the epilogue.
///
/// # Safety
/// `src + taps[t] .. + V * LANES` readable for every tap; `out .. out + n` writable.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row_tile<S: Simd, const V: usize>(
    s: S,
    src: *const f32,
    taps: &[usize],
    w: &[f32],
    bias: Option<S::V>,
    epi: &Epilogue<'_>,
    out: *mut f32,
    n: usize,
) {
    let l = S::LANES;
    // Two accumulators per vector (even and odd taps): 2V independent FMA chains, so short
    // tiles are not bound by the FMA latency.
    let mut even = [s.zero(); V];
    let mut odd = [s.zero(); V];
    let mut t = 0;
    while t + 1 < taps.len() {
        let (w0, w1) = (s.splat(w[t]), s.splat(w[t + 1]));
        let (o0, o1) = (taps[t], taps[t + 1]);
        for v in 0..V {
            // SAFETY: the caller guarantees the taps' vectors are readable.
            unsafe {
                even[v] = s.fma(w0, s.load(src.add(o0 + v * l)), even[v]);
                odd[v] = s.fma(w1, s.load(src.add(o1 + v * l)), odd[v]);
            }
        }
        t += 2;
    }
    if t < taps.len() {
        let w0 = s.splat(w[t]);
        for (v, a) in even.iter_mut().enumerate() {
            // SAFETY: as above.
            *a = s.fma(w0, unsafe { s.load(src.add(taps[t] + v * l)) }, *a);
        }
    }
    // A loop, not `std::array::from_fn`, whose closure would compile outside the tier.
    let mut acc = even;
    for (a, o) in acc.iter_mut().zip(&odd) {
        *a = s.add(*a, *o);
    }
    // SAFETY: `out .. out + n` is writable (the caller's contract).
    unsafe { store_row::<S, V>(s, &acc, bias, epi, out, n) }
}

/// Copies one input channel into the plane, whose padding is already zero (the slot's init):
/// kept row `i` (padded row `rows[i]`) at `plane[i * row_stride ..]`, its columns as
/// [`Columns`] lays them out; only the positions of input columns are written.
#[inline(always)]
fn fill_plane<S: Simd>(s: S, plan: &DepthwisePlan, x: &[f32], plane: &mut [f32]) {
    let p = &plan.problem;
    let [pt, pl, _, _] = p.params.padding;
    let stride = plan.row_stride();
    if plan.plain_rows() {
        // Plain rows, the common case, in a loop of their own (through `fill_row`'s general
        // code the stride-1 layer ran 12% slower): `FillAhead`'s row copy, every row at once.
        assert!(plane.len() >= plan.plane_len(), "plane too small");
        let fill = FillAhead::new(plan, x, plane.as_mut_ptr());
        for j in 0..plan.rows.len() {
            // SAFETY: `j` is a kept row of a plane of `rows.len() * stride` floats (asserted),
            // and `plane` is not used again while `fill` writes through its pointer.
            unsafe { fill.fill_row(s, j) };
        }
        return;
    }
    for (i, &pr) in plan.rows.iter().enumerate() {
        if pr >= pt && pr - pt < p.h {
            plan.columns.fill_row(s, plane, i * stride, x, (pr - pt) * p.w, p.w, pl, true);
        }
    }
}
