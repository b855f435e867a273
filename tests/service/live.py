"""A real `recsys serve` process on a free port, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

RECSYS = Path(sys.executable).parent / "recsys"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(
    models_dir: Path, orders_db: Path, **env_vars: str
) -> Iterator[tuple[httpx.Client, subprocess.Popen]]:
    """A running `recsys serve`; yields a client and the process (the test may kill it)."""
    port = _free_port()
    env = {**os.environ, "RECSYS_RELOAD_SECONDS": "0.2", "RECSYS_WARM": "1", **env_vars}
    log = open(models_dir.parent / f"server-{port}.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            str(RECSYS),
            "serve",
            "--models-dir",
            str(models_dir),
            "--orders-db",
            str(orders_db),
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (models_dir.parent / f"server-{port}.log").read_text()
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server not ready within 60 s"
            time.sleep(0.1)
        yield client, process
    finally:
        client.close()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        log.close()
