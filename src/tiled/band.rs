//! Zero-padded input bands: the rows of the padded input that a range of output rows reads,
//! copied once per task so the kernels' inner loops never test for borders.
//!
//! A band holds, for each input channel of a group, the rows of the padded input that its
//! output rows read (padded row `pr` is input row `pr - pad_top`, or zeros): either a
//! contiguous range of padded rows (the usual case: rows shared by neighbouring output rows
//! are copied once), or, when strides or dilation would leave most of that range unread, one
//! row per (output row, kernel row) pair ("gathered"). Either way tap row `r` of output row
//! `oh` is at `(oh - oh0) * row_step + r * tap_row_step`. Each row is split into
//! `phases` phase rows of `wq` floats: phase `ph` holds padded columns `ph, ph + sw, ph + 2 sw,
//! ..` (padded column `pc` is input column `pc - pad_left`, or zero). Output column `ow`, tap
//! column `s` reads phase `(s * dw) % sw` at index `ow + (s * dw) / sw`: contiguous in `ow`,
//! and only the phases the taps use are kept (`min(sw, dilated kernel width)`), so the band's
//! size does not grow with the stride. For stride 1 a row is one plain padded row.
//!
//! The fill runs inside the tier's entry point, written over [`Simd`]: plain rows are vector
//! copies, stride-2 rows are split into their two phases with vector shuffles.

use crate::simd::Simd;
use crate::simd::rows::{copy_over, zero_over};

/// Where the padded rows of a band come from and how the band is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BandLayout {
    pub h: usize,
    pub w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Phase rows kept per padded row: `min(sw, dilated kernel width)`.
    pub phases: usize,
    /// Floats per phase row: `ow + (dilated kernel width - 1) / sw`.
    pub wq: usize,
    /// Distance between channels in the band buffer (`max rows * phases * wq`).
    pub channel_stride: usize,
    /// Vertical stride and dilation, kernel height.
    pub sh: usize,
    pub dh: usize,
    pub r: usize,
    /// One row per (output row, kernel row) instead of a contiguous range.
    pub gathered: bool,
}

impl BandLayout {
    /// The layout for bands of up to `out_rows` output rows `ow` wide, a kernel of `r` rows
    /// (stride `sh`, dilation `dh`) and a dilated width `dk_w`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        h: usize,
        w: usize,
        pad_top: usize,
        pad_left: usize,
        (sh, sw): (usize, usize),
        dh: usize,
        (r, dk_w): (usize, usize),
        ow: usize,
        out_rows: usize,
    ) -> BandLayout {
        let phases = sw.min(dk_w);
        let wq = ow + (dk_w - 1) / sw;
        let contiguous = (out_rows - 1) * sh + (r - 1) * dh + 1;
        let gathered = contiguous > out_rows * r;
        let rows = if gathered { out_rows * r } else { contiguous };
        BandLayout { h, w, pad_top, pad_left, sw, phases, wq, channel_stride: rows * phases * wq, sh, dh, r, gathered }
    }

    /// Band offset between consecutive output rows.
    pub fn row_step(&self) -> usize {
        if self.gathered { self.r * self.row_len() } else { self.sh * self.row_len() }
    }

    /// Band offset between consecutive kernel rows.
    pub fn tap_row_step(&self) -> usize {
        if self.gathered { self.row_len() } else { self.dh * self.row_len() }
    }

    /// Floats per padded row.
    pub fn row_len(&self) -> usize {
        self.phases * self.wq
    }

    /// Offset of tap column `sd = s * dilation_w` from its output column's position.
    pub fn column_offset(&self, sd: usize) -> usize {
        (sd % self.sw) * self.wq + sd / self.sw
    }

    /// Copies the rows that output rows `oh0 .. oh0 + out_rows` read, of `channels` channels
    /// of `x` (`channels x h x w`), into `band`.
    #[inline(always)]
    pub fn fill<S: Simd>(&self, s: S, x: &[f32], channels: usize, oh0: usize, out_rows: usize, band: &mut [f32]) {
        let (h, w, pl, wq) = (self.h, self.w, self.pad_left, self.wq);
        let row_len = self.row_len();
        let rows = if self.gathered { out_rows * self.r } else { (out_rows - 1) * self.sh + (self.r - 1) * self.dh + 1 };
        let padded_row = |i: usize| if self.gathered { (oh0 + i / self.r) * self.sh + (i % self.r) * self.dh } else { oh0 * self.sh + i };
        let l = S::LANES;
        for c in 0..channels {
            for i in 0..rows {
                let at = c * self.channel_stride + i * row_len;
                let pr = padded_row(i);
                if pr < self.pad_top || pr - self.pad_top >= h {
                    zero_over(s, band, at, row_len);
                    continue;
                }
                let src_at = (c * h + pr - self.pad_top) * w;
                if self.sw == 1 {
                    // Zeros, the input row, zeros: whole vectors, each running at most into
                    // the next row (written afterwards) and never past the band.
                    let lead = pl.min(wq);
                    let len = w.min(wq - lead);
                    zero_over(s, band, at, lead);
                    copy_over(s, band, at + lead, x, src_at, len);
                    zero_over(s, band, at + lead + len, wq - lead - len);
                    continue;
                }
                let src = &x[src_at..src_at + w];
                let dst = &mut band[at..at + row_len];
                let value = |pc: usize| if pc >= pl && pc - pl < w { src[pc - pl] } else { 0.0 };
                let mut q0 = 0;
                if self.sw == 2 {
                    // Interior columns: q with 2q >= pl and 2q + 1 < pl + w, in whole vectors
                    // of q: 2 * LANES consecutive inputs deinterleaved into the two phases.
                    let qa = pl.div_ceil(2).min(wq);
                    let qb = ((w + pl) / 2).min(wq).max(qa);
                    for q in 0..qa {
                        for ph in 0..self.phases {
                            dst[ph * wq + q] = value(q * 2 + ph);
                        }
                    }
                    let mut q = qa;
                    while q + l <= qb {
                        // SAFETY: inputs `2q - pl .. 2(q + l) - pl <= w` lie in `src`
                        // (q + l <= qb); outputs `ph * wq + q .. + l <= (ph + 1) * wq`.
                        unsafe {
                            let p = src.as_ptr().add(2 * q - pl);
                            let (even, odd) = s.deinterleave(s.load(p), s.load(p.add(l)));
                            s.store(dst.as_mut_ptr().add(q), even);
                            if self.phases == 2 {
                                s.store(dst.as_mut_ptr().add(wq + q), odd);
                            }
                        }
                        q += l;
                    }
                    q0 = q;
                }
                for ph in 0..self.phases {
                    for (q, d) in dst[ph * wq..(ph + 1) * wq].iter_mut().enumerate().skip(q0) {
                        *d = value(q * self.sw + ph);
                    }
                }
            }
        }
    }
}
