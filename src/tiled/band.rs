//! Zero-padded input bands: the rows of the padded input that a range of output rows reads,
//! copied once per task so the kernels' inner loops never test for borders.
//!
//! A band holds, for each input channel of a group, the rows of the padded input that its
//! output rows read (padded row `pr` is input row `pr - pad_top`, or zeros): either a
//! contiguous range of padded rows (the usual case: rows shared by neighbouring output rows
//! are copied once), or, when strides or dilation would leave most of that range unread, one
//! row per (output row, kernel row) pair ("gathered"). Either way tap row `r` of output row
//! `oh` is at `(oh - oh0) * row_step + r * tap_row_step`.
//!
//! Each kept row is a few segments of `wq` floats ([`Columns`]); segment `i` holds padded
//! columns `base[i], base[i] + sw, base[i] + 2 sw, ..` (padded column `pc` is input column
//! `pc - pad_left`, or zero), so output column `ow` of tap column `s` is at
//! `offset[s] + ow`: contiguous in `ow` whatever the stride and dilation. Segments are the
//! stride's phases that the taps use (for stride 1, one plain padded row), or, when a huge
//! dilation would make those long and mostly unread, one segment per tap column. Either way
//! the band's size does not grow with strides, dilations or padding beyond what is read.
//! A strided layer whose taps read every phase (3x3 or 7x7 at stride 2) keeps plain padded
//! rows instead (`col_step = sw`: output column `ow` is at `offset[s] + ow * sw`): the row is
//! read whole anyway, and a plain copy is cheaper than the phase split.
//!
//! The fill runs inside the tier's entry point, written over [`Simd`]: plain rows are vector
//! copies, stride-2 rows (the depthwise planes') are split into their two phases with vector
//! shuffles.

use crate::simd::Simd;
use crate::simd::rows::{copy_exact, copy_over, zero_over};

/// How many channels ahead [`BandLayout::fill`] prefetches the input rows it copies (one
/// line per 16 floats), when the input is larger than L2 (`prefetch_input`): the copy then
/// reads it from L3 or memory, a channel's rows at a time. Measured (2026-11-26, Zen 3, 512
/// KiB L2, one thread, in-process interleaved runs of one plan): resnet50_res3_3x3_s2 (1.6 MB
/// of input) +4%, resnet50_res3_3x3 +1.7%, conv1 / res5 / deeplab unchanged; 1 or 4 channels
/// ahead did the same as 2. On a 2 MiB L2 (2026-11-27, Sapphire Rapids class, alternating
/// runs) it cost res3_3x3_s2 2.1, 1.9 and 2.2%, and res3_3x3, conv1 and deeplab 0.3-0.4%,
/// while vgg16_conv2_2 (6.4 MB) still gained 1.4% (twice): so only inputs past L2 prefetch.
const FILL_PREFETCH_CHANNELS: usize = 2;

/// How the columns of a kept row are laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Columns {
    /// Horizontal stride.
    pub sw: usize,
    /// First padded column of each segment.
    pub bases: Vec<usize>,
    /// Floats per segment.
    pub wq: usize,
    /// Offset of tap column `s` within a row (its segment's start plus its shift).
    pub offsets: Vec<usize>,
}

impl Columns {
    /// Columns for `out_cols` output columns (plus `slack` readable floats per segment) of a
    /// kernel `s` columns wide with stride `sw` and dilation `dw`.
    pub fn new(sw: usize, s: usize, dw: usize, out_cols: usize, slack: usize) -> Columns {
        let dk_w = (s - 1) * dw + 1;
        let phases = Columns::phases(sw, s, dw);
        let phase_wq = out_cols + (dk_w - 1) / sw + slack;
        let tap_wq = out_cols + slack;
        if s * tap_wq < phases.len() * phase_wq {
            // One segment per tap column: padded columns t * dw + q * sw.
            Columns { sw, bases: (0..s).map(|t| t * dw).collect(), wq: tap_wq, offsets: (0..s).map(|t| t * tap_wq).collect() }
        } else {
            let offsets =
                (0..s).map(|t| phases.binary_search(&((t * dw) % sw)).expect("a used phase") * phase_wq + (t * dw) / sw).collect();
            Columns { sw, bases: phases, wq: phase_wq, offsets }
        }
    }

    /// The column phases (`(t * dw) % sw`) that the taps of a kernel `s` columns wide read,
    /// ascending.
    pub fn phases(sw: usize, s: usize, dw: usize) -> Vec<usize> {
        let mut phases: Vec<usize> = (0..s).map(|t| (t * dw) % sw).collect();
        phases.sort_unstable();
        phases.dedup();
        phases
    }

    /// Floats per kept row.
    pub fn row_len(&self) -> usize {
        self.bases.len() * self.wq
    }

    /// Fills one kept row (`dst`, [`Columns::row_len`] floats at `at`) from input row `src`
    /// (`w` floats) with `pl` columns of left padding. Plain rows and stride-2 phase pairs go
    /// in whole vectors (plain rows' last vector may run on into the next row, written
    /// afterwards, but never past `dst`); anything else column by column.
    ///
    /// `data_only`: write only the positions that hold input columns, nothing else (the
    /// padding is already zero and must stay so): plain rows' last vector then overlaps its
    /// predecessor instead of running on.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn fill_row<S: Simd>(&self, s: S, dst: &mut [f32], at: usize, x: &[f32], src_at: usize, w: usize, pl: usize, data_only: bool) {
        let wq = self.wq;
        if data_only && self.sw == 1 && self.bases == [0] {
            let lead = pl.min(wq);
            copy_exact(s, dst, at + lead, x, src_at, w.min(wq - lead));
            return;
        }
        if self.sw == 1 && self.bases == [0] {
            // Zeros, the input row, zeros.
            let lead = pl.min(wq);
            let len = w.min(wq - lead);
            zero_over(s, dst, at, lead);
            copy_over(s, dst, at + lead, x, src_at, len);
            zero_over(s, dst, at + lead + len, wq - lead - len);
            return;
        }
        let src = &x[src_at..src_at + w];
        let row = &mut dst[at..at + self.row_len()];
        let value = |pc: usize| if pc >= pl && pc - pl < w { src[pc - pl] } else { 0.0 };
        let mut q0 = 0;
        if self.sw == 2 && (self.bases == [0, 1] || self.bases == [0]) {
            // Interior columns: q with 2q >= pl and 2q + 1 < pl + w, in whole vectors of q:
            // 2 * LANES consecutive inputs deinterleaved into the two phases.
            let l = S::LANES;
            let qa = pl.div_ceil(2).min(wq);
            let qb = ((w + pl) / 2).min(wq).max(qa);
            if !data_only {
                for q in 0..qa {
                    for (i, &b) in self.bases.iter().enumerate() {
                        row[i * wq + q] = value(q * 2 + b);
                    }
                }
            }
            let mut q = qa;
            while q < qb && qb - qa >= l {
                // The last vector ends at `qb`, overlapping its predecessor, so only the
                // padded edges go column by column.
                let at = q.min(qb - l);
                // SAFETY: inputs `2at - pl .. 2(at + l) - pl <= w` lie in `src` (qa <= at,
                // at + l <= qb); outputs `i * wq + at .. + l <= (i + 1) * wq` lie in `row`.
                unsafe {
                    let p = src.as_ptr().add(2 * at - pl);
                    let (even, odd) = s.deinterleave(s.load(p), s.load(p.add(l)));
                    s.store(row.as_mut_ptr().add(at), even);
                    if self.bases.len() == 2 {
                        s.store(row.as_mut_ptr().add(wq + at), odd);
                    }
                }
                q = at + l;
            }
            if data_only {
                // The input columns outside the vectors: `q` from the first whose column is
                // an input column to the last, less the range the vectors wrote.
                for (i, &b) in self.bases.iter().enumerate() {
                    // The stride as a constant: a division per row and phase was a fifth
                    // of mobilenetv2_dw_s2's fill.
                    let (lo, hi) = data_range(2, self.wq, b, w, pl);
                    for qq in (lo..hi.min(qa)).chain(lo.max(q)..hi) {
                        row[i * wq + qq] = src[qq * 2 + b - pl];
                    }
                }
                return;
            }
            q0 = q;
        }
        for (i, &b) in self.bases.iter().enumerate() {
            if data_only {
                let (lo, hi) = data_range(self.sw, self.wq, b, w, pl);
                for qq in lo..hi {
                    row[i * wq + qq] = src[qq * self.sw + b - pl];
                }
                continue;
            }
            for (q, d) in row[i * wq..(i + 1) * wq].iter_mut().enumerate().skip(q0) {
                *d = value(q * self.sw + b);
            }
        }
    }
}

/// The positions `q` (within a segment of `wq`) whose padded column `q * sw + base` is an
/// input column (`pl .. pl + w`).
#[inline(always)]
fn data_range(sw: usize, wq: usize, base: usize, w: usize, pl: usize) -> (usize, usize) {
    let lo = pl.saturating_sub(base).div_ceil(sw);
    let hi = (pl + w).saturating_sub(base).div_ceil(sw).min(wq);
    (lo.min(hi), hi)
}

/// Where the padded rows of a band come from and how the band is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BandLayout {
    pub h: usize,
    pub w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub columns: Columns,
    /// Band offset between consecutive output columns: 1 in phase-split rows, `sw` in plain
    /// rows of a strided layer.
    pub col_step: usize,
    /// Distance between channels in the band buffer (`max rows * row length`).
    pub channel_stride: usize,
    /// Vertical stride and dilation, kernel height.
    pub sh: usize,
    pub dh: usize,
    pub r: usize,
    /// One row per (output row, kernel row) instead of a contiguous range.
    pub gathered: bool,
    /// Whether [`BandLayout::fill`] prefetches the input rows it copies (the plan sets it
    /// when a group's input is larger than L2; see [`FILL_PREFETCH_CHANNELS`]).
    pub prefetch_input: bool,
}

impl BandLayout {
    /// The layout for bands of up to `out_rows` output rows `ow` wide, an `r x s` kernel with
    /// strides `(sh, sw)` and dilations `(dh, dw)`. With `Some(slack)` the rows are always
    /// phase-split (`col_step == 1`: output column `ow` of tap column `s` at `offset[s] + ow`)
    /// and every segment holds `slack` readable floats past its last output column (the rows
    /// tile's whole-vector loads).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        h: usize,
        w: usize,
        pad_top: usize,
        pad_left: usize,
        (sh, sw): (usize, usize),
        (dh, dw): (usize, usize),
        (r, s): (usize, usize),
        ow: usize,
        out_rows: usize,
        split_slack: Option<usize>,
    ) -> BandLayout {
        // Dense tiles address each pixel through an offset, so strided rows need no phase
        // split: when the taps read every phase (the row is read whole), rows are kept as
        // plain padded rows, copied as they are, and the tiles step `sw` columns per output
        // column. Measured against phase-split rows (2026-11-26, Zen 3, one thread,
        // interleaved): resnet50_res3_3x3_s2 +6-12%, resnet50_conv1 +3%.
        let (columns, col_step) = if let Some(slack) = split_slack {
            (Columns::new(sw, s, dw, ow, slack), 1)
        } else if sw > 1 && Columns::phases(sw, s, dw).len() == sw {
            (Columns::new(1, s, dw, (ow - 1) * sw + 1, 0), sw)
        } else {
            (Columns::new(sw, s, dw, ow, 0), 1)
        };
        let contiguous = (out_rows - 1) * sh + (r - 1) * dh + 1;
        let gathered = contiguous > out_rows * r;
        let rows = if gathered { out_rows * r } else { contiguous };
        BandLayout {
            h,
            w,
            pad_top,
            pad_left,
            channel_stride: rows * columns.row_len(),
            columns,
            col_step,
            sh,
            dh,
            r,
            gathered,
            prefetch_input: false,
        }
    }

    /// Band offset between consecutive output rows.
    pub fn row_step(&self) -> usize {
        if self.gathered { self.r * self.row_len() } else { self.sh * self.row_len() }
    }

    /// Band offset between consecutive kernel rows.
    pub fn tap_row_step(&self) -> usize {
        if self.gathered { self.row_len() } else { self.dh * self.row_len() }
    }

    /// Floats per kept row.
    pub fn row_len(&self) -> usize {
        self.columns.row_len()
    }

    /// Offset of tap column `s` from its output column's position.
    pub fn column_offset(&self, s: usize) -> usize {
        self.columns.offsets[s]
    }

    /// Copies the rows that output rows `oh0 .. oh0 + out_rows` read, of `channels` channels
    /// of `x` (`channels x h x w`), into `band`.
    #[inline(always)]
    pub fn fill<S: Simd>(&self, s: S, x: &[f32], channels: usize, oh0: usize, out_rows: usize, band: &mut [f32]) {
        let row_len = self.row_len();
        let rows = if self.gathered { out_rows * self.r } else { (out_rows - 1) * self.sh + (self.r - 1) * self.dh + 1 };
        let padded_row = |i: usize| if self.gathered { (oh0 + i / self.r) * self.sh + (i % self.r) * self.dh } else { oh0 * self.sh + i };
        // Input rows this band reads (clipped to the image), prefetched a few channels ahead.
        let first = padded_row(0).saturating_sub(self.pad_top).min(self.h);
        let end = (padded_row(rows - 1) + 1).saturating_sub(self.pad_top).min(self.h);
        for c in 0..channels {
            if self.prefetch_input && c + FILL_PREFETCH_CHANNELS < channels {
                let plane = (c + FILL_PREFETCH_CHANNELS) * self.h;
                let mut q = (plane + first) * self.w;
                while q < (plane + end) * self.w {
                    s.prefetch(x.as_ptr().wrapping_add(q));
                    q += 16;
                }
            }
            for i in 0..rows {
                let at = c * self.channel_stride + i * row_len;
                let pr = padded_row(i);
                if pr < self.pad_top || pr - self.pad_top >= self.h {
                    zero_over(s, band, at, row_len);
                } else {
                    let src_at = (c * self.h + pr - self.pad_top) * self.w;
                    self.columns.fill_row(s, band, at, x, src_at, self.w, self.pad_left, false);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Scalar;

    /// `data_only` writes exactly the input columns: on a zeroed row it gives what a full fill
    /// gives, and on a NaN-filled row it leaves every padding position alone.
    #[test]
    fn data_only_fill_writes_only_input_columns() {
        for (sw, s, dw) in [(1, 3, 1), (2, 3, 1), (2, 1, 1), (2, 3, 2), (3, 3, 1), (1, 3, 40), (2, 5, 3)] {
            for (w, pl, out_cols) in [(1, 0, 1), (9, 1, 4), (17, 2, 9), (40, 0, 20), (33, 5, 16), (6, 9, 8)] {
                let c = Columns::new(sw, s, dw, out_cols, 1);
                let x: Vec<f32> = (0..w).map(|i| i as f32 + 1.0).collect();
                let len = c.row_len();
                let mut full = vec![0.0; len + 8];
                c.fill_row(Scalar, &mut full, 3, &x, 0, w, pl, false);
                let mut zeroed = vec![0.0; len + 8];
                c.fill_row(Scalar, &mut zeroed, 3, &x, 0, w, pl, true);
                assert_eq!(full[3..3 + len], zeroed[3..3 + len], "sw {sw} s {s} dw {dw} w {w} pl {pl}");
                let mut nan = vec![f32::NAN; len + 8];
                c.fill_row(Scalar, &mut nan, 3, &x, 0, w, pl, true);
                for (i, (&a, &b)) in nan.iter().zip(&full).enumerate() {
                    let inside = (3..3 + len).contains(&i) && b != 0.0;
                    assert_eq!(inside, !a.is_nan(), "position {i}: sw {sw} s {s} dw {dw} w {w} pl {pl}");
                    if inside {
                        assert_eq!(a, b);
                    }
                }
            }
        }
    }
}
