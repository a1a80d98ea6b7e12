//! `convbench`: convkit's command-line driver.
//!
//! ```text
//! convbench list                         backends, detected and active ISA
//! convbench check [--suite F] [--backends a,b] [--all-isas]
//!                                        every backend against naive on every layer
//! convbench time  [--suite F] [--threads N] [--backends a,b] [--json OUT] [--svg OUT]
//!                                        median time and GFLOP/s per layer and backend
//! convbench tune  [--suite F] --wisdom OUT [--wisdom-in IN]
//!                                        measure and save auto's choices
//! convbench run   [--suite F] --layer L --backend B --input x.npy --weights w.npy
//!                 [--bias b.npy] --out y.npy
//! ```
//! Without `--suite` the suite embedded in convkit is used. Exit codes: 0 success, 1 a
//! mismatch (`check`), 2 bad input (unreadable or malformed file, invalid layer, bad
//! `CONVKIT_MAX_ISA`, usage), 3 the backend does not support the problem (`run`).

mod check;
mod common;
mod run;
mod svg;
mod time;
mod tune;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use common::Failure;

#[derive(Parser)]
#[command(name = "convbench", version, about = "convkit's command-line driver: list, check, time, tune, run")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the backends, the detected ISA and the active ISA.
    List,
    /// Compare every backend with naive on every layer (integer data exactly, random data
    /// within the documented bound).
    Check(check::Args),
    /// Time every backend on every layer: median time, GFLOP/s, the fastest per layer.
    Time(time::Args),
    /// Measure auto's choice for every layer and write them to a wisdom file.
    Tune(tune::Args),
    /// Run one layer on .npy data.
    Run(run::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = convkit::active_isa() {
        eprintln!("convbench: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.cmd {
        Cmd::List => list(),
        Cmd::Check(a) => check::main(a),
        Cmd::Time(a) => time::main(a),
        Cmd::Tune(a) => tune::main(a),
        Cmd::Run(a) => run::main(a),
    };
    match result {
        Ok(code) => code,
        Err(Failure::BadInput(msg)) => {
            eprintln!("convbench: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Unsupported(msg)) => {
            eprintln!("convbench: {msg}");
            ExitCode::from(3)
        }
    }
}

fn list() -> Result<ExitCode, Failure> {
    let active = convkit::active_isa().map_err(Failure::bad)?;
    println!("backends: {}", convkit::backend_names().join(", "));
    println!("detected ISA: {}", convkit::detected_isa());
    let cap = convkit::isa::max_isa_from_env().map_err(Failure::bad)?;
    match cap {
        Some(c) => println!("active ISA: {active} (CONVKIT_MAX_ISA={c})"),
        None => println!("active ISA: {active}"),
    }
    let tiers: Vec<String> = convkit::available_isas().map_err(Failure::bad)?.iter().map(|i| i.to_string()).collect();
    println!("available ISA tiers: {}", tiers.join(", "));
    println!("threads: {}", rayon::current_num_threads());
    Ok(ExitCode::SUCCESS)
}
