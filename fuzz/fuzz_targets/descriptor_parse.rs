//! Fuzz target `descriptor_parse`: see `convkit::testing::fuzz::descriptor_parse` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    convkit::testing::fuzz::descriptor_parse(data);
});
