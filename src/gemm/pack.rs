//! Packing of GEMM operands into micro-panel order.
//!
//! * A (`m x k`, the weights in a convolution) is packed once, at plan time, into
//!   [`PackedA`]: for each KC block of the reduction, for each MR-row micro-panel, `kc` groups
//!   of MR values (rows past `m` are zeros).
//! * B (`k x n`) is packed per `KC x NC` block into NR-column micro-panels: for each panel,
//!   `kc` groups of NR values (columns past `n` are zeros). The convolution's lowering writes
//!   this layout directly; [`pack_b`] does it for a plain row-major matrix.
#![forbid(unsafe_code)]

/// A row-major `m x k` matrix packed into MR-row micro-panels, per KC block.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedA {
    /// Rows.
    pub m: usize,
    /// Reduction length.
    pub k: usize,
    /// Micro-panel height.
    pub mr: usize,
    /// KC block length.
    pub kc: usize,
    /// `m` rounded up to a multiple of `mr`.
    pub m_padded: usize,
    data: Vec<f32>,
}

impl PackedA {
    /// Packs `a` (row `i` at `a[i * lda ..][.. k]`).
    pub fn pack(a: &[f32], lda: usize, m: usize, k: usize, mr: usize, kc: usize) -> PackedA {
        let m_padded = m.div_ceil(mr) * mr;
        let mut data = vec![0.0f32; m_padded * k];
        let mut pc = 0;
        while pc < k {
            let kcb = kc.min(k - pc);
            let block = &mut data[pc * m_padded..(pc + kcb) * m_padded];
            for (panel, dst) in block.chunks_exact_mut(kcb * mr).enumerate() {
                let rows = mr.min(m.saturating_sub(panel * mr));
                if rows == mr {
                    // Full panel: write each group of MR sequentially, reading MR row streams.
                    let src: Vec<&[f32]> = (0..mr).map(|i| &a[(panel * mr + i) * lda + pc..][..kcb]).collect();
                    for (kk, group) in dst.chunks_exact_mut(mr).enumerate() {
                        for (d, row) in group.iter_mut().zip(&src) {
                            *d = row[kk];
                        }
                    }
                } else {
                    for i in 0..rows {
                        let src = &a[(panel * mr + i) * lda + pc..][..kcb];
                        for (kk, v) in src.iter().enumerate() {
                            dst[kk * mr + i] = *v;
                        }
                    }
                }
            }
            pc += kcb;
        }
        PackedA { m, k, mr, kc, m_padded, data }
    }

    /// The packed micro-panels of KC block starting at `pc`, from row `row0` (a multiple of
    /// `mr`) to the end.
    pub fn block(&self, pc: usize, row0: usize) -> &[f32] {
        let kcb = self.kc.min(self.k - pc);
        &self.data[pc * self.m_padded + row0 * kcb..(pc + kcb) * self.m_padded]
    }

    /// Packed size in floats.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True if nothing is packed (`m` or `k` is zero).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Packs `b[pc .. pc + kcb][jc .. jc + ncb]` (row-major, leading dimension `ldb`) into
/// NR-column micro-panels in `dst` (`ncb.div_ceil(nr) * nr * kcb` floats).
#[allow(clippy::too_many_arguments)]
pub fn pack_b(b: &[f32], ldb: usize, pc: usize, kcb: usize, jc: usize, ncb: usize, nr: usize, dst: &mut [f32]) {
    for (panel, out) in dst.chunks_exact_mut(kcb * nr).take(ncb.div_ceil(nr)).enumerate() {
        let col0 = jc + panel * nr;
        let cols = nr.min(jc + ncb - col0);
        for (kk, group) in out.chunks_exact_mut(nr).enumerate() {
            let row = &b[(pc + kk) * ldb + col0..][..cols];
            // Element loops, not copy_from_slice: a 16-float memcpy call per row costs more
            // than the copy.
            for (d, s) in group.iter_mut().zip(row) {
                *d = *s;
            }
            for d in &mut group[cols..] {
                *d = 0.0;
            }
        }
    }
}
