//! stub
#![allow(missing_docs)]
use crate::backend::{Backend, Plan, PlanOptions};
use crate::error::{ConvError, Unsupported};
use crate::problem::ConvProblem;
#[derive(Clone, Copy, Debug, Default)]
pub struct Winograd;
impl Backend for Winograd {
    fn name(&self) -> &'static str {
        "winograd"
    }
    fn supports(&self, _p: &ConvProblem) -> Result<(), Unsupported> {
        Err(Unsupported::new("winograd", "not built yet"))
    }
    fn plan_with(&self, p: &ConvProblem, _w: &[f32], _b: Option<&[f32]>, _o: &PlanOptions) -> Result<Box<dyn Plan>, ConvError> {
        Err(self.supports(p).unwrap_err().into())
    }
}
