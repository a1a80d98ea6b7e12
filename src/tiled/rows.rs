//! The rows tile for dense layers: a register tile of `PV` vectors of output pixels (each
//! `LANES` consecutive pixels of one output row) by `KC` output channels, written once over
//! [`Simd`].
//!
//! For every tap `(c, r, s)` the tile loads `PV` vectors of input (contiguous, since the band
//! it reads is phase-split: output column `ow` of tap column `s` is at `offset[s] + ow`) and
//! broadcasts each channel's packed weight: `PV x KC` FMAs per `PV + KC` loads. Each
//! accumulator is one channel's pixels in NCHW order, so the epilogue stores whole vectors
//! with no transpose (the last vector of a row with a mask). The dense `P x KB` tile instead
//! transposes its `KB` channels' sums into `KB` planes per tile: on resnet50_conv1 (147 taps
//! per 64-channel store) that epilogue bounded the tile at 79% of peak.
//!
//! Tiles per tier (accumulators + pixel vectors + 1 broadcast <= vector registers):
//!
//! | tier | `PV vectors x KC channels` |
//! |---|---|
//! | scalar | 2 x 2 |
//! | portable | 2 x 4 |
//! | avx2 | 2 x 6 |
//! | avx512 | 3 x 8 (4 x 6 ran 5% slower on resnet50_conv1) |
//!
//! A task's vectors (every row of its band, `ceil(ow / LANES)` per row) are taken `PV` at a
//! time, a tile spanning rows where a row ends; the task's last tile repeats its last vector
//! (computed, not stored). The whole reduction runs in one pass: the weights of a channel
//! block are `KC` floats a tap.

use crate::epilogue::Epilogue;
use crate::simd::{Simd, Tier, WithSimd, dispatch};

use super::direct::{DenseInput, DenseWork};

macro_rules! rows_dispatch {
    ($tier:expr, $op:ident ( $($arg:expr),* )) => {
        dispatch!($tier, $op<scalar: 2, 2; portable: 2, 4; avx2: 2, 6; avx512: 3, 8>($($arg),*))
    };
}

struct RowsShape<const PV: usize, const KC: usize>();

impl<const PV: usize, const KC: usize> WithSimd for RowsShape<PV, KC> {
    type Output = (usize, usize, usize);
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (usize, usize, usize) {
        (PV, KC, S::LANES)
    }
}

/// `(vectors, channels, lanes)` of the tier's rows tile.
pub(crate) fn rows_tile(tier: Tier) -> (usize, usize, usize) {
    rows_dispatch!(tier, RowsShape())
}

/// Runs the rows tiles of `work` on `tier`. `work.pixels.col_step` must be 1, the packed
/// weights' block `KC` channels, and every vector's loads (`LANES` floats from an output
/// row's last vector start) inside the band.
///
/// # Safety
/// `work.out` must be valid for writes of channels `blk0 * KC ..` (up to `kg`) of pixels
/// `q0 .. q1` (channel stride `plane`), and no other thread may access them.
pub(crate) unsafe fn run_rows(tier: Tier, work: DenseWork<'_>) {
    rows_dispatch!(tier, RowsOp(work))
}

struct RowsOp<'a, const PV: usize, const KC: usize>(DenseWork<'a>);

impl<const PV: usize, const KC: usize> WithSimd for RowsOp<'_, PV, KC> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let mut w = self.0;
        let l = S::LANES;
        assert!(w.weights.kb == KC && w.q0 < w.q1 && w.pixels.col_step == 1 && w.weights.bias.len() >= w.weights.blocks * KC);
        let x = std::mem::replace(&mut w.input, DenseInput::Direct(&[])).ready(s);
        let ntaps = w.taps.len();
        assert!(ntaps == w.weights.reduction && ntaps > 0);
        let ow = w.pixels.ow;
        // Whole rows only: q0 and q1 are row boundaries.
        assert!(w.q0.is_multiple_of(ow) && w.q1.is_multiple_of(ow), "a rows task covers whole output rows");
        let per_row = ow.div_ceil(l);
        let (oh0, oh1) = (w.q0 / ow, w.q1 / ow);
        let last_start = (per_row - 1) * l;
        let max_off = w.pixels.offset(oh1 - 1, last_start) + l;
        assert!(max_off + w.taps[ntaps - 1] <= x.len(), "band too small for the row vectors");
        let vectors = (oh1 - oh0) * per_row;
        for blk in w.blk0..w.blk1 {
            let wblk = w.weights.block(w.group, blk);
            let bias = w.epilogue.has_bias().then(|| w.weights.bias(w.group, blk));
            let kvalid = KC.min(w.kg - blk * KC);
            // The next vector's row and first column (no division per vector: on a 32-tap
            // reduction those cost a fifth of the tile).
            let (mut oh, mut col) = (oh0, 0);
            let mut v0 = 0;
            while v0 < vectors {
                let mut offs = [0usize; PV];
                let mut outs = [0usize; PV];
                let mut valid = [0usize; PV];
                for i in 0..PV {
                    if v0 + i < vectors {
                        offs[i] = w.pixels.offset(oh, col);
                        outs[i] = oh * ow + col - w.q0;
                        valid[i] = l.min(ow - col);
                        col += l;
                        if col >= ow {
                            col = 0;
                            oh += 1;
                        }
                    } else {
                        // The task's last tile: repeat its last vector (computed, not stored).
                        offs[i] = offs[i - 1];
                        outs[i] = outs[i - 1];
                    }
                }
                // SAFETY: every vector's loads end at or before `max_off` plus the last tap
                // (asserted inside `x`); the block's packed weights hold `ntaps * KC` floats
                // and its bias `KC`; output channels `blk * KC .. + kvalid`, pixels
                // `q0 + outs[i] .. + valid[i]` are this task's (the caller's contract).
                unsafe {
                    rows_tile_run::<S, PV, KC>(
                        s,
                        x.as_ptr(),
                        &offs,
                        w.taps,
                        wblk.as_ptr(),
                        bias,
                        &w.epilogue,
                        w.out.get().add(blk * KC * w.plane + w.q0),
                        w.plane,
                        &outs,
                        &valid,
                        kvalid,
                    )
                };
                v0 += PV;
            }
        }
    }
}

/// One `PV x KC` tile over every tap, then bias, activation and the stores.
///
/// # Safety
/// `x + offs[i] + taps[t] .. + LANES` readable for all `i, t`; `w` holds `taps.len() * KC`
/// floats, `bias` (if any) `KC`; `out + k * plane + outs[i] .. + valid[i]` writable for
/// `k < kvalid`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rows_tile_run<S: Simd, const PV: usize, const KC: usize>(
    s: S,
    x: *const f32,
    offs: &[usize; PV],
    taps: &[usize],
    w: *const f32,
    bias: Option<&[f32]>,
    epi: &Epilogue<'_>,
    out: *mut f32,
    plane: usize,
    outs: &[usize; PV],
    valid: &[usize; PV],
    kvalid: usize,
) {
    let mut acc = [[s.zero(); PV]; KC];
    let mut wp = w;
    for &t in taps {
        // SAFETY: the caller guarantees these reads are in bounds.
        unsafe {
            let xt = x.add(t);
            let mut xv = [s.zero(); PV];
            for (i, slot) in xv.iter_mut().enumerate() {
                *slot = s.load(xt.add(offs[i]));
            }
            for (k, row) in acc.iter_mut().enumerate() {
                let b = s.broadcast(wp.add(k));
                for (a, xi) in row.iter_mut().zip(&xv) {
                    *a = s.fma(*xi, b, *a);
                }
            }
            wp = wp.add(KC);
        }
    }
    for (k, row) in acc.iter().enumerate().take(kvalid) {
        // SAFETY: the bias holds `KC > k` floats.
        #[allow(clippy::manual_map)]
        let b = match bias {
            Some(b) => Some(unsafe { s.broadcast(b.as_ptr().add(k)) }),
            None => None,
        };
        for (i, a) in row.iter().enumerate() {
            let y = epi.apply_with(s, *a, b);
            // SAFETY: channel `k < kvalid`, pixels `outs[i] .. + valid[i]` are writable (the
            // caller's contract); `valid[i] <= LANES`.
            unsafe {
                let o = out.add(k * plane + outs[i]);
                if valid[i] == S::LANES {
                    s.store(o, y);
                } else if valid[i] > 0 {
                    s.store_partial(o, valid[i], y);
                }
            }
        }
    }
}
