//! stub
#![allow(missing_docs)]
use crate::backend::{Backend, Plan, PlanOptions};
use crate::error::{ConvError, Unsupported};
use crate::problem::ConvProblem;
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AutoOptions;
impl AutoOptions {
    pub fn rules_only() -> Self {
        AutoOptions
    }
}
pub struct Wisdom;
#[derive(Clone, Copy, Debug, Default)]
pub struct Auto;
impl Backend for Auto {
    fn name(&self) -> &'static str {
        "auto"
    }
    fn supports(&self, p: &ConvProblem) -> Result<(), Unsupported> {
        crate::backend::backend("naive").unwrap().supports(p)
    }
    fn plan_with(&self, p: &ConvProblem, w: &[f32], b: Option<&[f32]>, o: &PlanOptions) -> Result<Box<dyn Plan>, ConvError> {
        crate::backend::backend("naive").unwrap().plan_with(p, w, b, o)
    }
}
