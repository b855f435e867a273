"""Soak test: minutes of mixed traffic with ingestion against the real service.

Usage: python benchmarks/soak.py [--minutes 5] [--models-dir DIR]

Starts `recsys serve` over the model of benchmarks/serve_load.py (trained on the full UCI Online
Retail data if missing), waits for the day's lists, then drives it from a separate process with
8 connections: 70% "next" lists (random customers and k), 15% basket completions, 10% new
orders (POST /v1/orders, each changing its customer's list), 5% product complements. It
reports requests, errors and the server's resident memory, sampled every 10 s: the growth is
measured from the first sample after one minute of traffic (caches filled) to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import random
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import serve_load  # noqa: E402  (the same server start-up and HTTP client)


async def mixed(port: int, customers: list, products: list, seconds: float) -> dict:
    rng = random.Random(1)
    connections = [await serve_load.Connection.open(port) for _ in range(8)]
    counts: dict[str, int] = {}
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    order_number = 0

    def request() -> tuple[str, bytes]:
        nonlocal order_number
        draw = rng.random()
        if draw < 0.70:
            customer = rng.choice(customers)
            return "next", serve_load._get(f"/v1/customers/{customer}/next?k={rng.randint(1, 50)}")
        if draw < 0.85:
            items = rng.sample(products, rng.randint(1, 5))
            return "basket", serve_load._post("/v1/baskets/complete", {"items": items, "k": 10})
        if draw < 0.95:
            order_number += 1
            body = {
                "order_id": f"soak-{os.getpid()}-{order_number}",
                "customer_id": rng.choice(customers),
                "timestamp": datetime.now().isoformat(timespec="seconds"),
                "lines": [
                    {"product_id": p, "quantity": rng.randint(1, 24)}
                    for p in rng.sample(products, rng.randint(1, 8))
                ],
            }
            return "order", serve_load._post("/v1/orders", body)
        return "complements", serve_load._get(f"/v1/products/{rng.choice(products)}/complements")

    async def run(conn: serve_load.Connection) -> None:
        while time.perf_counter() < stop:
            kind, raw = request()
            status = await conn.request(raw)
            counts[kind] = counts.get(kind, 0) + 1
            if status >= 400:
                errors.append(f"{kind} {status}")

    await asyncio.gather(*(run(c) for c in connections))
    return {"counts": counts, "errors": errors}


def _drive(port: int, customers: list, products: list, seconds: float, out: mp.Queue) -> None:
    out.put(asyncio.run(mixed(port, customers, products, seconds)))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "benchmarks" / ".work" / "models")
    args = parser.parse_args()
    work = ROOT / "benchmarks" / ".work"
    work.mkdir(exist_ok=True)
    if not (args.models_dir / "current").exists():
        raise SystemExit(f"no model in {args.models_dir}: run benchmarks/serve_load.py first")
    for suffix in ("", "-wal", "-shm"):
        (work / f"bench-orders.sqlite{suffix}").unlink(missing_ok=True)

    from recsys.artifacts import load_model

    model, manifest = load_model(args.models_dir)
    customers = [str(c) for c in model.customer_ids_]
    products = [str(p) for p in model.product_ids_[model.popularity_ > 5]]
    del model

    process, port, _ = serve_load.start_server(args.models_dir, work)
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(10):
            samples.append((time.monotonic() - started, rss_mb(process.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    samples.append((0.0, rss_mb(process.pid)))
    sampler.start()
    context = mp.get_context("spawn")
    queue = context.Queue()
    seconds = args.minutes * 60
    driver = context.Process(target=_drive, args=(port, customers, products, seconds, queue))
    driver.start()
    result = queue.get(timeout=seconds + 300)
    driver.join()
    done.set()
    sampler.join()
    samples.append((time.monotonic() - started, rss_mb(process.pid)))
    process.terminate()
    process.wait(timeout=30)

    baseline = next(rss for t, rss in samples if t >= 60)
    final = samples[-1][1]
    total = sum(result["counts"].values())
    report = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "model": manifest["version"],
        "seconds": seconds,
        "requests": result["counts"],
        "throughput": total / seconds,
        "errors": len(result["errors"]),
        "error_examples": result["errors"][:10],
        "rss_mb_start": samples[0][1],
        "rss_mb_after_1_min": baseline,
        "rss_mb_end": final,
        "rss_growth": final / baseline - 1,
        "rss_samples": samples,
    }
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "soak.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "rss_samples"}, indent=2))


if __name__ == "__main__":
    main()
