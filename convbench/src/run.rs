//! `convbench run`: one layer on .npy data (float32, C order; NCHW input, OIHW weights, K
//! bias), written as a float32 NCHW .npy.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use npyz::WriterBuilder;

use crate::common::{Failure, SuiteArgs, plan_failure, plan_options, with_threads};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    suite: SuiteArgs,
    /// The layer to run.
    #[arg(long)]
    layer: String,
    /// The backend (naive, im2col, tiled, winograd, auto).
    #[arg(long)]
    backend: String,
    /// Input, float32 N x C x H x W.
    #[arg(long)]
    input: PathBuf,
    /// Weights, float32 K x C/groups x R x S.
    #[arg(long)]
    weights: PathBuf,
    /// Bias, float32 K (required when the layer has a bias).
    #[arg(long)]
    bias: Option<PathBuf>,
    /// Output, float32 N x K x OH x OW.
    #[arg(long)]
    out: PathBuf,
    /// Threads (default: all).
    #[arg(long)]
    threads: Option<usize>,
    /// ISA tier (default: the active one).
    #[arg(long)]
    isa: Option<convkit::Isa>,
}

/// Reads a float32, C-order array of exactly `shape`.
fn read_npy(path: &Path, what: &str, shape: &[usize]) -> Result<Vec<f32>, Failure> {
    let bad = |msg: String| Failure::BadInput(format!("{what} {}: {msg}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(format!("not a .npy file: {e}")))?;
    let f4: npyz::TypeStr = "<f4".parse().expect("valid type string");
    if npy.dtype() != npyz::DType::Plain(f4) {
        return Err(bad(format!("dtype {} is not float32 (<f4)", npy.dtype().descr())));
    }
    if npy.order() != npyz::Order::C {
        return Err(bad("Fortran order; convkit needs C order".into()));
    }
    let want: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    if npy.shape() != want.as_slice() {
        return Err(bad(format!("shape {:?}, the layer needs {:?}", npy.shape(), want)));
    }
    npy.into_vec::<f32>().map_err(|e| bad(e.to_string()))
}

pub fn main(args: Args) -> Result<ExitCode, Failure> {
    let problems = args.suite.problems()?;
    let Some((_, problem)) = problems.iter().find(|(n, _)| *n == args.layer) else {
        return Err(Failure::BadInput(format!("no layer named {:?} in the suite", args.layer)));
    };
    let p = problem;
    let shape = p.validate().map_err(Failure::bad)?;
    let backend = convkit::backend(&args.backend).map_err(Failure::bad)?;
    if let Err(why) = backend.supports(p) {
        return Err(Failure::Unsupported(why.to_string()));
    }
    let x = read_npy(&args.input, "input", &[p.n, p.c, p.h, p.w])?;
    let w = read_npy(&args.weights, "weights", &[p.k, shape.cg, p.r, p.s])?;
    let b = match (&args.bias, p.params.bias) {
        (Some(path), true) => Some(read_npy(path, "bias", &[p.k])?),
        (None, false) => None,
        (Some(_), false) => return Err(Failure::BadInput(format!("layer {} has no bias, but --bias was given", args.layer))),
        (None, true) => return Err(Failure::BadInput(format!("layer {} has a bias: give --bias", args.layer))),
    };
    let opts = plan_options(args.isa);
    let y = with_threads(args.threads, || -> Result<Vec<f32>, Failure> {
        let plan = backend.plan_with(p, &w, b.as_deref(), &opts).map_err(plan_failure)?;
        plan.run_alloc(&x).map_err(Failure::bad)
    })??;
    let out_shape = [p.n as u64, p.k as u64, shape.oh as u64, shape.ow as u64];
    let file = std::fs::File::create(&args.out).map_err(|e| Failure::BadInput(format!("out {}: {e}", args.out.display())))?;
    let write = || -> std::io::Result<()> {
        let mut writer = npyz::WriteOptions::new().default_dtype().shape(&out_shape).writer(BufWriter::new(file)).begin_nd()?;
        writer.extend(y.iter().copied())?;
        writer.finish()
    };
    write().map_err(|e| Failure::BadInput(format!("out {}: {e}", args.out.display())))?;
    eprintln!("convbench run: {} {} -> {} {:?}", args.layer, args.backend, args.out.display(), out_shape);
    Ok(ExitCode::SUCCESS)
}
