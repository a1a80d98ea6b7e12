//! `convbench time`: for each layer and backend, build the plan once, warm up, time runs in
//! interleaved rounds, report the median time and GFLOP/s, then the fastest backend per layer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use convkit::testing::{Data, DataKind};
use convkit::timing::{Bench, fma_peak_gflops, time_interleaved};

use crate::common::{Failure, SuiteArgs, backends, plan_options, progress, with_threads};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    suite: SuiteArgs,
    /// Run inside a rayon pool of this many threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Backends to time (default: every backend but naive; naive runs only when named).
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Write the results as JSON: a list of {layer, backend, isa, threads, gflop, median_ms, gflops}.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw GFLOP/s per layer and backend, with the FMA peak as a line, as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Seconds of timing per layer, shared by its backends and rounds.
    #[arg(long, default_value_t = 0.6)]
    seconds: f64,
    /// Interleaved rounds per layer (the best median is kept).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// ISA tier (default: the active one).
    #[arg(long)]
    isa: Option<convkit::Isa>,
}

/// One measurement, as written to `--json`.
#[derive(serde::Serialize, Clone, Debug)]
pub struct Row {
    pub layer: String,
    pub backend: String,
    pub isa: String,
    pub threads: usize,
    pub gflop: f64,
    pub median_ms: f64,
    pub gflops: f64,
    #[serde(skip)]
    pub kernel: String,
}

pub fn main(args: Args) -> Result<ExitCode, Failure> {
    let problems = args.suite.problems()?;
    let chosen = backends(&args.backends, &["im2col", "tiled", "winograd", "auto"])?;
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(Failure::BadInput(format!("--seconds {} must be positive", args.seconds)));
    }
    let opts = plan_options(args.isa);
    let (rows, peak) = with_threads(args.threads, || -> Result<(Vec<Row>, f64), Failure> {
        let threads = rayon::current_num_threads();
        let peak = fma_peak_gflops(&opts, Duration::from_millis(100)).map_err(Failure::bad)?;
        let isa = opts.isa().map_or_else(convkit::active_isa, Ok).map_err(Failure::bad)?;
        println!("FMA peak ({isa}, {threads} thread{}): {peak:.1} GFLOP/s", if threads == 1 { "" } else { "s" });
        println!(
            "{:<22} {:<9} {:<8} {:>3} {:>9} {:>10} {:>8} {:>6}  kernel",
            "layer", "backend", "isa", "thr", "GFLOP", "median ms", "GFLOP/s", "%peak"
        );
        let bar = progress(problems.len(), "time");
        let mut rows = Vec::new();
        for (name, problem) in &problems {
            bar.set_message(name.clone());
            let data = Data::new(problem, DataKind::Random, 1);
            let mut plans = Vec::new();
            for b in &chosen {
                if b.supports(problem).is_err() {
                    continue;
                }
                plans.push(
                    b.plan_with(problem, &data.weights, data.bias.as_deref(), &opts)
                        .map_err(|e| Failure::bad(format!("layer {name}: {e}")))?,
                );
            }
            let mut benches: Vec<Bench<'_>> = plans.iter().map(|p| Bench::new(p.as_ref(), &data.input)).collect();
            let timings = time_interleaved(&mut benches, Duration::from_secs_f64(args.seconds), args.rounds).map_err(Failure::bad)?;
            let gflop = problem.flops().map_err(Failure::bad)? as f64 * 1e-9;
            for (plan, t) in plans.iter().zip(&timings) {
                let ms = t.median.as_secs_f64() * 1e3;
                let row = Row {
                    layer: name.clone(),
                    backend: plan.backend().to_string(),
                    isa: plan.isa().to_string(),
                    threads,
                    gflop,
                    median_ms: ms,
                    gflops: gflop / (ms * 1e-3),
                    kernel: plan.kernel(),
                };
                bar.suspend(|| {
                    println!(
                        "{:<22} {:<9} {:<8} {:>3} {:>9.4} {:>10.4} {:>8.1} {:>5.0}%  {}",
                        row.layer,
                        row.backend,
                        row.isa,
                        row.threads,
                        row.gflop,
                        row.median_ms,
                        row.gflops,
                        100.0 * row.gflops / peak,
                        row.kernel
                    )
                });
                rows.push(row);
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok((rows, peak))
    })??;
    print_fastest(&rows);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(Failure::bad)?;
        std::fs::write(path, text + "\n").map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
    }
    if let Some(path) = &args.svg {
        crate::svg::draw(&rows, peak, path).map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The fastest non-auto backend per layer, and whether auto's choice matched it.
fn print_fastest(rows: &[Row]) {
    let mut layers: Vec<&str> = rows.iter().map(|r| r.layer.as_str()).collect();
    layers.dedup();
    println!();
    println!("{:<22} {:<9} {:>8}  auto's choice", "layer", "fastest", "GFLOP/s");
    let (mut agree, mut with_auto) = (0, 0);
    for layer in layers {
        let of_layer: Vec<&Row> = rows.iter().filter(|r| r.layer == layer).collect();
        let Some(best) = of_layer.iter().filter(|r| r.backend != "auto").max_by(|a, b| a.gflops.total_cmp(&b.gflops)) else { continue };
        let auto = of_layer.iter().find(|r| r.backend == "auto").map(|r| r.kernel.split(':').next().unwrap_or("").to_string());
        let note = match &auto {
            Some(a) => {
                with_auto += 1;
                if *a == best.backend {
                    agree += 1;
                    format!("{a} (same)")
                } else {
                    format!("{a} (differs)")
                }
            }
            None => "-".into(),
        };
        println!("{:<22} {:<9} {:>8.1}  {note}", layer, best.backend, best.gflops);
    }
    if with_auto > 0 {
        println!("auto chose the fastest backend on {agree} of {with_auto} layers");
    }
}
