//! `convbench check`: every backend against naive on every layer, one line per layer, backend
//! and tier. Exit 1 on any mismatch.

use std::process::ExitCode;

use convkit::testing::{CheckOutcome, Checker};

use crate::common::{Failure, SuiteArgs, backends, progress, with_threads};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    suite: SuiteArgs,
    /// Backends to check (default: all).
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Check at this ISA tier (default: the active one).
    #[arg(long, conflicts_with = "all_isas")]
    isa: Option<convkit::Isa>,
    /// Check at every ISA tier available here.
    #[arg(long)]
    all_isas: bool,
    /// Threads (default: all).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn main(args: Args) -> Result<ExitCode, Failure> {
    let problems = args.suite.problems()?;
    let all: Vec<&str> = convkit::backend_names();
    let chosen = backends(&args.backends, &all)?;
    let isas = if args.all_isas {
        convkit::available_isas().map_err(Failure::bad)?
    } else {
        vec![args.isa.map_or_else(convkit::active_isa, Ok).map_err(Failure::bad)?]
    };
    with_threads(args.threads, || {
        let bar = progress(problems.len(), "check");
        let mut mismatches = 0;
        for (name, problem) in &problems {
            bar.set_message(name.clone());
            let checker = match Checker::new(problem, convkit::testing::CHECK_SEED) {
                Ok(c) => c,
                Err(e) => return Err(Failure::BadInput(format!("layer {name}: {e}"))),
            };
            for b in &chosen {
                for isa in &isas {
                    let opts = convkit::PlanOptions::default().with_isa(*isa);
                    let line = match checker.check(*b, &opts) {
                        Ok(CheckOutcome::Agreed(r)) => format!(
                            "{name:<22} {:<9} {:<8} {:<34} max error: integer {:.1e}, random {:.2e} ({:.3} of bound)  ok",
                            r.backend, r.isa, r.kernel, r.max_err_integer, r.max_err_random, r.max_bound_ratio
                        ),
                        Ok(CheckOutcome::Unsupported(why)) => format!("{name:<22} {:<9} {isa:<8} unsupported: {why}", b.name()),
                        Err(e) => {
                            mismatches += 1;
                            format!("{name:<22} {:<9} {isa:<8} MISMATCH: {e}", b.name())
                        }
                    };
                    bar.suspend(|| println!("{line}"));
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if mismatches > 0 {
            eprintln!("convbench check: {mismatches} mismatch(es)");
            Ok(ExitCode::from(1))
        } else {
            Ok(ExitCode::SUCCESS)
        }
    })?
}
