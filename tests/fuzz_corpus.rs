//! Replays every committed fuzz corpus file (and every crash reproducer, once fixed, kept in
//! `fuzz/regressions/<target>/`) through the fuzz targets' bodies on stable Rust, so what the
//! fuzzers explored stays tested without a nightly toolchain.

use std::path::Path;

use convkit::testing::fuzz;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in [root.join("corpus").join(target), root.join("regressions").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{target}: {} fails", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn conv_differential_corpus() {
    assert!(replay("conv_differential", fuzz::conv_differential) > 0);
}

#[test]
fn descriptor_parse_corpus() {
    assert!(replay("descriptor_parse", fuzz::descriptor_parse) > 0);
}

#[test]
fn plan_run_corpus() {
    assert!(replay("plan_run", fuzz::plan_run) > 0);
}
