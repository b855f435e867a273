"""Scale benchmark: train and export on a ~30 million line history.

Usage: python benchmarks/scale.py [--lines 30000000] [--catalogs 1] [--workdir /tmp/recsys-scale]

The history replicates the UCI Online Retail customers (lines with a customer id) under new
customer and order ids, each replica shifted back in time by 0..7 weeks, written as Parquet in
the canonical layout. With ``--catalogs G`` the replicas are split into G shops with their own
product ids (replica r sells the products of shop r mod G): a catalogue G times as wide, as a
grocer's or a marketplace's, with the same buying patterns. Then `recsys train` and `recsys export` run as separate processes; wall
time and peak resident memory of each come from wait4. Targets (issue #3): under 15 minutes
and under 10 GB peak memory. `recsys forecast --days 30` on the same model is timed after
them (not part of the target).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
RECSYS = str(Path(sys.executable).with_name("recsys"))


def build(source: Path, out: Path, lines: int, catalogs: int = 1) -> int:
    raw = pd.read_csv(
        source,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    )
    raw = raw[raw["CustomerID"].notna()]
    base = pd.DataFrame(
        {
            "customer_id": raw["CustomerID"].astype(str).to_numpy(),
            "order_id": raw["InvoiceNo"].to_numpy(),
            "timestamp": raw["InvoiceDate"].to_numpy(),
            "product_id": raw["StockCode"].to_numpy(),
            "quantity": raw["Quantity"].to_numpy(),
            "price": raw["UnitPrice"].to_numpy(),
        }
    )
    replicas = -(-lines // len(base))
    writer = None
    written = 0
    for r in range(replicas):
        part = base.assign(
            customer_id=base["customer_id"] + f"-{r}",
            order_id=base["order_id"] + f"-{r}",
            timestamp=base["timestamp"] - pd.Timedelta(days=7 * (r % 8)),
        )
        if catalogs > 1:
            part["product_id"] = part["product_id"] + f"-{r % catalogs}"
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        written += len(part)
    writer.close()
    return written


def timed(cmd: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=30_000_000)
    parser.add_argument("--catalogs", type=int, default=1, help="shops with their own products")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/recsys-scale"))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    orders = args.workdir / "orders.parquet"
    started = time.perf_counter()
    n = build(args.shared / "online_retail.csv.gz", orders, args.lines, args.catalogs)
    print(f"built {n:,} lines in {time.perf_counter() - started:.0f} s", flush=True)
    models = args.workdir / "models"
    train_s, train_gb = timed(
        [RECSYS, "train", "--orders", str(orders), "--models-dir", str(models)]
    )
    export_s, export_gb = timed(
        [
            RECSYS,
            "export",
            "--models-dir",
            str(models),
            "--k",
            "10",
            "--out",
            str(args.workdir / "recommendations.parquet"),
        ]
    )
    forecast_s, forecast_gb = timed(
        [
            RECSYS,
            "forecast",
            "--models-dir",
            str(models),
            "--days",
            "30",
            "--out",
            str(args.workdir / "forecast.parquet"),
        ]
    )
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores; {date.today()}")
    print("| step | wall time | peak memory |\n|---|---:|---:|")
    print(f"| train ({n:,} lines) | {train_s / 60:.1f} min | {train_gb:.1f} GB |")
    print(f"| export (top-10, every customer) | {export_s / 60:.1f} min | {export_gb:.1f} GB |")
    print(f"| total | {(train_s + export_s) / 60:.1f} min | {max(train_gb, export_gb):.1f} GB |")
    print(
        f"| forecast (30 days, every product) | {forecast_s / 60:.1f} min | {forecast_gb:.1f} GB |"
    )


if __name__ == "__main__":
    main()
