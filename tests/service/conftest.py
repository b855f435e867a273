"""A model trained by the real `recsys train` on hand-made fortnightly orders, shared by the
service tests (each test gets its own copy of the models directory and order database)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from recsys.cli import main as recsys_main
from recsys.service.app import create_app
from recsys.service.config import Settings
from tests.helpers import START, fortnightly_rows, frame_from_rows

WEEKS = 12
#: The day 'c0' is due to buy 'filter' again (see `fortnightly_rows`).
DUE_DAY = (START.normalize() + pd.Timedelta(days=7 * WEEKS)).date()


@pytest.fixture(scope="session")
def orders_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    frame_from_rows(fortnightly_rows(weeks=WEEKS)).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, orders_csv) -> Path:
    models = tmp_path_factory.mktemp("trained") / "models"
    code = recsys_main(
        [
            "-q",
            "train",
            "--orders",
            str(orders_csv),
            "--models-dir",
            str(models),
            "--horizon-days",
            "7",
        ]
    )
    assert code == 0
    return models


@pytest.fixture
def models_dir(tmp_path, trained_models) -> Path:
    target = tmp_path / "models"
    shutil.copytree(trained_models, target, symlinks=True)
    return target


def make_client(models_dir: Path, **settings) -> TestClient:
    config = Settings(models_dir=models_dir, warm=False, reload_seconds=0.2, **settings)
    return TestClient(create_app(config))


@pytest.fixture
def client(models_dir) -> Iterator[TestClient]:
    with make_client(models_dir) as c:
        yield c


def order(order_id: str, customer: str, day: int, *products: str, quantity: float = 1) -> dict:
    """An order body dated ``day`` days after the fixture data's start."""
    return {
        "order_id": order_id,
        "customer_id": customer,
        "timestamp": (START + pd.Timedelta(days=day)).isoformat(),
        "lines": [{"product_id": p, "quantity": quantity} for p in products],
    }


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by playwright (`.ci/run` installs both)."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
