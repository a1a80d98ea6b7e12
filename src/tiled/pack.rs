//! Weight packing for the tiled backend, done once at plan time.
//!
//! Dense kernels read, for one block of `KB` output channels (the vector width times the
//! tile's vectors), every tap `(c, r, s)` as `KB` contiguous floats: the layout is
//! `[group][k_block][c][r][s][KB]`, zero-padded past the group's last channel. Bias is padded
//! the same way so the epilogue loads it as whole vectors.
#![forbid(unsafe_code)]

use crate::buffer::WeightBuf;

/// Dense weights packed into output-channel blocks of `kb` lanes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PackedDense {
    /// Channels per block.
    pub kb: usize,
    /// Blocks per group.
    pub blocks: usize,
    /// Reduction length `cg * r * s`.
    pub reduction: usize,
    /// Cache-line aligned, so no 32-byte weight load straddles two lines (the allocator gives
    /// 16-byte alignment): +0.6-1.8% on resnet50 3x3 layers (2026-11-26, Zen 3); huge-page
    /// backed when large ([`WeightBuf`]).
    data: WeightBuf,
    /// Bias per group, padded to `blocks * kb` (zeros if the problem has none).
    pub bias: Vec<f32>,
}

impl PackedDense {
    /// Packs KCRS `weights` of `groups` groups of `kg` output channels.
    pub fn pack(weights: &[f32], bias: Option<&[f32]>, groups: usize, kg: usize, reduction: usize, kb: usize) -> PackedDense {
        let blocks = kg.div_ceil(kb);
        let len = groups * blocks * reduction * kb;
        let mut storage = WeightBuf::zeroed(len);
        let data = storage.as_mut_slice();
        let mut padded_bias = vec![0.0f32; groups * blocks * kb];
        for g in 0..groups {
            for k in 0..kg {
                let (blk, lane) = (k / kb, k % kb);
                let src = &weights[(g * kg + k) * reduction..][..reduction];
                let dst = &mut data[(g * blocks + blk) * reduction * kb..][..reduction * kb];
                for (t, v) in src.iter().enumerate() {
                    dst[t * kb + lane] = *v;
                }
                if let Some(b) = bias {
                    padded_bias[(g * blocks + blk) * kb + lane] = b[g * kg + k];
                }
            }
        }
        PackedDense { kb, blocks, reduction, data: storage, bias: padded_bias }
    }

    /// The packed taps of block `blk` of group `g`: `reduction * kb` floats.
    pub fn block(&self, g: usize, blk: usize) -> &[f32] {
        &self.data.as_slice()[(g * self.blocks + blk) * self.reduction * self.kb..][..self.reduction * self.kb]
    }

    /// The padded bias of block `blk` of group `g`: `kb` floats.
    pub fn bias(&self, g: usize, blk: usize) -> &[f32] {
        &self.bias[(g * self.blocks + blk) * self.kb..][..self.kb]
    }
}
