"""Load test of the real service: saturation throughput and latency at a steady rate.

Usage: python benchmarks/serve_load.py [--models-dir DIR | --orders FILE] [--seconds 10]

Starts `recsys serve` (one uvicorn process) over a model (default: trains one on the full UCI
Online Retail data into benchmarks/.work/ if none is given), waits until the day's lists are
precomputed, then drives it from a separate process on loopback, for `/healthz` (the
framework's ceiling), `/v1/customers/{id}/next` and `/v1/baskets/complete`, in the same run:

* closed loop: 32 connections, each sending its next request when the last one is answered;
  the completed requests per second is the saturation throughput;
* open loop: requests sent on a fixed schedule (200/s), latency measured from the scheduled
  send time, so a request that had to wait for a connection counts its wait.

The load generator is a minimal asyncio HTTP/1.1 keep-alive client (so that the client, not the
server, is not the bottleneck); it shares the machine's two cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import random
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RECSYS = Path(sys.executable).parent / "recsys"


# ------------------------------------------------------------------------- the load generator
class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> int:
        """Send one request and read the whole response; returns the status code."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def _post(path: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data


async def closed_loop(port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    connections = [await Connection.open(port) for _ in range(clients)]
    done, errors = 0, 0
    stop = time.perf_counter() + seconds

    async def run(conn: Connection, offset: int) -> None:
        nonlocal done, errors
        i = offset
        while time.perf_counter() < stop:
            status = await conn.request(requests[i % len(requests)])
            i += clients
            done += 1
            errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(run(c, i) for i, c in enumerate(connections)))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.writer.close()
    return {"requests": done, "errors": errors, "throughput": done / elapsed}


async def open_loop(port: int, requests: list[bytes], rate: float, seconds: float) -> dict:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = 0

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await conn.request(raw)
        finally:
            pool.put_nowait(conn)
        latencies.append(time.perf_counter() - scheduled)
        errors += status != 200

    n = int(rate * seconds)
    start = time.perf_counter() + 0.1
    tasks = []
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(requests[i % len(requests)], scheduled)))
    await asyncio.gather(*tasks)
    ms = np.array(latencies) * 1000
    return {
        "requests": n,
        "errors": errors,
        "rate": rate,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


def _drive(port: int, requests: list[bytes], mode: str, args: dict, out: mp.Queue) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if mode == "closed":
        result = asyncio.run(closed_loop(port, requests, args["clients"], args["seconds"]))
    else:
        result = asyncio.run(open_loop(port, requests, args["rate"], args["seconds"]))
    out.put(result)


def drive(port: int, requests: list[bytes], mode: str, **args) -> dict:
    """Run one load phase in a separate process and return its figures."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_drive, args=(port, requests, mode, args, queue))
    process.start()
    result = queue.get(timeout=args["seconds"] + 120)
    process.join()
    return result


# ------------------------------------------------------------------------------ the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(models_dir: Path, work: Path) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    log = work / "server.log"
    env = {**os.environ, "RECSYS_WARM": "1"}
    process = subprocess.Popen(
        [
            str(RECSYS),
            "serve",
            "--models-dir",
            str(models_dir),
            "--orders-db",
            str(work / "bench-orders.sqlite"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    deadline = time.monotonic() + 600
    while not _warm_done(log.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"server failed to start:\n{log.read_text()}")
        time.sleep(0.5)
    return process, port, log


def _warm_done(text: str) -> bool:
    progress = re.findall(r"lists for [\d-]+: ([\d,]+)/([\d,]+) customers", text)
    return bool(progress) and progress[-1][0] == progress[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument(
        "--orders", type=Path, default=ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="closed-loop runs (median)")
    args = parser.parse_args()

    work = ROOT / "benchmarks" / ".work"
    work.mkdir(exist_ok=True)
    models_dir = args.models_dir or work / "models"
    if not (models_dir / "current").exists():
        print(f"training a model on {args.orders} into {models_dir} ...", flush=True)
        subprocess.run(
            [
                str(RECSYS),
                "-q",
                "train",
                "--orders",
                str(args.orders),
                "--preset",
                "online-retail",
                "--models-dir",
                str(models_dir),
            ],
            check=True,
        )
    for suffix in ("", "-wal", "-shm"):
        (work / f"bench-orders.sqlite{suffix}").unlink(missing_ok=True)

    from recsys.artifacts import load_model

    model, manifest = load_model(models_dir)
    rng = random.Random(0)
    customers = list(model.customer_ids_)
    rng.shuffle(customers)
    popular = list(model.product_ids_[np.argsort(-model.popularity_)[:200]])
    routes = {
        "/healthz": [_get("/healthz")],
        "/v1/customers/{id}/next": [_get(f"/v1/customers/{c}/next?k=10") for c in customers],
        "/v1/baskets/complete": [
            _post("/v1/baskets/complete", {"items": rng.sample(popular, 3), "k": 10})
            for _ in range(500)
        ],
    }
    del model

    process, port, _ = start_server(models_dir, work)
    results = {}
    try:
        for name, requests in routes.items():
            closed = [
                drive(port, requests, "closed", clients=args.clients, seconds=args.seconds)
                for _ in range(args.repeats)
            ]
            opened = drive(port, requests, "open", rate=args.rate, seconds=args.seconds)
            results[name] = {
                "throughput": float(np.median([c["throughput"] for c in closed])),
                "throughput_runs": [round(c["throughput"]) for c in closed],
                "errors": sum(c["errors"] for c in closed) + opened["errors"],
                **{k: opened[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
            }
            print(name, json.dumps(results[name]), flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)

    ceiling = results["/healthz"]["throughput"]
    report = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "model": manifest["version"],
        "customers": len(customers),
        "clients": args.clients,
        "rate": args.rate,
        "seconds": args.seconds,
        "routes": results,
    }
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "serve_load.json").write_text(json.dumps(report, indent=2))
    print(
        f"\n{report['machine']}, {report['date']}; model {report['model']} "
        f"({len(customers):,} customers); closed loop {args.clients} connections "
        f"(median of {args.repeats} x {args.seconds:g} s), open loop {args.rate:g} req/s "
        f"for {args.seconds:g} s\n"
    )
    print("| route | saturation req/s | vs /healthz | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| `{name}` | {r['throughput']:,.0f} | {r['throughput'] / ceiling:.2f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
        )


if __name__ == "__main__":
    main()
