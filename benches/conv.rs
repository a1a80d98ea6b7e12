//! Criterion benchmarks of every backend at every ISA tier on every layer of the suite:
//! one group per layer, one benchmark per `backend/tier`, throughput in FLOPs (criterion's
//! "elem/s" are FLOP/s), the plan built outside the timed loop.
//!
//! ```text
//! cargo bench --bench conv                       # everything
//! cargo bench --bench conv -- resnet50_res3_3x3  # one layer (any substring of the IDs)
//! cargo bench --bench conv -- --list             # the benchmark IDs
//! CONVKIT_SUITE=my_suite.json cargo bench --bench conv
//! CONVKIT_BENCH_THREADS=1 cargo bench --bench conv   # rayon threads (default: all cores)
//! ```
//! Reports land in `target/criterion/<layer>/report/index.html`. The layer suite is the copy
//! convkit carries (`suites/suite.json`, from `../shared/bench/suite.json`) unless
//! `CONVKIT_SUITE` names another. `naive` is left out unless `CONVKIT_BENCH_NAIVE=1`.

use std::time::Duration;

use convkit::testing::{Data, DataKind};
use convkit::{Backend, PlanOptions, Suite, available_isas, backends};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn suite() -> Suite {
    match std::env::var("CONVKIT_SUITE") {
        Ok(path) => Suite::load(&path).unwrap_or_else(|e| panic!("CONVKIT_SUITE: {e}")),
        Err(_) => Suite::embedded().expect("embedded suite"),
    }
}

fn bench_layers(c: &mut Criterion) {
    let threads: Option<usize> = std::env::var("CONVKIT_BENCH_THREADS").ok().map(|t| t.parse().expect("CONVKIT_BENCH_THREADS is a number"));
    let pool = threads.map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("thread pool"));
    let with_naive = std::env::var_os("CONVKIT_BENCH_NAIVE").is_some();
    let isas = available_isas().expect("CONVKIT_MAX_ISA must be valid");
    for layer in suite().layers {
        let problem = layer.problem().expect("valid layer");
        let flops = problem.flops().expect("valid layer");
        let data = Data::new(&problem, DataKind::Random, 1);
        let mut group = c.benchmark_group(&layer.name);
        group.throughput(Throughput::Elements(flops));
        group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
        for backend in backends() {
            let b: &dyn Backend = backend;
            if (b.name() == "naive" && !with_naive) || b.supports(&problem).is_err() {
                continue;
            }
            for isa in &isas {
                let opts = PlanOptions::default().with_isa(*isa);
                let run = || {
                    let plan = b.plan_with(&problem, &data.weights, data.bias.as_deref(), &opts).expect("plan");
                    let out = vec![0.0f32; plan.shape().output_len];
                    let ws = vec![0.0f32; plan.workspace_len()];
                    (plan, out, ws)
                };
                let (plan, mut out, mut ws) = match &pool {
                    Some(p) => p.install(run),
                    None => run(),
                };
                let id = BenchmarkId::new(b.name(), isa.name());
                group.bench_function(id, |bench| {
                    let mut iter = || bench.iter(|| plan.run(&data.input, &mut out, &mut ws).expect("run"));
                    match &pool {
                        Some(p) => p.install(&mut iter),
                        None => iter(),
                    }
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench_layers);
criterion_main!(benches);
