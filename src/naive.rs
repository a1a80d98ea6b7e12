//! The `naive` backend: the obvious direct loops, the definition of a correct answer that every
//! other backend is tested against. No unsafe, no cleverness; output planes run in parallel.
#![forbid(unsafe_code)]

use rayon::prelude::*;

use crate::backend::{Backend, Plan, PlanOptions, validate_plan_inputs, validate_run_buffers};
use crate::epilogue::Epilogue;
use crate::error::{ConvError, Unsupported};
use crate::isa::Isa;
use crate::problem::{ConvProblem, ConvShape};

/// The reference backend. Supports every valid problem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

impl Backend for Naive {
    fn name(&self) -> &'static str {
        "naive"
    }

    fn supports(&self, problem: &ConvProblem) -> Result<(), Unsupported> {
        crate::backend::supports_valid("naive", problem).map(|_| ())
    }

    fn plan_with(
        &self,
        problem: &ConvProblem,
        weights: &[f32],
        bias: Option<&[f32]>,
        options: &PlanOptions,
    ) -> Result<Box<dyn Plan>, ConvError> {
        let shape = validate_plan_inputs(problem, weights, bias)?;
        options.tier()?; // an invalid CONVKIT_MAX_ISA is an error for every backend
        Ok(Box::new(NaivePlan { problem: *problem, shape, weights: weights.to_vec(), bias: bias.map(<[f32]>::to_vec) }))
    }
}

struct NaivePlan {
    problem: ConvProblem,
    shape: ConvShape,
    weights: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl Plan for NaivePlan {
    fn backend(&self) -> &'static str {
        "naive"
    }
    fn kernel(&self) -> String {
        "naive_direct_f32".into()
    }
    fn isa(&self) -> Isa {
        Isa::Scalar
    }
    fn problem(&self) -> &ConvProblem {
        &self.problem
    }
    fn shape(&self) -> &ConvShape {
        &self.shape
    }
    fn workspace_len_per_thread(&self) -> usize {
        0
    }

    fn run(&self, input: &[f32], output: &mut [f32], workspace: &mut [f32]) -> Result<(), ConvError> {
        validate_run_buffers(&self.shape, input, output, workspace, 0)?;
        let p = &self.problem;
        let sh = &self.shape;
        let [stride_h, stride_w] = p.params.stride;
        let [dil_h, dil_w] = p.params.dilation;
        let [pad_t, pad_l, _, _] = p.params.padding;
        let epi = Epilogue::new(self.bias.as_deref(), p.params.activation);
        let plane = sh.oh * sh.ow;
        output.par_chunks_mut(plane).enumerate().for_each(|(nk, out)| {
            let (n, k) = (nk / p.k, nk % p.k);
            let g = k / sh.kg;
            for oh in 0..sh.oh {
                for ow in 0..sh.ow {
                    let mut acc = 0.0f32;
                    for c in 0..sh.cg {
                        let ci = g * sh.cg + c;
                        for r in 0..p.r {
                            for s in 0..p.s {
                                // Coordinates in the zero-padded input.
                                let ph = oh * stride_h + r * dil_h;
                                let pw = ow * stride_w + s * dil_w;
                                let x = if ph >= pad_t && ph - pad_t < p.h && pw >= pad_l && pw - pad_l < p.w {
                                    input[((n * p.c + ci) * p.h + (ph - pad_t)) * p.w + (pw - pad_l)]
                                } else {
                                    0.0
                                };
                                acc += x * self.weights[((k * sh.cg + c) * p.r + r) * p.s + s];
                            }
                        }
                    }
                    out[oh * sh.ow + ow] = epi.apply_scalar(acc, k);
                }
            }
        });
        Ok(())
    }
}
