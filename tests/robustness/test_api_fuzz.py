"""Fuzzing: requests generated from the app's own OpenAPI document (schemathesis). No input
may give a 500, and every answer must match the documented status codes and schemas."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from recsys.service.app import create_app
from recsys.service.config import Settings


@pytest.fixture(scope="module")
def app(tmp_path_factory, trained_models):
    import shutil

    models = tmp_path_factory.mktemp("fuzz") / "models"
    shutil.copytree(trained_models, models, symlinks=True)
    application = create_app(
        Settings(
            models_dir=models,
            warm=False,
            read_keys=frozenset({"fuzz-read"}),
            ingest_keys=frozenset({"fuzz-ingest"}),
        )
    )
    with TestClient(application):  # runs the lifespan: model loaded, order store open
        yield application


def test_no_server_error_and_no_schema_violation(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        # Derandomised: the same requests on every run, so CI's verdict is about the code
        # (random runs found the off-calendar timestamp and the "/" in an id, now tested).
        @settings(
            max_examples=50,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            key = "fuzz-ingest" if case.path == "/v1/orders" else "fuzz-read"
            # Some schema-valid requests are refused with a 422 by design: an `as_of` before
            # the model's data, a category filter on data without categories.
            case.call_and_validate(
                headers={"X-API-Key": key}, excluded_checks=[positive_data_acceptance]
            )

        fuzz()
