"""`recsys models list | promote | rollback` and pruning, on real version directories."""

from __future__ import annotations

from recsys.artifacts import current_version, list_versions, prune_versions, save_model
from recsys.models import PersonalTopFreq
from tests.helpers import history_from_rows
from tests.test_cli import run


def _versions(models_dir, n: int) -> list[str]:
    history = history_from_rows([("a", "o1", 0, "x"), ("a", "o2", 7, "y"), ("b", "o3", 3, "x")])
    model = PersonalTopFreq().fit(history)
    return [
        save_model(
            model, models_dir, {"data": {"lines": 3}, "validation": {"recall@10": i / 10}}
        ).name
        for i in range(n)
    ]


def test_promote_and_roll_back_step_by_step(tmp_path):
    models = tmp_path / "models"
    v1, v2, v3 = _versions(models, 3)
    assert current_version(models) == v3

    listed = run("models", "--models-dir", str(models), "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert [line[2:].split()[0] for line in lines[1:4]] == [v1, v2, v3]
    assert lines[3].startswith("* ") and lines[2].startswith("< ")

    assert run("models", "--models-dir", str(models), "promote", v1).returncode == 0
    assert current_version(models) == v1
    assert run("models", "--models-dir", str(models), "rollback").stdout.strip() == f"current: {v3}"
    # Rolling back again walks further back: v3 had replaced v2.
    assert run("models", "--models-dir", str(models), "rollback").stdout.strip() == f"current: {v2}"


def test_bad_promotions_change_nothing(tmp_path):
    models = tmp_path / "models"
    (v1,) = _versions(models, 1)
    for version in ("no-such-version", "../etc", ".tmp-x"):
        result = run("models", "--models-dir", str(models), "promote", version)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert current_version(models) == v1
    result = run("models", "--models-dir", str(models), "rollback")
    assert result.returncode == 2
    assert "no previous version" in result.stderr


def test_pruning_keeps_the_newest_and_never_current_or_previous(tmp_path):
    models = tmp_path / "models"
    versions = _versions(models, 5)
    run("models", "--models-dir", str(models), "promote", versions[0])  # previous: versions[4]
    deleted = prune_versions(models, keep=2)
    assert deleted == versions[1:3]
    assert list_versions(models) == [versions[0], versions[3], versions[4]]
