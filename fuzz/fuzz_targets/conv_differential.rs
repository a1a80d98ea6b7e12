//! Fuzz target `conv_differential`: see `convkit::testing::fuzz::conv_differential` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    convkit::testing::fuzz::conv_differential(data);
});
