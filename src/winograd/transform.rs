//! Winograd F(4x4, 3x3) input and output transforms, written once over [`Simd`], with one
//! vector lane per tile (6x6 input tiles, 4x4 output tiles).
//!
//! The input arrives as a zero-padded band whose rows are split into `M` phases (phase `p`
//! holds padded columns `p, p + M, p + 2M, ..`), so element `j` of `LANES` consecutive tiles
//! is one contiguous vector: `phase[j % M][tx + j / M ..]`. Transforms are small constant
//! matrix products; the coefficient tables are constants, so after inlining the zero terms
//! vanish and `+-1` terms become additions.

use crate::epilogue::Epilogue;
use crate::simd::Simd;

/// Input tile extent.
pub(crate) const ALPHA: usize = 6;
/// Output tile extent (and the number of band phases).
pub(crate) const M: usize = 4;

/// `B^T x` for F(4x4, 3x3), with shared subexpressions (13 operations):
/// `[4x0 - 5x2 + x4, (x4 - 4x2) + (x3 - 4x1), (x4 - 4x2) - (x3 - 4x1),
///   (x4 - x2) + 2(x3 - x1), (x4 - x2) - 2(x3 - x1), 4x1 - 5x3 + x5]`.
#[inline(always)]
fn bt4<S: Simd>(s: S, x: [S::V; 6]) -> [S::V; 6] {
    let (four, five, two) = (s.splat(4.0), s.splat(-5.0), s.splat(2.0));
    let m4 = s.splat(-4.0);
    let t0 = s.fma(m4, x[2], x[4]);
    let t1 = s.fma(m4, x[1], x[3]);
    let t2 = s.sub(x[4], x[2]);
    let t3 = s.mul(two, s.sub(x[3], x[1]));
    [
        s.fma(four, x[0], s.fma(five, x[2], x[4])),
        s.add(t0, t1),
        s.sub(t0, t1),
        s.add(t2, t3),
        s.sub(t2, t3),
        s.fma(four, x[1], s.fma(five, x[3], x[5])),
    ]
}

/// `A^T m` for F(4x4, 3x3) (10 operations):
/// `[m0 + (m1 + m2) + (m3 + m4), (m1 - m2) + 2(m3 - m4), (m1 + m2) + 4(m3 + m4),
///   (m1 - m2) + 8(m3 - m4) + m5]`.
#[inline(always)]
fn at4<S: Simd>(s: S, m: [S::V; 6]) -> [S::V; 4] {
    let a = s.add(m[1], m[2]);
    let b = s.sub(m[1], m[2]);
    let c = s.add(m[3], m[4]);
    let d = s.sub(m[3], m[4]);
    [s.add(s.add(m[0], a), c), s.fma(s.splat(2.0), d, b), s.fma(s.splat(4.0), c, a), s.add(s.fma(s.splat(8.0), d, b), m[5])]
}

/// `B^T d B` for `LANES` tiles: `d[i][j]` is element (i, j) of every lane's tile.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn input_tile<S: Simd>(s: S, d: &[[S::V; 6]; 6]) -> [[S::V; 6]; 6] {
    // Columns: t[.][j] = B^T d[.][j]; rows: v[i][.] = B^T t[i][.] (that is, (t B)[i][.]).
    let mut t = [[s.zero(); 6]; 6];
    for j in 0..6 {
        let r = bt4(s, [d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]]);
        for i in 0..6 {
            t[i][j] = r[i];
        }
    }
    // Explicit loops, not `array::map`: a closure passed to std would be compiled outside the
    // tier's target features, and its vector operations would become calls.
    let mut v = [[s.zero(); 6]; 6];
    for i in 0..6 {
        v[i] = bt4(s, t[i]);
    }
    v
}

/// `A^T m A` for `LANES` tiles.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(crate) fn output_tile<S: Simd>(s: S, m: &[[S::V; 6]; 6]) -> [[S::V; 4]; 4] {
    let mut u = [[s.zero(); 6]; 4];
    for j in 0..6 {
        let r = at4(s, [m[0][j], m[1][j], m[2][j], m[3][j], m[4][j], m[5][j]]);
        for i in 0..4 {
            u[i][j] = r[i];
        }
    }
    let mut y = [[s.zero(); 4]; 4];
    for i in 0..4 {
        y[i] = at4(s, u[i]);
    }
    y
}

/// Geometry of a band of padded input rows split into `M` phases.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Band {
    pub h: usize,
    pub w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    /// Floats per phase row: tiles per row + 1 + one vector of slack.
    pub wq: usize,
    /// Padded rows per channel in the band.
    pub rows: usize,
}

impl Band {
    /// Floats per channel.
    pub fn channel_len(&self, m: usize) -> usize {
        self.rows * m * self.wq
    }
}

/// Copies padded rows `pr0 .. pr0 + band.rows` of `channels` channels of `x` into `dst`, each
/// row split into `M` phases. `staging` holds one padded row (`M * wq` floats).
#[inline(always)]
pub(crate) fn fill_band<S: Simd>(s: S, band: &Band, x: &[f32], channels: usize, pr0: usize, dst: &mut [f32], staging: &mut [f32]) {
    use crate::simd::rows::{copy_over, zero_over};
    let row_len = M * band.wq;
    let staging = &mut staging[..row_len];
    let lead = band.pad_left.min(row_len);
    let len = band.w.min(row_len - lead);
    for c in 0..channels {
        for r in 0..band.rows {
            let at = (c * band.rows + r) * row_len;
            let pr = pr0 + r;
            if pr < band.pad_top || pr - band.pad_top >= band.h {
                zero_over(s, dst, at, row_len);
                continue;
            }
            let src_at = (c * band.h + pr - band.pad_top) * band.w;
            zero_over(s, staging, 0, lead);
            copy_over(s, staging, lead, x, src_at, len);
            zero_over(s, staging, lead + len, row_len - lead - len);
            let out = &mut dst[at..at + row_len];
            let mut q0 = 0;
            let l = S::LANES;
            {
                // Four phases at once: two rounds of deinterleaving 4 * LANES floats.
                while q0 + l <= band.wq {
                    // SAFETY: floats `4 * q0 .. 4 * (q0 + l) <= 4 * wq` of `staging` and
                    // `p * wq + q0 .. + l <= 4 * wq` of `out`.
                    unsafe {
                        let src = staging.as_ptr().add(4 * q0);
                        let (e1, o1) = s.deinterleave(s.load(src), s.load(src.add(l)));
                        let (e2, o2) = s.deinterleave(s.load(src.add(2 * l)), s.load(src.add(3 * l)));
                        let (p0, p2) = s.deinterleave(e1, e2);
                        let (p1, p3) = s.deinterleave(o1, o2);
                        let dst = out.as_mut_ptr().add(q0);
                        s.store(dst, p0);
                        s.store(dst.add(band.wq), p1);
                        s.store(dst.add(2 * band.wq), p2);
                        s.store(dst.add(3 * band.wq), p3);
                    }
                    q0 += l;
                }
            }
            for (q, chunk) in staging.chunks_exact(M).enumerate().skip(q0) {
                for (p, v) in chunk.iter().enumerate() {
                    out[p * band.wq + q] = *v;
                }
            }
        }
    }
}

/// Input transform of one channel of a chunk: tile rows `0 .. tile_rows` (tile row `tr`
/// starts at band row `M * tr`) of `tw` tiles each, into `v[xi * v_xi + t]` for tile
/// `t = tr * tw + tx`. Vectors may run past a tile row's last tile into the next row's
/// first tiles (written afterwards) or into the `LANES` floats of slack after the chunk.
///
/// # Safety
/// `band` holds `tile_rows * M + 2` rows of `M * wq` floats from `band`'s start; `v` is
/// writable at `xi * v_xi + t` for `xi < ALPHA * ALPHA` and `t < tile_rows * tw + LANES`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn input_channel<S: Simd>(s: S, band: *const f32, wq: usize, tile_rows: usize, tw: usize, v: *mut f32, v_xi: usize) {
    let l = S::LANES;
    for tr in 0..tile_rows {
        let mut tx = 0;
        while tx < tw {
            let mut d = [[s.zero(); ALPHA]; ALPHA];
            for (i, row) in d.iter_mut().enumerate() {
                // SAFETY: band row `tr * M + i < tile_rows * M + 2`; phase `j % M`, index
                // `tx + j / M + l <= tw - 1 + 1 + l <= wq`.
                let base = unsafe { band.add((tr * M + i) * M * wq) };
                for (j, e) in row.iter_mut().enumerate() {
                    *e = unsafe { s.load(base.add((j % M) * wq + tx + j / M)) };
                }
            }
            let out = input_tile(s, &d);
            let t = tr * tw + tx;
            for (i, row) in out.iter().enumerate() {
                for (j, e) in row.iter().enumerate() {
                    // SAFETY: `t + l <= tile_rows * tw + l` (the caller's bound).
                    unsafe { s.store(v.add((i * ALPHA + j) * v_xi + t), *e) };
                }
            }
            tx += l;
        }
    }
}

/// Output transform of one output channel of a chunk, with bias and activation, stored into
/// NCHW rows `oh0 ..` of `out` (only pixels inside `oh x ow`).
///
/// # Safety
/// `m` is readable at `xi * m_xi + t` for `xi < ALPHA * ALPHA`, `t < tile_rows * tw + LANES`;
/// `out` is the output plane (`oh * ow` floats) of this channel.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn output_channel<S: Simd>(
    s: S,
    m: *const f32,
    m_xi: usize,
    tile_rows: usize,
    tw: usize,
    oh0: usize,
    (oh, ow): (usize, usize),
    out: *mut f32,
    epi: &Epilogue<'_>,
    k: usize,
) {
    let l = S::LANES;
    assert!(l <= 16, "output buffer holds 16 lanes");
    let bias = epi.has_bias().then(|| s.splat(epi.bias_of(k)));
    let mut buf = [[[0.0f32; 16]; M]; M];
    for tr in 0..tile_rows {
        let mut tx = 0;
        while tx < tw {
            let t = tr * tw + tx;
            let mut mm = [[s.zero(); ALPHA]; ALPHA];
            for (i, row) in mm.iter_mut().enumerate() {
                for (j, e) in row.iter_mut().enumerate() {
                    // SAFETY: `t + l <= tile_rows * tw + l` (the caller's bound).
                    *e = unsafe { s.load(m.add((i * ALPHA + j) * m_xi + t)) };
                }
            }
            let y = output_tile(s, &mm);
            if tx + l <= tw && (tx + l) * 4 <= ow {
                // Whole vectors of tiles inside the row: interleave the 4 columns of every
                // tile into 4 * LANES consecutive pixels per output row.
                for (i, yi) in y.iter().enumerate() {
                    let row = oh0 + tr * M + i;
                    if row >= oh {
                        break;
                    }
                    let mut v = [s.zero(); M];
                    for j in 0..M {
                        v[j] = epi.apply_with(s, yi[j], bias);
                    }
                    let (e_lo, e_hi) = s.interleave(v[0], v[2]);
                    let (o_lo, o_hi) = s.interleave(v[1], v[3]);
                    let (a, b) = s.interleave(e_lo, o_lo);
                    let (c, d) = s.interleave(e_hi, o_hi);
                    // SAFETY: `row < oh` and columns `tx * 4 .. (tx + l) * 4 <= ow`.
                    unsafe {
                        let p = out.add(row * ow + tx * 4);
                        s.store(p, a);
                        s.store(p.add(l), b);
                        s.store(p.add(2 * l), c);
                        s.store(p.add(3 * l), d);
                    }
                }
                tx += l;
                continue;
            }
            for i in 0..M {
                for j in 0..M {
                    let v = epi.apply_with(s, y[i][j], bias);
                    // SAFETY: `buf[i][j]` holds 16 >= LANES floats (asserted below).
                    unsafe { s.store(buf[i][j].as_mut_ptr(), v) };
                }
            }
            let lanes = l.min(tw - tx);
            for (i, bi) in buf.iter().enumerate() {
                let row = oh0 + tr * M + i;
                if row >= oh {
                    break;
                }
                for lane in 0..lanes {
                    let col0 = (tx + lane) * M;
                    for (j, bij) in bi.iter().enumerate().take(ow.saturating_sub(col0).min(M)) {
                        // SAFETY: `row < oh` and `col0 + j < ow`: inside the plane.
                        unsafe { out.add(row * ow + col0 + j).write(bij[lane]) };
                    }
                }
            }
            tx += l;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Scalar;
    use crate::winograd::matrices::F4X4;

    /// The hand-coded transforms are exactly the matrices (column by column on unit vectors).
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn hand_coded_transforms_equal_the_matrices() {
        for k in 0..6 {
            let e: [f32; 6] = std::array::from_fn(|i| if i == k { 1.0 } else { 0.0 });
            let b = bt4(Scalar, e);
            let a = at4(Scalar, e);
            for i in 0..6 {
                assert_eq!(b[i] as f64, F4X4.bt[i][k], "B^T[{i}][{k}]");
            }
            for i in 0..4 {
                assert_eq!(a[i] as f64, F4X4.at[i][k], "A^T[{i}][{k}]");
            }
        }
    }
}
