"""The promotion gate of `recsys train`: exit codes, decisions and their record."""

from __future__ import annotations

import json

from recsys.artifacts import current_version
from tests.helpers import fortnightly_rows, frame_from_rows, write_csv
from tests.test_cli import run


def _train(orders, models, *extra):
    return run(
        "train", "--orders", str(orders), "--models-dir", str(models), "--horizon-days", "7", *extra
    )


def _manifest(models, version):
    return json.loads((models / version / "manifest.json").read_text())


def test_gate_promotes_a_sound_model_and_holds_back_a_collapsed_input(tmp_path):
    models = tmp_path / "models"
    full = write_csv(frame_from_rows(fortnightly_rows(weeks=12)), tmp_path / "full.csv")
    short = write_csv(frame_from_rows(fortnightly_rows(weeks=5)), tmp_path / "short.csv")

    first = _train(full, models)
    assert first.returncode == 0, first.stderr
    v1 = current_version(models)
    assert _manifest(models, v1)["gate"]["figures"]["current"] is None

    again = _train(full, models)  # same data: as good as the current model
    assert again.returncode == 0, again.stderr
    v2 = current_version(models)
    assert v2 != v1
    gate = _manifest(models, v2)["gate"]
    assert gate["promote"] is True and gate["figures"]["current"] == v1

    collapsed = _train(short, models)
    assert collapsed.returncode == 3
    assert current_version(models) == v2  # still serving the sound model
    assert "not promoted: row count collapsed" in collapsed.stdout
    assert "not promoted: date range went backwards" in collapsed.stdout
    held = [
        v
        for v in sorted(p.name for p in models.iterdir() if p.name[0].isdigit())
        if v not in (v1, v2)
    ]
    (v3,) = held
    reasons = _manifest(models, v3)["gate"]["reasons"]
    assert reasons[0].startswith("row count collapsed")
    assert reasons[1].startswith("date range went backwards")

    forced = _train(short, models, "--force")
    assert forced.returncode == 0
    assert "forced past the gate" in forced.stdout
    assert _manifest(models, current_version(models))["gate"]["forced"] is True


def test_bad_gate_options_are_refused(tmp_path):
    result = run("train", "--orders", "x.csv", "--tolerance", "1.5")
    assert result.returncode == 2
    assert "--tolerance must be in [0, 1), got 1.5" in result.stderr
