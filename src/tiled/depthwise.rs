//! Depthwise path (stub until written).
#![allow(dead_code)]
use crate::backend::Plan;
use crate::problem::{ConvProblem, ConvShape};
use crate::simd::Tier;
pub(crate) fn suits(_p: &ConvProblem, _s: &ConvShape) -> bool {
    false
}
pub(crate) struct DepthwisePlan;
impl DepthwisePlan {
    pub(crate) fn new(_p: &ConvProblem, _s: ConvShape, _w: &[f32], _b: Option<&[f32]>, _t: Tier) -> Box<dyn Plan> {
        unreachable!()
    }
}
