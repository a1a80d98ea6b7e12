//! `ConvProblem`: the shapes and parameters of one 2-D convolution, validated once into a
//! [`ConvShape`] that holds every derived size (output extent, buffer lengths, FLOPs), all
//! computed with checked arithmetic; plus the one-line descriptor (`Display` / `FromStr`).
//!
//! Layouts: input `N x C x H x W` (NCHW), weights `K x C/groups x R x S` (KCRS, OIHW),
//! bias `K`, output `N x K x OH x OW`, all f32, dense and row-major.
//!
//! # Semantics
//! Deep-learning convolution (cross-correlation) of the zero-padded input:
//! `y[n,k,oh,ow] = act(b[k] + sum_{c,r,s} w[k,c,r,s] * xpad[n, g*C/groups + c, oh*sh + r*dh, ow*sw + s*dw])`
//! where `g = k / (K/groups)` and `xpad` is the input with `pad = [top, left, bottom, right]`
//! rows and columns of zeros around it. Padding values are zeros that *are* multiplied, as in
//! a zero-padded tensor, so an infinite weight over padding yields NaN in every backend.
#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

use crate::error::ConvError;

/// Largest accepted value of any single dimension, stride, dilation, padding or group count.
pub const MAX_DIM: usize = (1 << 31) - 1;
/// Largest accepted number of elements in any one buffer (input, weights, output): 2^36
/// (256 GiB of f32). Larger shapes are refused before anything is allocated.
pub const MAX_ELEMENTS: usize = 1 << 36;

/// The activation fused after the bias.
///
/// NaN propagates through every activation (`relu(NaN)` is NaN), and `relu(-0.0)` is `-0.0`:
/// the rule is `max(lo, x) = if lo > x { lo } else { x }`, then `min(hi, t) = if hi < t { hi } else { t }`.
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(0, x)`.
    Relu,
    /// `min(max, max(min, x))`; `Clamp { min: 0.0, max: 6.0 }` is ReLU6.
    Clamp {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
}

impl Activation {
    /// ReLU6, the clamp to `0..=6` used by MobileNets.
    pub const RELU6: Activation = Activation::Clamp { min: 0.0, max: 6.0 };

    /// Applies the activation to one value, exactly as every backend does.
    ///
    /// ```
    /// use convkit::Activation;
    /// assert_eq!(Activation::Relu.apply(-2.0), 0.0);
    /// assert_eq!(Activation::RELU6.apply(7.5), 6.0);
    /// assert!(Activation::Relu.apply(f32::NAN).is_nan());
    /// ```
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => {
                if 0.0 > x {
                    0.0
                } else {
                    x
                }
            }
            Activation::Clamp { min, max } => {
                let t = if min > x { min } else { x };
                if max < t { max } else { t }
            }
        }
    }

    /// The `(lo, hi)` bounds, with infinities where a side is open.
    pub fn bounds(self) -> (f32, f32) {
        match self {
            Activation::None => (f32::NEG_INFINITY, f32::INFINITY),
            Activation::Relu => (0.0, f32::INFINITY),
            Activation::Clamp { min, max } => (min, max),
        }
    }

    fn validate(self) -> Result<(), ConvError> {
        if let Activation::Clamp { min, max } = self {
            if min.is_nan() || max.is_nan() {
                return Err(ConvError::InvalidActivation { min, max, reason: "a bound is NaN" });
            }
            if min > max {
                return Err(ConvError::InvalidActivation { min, max, reason: "min exceeds max" });
            }
        }
        Ok(())
    }
}

/// Which side gets the odd pixel of `same` padding, as ONNX's `auto_pad` defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamePadding {
    /// `SAME_UPPER`: the extra padding goes at the end (bottom, right).
    Upper,
    /// `SAME_LOWER`: the extra padding goes at the beginning (top, left).
    Lower,
}

/// Stride, padding, dilation, groups, bias and activation of a convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dParams {
    /// `[height, width]`, each >= 1.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]` rows/columns of zeros.
    pub padding: [usize; 4],
    /// `[height, width]`, each >= 1; 1 is a dense kernel.
    pub dilation: [usize; 2],
    /// Groups, dividing both C and K. `groups == C` is depthwise.
    pub groups: usize,
    /// Whether the layer adds a per-output-channel bias (length K).
    pub bias: bool,
    /// The activation after the bias.
    pub activation: Activation,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams { stride: [1, 1], padding: [0; 4], dilation: [1, 1], groups: 1, bias: false, activation: Activation::None }
    }
}

/// One 2-D convolution: `N x C x H x W` input, `K` filters of `C/groups x R x S`.
///
/// Fields are public and unchecked; [`ConvProblem::validate`] checks them once and returns
/// the derived sizes. Every backend validates at plan time.
///
/// ```
/// use convkit::{Activation, ConvProblem};
/// let p = ConvProblem::new(1, 64, 56, 56, 64, 3, 3)
///     .with_padding([1, 1, 1, 1])
///     .with_bias(true)
///     .with_activation(Activation::Relu);
/// let shape = p.validate()?;
/// assert_eq!((shape.oh, shape.ow), (56, 56));
/// assert_eq!(shape.flops, 2 * 64 * 56 * 56 * 64 * 9);
/// assert_eq!(p.to_string(), "mb1g1ic64ih56iw56oc64kh3kw3sh1sw1pt1pl1pb1pr1dh1dw1_bias_relu");
/// assert_eq!(p.to_string().parse::<ConvProblem>()?, p);
/// # Ok::<(), convkit::ConvError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvProblem {
    /// Batch.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (filters).
    pub k: usize,
    /// Kernel height.
    pub r: usize,
    /// Kernel width.
    pub s: usize,
    /// Stride, padding, dilation, groups, bias, activation.
    pub params: Conv2dParams,
}

/// The validated, derived sizes of a [`ConvProblem`]. Only [`ConvProblem::validate`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConvShape {
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Input channels per group.
    pub cg: usize,
    /// Output channels per group.
    pub kg: usize,
    /// Reduction length per output element: `cg * r * s`.
    pub reduction: usize,
    /// `n * c * h * w`.
    pub input_len: usize,
    /// `k * cg * r * s`.
    pub weights_len: usize,
    /// `k` if the problem has a bias, else 0.
    pub bias_len: usize,
    /// `n * k * oh * ow`.
    pub output_len: usize,
    /// `2 * n * k * oh * ow * cg * r * s`.
    pub flops: u64,
}

fn mul(a: usize, b: usize, what: &'static str) -> Result<usize, ConvError> {
    a.checked_mul(b).ok_or(ConvError::Overflow { what })
}

fn add(a: usize, b: usize, what: &'static str) -> Result<usize, ConvError> {
    a.checked_add(b).ok_or(ConvError::Overflow { what })
}

fn limit_elements(value: usize, field: &'static str) -> Result<usize, ConvError> {
    if value > MAX_ELEMENTS {
        return Err(ConvError::TooLarge { field, value: value as u128, limit: MAX_ELEMENTS as u128 });
    }
    Ok(value)
}

/// ONNX `auto_pad` SAME_* padding of one axis: `(begin, end)`.
fn same_axis(input: usize, kernel: usize, stride: usize, dilation: usize, mode: SamePadding) -> Result<(usize, usize), ConvError> {
    if stride == 0 {
        return Err(ConvError::ZeroDimension { field: "stride" });
    }
    if dilation == 0 || kernel == 0 {
        return Err(ConvError::ZeroDimension { field: if kernel == 0 { "kernel" } else { "dilation" } });
    }
    let out = input.div_ceil(stride);
    let dk = add(mul(kernel - 1, dilation, "dilated kernel")?, 1, "dilated kernel")?;
    let need = add(mul(out.saturating_sub(1), stride, "same padding")?, dk, "same padding")?;
    let total = need.saturating_sub(input);
    let small = total / 2;
    let big = total - small;
    Ok(match mode {
        SamePadding::Upper => (small, big),
        SamePadding::Lower => (big, small),
    })
}

impl ConvProblem {
    /// A problem with stride 1, no padding, dilation 1, one group, no bias, no activation.
    pub fn new(n: usize, c: usize, h: usize, w: usize, k: usize, r: usize, s: usize) -> Self {
        ConvProblem { n, c, h, w, k, r, s, params: Conv2dParams::default() }
    }

    /// Sets `[stride_h, stride_w]`.
    pub fn with_stride(mut self, stride: [usize; 2]) -> Self {
        self.params.stride = stride;
        self
    }

    /// Sets `[top, left, bottom, right]` padding.
    pub fn with_padding(mut self, padding: [usize; 4]) -> Self {
        self.params.padding = padding;
        self
    }

    /// No padding (`auto_pad = VALID`).
    pub fn with_valid_padding(self) -> Self {
        self.with_padding([0; 4])
    }

    /// Padding so that `oh = ceil(h / stride_h)` and `ow = ceil(w / stride_w)`, exactly as ONNX's
    /// `auto_pad = SAME_UPPER` / `SAME_LOWER` (dilation included; the odd pixel at the end for
    /// `Upper`, at the beginning for `Lower`). Set stride and dilation first.
    ///
    /// ```
    /// use convkit::{ConvProblem, SamePadding};
    /// // 4x4 kernel, stride 1 on a 5-wide input: 3 pixels of padding, the odd one at the end.
    /// let p = ConvProblem::new(1, 1, 5, 5, 1, 4, 4).with_same_padding(SamePadding::Upper)?;
    /// assert_eq!(p.params.padding, [1, 1, 2, 2]);
    /// let p = ConvProblem::new(1, 1, 5, 5, 1, 4, 4).with_same_padding(SamePadding::Lower)?;
    /// assert_eq!(p.params.padding, [2, 2, 1, 1]);
    /// # Ok::<(), convkit::ConvError>(())
    /// ```
    pub fn with_same_padding(mut self, mode: SamePadding) -> Result<Self, ConvError> {
        let [sh, sw] = self.params.stride;
        let [dh, dw] = self.params.dilation;
        let (t, b) = same_axis(self.h, self.r, sh, dh, mode)?;
        let (l, r) = same_axis(self.w, self.s, sw, dw, mode)?;
        self.params.padding = [t, l, b, r];
        Ok(self)
    }

    /// Sets `[dilation_h, dilation_w]`.
    pub fn with_dilation(mut self, dilation: [usize; 2]) -> Self {
        self.params.dilation = dilation;
        self
    }

    /// Sets the group count.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.params.groups = groups;
        self
    }

    /// Sets whether the problem has a bias.
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.params.bias = bias;
        self
    }

    /// Sets the activation.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.params.activation = activation;
        self
    }

    /// Checks every field and computes every derived size with checked arithmetic.
    ///
    /// Errors: a zero dimension, stride, dilation or group count; a value above
    /// [`MAX_DIM`]; groups not dividing C or K; a dilated kernel larger than the padded input;
    /// an invalid clamp; a buffer above [`MAX_ELEMENTS`]; an overflowing FLOP count.
    pub fn validate(&self) -> Result<ConvShape, ConvError> {
        let p = &self.params;
        let dims: [(&'static str, usize); 12] = [
            ("batch n", self.n),
            ("input channels c", self.c),
            ("input height h", self.h),
            ("input width w", self.w),
            ("output channels k", self.k),
            ("kernel height r", self.r),
            ("kernel width s", self.s),
            ("stride height", p.stride[0]),
            ("stride width", p.stride[1]),
            ("dilation height", p.dilation[0]),
            ("dilation width", p.dilation[1]),
            ("groups", p.groups),
        ];
        for (field, v) in dims {
            if v == 0 {
                return Err(ConvError::ZeroDimension { field });
            }
        }
        let pads = [
            ("padding top", p.padding[0]),
            ("padding left", p.padding[1]),
            ("padding bottom", p.padding[2]),
            ("padding right", p.padding[3]),
        ];
        for (field, v) in dims.into_iter().chain(pads) {
            if v > MAX_DIM {
                return Err(ConvError::TooLarge { field, value: v as u128, limit: MAX_DIM as u128 });
            }
        }
        let g = p.groups;
        if !self.c.is_multiple_of(g) {
            return Err(ConvError::GroupsDoNotDivide { groups: g, field: "input channels", value: self.c });
        }
        if !self.k.is_multiple_of(g) {
            return Err(ConvError::GroupsDoNotDivide { groups: g, field: "output channels", value: self.k });
        }
        p.activation.validate()?;
        let oh = out_extent("height", self.h, p.padding[0], p.padding[2], self.r, p.stride[0], p.dilation[0])?;
        let ow = out_extent("width", self.w, p.padding[1], p.padding[3], self.s, p.stride[1], p.dilation[1])?;
        let cg = self.c / g;
        let kg = self.k / g;
        let rs = mul(self.r, self.s, "kernel area")?;
        let reduction = mul(cg, rs, "reduction length")?;
        let input_len = limit_elements(
            mul(mul(mul(self.n, self.c, "input length")?, self.h, "input length")?, self.w, "input length")?,
            "input elements",
        )?;
        let weights_len = limit_elements(mul(self.k, reduction, "weights length")?, "weight elements")?;
        let plane = mul(oh, ow, "output length")?;
        let output_len = limit_elements(mul(mul(self.n, self.k, "output length")?, plane, "output length")?, "output elements")?;
        let flops = (output_len as u64)
            .checked_mul(reduction as u64)
            .and_then(|v| v.checked_mul(2))
            .ok_or(ConvError::Overflow { what: "FLOP count" })?;
        Ok(ConvShape { oh, ow, cg, kg, reduction, input_len, weights_len, bias_len: if p.bias { self.k } else { 0 }, output_len, flops })
    }

    /// `(oh, ow)`, or why there is none.
    pub fn output_size(&self) -> Result<(usize, usize), ConvError> {
        let s = self.validate()?;
        Ok((s.oh, s.ow))
    }

    /// `2 * n * k * oh * ow * (c / groups) * r * s`.
    pub fn flops(&self) -> Result<u64, ConvError> {
        Ok(self.validate()?.flops)
    }

    /// True when `groups == c` (each filter sees one input channel).
    pub fn is_depthwise(&self) -> bool {
        self.params.groups == self.c && self.params.groups > 1
    }
}

fn out_extent(
    axis: &'static str,
    input: usize,
    pad_a: usize,
    pad_b: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Result<usize, ConvError> {
    let padded = add(add(input, pad_a, "padded input")?, pad_b, "padded input")?;
    let dk = add(mul(kernel - 1, dilation, "dilated kernel")?, 1, "dilated kernel")?;
    if dk > padded {
        return Err(ConvError::KernelExceedsInput { axis, kernel: dk, padded });
    }
    Ok((padded - dk) / stride + 1)
}

/// The descriptor grammar, printed by `Display` and read by `FromStr`:
///
/// ```text
/// descriptor := item ( "_"? item )*
/// item       := key number | flag
/// key        := "mb" | "g" | "ic" | "ih" | "iw" | "oc" | "kh" | "kw" | "sh" | "sw"
///             | "pt" | "pl" | "pb" | "pr" | "ph" | "pw" | "dh" | "dw"
/// flag       := "bias" | "nobias" | "relu" | "clamp" float ":" float
/// ```
///
/// `mb` batch (default 1), `g` groups (1), `ic`/`oc` input/output channels (required),
/// `ih`/`iw` input height/width (one is required, the other defaults to it), `kh`/`kw` kernel
/// height/width (likewise), `sh`/`sw` stride (1), `pt`/`pl`/`pb`/`pr` padding top, left, bottom,
/// right (0), `ph` = top and bottom, `pw` = left and right, `dh`/`dw` dilation (1 = dense, unlike
/// benchdnn where 0 is dense). Flags: `bias` (default: no bias), `relu`, `clamp<min>:<max>`
/// (e.g. `clamp0:6` is ReLU6). A key may appear once. `Display` prints the canonical form
/// with every key, e.g. `mb1g1ic64ih56iw56oc64kh3kw3sh1sw1pt1pl1pb1pr1dh1dw1_bias_relu`, and
/// `parse(display(p)) == p` for every valid problem. Parsing validates the problem.
impl fmt::Display for ConvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.params;
        write!(
            f,
            "mb{}g{}ic{}ih{}iw{}oc{}kh{}kw{}sh{}sw{}pt{}pl{}pb{}pr{}dh{}dw{}",
            self.n,
            p.groups,
            self.c,
            self.h,
            self.w,
            self.k,
            self.r,
            self.s,
            p.stride[0],
            p.stride[1],
            p.padding[0],
            p.padding[1],
            p.padding[2],
            p.padding[3],
            p.dilation[0],
            p.dilation[1]
        )?;
        if p.bias {
            f.write_str("_bias")?;
        }
        match p.activation {
            Activation::None => Ok(()),
            Activation::Relu => f.write_str("_relu"),
            Activation::Clamp { min, max } => write!(f, "_clamp{min}:{max}"),
        }
    }
}

const KEYS: [&str; 18] = ["mb", "g", "ic", "ih", "iw", "oc", "kh", "kw", "sh", "sw", "pt", "pl", "pb", "pr", "ph", "pw", "dh", "dw"];

impl FromStr for ConvProblem {
    type Err = ConvError;

    fn from_str(text: &str) -> Result<Self, ConvError> {
        let err = |reason: String| ConvError::Descriptor { descriptor: text.chars().take(200).collect(), reason };
        let mut vals: [Option<usize>; 18] = [None; 18];
        let mut bias: Option<bool> = None;
        let mut act: Option<Activation> = None;
        let b = text.as_bytes();
        let mut i = 0;
        if b.is_empty() {
            return Err(err("empty descriptor".into()));
        }
        while i < b.len() {
            if b[i] == b'_' {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            let key = &text[start..i];
            if key.is_empty() {
                return Err(err(format!("expected a key at byte {start}")));
            }
            match key {
                "bias" | "nobias" => {
                    if bias.replace(key == "bias").is_some() {
                        return Err(err("bias given twice".into()));
                    }
                    continue;
                }
                "relu" => {
                    if act.replace(Activation::Relu).is_some() {
                        return Err(err("activation given twice".into()));
                    }
                    continue;
                }
                "clamp" => {
                    let vstart = i;
                    while i < b.len() && b[i] != b'_' {
                        i += 1;
                    }
                    let body = &text[vstart..i];
                    let (lo, hi) = body.split_once(':').ok_or_else(|| err(format!("clamp needs <min>:<max>, got {body:?}")))?;
                    let min: f32 = lo.parse().map_err(|_| err(format!("clamp min {lo:?} is not a number")))?;
                    let max: f32 = hi.parse().map_err(|_| err(format!("clamp max {hi:?} is not a number")))?;
                    if act.replace(Activation::Clamp { min, max }).is_some() {
                        return Err(err("activation given twice".into()));
                    }
                    continue;
                }
                _ => {}
            }
            let slot = KEYS
                .iter()
                .position(|k| *k == key)
                .ok_or_else(|| err(format!("unknown key {key:?}; keys: {}, flags: bias, relu, clamp<min>:<max>", KEYS.join(", "))))?;
            let nstart = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[nstart..i];
            if digits.is_empty() {
                return Err(err(format!("key {key:?} needs a number")));
            }
            let v: usize = digits.parse().map_err(|_| err(format!("{key} {digits} does not fit in usize")))?;
            if vals[slot].replace(v).is_some() {
                return Err(err(format!("key {key:?} given twice")));
            }
        }
        let get = |k: &str| vals[KEYS.iter().position(|x| *x == k).expect("key in table")];
        let ic = get("ic").ok_or_else(|| err("missing ic (input channels)".into()))?;
        let oc = get("oc").ok_or_else(|| err("missing oc (output channels)".into()))?;
        let (ih, iw) = match (get("ih"), get("iw")) {
            (Some(h), Some(w)) => (h, w),
            (Some(h), None) => (h, h),
            (None, Some(w)) => (w, w),
            (None, None) => return Err(err("missing ih or iw (input size)".into())),
        };
        let (kh, kw) = match (get("kh"), get("kw")) {
            (Some(h), Some(w)) => (h, w),
            (Some(h), None) => (h, h),
            (None, Some(w)) => (w, w),
            (None, None) => return Err(err("missing kh or kw (kernel size)".into())),
        };
        let both = |single: &str, a: &str, b: &str| -> Result<(usize, usize), ConvError> {
            match (get(single), get(a), get(b)) {
                (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(err(format!("{single} conflicts with {a}/{b}"))),
                (Some(v), None, None) => Ok((v, v)),
                (None, x, y) => Ok((x.unwrap_or(0), y.unwrap_or(0))),
            }
        };
        let (pt, pb) = both("ph", "pt", "pb")?;
        let (pl, pr) = both("pw", "pl", "pr")?;
        let problem = ConvProblem {
            n: get("mb").unwrap_or(1),
            c: ic,
            h: ih,
            w: iw,
            k: oc,
            r: kh,
            s: kw,
            params: Conv2dParams {
                stride: [get("sh").unwrap_or(1), get("sw").unwrap_or(1)],
                padding: [pt, pl, pb, pr],
                dilation: [get("dh").unwrap_or(1), get("dw").unwrap_or(1)],
                groups: get("g").unwrap_or(1),
                bias: bias.unwrap_or(false),
                activation: act.unwrap_or_default(),
            },
        };
        problem.validate()?;
        Ok(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_fields_and_values() {
        let e = ConvProblem::new(1, 1, 7, 7, 1, 5, 5).with_dilation([2, 1]).validate().unwrap_err();
        assert_eq!(e.to_string(), "dilated kernel height 9 exceeds padded input height 7");
        let e = ConvProblem::new(1, 1, 7, 0, 1, 5, 5).validate().unwrap_err();
        assert_eq!(e.to_string(), "input width w must be at least 1, got 0");
    }

    #[test]
    fn huge_dimensions_are_refused() {
        let e = ConvProblem::new(1, 1, 1 << 40, 1, 1, 1, 1).validate().unwrap_err();
        assert!(matches!(e, ConvError::TooLarge { field: "input height h", .. }), "{e}");
        let e = ConvProblem::new(1 << 20, 1 << 10, 1 << 10, 1 << 10, 1, 1, 1).validate().unwrap_err();
        assert!(matches!(e, ConvError::TooLarge { field: "input elements", .. }), "{e}");
        let e = ConvProblem::new(1, 1, 8, 8, 1, 3, 3).with_padding([usize::MAX, 0, usize::MAX, 0]).validate().unwrap_err();
        assert!(matches!(e, ConvError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn descriptor_shorthands() {
        let p: ConvProblem = "ic3ih224oc64kh7sh2ph3_relu".parse().unwrap();
        assert_eq!((p.w, p.s, p.params.stride, p.params.padding), (224, 7, [2, 1], [3, 0, 3, 0]));
        assert!("ic3ih224oc64kh7ph3pt1".parse::<ConvProblem>().is_err());
        assert!("ic3ih224oc64kh7ic4".parse::<ConvProblem>().is_err());
        assert!("ic3ih224oc64kh7_clamp6:0".parse::<ConvProblem>().is_err());
        let p: ConvProblem = "ic3ih9oc4kh3_clamp-1.5:6".parse().unwrap();
        assert_eq!(p.params.activation, Activation::Clamp { min: -1.5, max: 6.0 });
        assert_eq!(p.to_string().parse::<ConvProblem>().unwrap(), p);
    }
}
