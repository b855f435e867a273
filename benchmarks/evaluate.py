"""Run `recsys evaluate` (every method) on the development datasets: quality, time, memory.

Usage: python benchmarks/evaluate.py [--methods M,...] [--shared ../shared/data]

Each (dataset, protocol) runs in its own process, so wall time and peak resident memory are
that run's alone (from wait4). JSON results go to benchmarks/results/; a Markdown summary is
printed for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from dev_datasets import DATASETS

from recsys.evaluation.report import details_line

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
METRICS = ("recall@10", "ndcg@10", "hitrate@10", "recall_repeat@10", "recall_new@10", "recall@20")


def run_evaluate(orders: Path, extra: list[str], horizon: int, out: Path) -> dict:
    """`recsys evaluate` on ``orders`` in its own process, writing JSON to ``out``; the result
    gains that process's wall time and peak resident memory (from wait4)."""
    cmd = [
        str(Path(sys.executable).with_name("recsys")),
        "-q",
        "evaluate",
        "--orders",
        str(orders),
        *extra,
        "--horizon-days",
        str(horizon),
        "--json",
        str(out),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    result = json.loads(out.read_text())
    result["benchmark"] = {
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def run_one(shared: Path, dataset: str, protocol: str, methods: str | None) -> dict:
    data = DATASETS[dataset]
    options = [*data.cli_args, "--protocol", protocol, *(["--methods", methods] if methods else [])]
    return run_evaluate(
        shared / data.file, options, data.horizon, RESULTS / f"{dataset}_{protocol}.json"
    )


def markdown(dataset: str, protocol: str, result: dict) -> str:
    bench, data = result["benchmark"], result["data"]
    lines = [
        f"### {dataset}, {protocol} protocol ({result['split']['horizon_days']}-day horizon, "
        f"cutoff {result['split']['cutoff'][:10]})",
        "",
        f"{data['evaluated_customers']:,} customers evaluated; "
        f"{data['repeat_share_of_target']:.0%} of the target was bought before. "
        f"Whole run (load, clean, fit and score every method): {bench['wall_seconds']} s, "
        f"peak memory {bench['peak_rss_mb']} MB.",
        "",
        "| method | " + " | ".join(METRICS) + " | fit s | score s |",
        "|---|" + "---:|" * (len(METRICS) + 2),
    ]
    for name, m in result["methods"].items():
        cells = [f"{m['metrics'][k]:.4f}" for k in METRICS]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {m['fit_seconds']:.1f} | {m['recommend_seconds']:.1f} |"
        )
    for name, m in result["methods"].items():
        if "item_details" in m:
            lines += ["", details_line(name, m["item_details"]) + "."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--methods", help="comma-separated methods (default: all)")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {date.today()}\n"
    )
    for dataset in args.datasets.split(","):
        for protocol in ("window", "next-basket"):
            result = run_one(args.shared, dataset, protocol, args.methods)
            print(markdown(dataset, protocol, result), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
