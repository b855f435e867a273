"""The real ``recsys`` executable: output, JSON, exit codes and one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SAMPLE, frame_from_rows, write_csv

RECSYS = [str(Path(sys.executable).with_name("recsys"))]


def run(*args, cwd=None):
    return subprocess.run([*RECSYS, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_evaluate_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "result.json"
    proc = run(
        "evaluate",
        "--orders",
        str(SAMPLE),
        "--preset",
        "online-retail",
        "--methods",
        "g-topfreq,p-topfreq",
        "--k",
        "5,10",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "p-topfreq" in proc.stdout and "recall@5" in proc.stdout
    result = json.loads(out.read_text())
    assert set(result["methods"]) == {"g-topfreq", "p-topfreq"}
    metrics = result["methods"]["p-topfreq"]["metrics"]
    assert {"recall@5", "ndcg@10", "precision@10", "hitrate@10", "coverage@10"} <= set(metrics)
    assert result["split"]["protocol"] == "window"
    assert result["data"]["evaluated_customers"] > 0
    assert result["data"]["cleaning"]["missing_customer"] > 0
    # The personal baseline beats the global one on a wholesaler's reorders.
    assert metrics["recall@10"] > result["methods"]["g-topfreq"]["metrics"]["recall@10"]


def test_next_basket_with_cutoff(tmp_path):
    out = tmp_path / "nb.json"
    proc = run(
        "evaluate",
        "--orders",
        str(SAMPLE),
        "--preset",
        "online-retail",
        "--methods",
        "p-topfreq",
        "--protocol",
        "next-basket",
        "--cutoff",
        "2011-10-01",
        "--horizon-days",
        "14",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["split"]["cutoff"].startswith("2011-10-01")
    assert result["split"]["horizon_days"] == 14


def _bad_timestamp_file(tmp_path):
    frame = frame_from_rows([("c1", "o1", 0, "p1"), ("c1", "o2", 3, "p1")]).astype(
        {"timestamp": str}
    )
    frame.loc[1, "timestamp"] = "yesterday-ish"
    return write_csv(frame, tmp_path / "bad.csv")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--orders", "missing.csv"], "missing.csv: no such file"),
        (["--orders", str(SAMPLE)], "missing required column 'customer_id'"),
        (["--orders", str(SAMPLE), "--preset", "nope"], "unknown preset 'nope'"),
        (
            ["--orders", str(SAMPLE), "--preset", "online-retail", "--k", "0"],
            "--k: expected positive",
        ),
        (
            ["--orders", str(SAMPLE), "--preset", "online-retail", "--methods", "magic"],
            "unknown method 'magic'",
        ),
        (
            ["--orders", str(SAMPLE), "--preset", "online-retail", "--cutoff", "someday"],
            "cannot parse 'someday'",
        ),
        (
            ["--orders", str(SAMPLE), "--preset", "online-retail", "--cutoff", "2031-01-01"],
            "outside the data",
        ),
        (["--orders", str(SAMPLE), "--columns", "customer_id"], "not of the form"),
        (["--orders", "BAD"], "row 2, column 'timestamp': cannot parse timestamp 'yesterday-ish'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, args, message):
    args = [str(_bad_timestamp_file(tmp_path)) if a == "BAD" else a for a in args]
    proc = run("evaluate", *args, cwd=tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
