"""Model directories: round trip, atomic promotion, refusal of partial or corrupted ones."""

import json
import os

import numpy as np
import pytest

from recsys.artifacts import (
    MANIFEST,
    MODEL_FILE,
    list_versions,
    load_model,
    promote_version,
    read_manifest,
    save_model,
)
from recsys.exceptions import ArtifactError
from recsys.models import PersonalTopFreq


@pytest.fixture(scope="module")
def model(sample_history):
    return PersonalTopFreq().fit(sample_history)


def test_round_trip_gives_the_same_lists(tmp_path, model):
    path = save_model(model, tmp_path, {"data": {"lines": 1}})
    loaded, manifest = load_model(tmp_path)
    assert manifest["version"] == path.name
    assert manifest["data"] == {"lines": 1}
    assert set(manifest["libraries"]) >= {"numpy", "scikit-learn", "implicit"}
    customers = np.arange(20)
    np.testing.assert_array_equal(
        model.recommend(customers, 10)[0], loaded.recommend(customers, 10)[0]
    )
    assert os.readlink(tmp_path / "current") == path.name


def test_promotion_moves_current_and_keeps_old_versions(tmp_path, model):
    first = save_model(model, tmp_path, {})
    second = save_model(model, tmp_path, {}, promote=False)
    assert os.readlink(tmp_path / "current") == first.name
    promote_version(tmp_path, second.name)
    assert os.readlink(tmp_path / "current") == second.name
    assert list_versions(tmp_path) == sorted([first.name, second.name])


def test_truncated_model_file_is_refused(tmp_path, model):
    path = save_model(model, tmp_path, {})
    data = (path / MODEL_FILE).read_bytes()
    (path / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="corrupted"):
        load_model(tmp_path)


def test_missing_model_file_is_refused(tmp_path, model):
    path = save_model(model, tmp_path, {})
    (path / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_model(tmp_path)


def test_missing_manifest_is_refused(tmp_path, model):
    path = save_model(model, tmp_path, {})
    (path / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match="not a complete model"):
        load_model(path)


def test_half_written_version_is_invisible(tmp_path, model):
    save_model(model, tmp_path, {})
    partial = tmp_path / ".tmp-20990101-000000-dead"
    partial.mkdir()
    (partial / MODEL_FILE).write_bytes(b"partial")
    assert partial.name not in list_versions(tmp_path)
    with pytest.raises(ArtifactError):
        promote_version(tmp_path, partial.name)


def test_tampered_manifest_is_refused(tmp_path, model):
    path = save_model(model, tmp_path, {})
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["files"][MODEL_FILE] = "0" * 64
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="checksum"):
        read_manifest(path)


def test_no_model_yet(tmp_path):
    with pytest.raises(ArtifactError, match="run 'recsys train' first"):
        load_model(tmp_path)
    with pytest.raises(ArtifactError, match="no such model directory"):
        load_model(tmp_path / "nowhere")
