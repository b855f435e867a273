"""The real service: `recsys serve` under uvicorn on a free port, driven over HTTP."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from recsys.artifacts import promote_version
from recsys.cli import main as recsys_main
from tests.service.conftest import DUE_DAY, WEEKS, order
from tests.service.live import server


def _next_products(client: httpx.Client, customer: str = "c0", k: int = 2) -> list[str]:
    response = client.get(
        f"/v1/customers/{customer}/next", params={"k": k, "as_of": DUE_DAY.isoformat()}
    )
    assert response.status_code == 200, response.text
    return [item["product_id"] for item in response.json()["items"]]


def test_ingesting_an_order_takes_the_due_item_off_the_list(models_dir, tmp_path):
    with server(models_dir, tmp_path / "orders.sqlite") as (client, _):
        assert "filter" in _next_products(client)
        posted = client.post("/v1/orders", json=order("e2e-1", "c0", 7 * WEEKS - 1, "filter"))
        assert posted.status_code == 201
        assert "filter" not in _next_products(client)


def test_an_acknowledged_order_survives_kill_9(models_dir, tmp_path):
    db = tmp_path / "orders.sqlite"
    with server(models_dir, db) as (client, process):
        batch = {"orders": [order(f"k9-{i}", f"c{i}", 7 * WEEKS - 1, "filter") for i in range(5)]}
        assert client.post("/v1/orders", json=batch).status_code == 201
        process.kill()  # SIGKILL: no shutdown handler runs
        process.wait(timeout=10)
    stored = sqlite3.connect(db).execute("SELECT order_id FROM orders ORDER BY seq").fetchall()
    assert [row[0] for row in stored] == [f"k9-{i}" for i in range(5)]
    with server(models_dir, db) as (client, _):
        assert client.get("/v1/model").json()["orders_since_training"] == 5
        assert "filter" not in _next_products(client)  # applied again after the restart


@pytest.fixture
def second_version(models_dir, orders_csv) -> tuple[str, str]:
    """(serving version, a newer one trained on the same orders and not yet promoted)."""
    old = (models_dir / "current").readlink().name
    assert (
        recsys_main(
            [
                "-q",
                "train",
                "--orders",
                str(orders_csv),
                "--models-dir",
                str(models_dir),
                "--horizon-days",
                "7",
            ]
        )
        == 0
    )
    new = (models_dir / "current").readlink().name
    promote_version(models_dir, old)
    return old, new


def test_promoting_a_model_under_load_fails_no_request(models_dir, tmp_path, second_version):
    old, new = second_version
    failures: list[str] = []
    done = threading.Event()
    answered = 0

    def load(client: httpx.Client) -> None:
        nonlocal answered
        i = 0
        while not done.is_set():
            i += 1
            try:
                r = client.get(f"/v1/customers/c{i % 80}/next", params={"k": 5})
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            answered += 1

    with server(models_dir, tmp_path / "orders.sqlite") as (client, _):
        assert client.get("/v1/model").json()["version"] == old
        workers = [threading.Thread(target=load, args=(client,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            _promote_under_load(client, models_dir, new)
        finally:
            done.set()
            for worker in workers:
                worker.join()
        metrics = client.get("/metrics").text
    assert failures == []
    assert answered > 50
    assert 'recsys_model_loads_total{result="failed"} 1.0' in metrics
    assert 'recsys_model_loads_total{result="loaded"} 2.0' in metrics


def _promote_under_load(client: httpx.Client, models_dir: Path, new: str) -> None:
    time.sleep(0.5)
    promote_version(models_dir, new)
    deadline = time.monotonic() + 30
    while client.get("/v1/model").json()["version"] != new:
        assert time.monotonic() < deadline, "new model not served within 30 s"
        time.sleep(0.1)
    time.sleep(0.5)

    # A broken version is refused: the model serving stays, and so do the answers.
    broken = models_dir / "29991231-000000-dead"
    shutil.copytree(models_dir / new, broken)
    with open(broken / "model.joblib", "r+b") as handle:
        handle.truncate(1000)
    # `recsys` itself refuses to promote it, so the link is moved by hand, as a careless
    # script or a disk fault might.
    link = models_dir / "current.tmp"
    os.symlink(broken.name, link)
    os.replace(link, models_dir / "current")
    deadline = time.monotonic() + 30
    while 'recsys_model_loads_total{result="failed"} 1.0' not in client.get("/metrics").text:
        assert time.monotonic() < deadline, "the broken version was not tried within 30 s"
        time.sleep(0.1)
    assert client.get("/v1/model").json()["version"] == new
    assert client.get("/readyz").json()["model_version"] == new
