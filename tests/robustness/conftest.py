"""The service tests' trained model, shared with the robustness suite."""

from tests.service.conftest import orders_csv, trained_models  # noqa: F401
