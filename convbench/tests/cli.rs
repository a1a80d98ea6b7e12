//! convbench end to end: exit codes 0 / 1 / 2 / 3, the `active` line, JSON and SVG output,
//! .npy round trips, wisdom files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use npyz::WriterBuilder;

fn convbench(args: &[&str], env: &[(&str, &str)]) -> Output {
    // The child inherits CONVKIT_MAX_ISA (CI runs the tests once per cap); tests that need a
    // value set it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_convbench"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run convbench")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("convbench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const SMALL_SUITE: &str = r#"{"layers": [
  {"name": "tiny", "n": 1, "c": 4, "h": 9, "w": 9, "k": 8, "r": 3, "s": 3, "pad": [1, 1, 1, 1], "relu": true},
  {"name": "tiny_dw", "n": 1, "c": 8, "h": 10, "w": 10, "k": 8, "r": 3, "s": 3, "stride": [2, 2], "groups": 8}
]}"#;

fn small_suite() -> PathBuf {
    let p = tmp("small.json");
    std::fs::write(&p, SMALL_SUITE).unwrap();
    p
}

#[test]
fn list_names_the_active_isa() {
    let o = convbench(&["list"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    let active = convkit::active_isa().unwrap();
    assert!(t.lines().any(|l| l.contains("active") && l.contains(active.name())), "{t}");
    let o = convbench(&["list"], &[("CONVKIT_MAX_ISA", "scalar")]);
    assert!(text(&o).lines().any(|l| l.contains("active") && l.contains("scalar")));
}

#[test]
fn bad_isa_cap_exits_2_naming_the_values() {
    let o = convbench(&["list"], &[("CONVKIT_MAX_ISA", "sse9")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("scalar, portable, avx2, avx512"), "{}", text(&o));
}

#[test]
fn check_prints_a_line_per_layer_and_backend_and_exits_0() {
    let o = convbench(&["check", "--suite", small_suite().to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout).to_string();
    for layer in ["tiny", "tiny_dw"] {
        for b in ["naive", "im2col", "tiled", "winograd", "auto"] {
            assert!(t.lines().any(|l| l.starts_with(layer) && l.split_whitespace().nth(1) == Some(b)), "no line for {layer} {b}:\n{t}");
        }
    }
}

#[test]
fn bad_suites_exit_2_naming_the_problem() {
    let o = convbench(&["check", "--suite", "/nonexistent/suite.json"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let p = tmp("malformed.json");
    std::fs::write(&p, "{\"layers\": [").unwrap();
    let o = convbench(&["check", "--suite", p.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    let p = tmp("invalid.json");
    std::fs::write(&p, r#"{"layers":[{"name":"badlayer","c":16,"h":8,"w":8,"k":16,"r":3,"s":3,"groups":3}]}"#).unwrap();
    let o = convbench(&["check", "--suite", p.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("badlayer") && text(&o).contains("groups 3"), "{}", text(&o));
    let o = convbench(&["check", "--backends", "fft"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("known backends"));
}

#[test]
fn time_writes_json_and_svg() {
    let json = tmp("time.json");
    let svg = tmp("time.svg");
    let o = convbench(
        &[
            "time",
            "--suite",
            small_suite().to_str().unwrap(),
            "--threads",
            "1",
            "--seconds",
            "0.05",
            "--json",
            json.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        for key in ["layer", "backend", "isa", "threads", "gflop", "median_ms", "gflops"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["threads"], 1);
        assert_ne!(r["backend"], "naive", "naive runs only when named");
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(text(&o).contains("fastest"));
}

fn write_npy(path: &Path, shape: &[u64], data: &[f32]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = npyz::WriteOptions::new().default_dtype().shape(shape).writer(file).begin_nd().unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

#[test]
fn run_reads_and_writes_npy_with_the_right_exit_codes() {
    let suite = small_suite();
    let s = suite.to_str().unwrap();
    let (x, w, b, y) = (tmp("x.npy"), tmp("w.npy"), tmp("b.npy"), tmp("y.npy"));
    let xs: Vec<f32> = (0..4 * 81).map(|i| (i % 7) as f32 - 3.0).collect();
    let ws: Vec<f32> = (0..8 * 4 * 9).map(|i| (i % 5) as f32 - 2.0).collect();
    let bs: Vec<f32> = (0..8).map(|i| i as f32).collect();
    write_npy(&x, &[1, 4, 9, 9], &xs);
    write_npy(&w, &[8, 4, 3, 3], &ws);
    write_npy(&b, &[8], &bs);
    let args = |layer: &'static str, backend: &'static str| -> Vec<String> {
        [
            "run",
            "--suite",
            s,
            "--layer",
            layer,
            "--backend",
            backend,
            "--input",
            x.to_str().unwrap(),
            "--weights",
            w.to_str().unwrap(),
            "--bias",
            b.to_str().unwrap(),
            "--out",
            y.to_str().unwrap(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let run = |a: Vec<String>| convbench(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let o = run(args("tiny", "tiled"));
    assert!(o.status.success(), "{}", text(&o));
    let bytes = std::fs::read(&y).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[1, 8, 9, 9]);
    let got: Vec<f32> = npy.into_vec().unwrap();
    let p = convkit::Suite::from_json(SMALL_SUITE, "t").unwrap().layer("tiny").unwrap().problem().unwrap();
    let want = convkit::backend("naive").unwrap().plan(&p, &ws, Some(&bs)).unwrap().run_alloc(&xs).unwrap();
    assert_eq!(got, want);
    // Shape mismatch: exit 2.
    write_npy(&x, &[1, 4, 9, 8], &xs[..4 * 72]);
    let o = run(args("tiny", "tiled"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("shape"));
    // dtype mismatch: exit 2.
    let file = std::fs::File::create(&x).unwrap();
    let mut wr = npyz::WriteOptions::<f64>::new().default_dtype().shape(&[1, 4, 9, 9]).writer(file).begin_nd().unwrap();
    wr.extend(xs.iter().map(|v| *v as f64)).unwrap();
    wr.finish().unwrap();
    let o = run(args("tiny", "tiled"));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("float32"), "{}", text(&o));
    // Unsupported backend for the layer: exit 3 (winograd declines stride 2 depthwise).
    write_npy(&x, &[1, 8, 10, 10], &vec![1.0; 800]);
    write_npy(&w, &[8, 1, 3, 3], &[1.0; 72]);
    let o = run(args("tiny_dw", "winograd"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

#[test]
fn tune_writes_wisdom_and_refuses_corrupt_input() {
    let suite = small_suite();
    let out = tmp("wisdom.json");
    let o = convbench(
        &["tune", "--suite", suite.to_str().unwrap(), "--wisdom", out.to_str().unwrap(), "--threads", "1", "--budget-ms", "20"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let w: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(w["format"], "convkit-wisdom");
    assert_eq!(w["choices"].as_array().unwrap().len(), 2);
    // Starting from it: everything is recorded, nothing re-measured.
    let o = convbench(
        &[
            "tune",
            "--suite",
            suite.to_str().unwrap(),
            "--wisdom",
            out.to_str().unwrap(),
            "--wisdom-in",
            out.to_str().unwrap(),
            "--threads",
            "1",
        ],
        &[],
    );
    assert!(o.status.success());
    assert_eq!(text(&o).matches("[recorded]").count(), 2, "{}", text(&o));
    let bad = tmp("bad_wisdom.json");
    std::fs::write(&bad, "not json").unwrap();
    let o = convbench(
        &["tune", "--suite", suite.to_str().unwrap(), "--wisdom", out.to_str().unwrap(), "--wisdom-in", bad.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("bad_wisdom.json"));
}
