//! The per-tier instantiations really are compiled for their ISA: the avx512 entry points
//! emit zmm FMAs, the avx2 ones ymm FMAs, neither calls out for its vector operations, and no
//! intrinsic is compiled out of line anywhere in the library.
//! Rebuilds the library with `--emit asm` into its own target directory, so it is ignored by
//! default; CI runs it (`cargo test --release --test disassembly -- --ignored`).

use std::process::Command;

/// The assembly of every monomorphized function whose symbol contains `marker`.
fn bodies(asm: &str, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in asm.lines() {
        if !line.starts_with([' ', '\t', '.']) && line.ends_with(':') && !line.starts_with(".L") {
            if let Some(body) = current.take() {
                out.push(body);
            }
            if line.contains(marker) {
                current = Some(String::new());
            }
        } else if let Some(body) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out.extend(current);
    out
}

/// The most distinct destination registers (of kind `reg`) in one run of consecutive FMAs that
/// all take the same two factors: the FMA peak loop's independent chains (kernels change a
/// factor every few FMAs).
fn fma_peak_chains(body: &str, reg: &str) -> usize {
    let mut best = 0;
    let mut run: Option<(String, std::collections::BTreeSet<String>)> = None;
    for line in body.lines() {
        let line = line.trim();
        let fma = line.starts_with("vfmadd") && line.contains(reg);
        let joined: String = line.split_whitespace().skip(1).collect();
        let operands: Vec<&str> = joined.split(',').collect();
        if !fma || operands.len() != 3 {
            run = None;
            continue;
        }
        let sources = format!("{},{}", operands[0], operands[1]);
        match &mut run {
            Some((s, dests)) if *s == sources => {
                dests.insert(operands[2].to_string());
            }
            _ => run = Some((sources, [operands[2].to_string()].into())),
        }
        best = best.max(run.as_ref().map_or(0, |(_, d)| d.len()));
    }
    best
}

#[test]
#[ignore = "rebuilds the crate with --emit asm; run by CI"]
fn tier_entry_points_use_their_vector_width() {
    let target = std::env::temp_dir().join(format!("convkit-asm-{}", std::process::id()));
    let status = Command::new(env!("CARGO"))
        .args(["rustc", "--release", "--lib", "-p", "convkit", "--target-dir"])
        .arg(&target)
        .args(["--", "--emit", "asm", "-C", "debuginfo=0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo rustc");
    assert!(status.success());
    let deps = target.join("release").join("deps");
    // Every convkit assembly file: rustc may write one per codegen unit.
    let asm_files: Vec<_> = std::fs::read_dir(&deps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "s") && p.file_name().unwrap().to_string_lossy().starts_with("convkit"))
        .collect();
    assert!(!asm_files.is_empty(), "no convkit .s file in {}", deps.display());
    let asm: String = asm_files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n");

    let avx512 = bodies(&asm, "avx512f_entry");
    let avx2 = bodies(&asm, "avx2_fma_entry");
    assert!(!avx512.is_empty() && !avx2.is_empty(), "entry points not found in {asm_files:?}");
    let count = |bodies: &[String], pat: &dyn Fn(&str) -> bool| bodies.iter().map(|b| b.lines().filter(|l| pat(l)).count()).sum::<usize>();
    let zmm_fma = count(&avx512, &|l| l.contains("vfmadd") && l.contains("zmm"));
    let ymm_fma = count(&avx2, &|l| l.contains("vfmadd") && l.contains("ymm"));
    let zmm_in_avx2 = count(&avx2, &|l| l.contains("zmm"));
    // Calls to intrinsics (not inlined) would show up as calls to core_arch functions.
    let intrinsic_calls = count(&avx512, &|l| l.contains("call") && l.contains("core_arch"))
        + count(&avx2, &|l| l.contains("call") && l.contains("core_arch"));
    // Nor anywhere else: an intrinsic compiled as a function of its own means a closure (from
    // `std::array::from_fn`, `Option::map`, ..) took vector code outside its tier's entry point,
    // where every operation becomes a call (it cost 6% of a layer once). CPU detection's
    // `xgetbv` / `cpuid` are the legitimate exceptions, and one measured one below.
    let outlined: Vec<&str> = asm
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '.']) && l.ends_with(':') && l.contains("core_arch"))
        .filter(|l| !l.contains("xgetbv") && !l.contains("cpuid"))
        // The GEMM column path's B broadcasts (`kernel.rs`, `column_panel`): measured faster
        // out of line, a known exception.
        .filter(|l| !l.contains("mm256_broadcast_ss") && !l.contains("mm512_set1_ps"))
        .collect();
    // The FMA peak probe (`timing::fma_peak_gflops`) counts 12 ymm (24 zmm) chains per loop
    // iteration: its loop must hold that many accumulators, each updated from the same two
    // factors (once LLVM folded a chain that had reached a fixed point, and the peak read 9%
    // high).
    let peak_chains = |bodies: &[String], reg: &str| bodies.iter().map(|b| fma_peak_chains(b, reg)).max().unwrap_or(0);
    let (ymm_chains, zmm_chains) = (peak_chains(&avx2, "ymm"), peak_chains(&avx512, "zmm"));
    println!("avx512 entries: {} with {zmm_fma} zmm FMAs; avx2 entries: {} with {ymm_fma} ymm FMAs", avx512.len(), avx2.len());
    println!("FMA peak loop: {ymm_chains} ymm chains, {zmm_chains} zmm chains");
    assert_eq!(ymm_chains, 12, "the avx2 FMA peak loop runs {ymm_chains} chains, 12 are counted");
    assert_eq!(zmm_chains, 24, "the avx512 FMA peak loop runs {zmm_chains} chains, 24 are counted");
    assert!(zmm_fma >= 100, "avx512 instantiations emit only {zmm_fma} zmm FMAs");
    assert!(ymm_fma >= 100, "avx2 instantiations emit only {ymm_fma} ymm FMAs");
    assert_eq!(zmm_in_avx2, 0, "avx2 instantiations use zmm registers");
    assert_eq!(intrinsic_calls, 0, "vector intrinsics called instead of inlined");
    assert!(outlined.is_empty(), "vector intrinsics compiled out of line (a closure outside a tier's entry point?): {outlined:?}");
    std::fs::remove_dir_all(&target).ok();
}
