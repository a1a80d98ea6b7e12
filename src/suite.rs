//! Layer suites: the JSON format of `../shared/bench/suite.json`, read with serde, and the
//! copy of that suite the crate carries (`suites/suite.json`), used whenever no file is named.
//!
//! ```json
//! {"about": "...", "layers": [
//!   {"name": "resnet50_res2_3x3", "n": 1, "c": 64, "h": 56, "w": 56, "k": 64, "r": 3, "s": 3,
//!    "stride": [1, 1], "pad": [1, 1, 1, 1], "dilation": [1, 1], "groups": 1, "relu": true}
//! ]}
//! ```
//! `pad` is `[top, left, bottom, right]`; `relu: true` means [`Activation::Relu`]. Optional
//! fields and their defaults: `n` 1, `stride` `[1, 1]`, `pad` zeros, `dilation` `[1, 1]`,
//! `groups` 1, `relu` false, `bias` true (the peers' anchor scripts always add a bias),
//! `clamp` `[min, max]` (an activation instead of `relu`).
#![forbid(unsafe_code)]

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ConvError;
use crate::problem::{Activation, Conv2dParams, ConvProblem};

/// The suite the crate carries: a copy of `../shared/bench/suite.json`.
pub const EMBEDDED_SUITE_JSON: &str = include_str!("../suites/suite.json");

fn one() -> usize {
    1
}
fn ones() -> [usize; 2] {
    [1, 1]
}
fn yes() -> bool {
    true
}

/// One layer of a suite, as written in the JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Unique name, e.g. `resnet50_res2_3x3`.
    pub name: String,
    /// Batch.
    #[serde(default = "one")]
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub k: usize,
    /// Kernel height.
    pub r: usize,
    /// Kernel width.
    pub s: usize,
    /// `[height, width]`.
    #[serde(default = "ones")]
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    #[serde(default)]
    pub pad: [usize; 4],
    /// `[height, width]`, 1 = dense.
    #[serde(default = "ones")]
    pub dilation: [usize; 2],
    /// Groups.
    #[serde(default = "one")]
    pub groups: usize,
    /// ReLU after the bias.
    #[serde(default)]
    pub relu: bool,
    /// Clamp `[min, max]` after the bias (instead of `relu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamp: Option<[f32; 2]>,
    /// Whether the layer has a bias.
    #[serde(default = "yes")]
    pub bias: bool,
}

impl Layer {
    /// The layer as a validated problem; an invalid layer is [`ConvError::Layer`] naming it.
    pub fn problem(&self) -> Result<ConvProblem, ConvError> {
        let wrap = |e: ConvError| ConvError::Layer { layer: self.name.clone(), error: Box::new(e) };
        let activation = match (self.relu, self.clamp) {
            (false, None) => Activation::None,
            (true, None) => Activation::Relu,
            (false, Some([min, max])) => Activation::Clamp { min, max },
            (true, Some(_)) => {
                return Err(wrap(ConvError::Suite { source_name: self.name.clone(), reason: "relu and clamp are both set".into() }));
            }
        };
        let p = ConvProblem {
            n: self.n,
            c: self.c,
            h: self.h,
            w: self.w,
            k: self.k,
            r: self.r,
            s: self.s,
            params: Conv2dParams {
                stride: self.stride,
                padding: self.pad,
                dilation: self.dilation,
                groups: self.groups,
                bias: self.bias,
                activation,
            },
        };
        p.validate().map_err(wrap)?;
        Ok(p)
    }

    /// A layer named `name` describing `p`.
    pub fn from_problem(name: impl Into<String>, p: &ConvProblem) -> Layer {
        let (relu, clamp) = match p.params.activation {
            Activation::None => (false, None),
            Activation::Relu => (true, None),
            Activation::Clamp { min, max } => (false, Some([min, max])),
        };
        Layer {
            name: name.into(),
            n: p.n,
            c: p.c,
            h: p.h,
            w: p.w,
            k: p.k,
            r: p.r,
            s: p.s,
            stride: p.params.stride,
            pad: p.params.padding,
            dilation: p.params.dilation,
            groups: p.params.groups,
            relu,
            clamp,
            bias: p.params.bias,
        }
    }
}

/// A named list of layers.
///
/// ```
/// let suite = convkit::Suite::embedded()?;
/// let layer = suite.layer("resnet50_res2_3x3")?;
/// let p = layer.problem()?;
/// assert_eq!((p.c, p.k, p.r), (64, 64, 3));
/// # Ok::<(), convkit::ConvError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// Free text.
    #[serde(default)]
    pub about: String,
    /// The layers, in order.
    pub layers: Vec<Layer>,
}

impl Suite {
    /// Parses suite JSON; `source_name` appears in errors. Every layer is validated and names
    /// must be unique.
    pub fn from_json(text: &str, source_name: &str) -> Result<Suite, ConvError> {
        let suite: Suite =
            serde_json::from_str(text).map_err(|e| ConvError::Suite { source_name: source_name.to_string(), reason: e.to_string() })?;
        let mut seen = std::collections::HashSet::new();
        for layer in &suite.layers {
            if !seen.insert(layer.name.as_str()) {
                return Err(ConvError::Suite {
                    source_name: source_name.to_string(),
                    reason: format!("layer name {:?} appears twice", layer.name),
                });
            }
            layer.problem()?;
        }
        Ok(suite)
    }

    /// Reads a suite file.
    pub fn load(path: impl AsRef<Path>) -> Result<Suite, ConvError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConvError::Suite { source_name: name.clone(), reason: e.to_string() })?;
        Suite::from_json(&text, &name)
    }

    /// The suite the crate carries (a copy of the shared layer suite).
    pub fn embedded() -> Result<Suite, ConvError> {
        Suite::from_json(EMBEDDED_SUITE_JSON, "embedded")
    }

    /// The layer called `name`, or an error listing the names.
    pub fn layer(&self, name: &str) -> Result<&Layer, ConvError> {
        self.layers.iter().find(|l| l.name == name).ok_or_else(|| ConvError::Suite {
            source_name: "suite".into(),
            reason: format!(
                "no layer named {name:?}; layers: {}",
                self.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// `(name, problem)` for every layer.
    pub fn problems(&self) -> Result<Vec<(String, ConvProblem)>, ConvError> {
        self.layers.iter().map(|l| Ok((l.name.clone(), l.problem()?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_suite_reads_and_relu_maps() {
        let s = Suite::embedded().unwrap();
        assert!(s.layers.len() >= 18);
        let p = s.layer("lenet_c1").unwrap().problem().unwrap();
        assert_eq!(p.params.activation, Activation::Relu);
        assert_eq!(p.params.padding, [2, 2, 2, 2]);
    }

    #[test]
    fn invalid_layer_names_layer_and_field() {
        let text = r#"{"layers":[{"name":"bad","c":16,"h":8,"w":8,"k":16,"r":3,"s":3,"groups":3}]}"#;
        let e = Suite::from_json(text, "x.json").unwrap_err().to_string();
        assert_eq!(e, "layer bad: groups 3 does not divide input channels 16");
        let e = Suite::from_json("{\"layers\": [", "x.json").unwrap_err().to_string();
        assert!(e.starts_with("suite x.json:"), "{e}");
    }
}
