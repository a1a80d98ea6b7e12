//! stub
#![allow(missing_docs)]
use crate::backend::{Backend, Plan, PlanOptions};
use crate::error::{ConvError, Unsupported};
use crate::problem::ConvProblem;
#[derive(Clone, Copy, Debug, Default)]
pub struct Tiled;
impl Backend for Tiled {
    fn name(&self) -> &'static str {
        "tiled"
    }
    fn supports(&self, _p: &ConvProblem) -> Result<(), Unsupported> {
        Err(Unsupported::new("tiled", "not built yet"))
    }
    fn plan_with(
        &self,
        p: &ConvProblem,
        _w: &[f32],
        _b: Option<&[f32]>,
        _o: &PlanOptions,
    ) -> Result<Box<dyn Plan>, ConvError> {
        Err(self.supports(p).unwrap_err().into())
    }
}
