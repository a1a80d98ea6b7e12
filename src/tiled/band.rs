//! Zero-padded input bands: the rows of the padded input that a range of output rows reads,
//! copied once per task so the kernels' inner loops never test for borders.
//!
//! A band holds, for each input channel of a group, `rows` consecutive rows of the padded
//! input (padded row `pr` is input row `pr - pad_top`, or zeros), each `wp` columns wide
//! (padded column `pc` is input column `pc - pad_left`, or zero). Channel `c` starts at
//! `c * channel_stride`.
#![forbid(unsafe_code)]

/// Where the padded rows of a band come from and how the band is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BandLayout {
    pub h: usize,
    pub w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    /// Columns kept per row: `(ow - 1) * stride_w + dilated kernel width`.
    pub wp: usize,
    /// Distance between channels in the band buffer (`max rows * wp`).
    pub channel_stride: usize,
}

impl BandLayout {
    /// Copies padded rows `pr0 .. pr0 + rows` of `channels` channels of `x` (`channels x h x w`)
    /// into `band`.
    pub fn fill(&self, x: &[f32], channels: usize, pr0: usize, rows: usize, band: &mut [f32]) {
        let (h, w, pl, wp) = (self.h, self.w, self.pad_left, self.wp);
        // Columns of a padded row that hold input: pl .. min(pl + w, wp).
        let copy_end = (pl + w).min(wp);
        let copy_len = copy_end.saturating_sub(pl);
        for c in 0..channels {
            let plane = &x[c * h * w..][..h * w];
            for i in 0..rows {
                let dst = &mut band[c * self.channel_stride + i * wp..][..wp];
                let pr = pr0 + i;
                if pr < self.pad_top || pr - self.pad_top >= h {
                    dst.fill(0.0);
                    continue;
                }
                let src = &plane[(pr - self.pad_top) * w..][..w];
                let lead = pl.min(wp);
                dst[..lead].fill(0.0);
                dst[lead..lead + copy_len].copy_from_slice(&src[..copy_len]);
                dst[lead + copy_len..].fill(0.0);
            }
        }
    }
}
