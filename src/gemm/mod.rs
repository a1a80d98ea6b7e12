//! convkit's own single-precision GEMM: BLIS loop order and cache blocking ([`blocking`](mod@blocking)),
//! operands packed into micro-panel order ([`pack`]), and one micro-kernel written over the
//! `simd` vector trait and instantiated per tier (`kernel`). The `im2col` and `winograd`
//! backends drive the same macro-kernel with their own packed operands; [`sgemm`] exposes it
//! for plain row-major matrices (benchmarks, and users who want a GEMM), reading A in place
//! instead of packing it when B has few columns.

pub mod blocking;
pub(crate) mod kernel;
pub mod pack;
mod transpose;

use rayon::prelude::*;

use crate::backend::PlanOptions;
use crate::epilogue::Epilogue;
use crate::error::ConvError;
use crate::problem::Activation;
use blocking::{balanced_kc, balanced_mc, blocking, streamed_mc_here};
use kernel::{BlockArgs, gemm_block};
use pack::{PackedA, pack_b_on};

/// A raw output pointer shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut(pub *mut f32);
// SAFETY: tasks holding copies write disjoint elements (each call site documents its tiling),
// and the pointee outlives the parallel region that uses it.
unsafe impl Send for SharedMut {}
// SAFETY: as above.
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// The pointer (a method, so closures capture the whole `Send + Sync` wrapper).
    #[inline(always)]
    pub(crate) fn get(self) -> *mut f32 {
        self.0
    }
}

/// When [`sgemm`] reads A in place rather than packing it. Packing costs a pass over A per
/// call, which pays only if each A element then feeds enough column panels: with `n` columns
/// it is `1/n` of the work. Reading in place costs when the rows a block reads (`MC` rows at
/// A's row stride) span more than 3/4 of L2, since rows a power-of-two stride apart share
/// cache sets. So: in place up to `ROW_MAJOR_A_MAX_COLS / 2` columns, and up to
/// `ROW_MAJOR_A_MAX_COLS` if the block's span fits.
/// Measured (2026-11-26, Sapphire Rapids, avx512 6 x 64, one thread, paired; in place vs
/// packed): 256^3 +12%, 512^3 +5%, 256x256x1024 +13%, 2048x256x4096 +39%, 768^3 +4%;
/// 1024x512x1024 -9% and 1024^3 -10% (4 KiB row stride, 1024-row block: those pack).
/// Earlier, on Zen 3 (avx2 6 x 16): 64-128 columns +7..13%, 256^3 +2%, 512^3 even.
/// Against A packed block by block just before use (as now, 2026-11-27): in place still
/// +4% at 512^3, +10% at 256^3, +20% at 256x512x256.
/// The span bound was half of L2 until 2026-12-06: on Zen 3 (512 KiB L2; 512^3's blocks of 174
/// rows span 348 KiB) in place then won 512^3 +2.1% (twice), 512x520x512 +1.4%, 512x2048x512
/// +2.3% (packed by the column bound still), and was level to -1.8% at 768^3, 1024x512x1024,
/// 2048x1024x256 and 300x1000x300 (one thread, paired), which keep packing.
const ROW_MAJOR_A_MAX_COLS: usize = 512;

/// Whether [`sgemm`] reads A (`m x k`, row-major) in place for `n` columns and `mc`-row blocks.
fn read_a_in_place(m: usize, n: usize, k: usize, mc: usize) -> bool {
    let span = m.min(mc).saturating_mul(k).saturating_mul(std::mem::size_of::<f32>());
    n <= ROW_MAJOR_A_MAX_COLS / 2 || (n <= ROW_MAJOR_A_MAX_COLS && span <= crate::caches::cache_sizes().l2 / 4 * 3)
}

/// `C = A * B` for row-major `A` (`m x k`), `B` (`k x n`) and `C` (`m x n`), on the active
/// tier, using the threads of the current rayon pool (split over columns, never the
/// reduction, so results are identical for any thread count).
///
/// ```
/// let a = [1.0, 2.0, 3.0, 4.0]; // 2 x 2
/// let b = [5.0, 6.0, 7.0, 8.0]; // 2 x 2
/// let mut c = [0.0; 4];
/// convkit::gemm::sgemm(2, 2, 2, &a, &b, &mut c)?;
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// # Ok::<(), convkit::ConvError>(())
/// ```
pub fn sgemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) -> Result<(), ConvError> {
    sgemm_with(&PlanOptions::default(), m, n, k, a, b, c)
}

/// [`sgemm`] on the tier selected by `options`.
pub fn sgemm_with(options: &PlanOptions, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) -> Result<(), ConvError> {
    let len = |x: usize, y: usize| x.checked_mul(y).ok_or(ConvError::Overflow { what: "matrix size" });
    crate::backend::check_len("A", a.len(), len(m, k)?)?;
    crate::backend::check_len("B", b.len(), len(k, n)?)?;
    crate::backend::check_len("C", c.len(), len(m, n)?)?;
    let tier = options.tier()?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        c.fill(0.0);
        return Ok(());
    }
    tier.record_run();
    let (mr, nr) = kernel::tile(tier);
    let mut bl = sgemm_blocking(tier, mr, nr);
    // Even MC blocks: 512 rows as 3 x 174 instead of 240 + 240 + 32 gained 2.5% at 512^3
    // (2026-11-26, Zen 3, one thread; im2col was neutral and Winograd res4_3x3 lost 7% with
    // 256 channels as 2 x 128, so they keep plain MC).
    bl.mc = balanced_mc(bl.mc, mr, m);
    // Even KC blocks, as im2col's: 520 = 4 x 128 + 8 ended in an 8-step pass over all of C.
    // Measured (2026-11-27, Sapphire Rapids class, one thread, paired): 512x512x520 +1.4%,
    // 256x256x300 +1.5%, 512x512x600 +0.7%, 512x512x1000 level.
    bl.kc = balanced_kc(bl.kc, k);
    let threads = rayon::current_num_threads();
    let nc = bl.nc.min(n.div_ceil(threads).div_ceil(nr) * nr).max(nr);
    // With few columns each A element is used only a few times: the micro-kernel reads A in
    // place instead of packing it first.
    let in_place = read_a_in_place(m, n, k, bl.mc);
    let out = SharedMut(c.as_mut_ptr());
    (0..n.div_ceil(nc)).into_par_iter().for_each(|chunk| {
        let jc = chunk * nc;
        let ncb = nc.min(n - jc);
        let b_len = ncb.div_ceil(nr) * nr * bl.kc;
        let mut bbuf = b_buffer(b_len);
        // Fewer rows per block when this chunk's C streams past L2 (`streamed_mc`).
        let mc = streamed_mc_here(bl.mc, mr, m.saturating_mul(ncb), b_len);
        // This task's packed A block (when A is packed), its buffer reused block after block.
        let mut packed: Option<PackedA> = None;
        let mut pc = 0;
        while pc < k {
            let kcb = bl.kc.min(k - pc);
            pack_b_on(tier, b, n, pc, kcb, jc, ncb, nr, &mut bbuf);
            let mut ic = 0;
            while ic < m {
                let mcb = mc.min(m - ic);
                // A's block packed just before it is used, so the kernel reads it from L1/L2
                // (and a thread of several column chunks packs it once per chunk). Packing all of
                // A first, once, wrote it out to L3 and read it back from there: measured
                // (2026-11-27, Sapphire Rapids class, paired) 1024^3 +8.4%, 1024x512x1024 +7.4%,
                // 512x520x512 +7.7%, 300x1000x300 +9.0% on one thread; two threads level.
                if !in_place {
                    let block = &a[ic * k + pc..];
                    match &mut packed {
                        Some(p) => p.repack_on(tier, block, k, mcb, kcb, mr, kcb),
                        None => packed = Some(PackedA::pack_on(tier, block, k, mcb, kcb, mr, kcb)),
                    }
                }
                let args = BlockArgs {
                    a: match &packed {
                        Some(p) => p.block(0, 0),
                        None => &a[ic * k + pc..],
                    },
                    lda: packed.is_none().then_some(k),
                    b: &bbuf,
                    ldb: nr,
                    b_panel_stride: kcb * nr,
                    // SAFETY (pointer arithmetic): `ic * n + jc` is inside C (`ic < m`, `jc < n`).
                    c: unsafe { out.get().add(ic * n + jc) },
                    ldc: n,
                    m: mcb,
                    n: ncb,
                    kc: kcb,
                    first: pc == 0,
                    last: pc + kcb == k,
                    epilogue: Epilogue::new(None, Activation::None),
                    row0: ic,
                    prefetch_written: false,
                };
                // SAFETY: this task alone writes columns `jc .. jc + ncb` of C, and the block
                // covers rows `ic .. ic + mcb` of them, all inside the `m x n` C.
                unsafe { gemm_block(tier, args) };
                ic += mcb;
            }
            pc += kcb;
        }
        keep_b_buffer(bbuf);
    });
    Ok(())
}

/// [`sgemm`]'s blocking on `tier`: [`blocking`]'s, except that on avx2 KC is as long as a B
/// micro-panel that fills L1 by itself (`L1d / (4 * NR)`: 512 at 32 KiB, NR 16) instead of
/// sharing 3/4 of it with A's panel, with MC and NC by the same rules for that KC (the A block
/// half of L2: 126 rows). Half the passes over C for long reductions. Measured (2026-12-06,
/// Zen 3, one thread, paired): KC 512 vs 256 (MC still 240) 1024^3 +2.2%, 2048x256x4096 +2.9%,
/// 256x256x1024 +0.4%, 512^3 level; then MC 126 vs 240 +0.8-1.9% on 512^3, 1024^3,
/// 512x512x1100, 256x196x1024 and 2048x256x4096. The convolution backends keep [`blocking`]
/// (their B blocks are lowered patches or Winograd tiles, not measured with it).
///
/// On avx512 (NR 64) the same L1 rule would give KC 128 and [`blocking`]'s 80: too short, each
/// pass over C (24 zmm loaded and stored per 6 x 64 tile) paid every 80 steps. There KC is 512
/// reduction steps, capped where the B micro-panel would pass an eighth of L2 (512 with 1 MiB
/// L2: a 128 KiB panel, read from L2 while A's 12 KiB panel stays in L1). Measured (2026-12-07,
/// AMD Zen 4, one thread, best of 5-7 rounds, three runs each): 512^3 KC 80 97-104 GFLOP/s,
/// 128 94-104, 256 101-109, 512 105-112 (the `gemm` crate 108-110 in the same rounds);
/// 1024^3 KC 80 100, 512 106-110; 512x512x1100 128 80-103, 512 103-108.
fn sgemm_blocking(tier: crate::simd::Tier, mr: usize, nr: usize) -> blocking::Blocking {
    let bl = blocking(mr, nr);
    let caches = crate::caches::cache_sizes();
    let f32s = std::mem::size_of::<f32>();
    #[cfg(target_arch = "x86_64")]
    match tier {
        crate::simd::Tier::Avx2(_) => {
            let kc = bl.kc.max(caches.l1d / (f32s * nr));
            return blocking::blocking_for_kc(kc, mr, nr, caches);
        }
        crate::simd::Tier::Avx512(_) => {
            let kc = (caches.l2 / 8 / (f32s * nr)).min(AVX512_SGEMM_KC).max(bl.kc) / 16 * 16;
            return blocking::blocking_for_kc(kc, mr, nr, caches);
        }
        _ => {}
    }
    let _ = (tier, caches, f32s);
    bl
}

/// [`sgemm`]'s longest KC on avx512 (see `sgemm_blocking`).
const AVX512_SGEMM_KC: usize = 512;

/// Largest packed-B buffer (floats) a thread keeps between [`sgemm`] calls: 4 MiB, the NC x
/// KC block of a 32 MiB L3.
const KEPT_B_BUFFER: usize = 1 << 20;

thread_local! {
    /// This thread's packed-B buffer from its last [`sgemm`] task. `vec![0.0; len]` per call
    /// zero-filled it first (1% of a 256^3 sgemm, 2026-12-06), though `pack_b` writes every
    /// float the kernel reads.
    static B_BUFFER: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A buffer of at least `len` floats for `pack_b`, this thread's kept one if there is one (its
/// contents are stale: every float the kernel reads is packed first).
fn b_buffer(len: usize) -> Vec<f32> {
    let mut buf = B_BUFFER.with(|b| b.take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    buf
}

/// Returns a buffer from [`b_buffer`] for this thread's next call (dropped if over
/// [`KEPT_B_BUFFER`]).
fn keep_b_buffer(buf: Vec<f32>) {
    if buf.len() <= KEPT_B_BUFFER {
        B_BUFFER.with(|b| b.set(buf));
    }
}

/// Bytes of packed-B buffer the calling thread keeps for its next [`sgemm`] call (at most
/// 4 MiB: larger buffers are dropped when the call ends).
///
/// ```
/// let (m, n, k) = (64, 64, 64);
/// let (a, b, mut c) = (vec![1.0f32; m * k], vec![1.0f32; k * n], vec![0.0f32; m * n]);
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
/// pool.install(|| convkit::gemm::sgemm(m, n, k, &a, &b, &mut c)).unwrap();
/// assert!(pool.install(convkit::gemm::kept_buffer_bytes) > 0);
/// pool.install(convkit::gemm::release_buffers);
/// assert_eq!(pool.install(convkit::gemm::kept_buffer_bytes), 0);
/// ```
pub fn kept_buffer_bytes() -> usize {
    B_BUFFER.with(|b| {
        let buf = b.take();
        let bytes = buf.capacity() * std::mem::size_of::<f32>();
        b.set(buf);
        bytes
    })
}

/// Frees the packed-B buffers [`sgemm`] keeps between calls (up to 4 MiB per thread, so
/// that repeated calls skip the allocation): the calling thread's and those of every thread
/// of the current rayon pool (call it inside `pool.install` for another pool). The next
/// call allocates again; results never depend on it.
pub fn release_buffers() {
    B_BUFFER.with(|b| drop(b.take()));
    rayon::broadcast(|_| B_BUFFER.with(|b| drop(b.take())));
}

/// The micro-kernel [`sgemm_with`] runs for `options`, e.g. `avx2_gemm_f32_6x16`.
pub fn kernel_name(options: &PlanOptions) -> Result<String, ConvError> {
    Ok(kernel::kernel_name(options.tier()?))
}

/// `(MR, NR)`: the register tile of the micro-kernel [`sgemm_with`] runs for `options`.
pub fn tile(options: &PlanOptions) -> Result<(usize, usize), ConvError> {
    Ok(kernel::tile(options.tier()?))
}

/// The cache blocking [`sgemm_with`] uses for `options` (`sgemm_blocking`; for `m`
/// rows it then splits MC and KC evenly: [`blocking::balanced_mc`], [`blocking::balanced_kc`]).
pub fn blocking_for(options: &PlanOptions) -> Result<blocking::Blocking, ConvError> {
    let (mr, nr) = tile(options)?;
    Ok(sgemm_blocking(options.tier()?, mr, nr))
}
