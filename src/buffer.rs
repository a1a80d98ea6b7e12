//! Zeroed, cache-line aligned `f32` buffers for data packed once at plan time and read by every
//! run (packed weights). Large ones (at least [`HUGE_PAGE_MIN_BYTES`]) live in an anonymous
//! mapping aligned to 2 MiB and advised as transparent huge pages where Linux offers them
//! (`memmap2`, `MADV_HUGEPAGE`): a layer whose weights stream from L3 each run then walks
//! one page table entry per 2 MiB instead of per 4 KiB.
//!
//! Measured (2026-12-07, Zen 3, THP in `madvise` mode, tiled avx2, three plans each way run in
//! turn, twice): resnet50_res5_3x3 (9.4 MB of packed weights, read once per run from L3 by the
//! first tile of each block) +2.4% and +4.4% on one thread, +1.9% on two; resnet50_res4_3x3
//! (2.4 MB) level. Winograd's transformed filters (`gemm::pack::PackedASet`,
//! one buffer for all of a plan's `alpha^2 x groups` matrices; before, one heap allocation
//! each), measured (2026-12-07, the plan against the previous build's linked into the same
//! binary, three plans of each run in turn): resnet50_res5_3x3 (16.8 MB) +4.5%, +3.8% on one
//! thread, +2.8% on two; resnet50_res4_3x3 (4.2 MB) +2.5% on one thread, level on two;
//! res2_3x3 +1.5%, vgg16_conv2_2 +0.8..1.1%; res3_3x3 (2.4 MB) -0.2..-1.7%. im2col's packed
//! weights (under 2 MiB on the suite) stay on the heap.
#![forbid(unsafe_code)]

/// Buffers of at least this many bytes are huge-page backed where possible.
pub(crate) const HUGE_PAGE_MIN_BYTES: usize = 2 << 20;

/// Alignment of a huge page (x86-64, aarch64 with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;

/// Floats of slack to align a heap buffer's start to a 64-byte line (the allocator gives 16).
const LINE_FLOATS: usize = 16;

enum Storage {
    Heap(Vec<f32>),
    #[cfg(all(target_os = "linux", not(miri)))]
    Mapped(memmap2::MmapMut),
}

/// A zeroed `f32` buffer whose first element is 64-byte aligned (2 MiB aligned when
/// huge-page backed).
pub(crate) struct WeightBuf {
    storage: Storage,
    /// Index (in floats) of the first element within the storage.
    start: usize,
    len: usize,
}

impl WeightBuf {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> WeightBuf {
        #[cfg(all(target_os = "linux", not(miri)))]
        if let Some(buf) = WeightBuf::mapped(len) {
            return buf;
        }
        let storage = vec![0.0f32; len + LINE_FLOATS];
        let start = storage.as_ptr().align_offset(64).min(LINE_FLOATS);
        WeightBuf { storage: Storage::Heap(storage), start, len }
    }

    /// A huge-page advised mapping for `len` floats, if the buffer is large enough and the
    /// mapping succeeds (else the caller falls back to the heap). The advice is best effort:
    /// where THP is off, the mapping still works with small pages.
    #[cfg(all(target_os = "linux", not(miri)))]
    fn mapped(len: usize) -> Option<WeightBuf> {
        let bytes = len.checked_mul(4)?;
        if bytes < HUGE_PAGE_MIN_BYTES {
            return None;
        }
        let map_len = bytes.checked_add(HUGE_PAGE)?;
        let map = memmap2::MmapMut::map_anon(map_len).ok()?;
        let lead = map.as_ptr().align_offset(HUGE_PAGE).min(HUGE_PAGE);
        // Advise whole huge pages inside the mapping before the first write faults them in.
        let advised = (map_len - lead) / HUGE_PAGE * HUGE_PAGE;
        let _ = map.advise_range(memmap2::Advice::HugePage, lead, advised);
        Some(WeightBuf { storage: Storage::Mapped(map), start: lead / 4, len })
    }

    /// The buffer.
    pub fn as_slice(&self) -> &[f32] {
        match &self.storage {
            Storage::Heap(v) => &v[self.start..self.start + self.len],
            #[cfg(all(target_os = "linux", not(miri)))]
            Storage::Mapped(m) => &bytemuck::cast_slice::<u8, f32>(&m[..])[self.start..self.start + self.len],
        }
    }

    /// The buffer, writable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        match &mut self.storage {
            Storage::Heap(v) => &mut v[self.start..self.start + self.len],
            #[cfg(all(target_os = "linux", not(miri)))]
            Storage::Mapped(m) => &mut bytemuck::cast_slice_mut::<u8, f32>(&mut m[..])[self.start..self.start + self.len],
        }
    }

    /// Whether the buffer lives in a huge-page advised mapping.
    #[cfg(test)]
    fn is_mapped(&self) -> bool {
        !matches!(self.storage, Storage::Heap(_))
    }
}

impl Clone for WeightBuf {
    fn clone(&self) -> WeightBuf {
        let mut copy = WeightBuf::zeroed(self.len);
        copy.as_mut_slice().copy_from_slice(self.as_slice());
        copy
    }
}

impl PartialEq for WeightBuf {
    fn eq(&self, other: &WeightBuf) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl std::fmt::Debug for WeightBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeightBuf({} floats)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small and large buffers: zeroed, line aligned (large ones on a 2 MiB boundary, mapped on
    /// Linux), writable, and cloned by value.
    #[test]
    fn buffers_are_zeroed_aligned_and_clone_by_value() {
        for len in [0, 1, 17, 1000, HUGE_PAGE_MIN_BYTES / 4 - 1, HUGE_PAGE_MIN_BYTES / 4, 3 * HUGE_PAGE_MIN_BYTES / 4 + 5] {
            let mut b = WeightBuf::zeroed(len);
            assert_eq!(b.as_slice().len(), len);
            assert!(b.as_slice().iter().all(|&x| x == 0.0));
            assert_eq!(b.as_slice().as_ptr().align_offset(64), 0, "{len}");
            let large = len * 4 >= HUGE_PAGE_MIN_BYTES;
            if cfg!(all(target_os = "linux", not(miri))) {
                assert_eq!(b.is_mapped(), large, "{len}");
            }
            if large {
                assert_eq!(b.as_slice().as_ptr().align_offset(HUGE_PAGE), 0, "{len}");
            }
            for (i, x) in b.as_mut_slice().iter_mut().enumerate() {
                *x = i as f32;
            }
            let c = b.clone();
            assert_eq!(c, b);
            assert_eq!(c.as_slice().last(), len.checked_sub(1).map(|i| i as f32).as_ref());
        }
    }
}
