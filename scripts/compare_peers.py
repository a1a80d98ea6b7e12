#!/usr/bin/env python3
"""Measure convkit and its peers on the same layer suite, interleaved, and print one table.

Runs `rounds` rounds; each round runs ../shared/anchors/bench_peers.py (ONNX Runtime, ncnn,
OpenVINO; one round of its own) and then `convbench time --json`, so every figure in the
table was measured in the same window as the others. Keeps each (layer, runtime) best.

    python3 scripts/compare_peers.py --threads 1 --rounds 3 [--layers a,b] [--runtimes ort,ncnn]
        [--peak] [--out results.json] [--markdown table.md]

Needs `bash ../shared/anchors/setup.sh` once (the venv in /tmp/anchors-venv).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ANCHORS = os.path.join(ROOT, "..", "shared", "anchors")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default=os.path.join(ROOT, "suites", "suite.json"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layers", default="")
    ap.add_argument("--runtimes", default="ort,ncnn")
    ap.add_argument("--seconds", default="0.6")
    ap.add_argument("--venv", default=os.environ.get("ANCHORS_VENV", "/tmp/anchors-venv"))
    ap.add_argument("--out", default="")
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "convbench"], cwd=ROOT, check=True)
    convbench = os.path.join(ROOT, "target", "release", "convbench")
    best = {}  # (layer, who) -> gflops
    extra = {}  # (layer, who) -> kernel
    peak = None
    tmp = tempfile.mkdtemp(prefix="convkit-compare-")
    for r in range(args.rounds):
        peers_csv = os.path.join(tmp, f"peers{r}.csv")
        cmd = [os.path.join(args.venv, "bin", "python"), os.path.join(ANCHORS, "bench_peers.py"), "--suite", args.suite,
               "--threads", str(args.threads), "--runtimes", args.runtimes, "--rounds", "1", "--out", peers_csv]
        if args.layers:
            cmd += ["--layers", args.layers]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(peers_csv) as f:
            for row in csv.DictReader(f):
                key = (row["layer"], row["runtime"])
                best[key] = max(best.get(key, 0.0), float(row["gflops"]))
        ck_json = os.path.join(tmp, f"convkit{r}.json")
        cmd = [convbench, "time", "--suite", args.suite, "--threads", str(args.threads), "--json", ck_json, "--seconds", args.seconds]
        if args.layers:
            cmd += ["--layers", args.layers]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("FMA peak"):
                value = float(line.split(":")[1].split()[0])
                peak = value if peak is None else max(peak, value)
            parts = line.split()
            if len(parts) >= 9 and parts[1] == "auto":
                extra[(parts[0], "auto")] = parts[-1].split(":")[0]
        for row in json.load(open(ck_json)):
            key = (row["layer"], row["backend"])
            best[key] = max(best.get(key, 0.0), row["gflops"])
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    layers = []
    for (layer, _) in best:
        if layer not in layers:
            layers.append(layer)
    ours = ["tiled", "im2col", "winograd", "auto"]
    peers = [p for p in ["ort", "ov", "ncnn"] if any((l, p) in best for l in layers)]
    head = ["layer"] + ours + ["convkit best"] + [{"ort": "ONNX Runtime", "ov": "OpenVINO", "ncnn": "ncnn"}[p] for p in peers] + ["best peer", "convkit / best peer"]
    if peak:
        head.append("convkit % of FMA peak")
    rows = []
    for layer in layers:
        vals = {b: best.get((layer, b)) for b in ours}
        ck = max((v, b) for b, v in vals.items() if v is not None and b != "auto")
        pv = [best.get((layer, p)) for p in peers]
        bp = max([(v, p) for v, p in zip(pv, peers) if v is not None], default=(None, None))
        row = [layer] + [f"{vals[b]:.1f}" if vals[b] is not None else "-" for b in ours]
        row += [f"{ck[0]:.1f} ({ck[1]})"] + [f"{v:.1f}" if v is not None else "-" for v in pv]
        row += [f"{bp[0]:.1f} ({bp[1]})" if bp[0] else "-", f"{ck[0] / bp[0]:.2f}x" if bp[0] else "-"]
        if peak:
            row.append(f"{100 * ck[0] / peak:.0f}%")
        rows.append(row)
    md = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
    md += "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"
    if peak:
        md += f"\nFMA peak measured in the same run: {peak:.1f} GFLOP/s ({args.threads} thread{'s' if args.threads > 1 else ''}).\n"
    print(md)
    if args.markdown:
        open(args.markdown, "w").write(md)
    if args.out:
        json.dump({"threads": args.threads, "peak": peak, "best": {f"{l}|{w}": v for (l, w), v in best.items()}, "auto": {l: k for (l, _), k in extra.items()}}, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
