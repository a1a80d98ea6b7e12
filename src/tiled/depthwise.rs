//! The depthwise path of the tiled backend: one input channel per group (`C / groups == 1`),
//! any depth multiplier (`K / groups` output channels per input channel), any stride, dilation
//! and padding.
//!
//! Vectors run along output rows. Each task copies one input channel into a zero-padded plane
//! that keeps only the padded rows some output row reads (so neither a huge stride nor huge
//! padding makes it large); for stride `sw > 1` each row is split into phase rows (columns
//! `ph, ph + sw, ..`, deinterleaved with vector shuffles for `sw == 2`; only the
//! `min(sw, dilated kernel width)` phases the taps use are kept), so every tap of every
//! stride and dilation reads whole contiguous vectors. A register tile is `V` vectors of one output row;
//! the row's last pixels are a full vector that overlaps the previous one (no masked stores),
//! unless the row is narrower than a vector. Bias and activation are applied in registers.

use crate::backend::{Plan, run_tasks, validate_run_buffers};
use crate::epilogue::Epilogue;
use crate::error::ConvError;
use crate::gemm::SharedMut;
use crate::isa::Isa;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::rows::{copy_over, zero_over};
use crate::simd::{Simd, Tier, WithSimd, dispatch};

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
    /// Phase rows per padded row: `min(sw, dilated kernel width)`.
    phases: usize,
    /// Floats per phase row (output width rounded up to a vector, plus the widest tap shift).
    wq: usize,
    /// Offset of tap column `s` within a padded row: phase `(s dw) % sw`, shift `(s dw) / sw`.
    col_offsets: Vec<usize>,
    kernel: String,
}

impl DepthwisePlan {
    pub(crate) fn boxed(problem: &ConvProblem, shape: ConvShape, weights: &[f32], bias: Option<&[f32]>, tier: Tier) -> Box<dyn Plan> {
        let p = problem;
        let [sh, sw] = p.params.stride;
        let [dh, dw] = p.params.dilation;
        let (lanes, v) = dw_dispatch!(tier, LanesOf());
        let dk_w = (p.s - 1) * dw + 1;
        let mut rows: Vec<usize> = (0..shape.oh).flat_map(|oh| (0..p.r).map(move |r| oh * sh + r * dh)).collect();
        rows.sort_unstable();
        rows.dedup();
        let row_index = (0..shape.oh)
            .flat_map(|oh| (0..p.r).map(move |r| oh * sh + r * dh))
            .map(|pr| rows.binary_search(&pr).expect("row kept"))
            .collect();
        let phases = sw.min(dk_w);
        let wq = shape.ow.next_multiple_of(lanes) + (dk_w - 1) / sw + 1;
        let col_offsets = (0..p.s).map(|s| ((s * dw) % sw) * wq + (s * dw) / sw).collect();
        let kernel = format!("{}_depthwise_f32_{}", tier.name(), v * lanes);
        Box::new(DepthwisePlan {
            problem: *p,
            shape,
            tier,
            weights: weights.to_vec(),
            bias: bias.map(<[f32]>::to_vec),
            rows,
            row_index,
            phases,
            wq,
            col_offsets,
            kernel,
        })
    }

    /// Floats per kept padded row (all its phases).
    fn row_stride(&self) -> usize {
        self.phases * self.wq
    }

    /// Floats of one padded, phase-split plane.
    fn plane_len(&self) -> usize {
        self.rows.len() * self.row_stride()
    }

    /// Floats of the staging row used to split a padded row into two phases.
    fn staging_len(&self) -> usize {
        if self.phases == 2 { 2 * self.wq } else { 0 }
    }
}

impl Plan for DepthwisePlan {
    fn backend(&self) -> &'static str {
        "tiled"
    }
    fn kernel(&self) -> String {
        self.kernel.clone()
    }
    fn isa(&self) -> Isa {
        self.tier.isa()
    }
    fn problem(&self) -> &ConvProblem {
        &self.problem
    }
    fn shape(&self) -> &ConvShape {
        &self.shape
    }
    fn workspace_len_per_thread(&self) -> usize {
        self.plane_len() + self.staging_len()
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
            let (plane, row) = ws.split_at_mut(self.plane_len());
            let work = DepthwiseWork {
                plan: self,
                x: &input[(n * p.c + c) * hw..][..hw],
                channel: c,
                // SAFETY (arithmetic): image `n`, output channel `c * kg` is inside the output.
                out: SharedMut(unsafe { out.get().add((n * p.k + c * self.shape.kg) * plane_out) }),
                plane,
                row,
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
    row: &'a mut [f32],
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
        fill_plane(s, plan, w.x, w.plane, w.row);
        let l = S::LANES;
        let (oh_n, ow_n) = (sh.oh, sh.ow);
        let rs = p.r * p.s;
        // Highest plane index a vector load can touch (asserted once, used by every tile): the
        // last kept row, the widest tap shift, a vector starting at the row's rounded width.
        let stride = plan.row_stride();
        let max_col = plan.col_offsets.iter().copied().max().unwrap_or(0);
        assert!((plan.rows.len() - 1) * stride + max_col + ow_n.next_multiple_of(l) <= w.plane.len(), "plane too small");
        assert!(plan.row_index.iter().all(|&i| i < plan.rows.len()));
        let plane_out = oh_n * ow_n;
        let mut taps = vec![0usize; rs];
        for j in 0..sh.kg {
            let k = w.channel * sh.kg + j;
            let taps_w = &plan.weights[k * rs..][..rs];
            let bias = w.epilogue.has_bias().then(|| s.splat(w.epilogue.bias_of(k)));
            for oh in 0..oh_n {
                for r in 0..p.r {
                    let row = plan.row_index[oh * p.r + r] * stride;
                    for (s, off) in plan.col_offsets.iter().enumerate() {
                        taps[r * p.s + s] = row + off;
                    }
                }
                let origin = 0;
                // SAFETY (arithmetic): output row `oh` of channel `j` is inside this task's output.
                let out_row = unsafe { w.out.get().add(j * plane_out + oh * ow_n) };
                let mut ow0 = 0;
                // SAFETY (all tiles): every tap is a kept row plus a column offset, and a vector
                // starting at ow0 ends within the row's width rounded up to a vector (asserted
                // above); stores stay inside the output row.
                while ow0 + V * l <= ow_n {
                    unsafe {
                        row_tile::<S, V>(s, w.plane.as_ptr().add(origin + ow0), &taps, taps_w, bias, &w.epilogue, out_row.add(ow0), V * l)
                    };
                    ow0 += V * l;
                }
                while ow0 + l <= ow_n {
                    unsafe {
                        row_tile::<S, 1>(s, w.plane.as_ptr().add(origin + ow0), &taps, taps_w, bias, &w.epilogue, out_row.add(ow0), l)
                    };
                    ow0 += l;
                }
                if ow0 < ow_n {
                    // The last pixels: a full vector ending at the row's end when the row is
                    // at least a vector wide (recomputing a few pixels), else a partial one.
                    let (start, n) = if ow_n >= l { (ow_n - l, l) } else { (0, ow_n) };
                    unsafe {
                        row_tile::<S, 1>(s, w.plane.as_ptr().add(origin + start), &taps, taps_w, bias, &w.epilogue, out_row.add(start), n)
                    };
                }
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
    let mut acc = [s.zero(); V];
    for (t, &off) in taps.iter().enumerate() {
        let wv = s.splat(w[t]);
        for (v, a) in acc.iter_mut().enumerate() {
            // SAFETY: the caller guarantees the tap's vectors are readable.
            *a = s.fma(wv, unsafe { s.load(src.add(off + v * l)) }, *a);
        }
    }
    for (v, a) in acc.iter().enumerate() {
        let y = epi.apply_with(s, *a, bias);
        let col = v * l;
        // SAFETY: `out .. out + n` is writable; full vectors are stored only while they fit.
        unsafe {
            if col + l <= n {
                s.store(out.add(col), y);
            } else if col < n {
                s.store_partial(out.add(col), n - col, y);
            }
        }
    }
}

/// Copies one input channel into the zero-padded plane: kept row `i` (padded row
/// `rows[i]`), phase `ph` holds padded columns `ph, ph + sw, ph + 2 sw, ..` at
/// `plane[(i * phases + ph) * wq ..]`.
#[inline(always)]
fn fill_plane<S: Simd>(s: S, plan: &DepthwisePlan, x: &[f32], plane: &mut [f32], staging: &mut [f32]) {
    let p = &plan.problem;
    let [pt, pl, _, _] = p.params.padding;
    let sw = p.params.stride[1];
    let wq = plan.wq;
    let stride = plan.row_stride();
    let l = S::LANES;
    for (i, &pr) in plan.rows.iter().enumerate() {
        let at = i * stride;
        if pr < pt || pr - pt >= p.h {
            zero_over(s, plane, at, stride);
            continue;
        }
        let src_at = (pr - pt) * p.w;
        if sw == 1 {
            // Zeros, the input row, zeros: whole vectors that may run into the next row
            // (written afterwards) but never past the plane.
            let lead = pl.min(wq);
            let len = p.w.min(wq - lead);
            zero_over(s, plane, at, lead);
            copy_over(s, plane, at + lead, x, src_at, len);
            zero_over(s, plane, at + lead + len, wq - lead - len);
        } else if plan.phases == 2 && sw == 2 {
            // The padded row in staging, then even and odd columns with vector shuffles.
            let row_len = 2 * wq;
            let lead = pl.min(row_len);
            let len = p.w.min(row_len - lead);
            zero_over(s, staging, 0, lead);
            copy_over(s, staging, lead, x, src_at, len);
            zero_over(s, staging, lead + len, row_len - lead - len);
            let (even, odd) = plane[at..at + row_len].split_at_mut(wq);
            let mut q = 0;
            while q + l <= wq {
                // SAFETY: `2 * q + 2 * l <= 2 * wq = staging.len()` and `q + l <= wq` floats of
                // `even` and `odd`.
                unsafe {
                    let (e, o) = s.deinterleave(s.load(staging.as_ptr().add(2 * q)), s.load(staging.as_ptr().add(2 * q + l)));
                    s.store(even.as_mut_ptr().add(q), e);
                    s.store(odd.as_mut_ptr().add(q), o);
                }
                q += l;
            }
            for j in q..wq {
                even[j] = staging[2 * j];
                odd[j] = staging[2 * j + 1];
            }
        } else {
            let src = &x[src_at..src_at + p.w];
            for ph in 0..plan.phases {
                for (q, d) in plane[at + ph * wq..at + (ph + 1) * wq].iter_mut().enumerate() {
                    let pc = q * sw + ph;
                    *d = if pc >= pl && pc - pl < p.w { src[pc - pl] } else { 0.0 };
                }
            }
        }
    }
}
