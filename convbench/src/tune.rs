//! `convbench tune`: measure auto's choice for every layer (starting from `--wisdom-in`) and
//! write the wisdom file; prints each layer's choice and every candidate's time.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use convkit::auto;
use convkit::testing::{Data, DataKind};

use crate::common::{Failure, SuiteArgs, plan_options, progress, with_threads};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    suite: SuiteArgs,
    /// Where to write the wisdom.
    #[arg(long)]
    wisdom: PathBuf,
    /// Start from this wisdom (a corrupt file exits 2; one from another version or CPU is
    /// ignored with a warning).
    #[arg(long)]
    wisdom_in: Option<PathBuf>,
    /// Threads (choices are recorded per thread count).
    #[arg(long)]
    threads: Option<usize>,
    /// Timing budget per layer, in milliseconds.
    #[arg(long, default_value_t = 200)]
    budget_ms: u64,
    /// ISA tier (default: the active one).
    #[arg(long)]
    isa: Option<convkit::Isa>,
}

pub fn main(args: Args) -> Result<ExitCode, Failure> {
    let problems = args.suite.problems()?;
    if let Some(path) = &args.wisdom_in {
        let n = auto::load_wisdom(path).map_err(Failure::bad)?;
        eprintln!("convbench tune: {n} choice(s) from {}", path.display());
    }
    let opts = plan_options(args.isa);
    let budget = Duration::from_millis(args.budget_ms);
    with_threads(args.threads, || -> Result<(), Failure> {
        let threads = rayon::current_num_threads();
        let isa = opts.isa().map_or_else(convkit::active_isa, Ok).map_err(Failure::bad)?;
        println!("{:<22} {:<9} {:>3} {:<8}  candidate medians (ms)", "layer", "choice", "thr", "isa");
        let bar = progress(problems.len(), "tune");
        for (name, problem) in &problems {
            bar.set_message(name.clone());
            let (choice, source) = match auto::recorded_choice(problem, isa, threads) {
                Some(c) => (c, "recorded"),
                None => {
                    let data = Data::new(problem, DataKind::Random, 1);
                    (
                        auto::tune(problem, &data.weights, data.bias.as_deref(), &opts, budget)
                            .map_err(|e| Failure::bad(format!("layer {name}: {e}")))?,
                        "measured",
                    )
                }
            };
            let mut times: Vec<String> = choice.times_ms.iter().map(|(b, ms)| format!("{b} {ms:.4}")).collect();
            if let Some((other, ratio)) = &choice.paired {
                times.push(format!("paired: {ratio:.3}x faster than {other}"));
            }
            bar.suspend(|| {
                println!("{name:<22} {:<9} {:>3} {:<8}  {} [{source}]", choice.backend, choice.threads, choice.isa, times.join(", "))
            });
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(())
    })??;
    auto::save_wisdom(&args.wisdom).map_err(Failure::bad)?;
    println!("wrote {}", args.wisdom.display());
    Ok(ExitCode::SUCCESS)
}
