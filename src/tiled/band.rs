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
#![forbid(unsafe_code)]

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
    pub fn fill(&self, x: &[f32], channels: usize, oh0: usize, out_rows: usize, band: &mut [f32]) {
        let (h, w, pl, wq) = (self.h, self.w, self.pad_left, self.wq);
        let row_len = self.row_len();
        let rows = if self.gathered { out_rows * self.r } else { (out_rows - 1) * self.sh + (self.r - 1) * self.dh + 1 };
        let padded_row = |i: usize| if self.gathered { (oh0 + i / self.r) * self.sh + (i % self.r) * self.dh } else { oh0 * self.sh + i };
        for c in 0..channels {
            let plane = &x[c * h * w..][..h * w];
            for i in 0..rows {
                let dst = &mut band[c * self.channel_stride + i * row_len..][..row_len];
                let pr = padded_row(i);
                if pr < self.pad_top || pr - self.pad_top >= h {
                    dst.fill(0.0);
                    continue;
                }
                let src = &plane[(pr - self.pad_top) * w..][..w];
                if self.sw == 1 {
                    // Columns pl .. min(pl + w, wq) hold input.
                    let lead = pl.min(wq);
                    let len = w.min(wq - lead);
                    dst[..lead].fill(0.0);
                    dst[lead..lead + len].copy_from_slice(&src[..len]);
                    dst[lead + len..].fill(0.0);
                } else {
                    for ph in 0..self.phases {
                        for (q, d) in dst[ph * wq..(ph + 1) * wq].iter_mut().enumerate() {
                            let pc = q * self.sw + ph;
                            *d = if pc >= pl && pc - pl < w { src[pc - pl] } else { 0.0 };
                        }
                    }
                }
            }
        }
    }
}
