//! What every subcommand shares: the suite and layer selection, backend names, thread pools,
//! and the failures that map to exit codes 2 and 3.

use std::path::PathBuf;

use convkit::{Backend, ConvError, ConvProblem, Suite};

/// Why a subcommand stopped early.
pub enum Failure {
    /// Exit 2: bad input.
    BadInput(String),
    /// Exit 3: the backend does not support the problem.
    Unsupported(String),
}

impl Failure {
    pub fn bad(e: impl std::fmt::Display) -> Failure {
        Failure::BadInput(e.to_string())
    }
}

/// `--suite FILE --layers a,b`.
#[derive(clap::Args, Clone, Debug)]
pub struct SuiteArgs {
    /// Layer-suite JSON (default: the suite embedded in convkit, a copy of the shared suite).
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Only these layers (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
}

impl SuiteArgs {
    /// `(name, problem)` of the selected layers; an unreadable suite, invalid layer or unknown
    /// layer name is bad input.
    pub fn problems(&self) -> Result<Vec<(String, ConvProblem)>, Failure> {
        let suite = match &self.suite {
            Some(path) => Suite::load(path),
            None => Suite::embedded(),
        }
        .map_err(Failure::bad)?;
        for name in &self.layers {
            suite.layer(name).map_err(Failure::bad)?;
        }
        let all = suite.problems().map_err(Failure::bad)?;
        Ok(all.into_iter().filter(|(n, _)| self.layers.is_empty() || self.layers.contains(n)).collect())
    }
}

/// The backends named, or the defaults.
pub fn backends(names: &[String], default: &[&str]) -> Result<Vec<&'static dyn Backend>, Failure> {
    let names: Vec<&str> = if names.is_empty() { default.to_vec() } else { names.iter().map(String::as_str).collect() };
    names.into_iter().map(|n| convkit::backend(n).map_err(Failure::bad)).collect()
}

/// Runs `f` inside a rayon pool of `threads` threads (the global pool if `None`).
pub fn with_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, Failure> {
    match threads {
        None => Ok(f()),
        Some(0) => Err(Failure::BadInput("--threads must be at least 1".into())),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(Failure::bad)?;
            Ok(pool.install(f))
        }
    }
}

/// Plan options for `--isa`.
pub fn plan_options(isa: Option<convkit::Isa>) -> convkit::PlanOptions {
    match isa {
        Some(i) => convkit::PlanOptions::default().with_isa(i),
        None => convkit::PlanOptions::default(),
    }
}

/// Maps a plan error: unsupported problems are exit 3, everything else exit 2.
pub fn plan_failure(e: ConvError) -> Failure {
    match e {
        ConvError::Unsupported(u) => Failure::Unsupported(u.to_string()),
        other => Failure::bad(other),
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}").expect("valid template").progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}
