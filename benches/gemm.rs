//! Criterion benchmarks of convkit's SGEMM beside the `matrixmultiply` and `gemm` crates, one
//! thread each, for square sizes 64..1024 and for the GEMM shapes the suite's layers produce
//! under im2col (M = output channels per group, N = output pixels, K = (C/groups) R S).
//! Throughput in FLOPs (criterion's "elem/s" are FLOP/s).
//!
//! ```text
//! cargo bench --bench gemm                 # all
//! cargo bench --bench gemm -- square/512   # one size
//! ```

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn shapes() -> Vec<(String, usize, usize, usize)> {
    let mut v: Vec<(String, usize, usize, usize)> = [64, 128, 256, 512, 1024].iter().map(|&n| (format!("square/{n}"), n, n, n)).collect();
    let suite = convkit::Suite::embedded().expect("embedded suite");
    for layer in &suite.layers {
        let p = layer.problem().expect("valid layer");
        let s = p.validate().expect("valid layer");
        if s.flops >= 50_000_000 && s.cg > 1 {
            v.push((format!("layer/{}", layer.name), s.kg, s.oh * s.ow, s.reduction));
        }
    }
    v
}

fn bench_gemm(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    for (name, m, n, k) in shapes() {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 * 0.1 - 0.6).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 * 0.1 - 0.5).collect();
        let mut out = vec![0.0f32; m * n];
        let mut group = c.benchmark_group(format!("sgemm/{name}"));
        group.throughput(Throughput::Elements(2 * (m * n * k) as u64));
        group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
        group.bench_function(BenchmarkId::from_parameter(format!("convkit_{m}x{n}x{k}")), |bench| {
            pool.install(|| bench.iter(|| convkit::gemm::sgemm(m, n, k, &a, &b, &mut out).expect("sgemm")))
        });
        group.bench_function(BenchmarkId::from_parameter(format!("matrixmultiply_{m}x{n}x{k}")), |bench| {
            // SAFETY: row-major m x k, k x n and m x n buffers of exactly those sizes.
            bench.iter(|| unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    out.as_mut_ptr(),
                    n as isize,
                    1,
                )
            })
        });
        group.bench_function(BenchmarkId::from_parameter(format!("gemm_{m}x{n}x{k}")), |bench| {
            // SAFETY: as above; column stride 1, row strides k, n, n.
            bench.iter(|| unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    out.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_gemm);
criterion_main!(benches);
