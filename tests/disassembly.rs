//! The per-tier instantiations really are compiled for their ISA: the avx512 entry points
//! emit zmm FMAs, the avx2 ones ymm FMAs, neither calls out for its vector operations, and no
//! intrinsic is compiled out of line anywhere in the library.
//! Rebuilds the library with `--emit asm` into its own target directory, so it is ignored by
//! default; CI runs it (`cargo test --release --test disassembly -- --ignored`).

use std::process::Command;

/// The assembly of every monomorphized function whose symbol contains `marker`.
fn bodies(asm: &str, marker: &str) -> Vec<String> {
    labelled_bodies(asm, marker).into_iter().map(|(_, body)| body).collect()
}

/// [`bodies`], each with its symbol (v0 mangling: it names the generic arguments, e.g.
/// `..avx2_fma_entry..DenseOpKjc_Kj1_..` for `DenseOp<12, 1, ..>`).
fn labelled_bodies(asm: &str, marker: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in asm.lines() {
        if !line.starts_with([' ', '\t', '.']) && line.ends_with(':') && !line.starts_with(".L") {
            out.extend(current.take());
            if line.contains(marker) {
                current = Some((line.to_string(), String::new()));
            }
        } else if let Some((_, body)) = current.as_mut() {
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

/// FMAs whose accumulator lives on the stack: `vmov* OFF(%rsp), R; vfmadd* .., R;
/// vmov* R, OFF(%rsp)`. A kernel whose accumulators outgrow the registers LLVM leaves it (once,
/// the activation bounds of the GEMM epilogue, hoisted across the reduction loop, took two
/// ymm registers and the twelfth accumulator went to the stack: sgemm 1024^3 ran at half
/// speed) pays a store-to-load round trip on every step. Returns the offending FMA lines.
fn stack_accumulators(body: &str) -> Vec<String> {
    let lines: Vec<&str> = body.lines().map(str::trim).collect();
    let operands = |l: &str| -> Vec<String> {
        let joined: String = l.split_whitespace().skip(1).collect();
        joined.split(',').map(str::to_string).collect()
    };
    let is_move = |l: &str| l.starts_with("vmovaps") || l.starts_with("vmovups") || l.starts_with("vmovdqa") || l.starts_with("vmovdqu");
    let mut found = Vec::new();
    for i in 1..lines.len().saturating_sub(1) {
        if !lines[i].starts_with("vfmadd") {
            continue;
        }
        let Some(acc) = operands(lines[i]).last().cloned() else { continue };
        let (load, store) = (operands(lines[i - 1]), operands(lines[i + 1]));
        let slot = |ops: &[String], from: bool| -> Option<String> {
            let (mem, reg) = if from { (ops.first()?, ops.last()?) } else { (ops.last()?, ops.first()?) };
            (ops.len() == 2 && mem.contains("(%rsp)") && *reg == acc).then(|| mem.clone())
        };
        if is_move(lines[i - 1])
            && is_move(lines[i + 1])
            && let (Some(a), Some(b)) = (slot(&load, true), slot(&store, false))
            && a == b
        {
            found.push(lines[i].to_string());
        }
    }
    found
}

/// Whether a v0-mangled symbol is a function of `core::core_arch` itself (an intrinsic), not
/// one whose generic arguments merely name a `core_arch` type (`Iter<__m256>`): its path is
/// `_R[I]Nv` + `Nt`s + the `core` crate root, then `core_arch`.
fn is_core_arch_fn(label: &str) -> bool {
    let rest = label.strip_prefix("_R").unwrap_or("");
    let rest = rest.strip_prefix('I').unwrap_or(rest);
    let Some(mut rest) = rest.strip_prefix("Nv") else { return false };
    while let Some(r) = rest.strip_prefix("Nt") {
        rest = r;
    }
    let Some(root) = rest.strip_prefix('C') else { return false };
    // The crate root: `s<disambiguator>_` then the crate name, `4core`.
    let name = root.strip_prefix('s').and_then(|r| r.split_once('_')).map_or(root, |(_, n)| n);
    name.starts_with("4core9core_arch")
}

#[test]
fn core_arch_functions_are_told_from_generic_users() {
    assert!(is_core_arch_fn("_RNvNtNtNtCsgEmfK2I1SDS_4core9core_arch3x863avx14_mm256_add_ps:"));
    assert!(is_core_arch_fn("_RINvNtNtNtCsgEmfK2I1SDS_4core9core_arch3x863avx20_mm256_permute2f128_psKj20_EB8_:"));
    assert!(!is_core_arch_fn(
        "_RNvYINtNtNtCsgEmfK2I1SDS_4core5slice4iter4IterANtNtNtB9_9core_arch3x866___m256j2_ENtNtNtNtB9_4iter8adapters3zip4size:"
    ));
    assert!(!is_core_arch_fn("_RNvNtCsbqd83gNRTdi_7convkit4simd4opaque:"));
}

#[test]
fn stack_accumulator_pattern_is_recognised() {
    let spilled = "vmovaps 256(%rsp), %ymm0\nvfmadd231ps %ymm1, %ymm2, %ymm0\nvmovaps %ymm0, 256(%rsp)\n";
    assert_eq!(stack_accumulators(spilled).len(), 1);
    let fine = "vmovaps 256(%rsp), %ymm0\nvfmadd231ps %ymm1, %ymm2, %ymm3\nvmovaps %ymm0, 256(%rsp)\n\
                vmovups (%rax), %ymm0\nvfmadd231ps %ymm1, %ymm2, %ymm0\nvmovups %ymm0, (%rax)\n";
    assert!(stack_accumulators(fine).is_empty());
}

#[test]
#[ignore = "rebuilds the crate with --emit asm; run by CI"]
fn tier_entry_points_use_their_vector_width() {
    let target = std::env::temp_dir().join(format!("convkit-asm-{}", std::process::id()));
    let status = Command::new(env!("CARGO"))
        .args(["rustc", "--release", "--lib", "-p", "convkit", "--target-dir"])
        .arg(&target)
        .args(["--", "--emit", "asm", "-C", "debuginfo=0", "-C", "symbol-mangling-version=v0"])
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
        .filter(|l| !l.starts_with([' ', '\t', '.']) && l.ends_with(':') && is_core_arch_fn(l))
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
    // (avx2's narrow dense tile was 12 x 8 and spilled here: 8 x 8 since 2026-12-07, 1.7-2.2x.)
    let spilled: Vec<String> = labelled_bodies(&asm, "avx2_fma_entry")
        .iter()
        .chain(&labelled_bodies(&asm, "avx512f_entry"))
        .flat_map(|(label, body)| stack_accumulators(body).into_iter().map(move |l| format!("{label} {l}")))
        .collect();
    assert!(spilled.is_empty(), "FMA accumulators kept on the stack (a register spill in a kernel loop): {spilled:?}");
    assert!(outlined.is_empty(), "vector intrinsics compiled out of line (a closure outside a tier's entry point?): {outlined:?}");
    std::fs::remove_dir_all(&target).ok();
}
