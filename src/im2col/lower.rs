//! Patch lowering (im2col) of one block: `kc` reduction rows (`c, r, s` taps) by `npix`
//! consecutive output pixels, written row-major into the workspace so the GEMM micro-kernel
//! reads it as its B operand. Padding and dilation are handled here, never in the GEMM: each
//! row of the block is a run of output rows, each a contiguous copy of an input row (stride 1)
//! or a strided gather, with zeros where the tap falls in the padding. When output rows are as
//! wide as the input rows they read (stride-1 "same" padding), a tap's whole output rows are
//! one contiguous copy with their few padding lanes zeroed after it ([`rows_run`]): measured
//! (2026-11-26, avx512, one thread, paired) im2col resnet50_res3_3x3 +13-15%, res4_3x3
//! +14-17%, res5_3x3 +8%, deeplab_dilated_d2 +11%, vgg16_conv2_2 +3%.
//!
//! Written once over [`Simd`]: contiguous runs are copied with the tier's vectors.

use crate::simd::Simd;
use crate::simd::rows::{copy_over, zero_over};

/// One reduction row of the lowered matrix: tap `(c, r, s)` of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tap {
    /// `c * H * W`: the channel's offset in the group's input.
    pub c_off: usize,
    /// `r * dilation_h`: the tap's row offset in the padded input.
    pub rd: usize,
    /// `s * dilation_w`: the tap's column offset in the padded input.
    pub sd: usize,
}

/// The geometry the lowering needs, computed once at plan time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub h: usize,
    pub w: usize,
    pub ow: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pl: usize,
    /// One entry per reduction row, `c`-major then `r`, `s` (the KCRS weight order).
    pub taps: Vec<Tap>,
    /// 1x1, stride 1, no padding: a B row is a slice of an input channel (no im2col).
    pub direct: bool,
    /// Stride 1 along rows and `OW == stride_h * W` (the "same" padding of a stride-1 layer):
    /// consecutive output rows of a tap read input rows exactly `OW` floats apart, so a run of
    /// whole output rows is one contiguous copy plus a few padding lanes per row
    /// ([`rows_run`]).
    pub contiguous_rows: bool,
}

/// The direct case (1x1, stride 1, unpadded: [`Geometry::direct`]) in the GEMM's packed-B
/// order: reduction rows `pc .. pc + kcb` of output pixels `p0 .. p0 + npix`, panel `j` (pixels
/// `j * nr ..`) at `dst[j * kcb * nr ..]`, row `kk` of it at `+ kk * nr`; lanes past `npix`
/// zeroed. A micro-tile then reads one contiguous panel instead of `kcb` rows a chunk apart
/// (one page each).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn copy_panels<S: Simd>(
    s: S,
    g: &Geometry,
    x: &[f32],
    p0: usize,
    npix: usize,
    nr: usize,
    pc: usize,
    kcb: usize,
    dst: &mut [f32],
) {
    debug_assert!(g.direct);
    // Row by row, each row's panels left to right: a partial last panel's overrun (whole
    // vectors) lands in its next row, written afterwards.
    for (kk, tap) in g.taps[pc..pc + kcb].iter().enumerate() {
        let mut j = 0;
        while j < npix {
            let len = nr.min(npix - j);
            let at = (j / nr) * kcb * nr + kk * nr;
            copy_over(s, dst, at, x, tap.c_off + p0 + j, len);
            if len < nr {
                zero_over(s, dst, at + len, nr - len);
            }
            j += nr;
        }
    }
}

/// Lowers reduction rows `pc .. pc + kcb` for output pixels `p0 .. p0 + npix` (flattened
/// `oh * OW + ow`) of one image and group (`x` holds the group's `C/groups x H x W` input).
/// Row `kk` goes to `dst[kk * ldb ..][.. lanes]`; lanes `npix .. lanes` are zeroed
/// (`lanes = npix` rounded up to the micro-kernel width), so every lane the GEMM reads is set.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_block<S: Simd>(
    s: S,
    g: &Geometry,
    x: &[f32],
    p0: usize,
    npix: usize,
    lanes: usize,
    pc: usize,
    kcb: usize,
    ldb: usize,
    dst: &mut [f32],
) {
    // Rows are written in order, each left to right, so a vector that runs past its run is
    // overwritten by the next run (or lands in the row's padding lanes, zeroed last).
    let (oh_start, ow_start) = (p0 / g.ow, p0 % g.ow);
    for (kk, tap) in g.taps[pc..pc + kcb].iter().enumerate() {
        let row0 = kk * ldb;
        if g.direct {
            copy_over(s, dst, row0, x, tap.c_off + p0, npix);
        } else {
            // Walk the chunk one output row at a time. With stride 1 along rows, a whole
            // output row's zero lanes (left and right padding) are the same for every row of
            // the tap: computed once here, so a full row costs one test and its copies.
            let (lo, hi) = if g.sw == 1 { copy_lanes(g, tap.sd, g.ow) } else { (0, 0) };
            let (mut oh, mut ow0) = (oh_start, ow_start);
            let mut j = 0;
            if g.contiguous_rows {
                // A partial first row, then every whole row as one run, then a partial last.
                if ow0 != 0 {
                    let len = npix.min(g.ow - ow0);
                    lower_segment(s, g, tap, x, oh, ow0, dst, row0, len);
                    j = len;
                    oh += 1;
                    ow0 = 0;
                }
                let rows = (npix - j) / g.ow;
                if rows > 0 {
                    rows_run(s, g, tap, x, oh, rows, lo, hi, dst, row0 + j);
                    j += rows * g.ow;
                    oh += rows;
                }
            }
            while j < npix {
                let len = (npix - j).min(g.ow - ow0);
                if g.sw == 1 && len == g.ow {
                    full_row_sw1(s, g, tap, x, oh, lo, hi, dst, row0 + j);
                } else {
                    lower_segment(s, g, tap, x, oh, ow0, dst, row0 + j, len);
                }
                j += len;
                oh += 1;
                ow0 = 0;
            }
        }
        zero_over(s, dst, row0 + npix, lanes - npix);
    }
}

/// With stride 1 along rows: of `len` lanes from output column `ow0`, for a tap at padded
/// column offset `sd`, lanes `lo .. hi` read the image and the others the padding.
#[inline(always)]
fn copy_lanes(g: &Geometry, iwp0: usize, len: usize) -> (usize, usize) {
    // Lane t reads padded column iwp0 + t: valid for pl <= iwp0 + t < pl + w.
    let lo = g.pl.saturating_sub(iwp0).min(len);
    let hi = (g.pl + g.w).saturating_sub(iwp0).min(len).max(lo);
    (lo, hi)
}

/// A whole output row `oh` of one reduction row with stride 1 along rows, its copy lanes
/// `lo .. hi` from [`copy_lanes`], to `dst[at ..][.. ow]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn full_row_sw1<S: Simd>(s: S, g: &Geometry, tap: &Tap, x: &[f32], oh: usize, lo: usize, hi: usize, dst: &mut [f32], at: usize) {
    let ihp = oh * g.sh + tap.rd;
    if ihp < g.pt || ihp >= g.pt + g.h || hi == lo {
        zero_over(s, dst, at, g.ow);
        return;
    }
    zero_over(s, dst, at, lo);
    // `lo < hi <= ow`, so `tap.sd + lo >= pl` (as in `lower_segment`).
    copy_over(s, dst, at + lo, x, tap.c_off + (ihp - g.pt) * g.w + tap.sd + lo - g.pl, hi - lo);
    zero_over(s, dst, at + hi, g.ow - hi);
}

/// Output rows `oh .. oh + rows` (whole rows) of one reduction row, when
/// [`Geometry::contiguous_rows`], to `dst[at ..][.. rows * ow]`; `lo .. hi` are the tap's copy
/// lanes from [`copy_lanes`]. The rows whose input row lies in the image are one contiguous
/// copy (input rows `OW` apart land `OW` apart); their padding lanes, which the copy filled
/// with the neighbouring row's ends, are zeroed afterwards, one float at a time (no overrun
/// into the next row's data).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_run<S: Simd>(s: S, g: &Geometry, tap: &Tap, x: &[f32], oh: usize, rows: usize, lo: usize, hi: usize, dst: &mut [f32], at: usize) {
    let ow = g.ow;
    // Output rows whose input row `oh * sh + rd` (padded) lies in `pt .. pt + h`.
    let first = g.pt.saturating_sub(tap.rd).div_ceil(g.sh).clamp(oh, oh + rows);
    let end = (g.pt + g.h).saturating_sub(tap.rd).div_ceil(g.sh).clamp(first, oh + rows);
    if hi == lo || first == end {
        zero_over(s, dst, at, rows * ow);
        return;
    }
    // Left to right, so each overrun lands where a later write covers it.
    zero_over(s, dst, at, (first - oh) * ow);
    let start = at + (first - oh) * ow;
    // `lo < hi <= ow`, so `tap.sd + lo >= pl` (as in `lower_segment`); the run ends at lane
    // `hi` of its last row, inside that input row.
    let src = tap.c_off + (first * g.sh + tap.rd - g.pt) * g.w + tap.sd + lo - g.pl;
    copy_over(s, dst, start + lo, x, src, (end - first - 1) * ow + hi - lo);
    zero_over(s, dst, start + (end - first - 1) * ow + hi, (oh + rows - end) * ow + ow - hi);
    // The padding lanes the run copied over: the first row's left ones, then each row's right
    // ones with the next row's left ones (adjacent in `dst`). The last row's right lanes were
    // zeroed with the rows below.
    dst[start..start + lo].fill(0.0);
    for r in 1..end - first {
        dst[start + (r - 1) * ow + hi..start + r * ow + lo].fill(0.0);
    }
}

/// Output row `oh`, columns `ow0 .. ow0 + len` of one reduction row, to `dst[at ..][.. len]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lower_segment<S: Simd>(s: S, g: &Geometry, tap: &Tap, x: &[f32], oh: usize, ow0: usize, dst: &mut [f32], at: usize, len: usize) {
    // Row of the tap in padded coordinates; inside the image when pt <= ihp < pt + h.
    let ihp = oh * g.sh + tap.rd;
    if ihp < g.pt || ihp >= g.pt + g.h {
        zero_over(s, dst, at, len);
        return;
    }
    let row = tap.c_off + (ihp - g.pt) * g.w;
    if g.sw == 1 {
        let iwp0 = ow0 + tap.sd;
        let (lo, hi) = copy_lanes(g, iwp0, len);
        zero_over(s, dst, at, lo);
        if hi > lo {
            // `lo < len`, so `lo = pl - iwp0` or 0 with `iwp0 >= pl`: `iwp0 + lo >= pl`. (When
            // the whole segment lies in the left padding, `iwp0 + len < pl` and this offset
            // would underflow: found by cargo fuzz with overflow checks.)
            copy_over(s, dst, at + lo, x, row + iwp0 + lo - g.pl, hi - lo);
        }
        zero_over(s, dst, at + hi, len - hi);
    } else {
        let src = &x[row..row + g.w];
        for (t, v) in dst[at..at + len].iter_mut().enumerate() {
            let iwp = (ow0 + t) * g.sw + tap.sd;
            *v = if iwp >= g.pl && iwp < g.pl + g.w { src[iwp - g.pl] } else { 0.0 };
        }
    }
}
