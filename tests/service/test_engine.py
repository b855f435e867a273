"""`ServingModel` itself, over a model really trained and loaded from its directory."""

from __future__ import annotations

import threading

from recsys.artifacts import load_model
from recsys.service.engine import ServingModel
from tests.service.conftest import DUE_DAY


def test_concurrent_forecast_requests_share_one_computation(trained_models):
    model, manifest = load_model(trained_models / "current")
    engine = ServingModel(model, manifest, trained_models / "current")
    start = threading.Barrier(4)
    tables = []

    def ask():
        start.wait()
        tables.append(engine.forecast(DUE_DAY, 14))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One table, computed once and handed to every request (each computing its own would
    # give four tables), then answered from memory.
    assert len(tables) == 4 and len({id(t) for t in tables}) == 1
    assert engine.forecast(DUE_DAY, 14) is tables[0]
    assert tables[0]["expected_units"].sum() > 0
