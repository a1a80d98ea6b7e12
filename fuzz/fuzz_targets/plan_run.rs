//! Fuzz target `plan_run`: see `convkit::testing::fuzz::plan_run` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    convkit::testing::fuzz::plan_run(data);
});
