//! The Winograd minimal-filtering matrices (Lavin & Gray, "Fast Algorithms for Convolutional
//! Neural Networks", 2016) for 3x3 kernels: `Y = A^T [(G g G^T) * (B^T d B)] A` computes the
//! `M x M` correlation of an `ALPHA x ALPHA` input tile `d` (ALPHA = M + 2) with the 3x3 filter
//! `g`. Interpolation points: F(2x2, 3x3) uses 0, +-1 and infinity; F(4x4, 3x3) 0, +-1, +-2 and infinity; F(6x6, 3x3) adds
//! +-1/2. The unit tests below check each against the direct correlation in f64.
#![forbid(unsafe_code)]

/// One Winograd variant: its matrices, in f64 (the filter transform runs in f64 at plan time;
/// the input and output transforms use these coefficients rounded to f32, all exact).
#[derive(Debug)]
pub(crate) struct Variant<const ALPHA: usize, const M: usize> {
    /// `B^T`, ALPHA x ALPHA (the input transform hand-codes it, see `transform::TileTransform::bt`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub bt: [[f64; ALPHA]; ALPHA],
    /// `G`, ALPHA x 3.
    pub g: [[f64; 3]; ALPHA],
    /// `A^T`, M x ALPHA (the output transform hand-codes it, see `transform::TileTransform::at`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub at: [[f64; ALPHA]; M],
}

/// F(2x2, 3x3): 4x4 tiles, 16 products per 4 outputs (2.25x fewer multiplies than direct),
/// with the smallest coefficients (0, +-1 and 1/2) and the most reuse of each transformed
/// filter (one per 2 x 2 output pixels).
pub(crate) const F2X2: Variant<4, 2> = Variant {
    bt: [[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]],
    g: [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]],
    at: [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]],
};

/// F(4x4, 3x3): 6x6 tiles, 36 products per 16 outputs (4x fewer multiplies than direct).
pub(crate) const F4X4: Variant<6, 4> = Variant {
    bt: [
        [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ],
    g: [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ],
    at: [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ],
};

/// F(6x6, 3x3): 8x8 tiles, 64 products per 36 outputs (5.06x fewer multiplies than direct),
/// at the cost of larger transform coefficients and so larger rounding errors.
pub(crate) const F6X6: Variant<8, 6> = Variant {
    bt: [
        [1.0, 0.0, -21.0 / 4.0, 0.0, 21.0 / 4.0, 0.0, -1.0, 0.0],
        [0.0, 1.0, 1.0, -17.0 / 4.0, -17.0 / 4.0, 1.0, 1.0, 0.0],
        [0.0, -1.0, 1.0, 17.0 / 4.0, -17.0 / 4.0, -1.0, 1.0, 0.0],
        [0.0, 0.5, 0.25, -2.5, -1.25, 2.0, 1.0, 0.0],
        [0.0, -0.5, 0.25, 2.5, -1.25, -2.0, 1.0, 0.0],
        [0.0, 2.0, 4.0, -2.5, -5.0, 0.5, 1.0, 0.0],
        [0.0, -2.0, 4.0, 2.5, -5.0, -0.5, 1.0, 0.0],
        [0.0, -1.0, 0.0, 21.0 / 4.0, 0.0, -21.0 / 4.0, 0.0, 1.0],
    ],
    g: [
        [1.0, 0.0, 0.0],
        [-2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0],
        [-2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0],
        [1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0],
        [1.0 / 90.0, -1.0 / 45.0, 2.0 / 45.0],
        [32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0],
        [32.0 / 45.0, -16.0 / 45.0, 8.0 / 45.0],
        [0.0, 0.0, 1.0],
    ],
    at: [
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.25, 0.25, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 0.125, -0.125, 0.0],
        [0.0, 1.0, 1.0, 16.0, 16.0, 1.0 / 16.0, 1.0 / 16.0, 0.0],
        [0.0, 1.0, -1.0, 32.0, -32.0, 1.0 / 32.0, -1.0 / 32.0, 1.0],
    ],
};

impl<const ALPHA: usize, const M: usize> Variant<ALPHA, M> {
    /// `G g G^T` of a 3x3 filter (row-major), in f64.
    #[allow(clippy::needless_range_loop)]
    pub fn filter(&self, g: &[f32]) -> [[f64; ALPHA]; ALPHA] {
        let mut t = [[0.0f64; 3]; ALPHA];
        for i in 0..ALPHA {
            for j in 0..3 {
                t[i][j] = (0..3).map(|k| self.g[i][k] * g[k * 3 + j] as f64).sum();
            }
        }
        let mut u = [[0.0f64; ALPHA]; ALPHA];
        for i in 0..ALPHA {
            for j in 0..ALPHA {
                u[i][j] = (0..3).map(|k| t[i][k] * self.g[j][k]).sum();
            }
        }
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A^T [(G g G^T) * (B^T d B)] A` against the direct correlation, in f64.
    #[allow(clippy::needless_range_loop)]
    fn verify<const ALPHA: usize, const M: usize>(v: &Variant<ALPHA, M>) {
        let d: Vec<f64> = (0..ALPHA * ALPHA).map(|i| ((i * 37 + 11) % 17) as f64 - 8.0).collect();
        let g: Vec<f32> = (0..9).map(|i| ((i * 5 + 3) % 7) as f32 - 3.0).collect();
        let u = v.filter(&g);
        let mut bd = [[0.0f64; ALPHA]; ALPHA];
        for i in 0..ALPHA {
            for j in 0..ALPHA {
                bd[i][j] = (0..ALPHA).map(|k| v.bt[i][k] * d[k * ALPHA + j]).sum();
            }
        }
        let mut vv = [[0.0f64; ALPHA]; ALPHA];
        for i in 0..ALPHA {
            for j in 0..ALPHA {
                vv[i][j] = (0..ALPHA).map(|k| bd[i][k] * v.bt[j][k]).sum::<f64>() * u[i][j];
            }
        }
        let mut am = [[0.0f64; ALPHA]; M];
        for i in 0..M {
            for j in 0..ALPHA {
                am[i][j] = (0..ALPHA).map(|k| v.at[i][k] * vv[k][j]).sum();
            }
        }
        for i in 0..M {
            for j in 0..M {
                let y: f64 = (0..ALPHA).map(|k| am[i][k] * v.at[j][k]).sum();
                let direct: f64 =
                    (0..3).flat_map(|r| (0..3).map(move |s| (r, s))).map(|(r, s)| d[(i + r) * ALPHA + j + s] * g[r * 3 + s] as f64).sum();
                assert!((y - direct).abs() < 1e-9 * (1.0 + direct.abs()), "F({M}x{M}) y[{i}][{j}] = {y}, direct {direct}");
            }
        }
    }

    #[test]
    fn matrices_compute_the_3x3_correlation() {
        verify(&F2X2);
        verify(&F4X4);
        verify(&F6X6);
    }
}
