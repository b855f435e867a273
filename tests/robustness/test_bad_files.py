"""Bad order files through the real `recsys train`: a clear error and nothing written, or a
documented repair counted in the model's manifest. And a training killed half-way."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess

import pandas as pd
import pytest

from recsys.artifacts import current_version, list_versions, load_model
from tests.helpers import SAMPLE, fortnightly_rows, frame_from_rows
from tests.test_cli import RECSYS, run


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return frame_from_rows(fortnightly_rows(weeks=10))


def _train(path, models):
    return run(
        "-q", "train", "--orders", str(path), "--models-dir", str(models), "--horizon-days", "7"
    )


def _nothing_written(models):
    return not models.exists() or not any(models.iterdir())


def _write(frame: pd.DataFrame, path, **options):
    frame.to_csv(path, index=False, **options)
    return path


ERRORS = {
    "truncated gzip": lambda f, p: p.with_suffix(".csv.gz").write_bytes(
        gzip.compress(f.to_csv(index=False).encode())[:-200]
    ),
    "header only": lambda f, p: _write(f.head(0), p),
    "a date that is not one": lambda f, p: _write(
        f.assign(timestamp=f["timestamp"].astype(str).where(f.index != 7, "31/31/2024")), p
    ),
    "pipe-delimited with a missing column": lambda f, p: _write(
        f.drop(columns="product_id"), p, sep="|"
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_file_is_one_clear_line_and_nothing_is_written(case, orders, tmp_path):
    path = tmp_path / "orders.csv"
    ERRORS[case](orders, path)
    path = next(tmp_path.glob("orders.csv*"))
    models = tmp_path / "models"
    result = _train(path, models)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recsys train: error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert _nothing_written(models)


def _repair_absurd(f):
    return f.assign(quantity=f["quantity"].where(f.index != 3, 5e9))


def _repair_future(f):
    extra = f.head(4).assign(timestamp=pd.Timestamp("2099-01-01"), order_id="from-the-future")
    return pd.concat([f, extra], ignore_index=True)


def _repair_placeholder_dates(f):
    extra = f.head(3).assign(timestamp=["0001-01-01", "1899-12-30", "1970-01-01"], order_id="x")
    return pd.concat([f, extra], ignore_index=True)


def _repair_duplicates(f):
    return pd.concat([f, f.head(6)], ignore_index=True)


REPAIRS = {
    "absurd quantity": (_repair_absurd, "absurd_quantity", 1),
    "future dates": (_repair_future, "future_dated", 4),
    "placeholder dates": (_repair_placeholder_dates, "placeholder_dated", 3),
    "duplicated order lines": (_repair_duplicates, "duplicates_merged", 6),
}


def test_utf16_export_is_read_as_such(orders, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(orders.to_csv(index=False).encode("utf-16"))  # with its byte-order mark
    models = tmp_path / "models"
    result = _train(path, models)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((models / "current" / "manifest.json").read_text())
    assert manifest["data"]["cleaning"]["lines_kept"] == len(orders)


@pytest.mark.parametrize("case", list(REPAIRS))
def test_repairs_are_counted_in_the_manifest(case, orders, tmp_path):
    damage, counter, expected = REPAIRS[case]
    models = tmp_path / "models"
    result = _train(_write(damage(orders), tmp_path / "orders.csv"), models)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((models / "current" / "manifest.json").read_text())
    assert manifest["data"]["cleaning"][counter] == expected
    assert manifest["data"]["cleaning"]["lines_read"] == len(damage(orders))


def test_training_killed_half_way_leaves_the_current_model_serving(tmp_path, orders):
    models = tmp_path / "models"
    assert _train(_write(orders, tmp_path / "orders.csv"), models).returncode == 0
    (serving,) = list_versions(models)
    process = subprocess.Popen(
        [
            *RECSYS,
            "train",
            "--orders",
            str(SAMPLE),
            "--preset",
            "online-retail",
            "--models-dir",
            str(models),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Killed once its log says fitting is under way: loading and cleaning done, nothing saved.
    for line in process.stderr:
        if "examples at cutoff 1/" in line:
            break
    else:
        pytest.fail("training ended without logging its first inner cutoff")
    process.send_signal(signal.SIGKILL)
    process.stderr.close()
    process.wait(timeout=10)
    assert current_version(models) == serving
    assert list_versions(models) == [serving]
    model, manifest = load_model(models)
    assert manifest["version"] == serving
    assert len(model.predict(model.state_.cycles_.customer_orders_.nonzero()[0][:3], k=2)) == 6
    # The next run is not disturbed by whatever the killed one left behind.
    assert _train(tmp_path / "orders.csv", models).returncode == 0
    assert current_version(models) != serving
