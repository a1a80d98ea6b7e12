//! Winograd F(2x2, 3x3), F(4x4, 3x3) and F(6x6, 3x3) input and output transforms, written once over
//! [`Simd`] and the [`TileTransform`] of a variant, with one vector lane per tile.
//!
//! The input arrives as a zero-padded band whose rows are split into `M` phases (phase `p`
//! holds padded columns `p, p + M, p + 2M, ..`), so element `j` of `LANES` consecutive tiles
//! is one contiguous vector: `phase[j % M][tx + j / M ..]` (`ALPHA = M + 2 <= 2M`). Transforms
//! are small constant matrix products; the coefficient tables are constants, so after
//! inlining the zero terms vanish and `+-1` terms become additions.

use crate::epilogue::Epilogue;
use crate::simd::Simd;

/// The 1-D transforms of one Winograd variant F(M x M, 3x3) with `ALPHA = M + 2` tiles:
/// `B^T x` (input) and `A^T m` (output), hand-coded with shared subexpressions (the unit test
/// below checks them against `matrices`).
pub(crate) trait TileTransform<const ALPHA: usize, const M: usize> {
    /// `B^T x`.
    fn bt<S: Simd>(s: S, x: [S::V; ALPHA]) -> [S::V; ALPHA];
    /// `A^T m`.
    fn at<S: Simd>(s: S, m: [S::V; ALPHA]) -> [S::V; M];
}

/// F(2x2, 3x3): 4x4 input tiles, 2x2 output tiles.
pub(crate) struct F2;
/// F(4x4, 3x3): 6x6 input tiles, 4x4 output tiles.
pub(crate) struct F4;
/// F(6x6, 3x3): 8x8 input tiles, 6x6 output tiles.
pub(crate) struct F6;

impl TileTransform<4, 2> for F2 {
    /// `B^T x` for F(2x2, 3x3): `[x0 - x2, x1 + x2, x2 - x1, x1 - x3]`.
    #[inline(always)]
    fn bt<S: Simd>(s: S, x: [S::V; 4]) -> [S::V; 4] {
        [s.sub(x[0], x[2]), s.add(x[1], x[2]), s.sub(x[2], x[1]), s.sub(x[1], x[3])]
    }

    /// `A^T m` for F(2x2, 3x3): `[m0 + m1 + m2, m1 - m2 - m3]`.
    #[inline(always)]
    fn at<S: Simd>(s: S, m: [S::V; 4]) -> [S::V; 2] {
        [s.add(s.add(m[0], m[1]), m[2]), s.sub(s.sub(m[1], m[2]), m[3])]
    }
}

impl TileTransform<6, 4> for F4 {
    /// `B^T x` for F(4x4, 3x3), with shared subexpressions (13 operations):
    /// `[4x0 - 5x2 + x4, (x4 - 4x2) + (x3 - 4x1), (x4 - 4x2) - (x3 - 4x1),
    ///   (x4 - x2) + 2(x3 - x1), (x4 - x2) - 2(x3 - x1), 4x1 - 5x3 + x5]`.
    #[inline(always)]
    fn bt<S: Simd>(s: S, x: [S::V; 6]) -> [S::V; 6] {
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
    fn at<S: Simd>(s: S, m: [S::V; 6]) -> [S::V; 4] {
        let a = s.add(m[1], m[2]);
        let b = s.sub(m[1], m[2]);
        let c = s.add(m[3], m[4]);
        let d = s.sub(m[3], m[4]);
        [s.add(s.add(m[0], a), c), s.fma(s.splat(2.0), d, b), s.fma(s.splat(4.0), c, a), s.add(s.fma(s.splat(8.0), d, b), m[5])]
    }
}

impl TileTransform<8, 6> for F6 {
    /// `B^T x` for F(6x6, 3x3) (points 0, +-1, +-1/2, +-2, infinity), pairing the rows of
    /// opposite points (26 operations):
    /// `r0 = x0 - x6 + 21/4 (x4 - x2)`, `r7 = x7 - x1 + 21/4 (x3 - x5)`,
    /// `r1,2 = (x2 + x6 - 17/4 x4) +- (x1 + x5 - 17/4 x3)`,
    /// `r3,4 = (x6 + x2/4 - 5/4 x4) +- (x1/2 - 5/2 x3 + 2 x5)`,
    /// `r5,6 = (x6 + 4 x2 - 5 x4) +- (2 x1 - 5/2 x3 + x5/2)`.
    #[inline(always)]
    fn bt<S: Simd>(s: S, x: [S::V; 8]) -> [S::V; 8] {
        let c21_4 = s.splat(21.0 / 4.0);
        let m17_4 = s.splat(-17.0 / 4.0);
        let (m5_2, m5_4, m5) = (s.splat(-2.5), s.splat(-1.25), s.splat(-5.0));
        let (half, quarter, two, four) = (s.splat(0.5), s.splat(0.25), s.splat(2.0), s.splat(4.0));
        let a = s.fma(m17_4, x[4], s.add(x[2], x[6]));
        let b = s.fma(m17_4, x[3], s.add(x[1], x[5]));
        let c = s.fma(quarter, x[2], s.fma(m5_4, x[4], x[6]));
        let d = s.fma(half, x[1], s.fma(m5_2, x[3], s.mul(two, x[5])));
        let e = s.fma(four, x[2], s.fma(m5, x[4], x[6]));
        let f = s.fma(two, x[1], s.fma(m5_2, x[3], s.mul(half, x[5])));
        [
            s.fma(c21_4, s.sub(x[4], x[2]), s.sub(x[0], x[6])),
            s.add(a, b),
            s.sub(a, b),
            s.add(c, d),
            s.sub(c, d),
            s.add(e, f),
            s.sub(e, f),
            s.fma(c21_4, s.sub(x[3], x[5]), s.sub(x[7], x[1])),
        ]
    }

    /// `A^T m` for F(6x6, 3x3) (21 operations), with `a, b = m1 +- m2`, `c, d = m3 +- m4`,
    /// `e, f = m5 +- m6`: `[m0 + a + c + e, b + 2d + f/2, a + 4c + e/4, b + 8d + f/8,
    ///  a + 16c + e/16, b + 32d + f/32 + m7]`.
    #[inline(always)]
    fn at<S: Simd>(s: S, m: [S::V; 8]) -> [S::V; 6] {
        let a = s.add(m[1], m[2]);
        let b = s.sub(m[1], m[2]);
        let c = s.add(m[3], m[4]);
        let d = s.sub(m[3], m[4]);
        let e = s.add(m[5], m[6]);
        let f = s.sub(m[5], m[6]);
        let k = |v: f32| s.splat(v);
        [
            s.add(s.add(m[0], a), s.add(c, e)),
            s.fma(k(2.0), d, s.fma(k(0.5), f, b)),
            s.fma(k(4.0), c, s.fma(k(0.25), e, a)),
            s.fma(k(8.0), d, s.fma(k(0.125), f, b)),
            s.fma(k(16.0), c, s.fma(k(1.0 / 16.0), e, a)),
            s.add(s.fma(k(32.0), d, s.fma(k(1.0 / 32.0), f, b)), m[7]),
        ]
    }
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
pub(crate) fn fill_band<S: Simd, const M: usize>(
    s: S,
    band: &Band,
    x: &[f32],
    channels: usize,
    pr0: usize,
    dst: &mut [f32],
    staging: &mut [f32],
) {
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
            if M == 2 || M == 4 {
                // All phases at once: `M` vectors of the padded row become one vector of each
                // phase (`split_phases`).
                while q0 + l <= band.wq {
                    // SAFETY: floats `M * q0 .. M * (q0 + l) <= M * wq` of `staging` and
                    // `p * wq + q0 .. + l <= M * wq` of `out` for `p < M`.
                    unsafe {
                        let src = staging.as_ptr().add(M * q0);
                        let mut row = [s.zero(); M];
                        for (q, e) in row.iter_mut().enumerate() {
                            *e = s.load(src.add(q * l));
                        }
                        let dst = out.as_mut_ptr().add(q0);
                        for (p, e) in split_phases(s, row).iter().enumerate() {
                            s.store(dst.add(p * band.wq), *e);
                        }
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
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(crate) unsafe fn input_channel<S: Simd, T: TileTransform<ALPHA, M>, const ALPHA: usize, const M: usize>(
    s: S,
    band: *const f32,
    wq: usize,
    tile_rows: usize,
    tw: usize,
    v: *mut f32,
    v_xi: usize,
) {
    let l = S::LANES;
    for tr in 0..tile_rows {
        let mut tx = 0;
        while tx < tw {
            // `B^T d B`, streamed: columns from the band into `t = B^T d`, then rows of `t B`
            // straight into V (explicit loops, not `array::map`: a closure passed to std would
            // be compiled outside the tier's target features).
            let mut t = [[s.zero(); ALPHA]; ALPHA];
            for j in 0..ALPHA {
                let mut col = [s.zero(); ALPHA];
                for (i, e) in col.iter_mut().enumerate() {
                    // SAFETY: band row `tr * M + i < tile_rows * M + 2`; phase `j % M`, index
                    // `tx + j / M + l <= tw - 1 + 1 + l <= wq`.
                    *e = unsafe { s.load(band.add((tr * M + i) * M * wq + (j % M) * wq + tx + j / M)) };
                }
                let r = T::bt(s, col);
                for i in 0..ALPHA {
                    t[i][j] = r[i];
                }
            }
            let tile = tr * tw + tx;
            for (i, ti) in t.iter().enumerate() {
                let r = T::bt(s, *ti);
                for (j, e) in r.iter().enumerate() {
                    // SAFETY: `tile + l <= tile_rows * tw + l` (the caller's bound).
                    unsafe { s.store(v.add((i * ALPHA + j) * v_xi + tile), *e) };
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
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(crate) unsafe fn output_channel<S: Simd, T: TileTransform<ALPHA, M>, const ALPHA: usize, const M: usize>(
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
            // `A^T m A`, streamed: columns from the products into `u = A^T m`, then rows.
            let mut u = [[s.zero(); ALPHA]; M];
            for j in 0..ALPHA {
                let mut col = [s.zero(); ALPHA];
                for (i, e) in col.iter_mut().enumerate() {
                    // SAFETY: `t + l <= tile_rows * tw + l` (the caller's bound).
                    *e = unsafe { s.load(m.add((i * ALPHA + j) * m_xi + t)) };
                }
                let r = T::at(s, col);
                for i in 0..M {
                    u[i][j] = r[i];
                }
            }
            let mut y = [[s.zero(); M]; M];
            for i in 0..M {
                y[i] = T::at(s, u[i]);
            }
            if M == 2 || M == 4 {
                // Interleave the `M` columns of every tile into `M * LANES` consecutive pixels
                // per output row (`merge_columns`) and store the `px` of them inside the output.
                let px = (ow - tx * M).min(M * l);
                for (i, yi) in y.iter().enumerate() {
                    let row = oh0 + tr * M + i;
                    if row >= oh {
                        break;
                    }
                    let mut v = [s.zero(); M];
                    for j in 0..M {
                        v[j] = epi.apply_with(s, yi[j], bias);
                    }
                    // SAFETY: `row < oh` and columns `tx * M .. tx * M + px <= ow`.
                    unsafe { store_run(s, out.add(row * ow + tx * M), px, &merge_columns(s, v)) };
                }
                tx += l;
                continue;
            }
            for i in 0..M {
                for j in 0..M {
                    let v = epi.apply_with(s, y[i][j], bias);
                    // SAFETY: `buf[i][j]` holds 16 >= LANES floats (asserted above).
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

/// The `M` phases (`M` = 2 or 4) of `M * LANES` consecutive floats held in `row`: phase `p`
/// gets floats `p, p + M, p + 2M, ..` (one round of deinterleaving per factor of two).
#[inline(always)]
fn split_phases<S: Simd, const M: usize>(s: S, row: [S::V; M]) -> [S::V; M] {
    let mut out = row;
    if M == 2 {
        (out[0], out[1]) = s.deinterleave(row[0], row[1]);
    } else if M == 4 {
        let (e1, o1) = s.deinterleave(row[0], row[1]);
        let (e2, o2) = s.deinterleave(row[2], row[3]);
        (out[0], out[2]) = s.deinterleave(e1, e2);
        (out[1], out[3]) = s.deinterleave(o1, o2);
    } else {
        unreachable!("split_phases takes 2 or 4 phases");
    }
    out
}

/// The inverse of [`split_phases`]: `M` vectors of column `j` of `LANES` tiles into the
/// `M * LANES` consecutive pixels of their output row.
#[inline(always)]
fn merge_columns<S: Simd, const M: usize>(s: S, cols: [S::V; M]) -> [S::V; M] {
    let mut out = cols;
    if M == 2 {
        (out[0], out[1]) = s.interleave(cols[0], cols[1]);
    } else if M == 4 {
        let (e_lo, e_hi) = s.interleave(cols[0], cols[2]);
        let (o_lo, o_hi) = s.interleave(cols[1], cols[3]);
        (out[0], out[1]) = s.interleave(e_lo, o_lo);
        (out[2], out[3]) = s.interleave(e_hi, o_hi);
    } else {
        unreachable!("merge_columns takes 2 or 4 columns");
    }
    out
}

/// Stores the first `px` floats of the vectors `xs` (laid end to end) at `p`: whole vectors,
/// then one partial vector at a ragged end.
///
/// # Safety
/// `p` is writable for `px` floats.
#[inline(always)]
unsafe fn store_run<S: Simd>(s: S, p: *mut f32, px: usize, xs: &[S::V]) {
    let l = S::LANES;
    for (q, x) in xs.iter().enumerate() {
        let at = q * l;
        if at + l <= px {
            // SAFETY: `at + l <= px` floats from `p` (the caller's bound).
            unsafe { s.store(p.add(at), *x) };
        } else {
            if at < px {
                // SAFETY: `px - at` floats from `p + at` (the caller's bound).
                unsafe { s.store_partial(p.add(at), px - at, *x) };
            }
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Scalar;
    use crate::winograd::matrices::{F2X2, F4X4, F6X6, Variant};

    /// The hand-coded transforms of `T` are exactly `v`'s matrices (column by column on unit
    /// vectors).
    #[allow(clippy::needless_range_loop)]
    fn hand_coded_equal<T: TileTransform<A, M>, const A: usize, const M: usize>(v: &Variant<A, M>) {
        for k in 0..A {
            let e: [f32; A] = std::array::from_fn(|i| if i == k { 1.0 } else { 0.0 });
            let b = T::bt(Scalar, e);
            let a = T::at(Scalar, e);
            for i in 0..A {
                assert_eq!(b[i] as f64, v.bt[i][k], "F({M}x{M}) B^T[{i}][{k}]");
            }
            for i in 0..M {
                assert_eq!(a[i] as f64, v.at[i][k], "F({M}x{M}) A^T[{i}][{k}]");
            }
        }
    }

    #[test]
    fn hand_coded_transforms_equal_the_matrices() {
        hand_coded_equal::<F2, 4, 2>(&F2X2);
        hand_coded_equal::<F4, 6, 4>(&F4X4);
        hand_coded_equal::<F6, 8, 6>(&F6X6);
    }
}
