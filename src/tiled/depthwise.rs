//! The depthwise path of the tiled backend: one input channel per group (`C / groups == 1`),
//! any depth multiplier (`K / groups` output channels per input channel), any stride, dilation
//! and padding.
//!
//! Vectors run along output rows. Each task copies one input channel into a zero-padded plane
//! that keeps only the padded rows some output row reads (so neither a huge stride nor huge
//! padding makes it large); for stride `sw > 1` each row is split into phase rows (columns
//! `ph, ph + sw, ..`, deinterleaved with vector shuffles for `sw == 2`; only the
//! phases the taps use are kept, at most one per kernel column), so every tap of every
//! stride and dilation reads whole contiguous vectors. A register tile is `V` vectors of one output row;
//! the row's last pixels are a full vector that overlaps the previous one (no masked stores),
//! unless the row is narrower than a vector. Bias and activation are applied in registers.
//!
//! No software prefetch: spreading prefetches of the next channel's input over this channel's
//! rows, or of input rows a few ahead in the copy, each lost 5-15% (2026-11-26, Zen 3, one and
//! two threads, mobilenetv2_dw_s1/s2) against the hardware prefetcher alone. Nor did a tile of
//! 7 vectors (7 FMA chains) or filling the plane row by row just ahead of the rows computed.

use crate::backend::{Plan, plan_accessors, run_tasks, validate_run_buffers};
use crate::epilogue::Epilogue;
use crate::error::ConvError;
use crate::gemm::SharedMut;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::rows::zero_over;
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
    /// The kept rows are consecutive, so output row `oh` reads the rows of output row 0 moved
    /// down by `oh * sh`: its taps are row 0's plus a constant.
    uniform_rows: bool,
    /// How each kept row's columns are laid out (the stride's phases, or one segment per
    /// kernel column), each segment the output width rounded up to a vector, plus shifts.
    columns: Columns,
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
        let uniform_rows = (0..shape.oh).all(|oh| (0..p.r).all(|r| row_index[oh * p.r + r] == row_index[r] + oh * sh));
        let columns = Columns::new(sw, p.s, dw, shape.ow.next_multiple_of(lanes), 1);
        let kernel = format!("{}_depthwise_f32_{}", tier.name(), v * lanes);
        Box::new(DepthwisePlan {
            problem: *p,
            shape,
            tier,
            weights: weights.to_vec(),
            bias: bias.map(<[f32]>::to_vec),
            rows,
            row_index,
            uniform_rows,
            columns,
            kernel,
        })
    }

    /// Floats per kept padded row (all its phases).
    fn row_stride(&self) -> usize {
        self.columns.row_len()
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
        run_tasks(workspace, per, p.n * p.c, |t, ws| {
            let (n, c) = (t / p.c, t % p.c);
            let plane = &mut ws[..self.plane_len()];
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
            dw_dispatch!(self.tier, DepthwiseOp(work));
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

struct DepthwiseOp<'a, const V: usize>(DepthwiseWork<'a>);

impl<const V: usize> WithSimd for DepthwiseOp<'_, V> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let w = self.0;
        let plan = w.plan;
        let p = &plan.problem;
        let sh = &plan.shape;
        fill_plane(s, plan, w.x, w.plane);
        let l = S::LANES;
        let (oh_n, ow_n) = (sh.oh, sh.ow);
        let rs = p.r * p.s;
        // Highest plane index a vector load can touch (asserted once, used by every tile): the
        // last kept row, the widest tap shift, a vector starting at the row's rounded width.
        let stride = plan.row_stride();
        let max_col = plan.columns.offsets.iter().copied().max().unwrap_or(0);
        assert!((plan.rows.len() - 1) * stride + max_col + ow_n.next_multiple_of(l) <= w.plane.len(), "plane too small");
        assert!(plan.row_index.iter().all(|&i| i < plan.rows.len()));
        let plane_out = oh_n * ow_n;
        // Taps on the stack up to 7x7 (a heap allocation per task showed in the profile).
        let mut taps_stack = [0usize; 49];
        let mut taps_heap = Vec::new();
        let taps: &mut [usize] = if rs <= taps_stack.len() {
            &mut taps_stack[..rs]
        } else {
            taps_heap.resize(rs, 0);
            &mut taps_heap
        };
        let sh_stride = p.params.stride[0];
        for j in 0..sh.kg {
            let k = w.channel * sh.kg + j;
            let taps_w = &plan.weights[k * rs..][..rs];
            let bias = w.epilogue.has_bias().then(|| s.splat(w.epilogue.bias_of(k)));
            // 3x3 (the common case) with the taps unrolled and the weights broadcast once.
            let mut w9 = [s.zero(); 9];
            if rs == 9 {
                for (v, x) in w9.iter_mut().zip(taps_w) {
                    *v = s.splat(*x);
                }
            }
            // SAFETY (arithmetic): channel `j`'s output plane is this task's.
            let out_plane = unsafe { w.out.get().add(j * plane_out) };
            if plan.uniform_rows && rs == 9 {
                // The common case: one 3x3 kernel for every row, each row's taps those of row
                // 0 moved down by `oh * sh` rows.
                fill_taps(plan, 0, stride, taps);
                let k9 = Taps9 {
                    taps: [taps[0], taps[1], taps[2], taps[3], taps[4], taps[5], taps[6], taps[7], taps[8]],
                    w: w9,
                    bias,
                    epi: &w.epilogue,
                };
                for oh in 0..oh_n {
                    // SAFETY: every tap is a kept row plus a column offset, and a vector
                    // starting before the row's end ends within its width rounded up to a
                    // vector (asserted above); stores stay inside output row `oh`.
                    unsafe { output_row::<S, V, _>(s, &k9, w.plane.as_ptr().add(oh * sh_stride * stride), out_plane.add(oh * ow_n), ow_n) };
                }
            } else {
                for oh in 0..oh_n {
                    fill_taps(plan, oh, stride, taps);
                    // SAFETY: as above.
                    unsafe {
                        output_row::<S, V, _>(
                            s,
                            &TapsAny { taps, w: taps_w, bias, epi: &w.epilogue },
                            w.plane.as_ptr(),
                            out_plane.add(oh * ow_n),
                            ow_n,
                        )
                    };
                }
            }
        }
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

/// One output row: tiles of `V` vectors, then one tile of the remaining 1 to 3 full vectors,
/// then the last pixels as a full vector ending at the row's end (recomputing a few pixels)
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
        let rest = (ow_n - ow0) / l;
        debug_assert!(rest < 4 && V == 4);
        match rest {
            0 => {}
            1 => k.tile::<1>(s, plane.add(ow0), out_row.add(ow0), l),
            2 => k.tile::<2>(s, plane.add(ow0), out_row.add(ow0), 2 * l),
            _ => k.tile::<3>(s, plane.add(ow0), out_row.add(ow0), 3 * l),
        }
        ow0 += rest.min(3) * l;
        if ow0 < ow_n {
            let (start, n) = if ow_n >= l { (ow_n - l, l) } else { (0, ow_n) };
            k.tile::<1>(s, plane.add(start), out_row.add(start), n);
        }
    }
}

/// A row tile: `n` output pixels (at most `V * LANES`, a partial vector only when
/// `n < LANES`) as the sum over taps of `w[t] * src[taps[t] ..]`, then the epilogue.
trait RowTile<S: Simd> {
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
    #[inline(always)]
    unsafe fn tile<const V: usize>(&self, s: S, src: *const f32, out: *mut f32, n: usize) {
        // SAFETY: forwarded.
        unsafe { row_tile::<S, V>(s, src, self.taps, self.w, self.bias, self.epi, out, n) }
    }
}

/// 3x3: nine taps unrolled, weights already broadcast; one accumulator per vector.
struct Taps9<'a, S: Simd> {
    taps: [usize; 9],
    w: [S::V; 9],
    bias: Option<S::V>,
    epi: &'a Epilogue<'a>,
}

impl<S: Simd> RowTile<S> for Taps9<'_, S> {
    #[inline(always)]
    unsafe fn tile<const V: usize>(&self, s: S, src: *const f32, out: *mut f32, n: usize) {
        let l = S::LANES;
        let mut acc = [s.zero(); V];
        let [t0, t1, t2, t3, t4, t5, t6, t7, t8] = self.taps;
        let [w0, w1, w2, w3, w4, w5, w6, w7, w8] = self.w;
        // Written out: LLVM does not always unroll 9 x V, and every tap must stay a register.
        // One accumulator per vector: V chains plus the 9 weights fit the 16 ymm registers
        // (two per vector spilled the weights), and out-of-order execution overlaps tiles.
        for (v, a) in acc.iter_mut().enumerate() {
            let p = src.wrapping_add(v * l);
            // SAFETY: the caller guarantees the taps' vectors are readable.
            unsafe {
                let e = s.mul(w0, s.load(p.add(t0)));
                let e = s.fma(w1, s.load(p.add(t1)), e);
                let e = s.fma(w2, s.load(p.add(t2)), e);
                let e = s.fma(w3, s.load(p.add(t3)), e);
                let e = s.fma(w4, s.load(p.add(t4)), e);
                let e = s.fma(w5, s.load(p.add(t5)), e);
                let e = s.fma(w6, s.load(p.add(t6)), e);
                let e = s.fma(w7, s.load(p.add(t7)), e);
                *a = s.fma(w8, s.load(p.add(t8)), e);
            }
        }
        // SAFETY: `out .. out + n` writable (the caller's contract).
        unsafe { store_row::<S, V>(s, &acc, self.bias, self.epi, out, n) }
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

/// Copies one input channel into the zero-padded plane: kept row `i` (padded row `rows[i]`)
/// at `plane[i * row_stride ..]`, its columns as [`Columns`] lays them out.
#[inline(always)]
fn fill_plane<S: Simd>(s: S, plan: &DepthwisePlan, x: &[f32], plane: &mut [f32]) {
    let p = &plan.problem;
    let [pt, pl, _, _] = p.params.padding;
    let stride = plan.row_stride();
    for (i, &pr) in plan.rows.iter().enumerate() {
        if pr < pt || pr - pt >= p.h {
            zero_over(s, plane, i * stride, stride);
        } else {
            plan.columns.fill_row(s, plane, i * stride, x, (pr - pt) * p.w, p.w, pl);
        }
    }
}
