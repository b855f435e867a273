"""Versioned model directories: ``models/<version>/`` with the fitted model and a manifest.

A version is written into a hidden temporary directory and renamed into place only when every
file is on disk, so a half-written model never has a version name. ``models/current`` is a
symbolic link to the promoted version, replaced atomically. Loading verifies the manifest and
every file's SHA-256 before unpickling: a partial or corrupted directory is refused with an
`ArtifactError`. Only load model directories you trust: joblib files can run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import secrets
import shutil
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from recsys.exceptions import ArtifactError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MODEL_FILE = "model.joblib"
CURRENT = "current"
PROMOTIONS = "promotions.jsonl"
FORMAT = 9  # 2: pair mean quantities; 3: training lines; 4: mean squares; 5: product trend;
# 6: the re-ranker; 7: the purchase timing model; 8: large and small orders (trip features);
# 9: category cycles
_LIBRARIES = ("recsys", "numpy", "scipy", "pandas", "scikit-learn", "implicit", "joblib")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose objects are inside a model file."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(
    model: Any, models_dir: str | Path, manifest: dict[str, Any], *, promote: bool = True
) -> Path:
    """Write ``model`` as a new version under ``models_dir``; promote it unless told not to.

    ``manifest`` holds the caller's facts (data, settings, metrics); version, creation time,
    file checksums and library versions are added here. Returns the version directory.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    # Sortable to the microsecond: the order of names is the order of training.
    version = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f-") + secrets.token_hex(2)
    tmp = models_dir / f".tmp-{version}"
    tmp.mkdir()
    try:
        joblib.dump(model, tmp / MODEL_FILE)
        full = {
            "format": FORMAT,
            "version": version,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **manifest,
            "files": {MODEL_FILE: file_sha256(tmp / MODEL_FILE)},
            "libraries": library_versions(),
        }
        (tmp / MANIFEST).write_text(json.dumps(full, indent=2, default=str) + "\n")
        for name in (MODEL_FILE, MANIFEST):
            _fsync(tmp / name)
        final = models_dir / version
        tmp.rename(final)
        _fsync(models_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("saved model version %s", version)
    if promote:
        promote_version(models_dir, version)
    return final


def promote_version(models_dir: str | Path, version: str, *, action: str = "promote") -> None:
    """Point ``models_dir/current`` at ``version`` (atomic replace of the link) and log it.

    Every promotion is appended to ``promotions.jsonl`` (time, action, version, previous), which
    is how `previous_version` knows where a rollback goes.
    """
    models_dir = Path(models_dir)
    if "/" in version or version.startswith("."):
        raise ArtifactError(f"'{version}' is not a version name (see 'recsys models list')")
    if not (models_dir / version).is_dir():
        raise ArtifactError(f"no version '{version}' in {models_dir} (see 'recsys models list')")
    read_manifest(models_dir / version)  # refuse to promote an incomplete version
    previous = current_version(models_dir)
    link = models_dir / f".{CURRENT}-{secrets.token_hex(4)}"
    os.symlink(version, link)
    os.replace(link, models_dir / CURRENT)
    _fsync(models_dir)
    entry = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "action": action,
        "version": version,
        "previous": previous,
    }
    with open(models_dir / PROMOTIONS, "a") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    log.info("%s: model version %s is current (was %s)", action, version, previous)


def current_version(models_dir: str | Path) -> str | None:
    """The version ``current`` points to, or None."""
    link = Path(models_dir) / CURRENT
    return os.readlink(link) if link.is_symlink() else None


def previous_version(models_dir: str | Path) -> str | None:
    """The version that was current before the current one was promoted (what a rollback
    restores), if it still exists. Rollbacks walk back: after rolling back to A, the previous
    version is the one before A was promoted."""
    models_dir = Path(models_dir)
    current = current_version(models_dir)
    log_file = models_dir / PROMOTIONS
    if current is None or not log_file.exists():
        return None
    entries = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    for entry in reversed(entries):
        if entry["version"] == current and entry["action"] == "promote":
            previous = entry["previous"]
            return previous if previous and (models_dir / previous).is_dir() else None
    return None


def prune_versions(models_dir: str | Path, keep: int) -> list[str]:
    """Delete the oldest versions beyond the newest ``keep``; never the current or previous
    one. Returns the deleted versions."""
    models_dir = Path(models_dir)
    protected = {current_version(models_dir), previous_version(models_dir)}
    versions = list_versions(models_dir)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v not in protected]
    for version in doomed:
        shutil.rmtree(models_dir / version)
        log.info("pruned model version %s", version)
    return doomed


def resolve(path: str | Path) -> Path:
    """A version directory: ``path`` itself, or the version ``path/current`` points to."""
    path = Path(path)
    if (path / CURRENT).exists() or (path / CURRENT).is_symlink():
        target = path / os.readlink(path / CURRENT)
        if not target.is_dir():
            raise ArtifactError(f"{path / CURRENT} points to {target.name}, which does not exist")
        return target
    if (path / MANIFEST).exists() or (path / MODEL_FILE).exists():
        return path
    if path.is_dir():
        raise ArtifactError(f"{path}: no promoted model (no '{CURRENT}'); run 'recsys train' first")
    raise ArtifactError(f"{path}: no such model directory; run 'recsys train' first")


def read_manifest(version_dir: str | Path) -> dict[str, Any]:
    """The manifest of a version directory, after checking it lists complete, intact files."""
    version_dir = Path(version_dir)
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text())
    except FileNotFoundError:
        raise ArtifactError(
            f"{version_dir}: no {MANIFEST}; not a complete model directory"
        ) from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{version_dir}/{MANIFEST}: unreadable ({exc})") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(
            f"{version_dir}/{MANIFEST}: format {manifest.get('format')!r} is not {FORMAT}; "
            f"retrain it with this version of recsys"
        )
    for name, expected in manifest["files"].items():
        path = version_dir / name
        if not path.is_file():
            raise ArtifactError(f"{version_dir}: {name} is missing")
        if file_sha256(path) != expected:
            raise ArtifactError(f"{version_dir}: {name} is corrupted (checksum mismatch)")
    return manifest


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load the model at ``path`` (a models directory or a version directory).

    Returns ``(model, manifest)``; raises ArtifactError for anything missing or damaged.
    """
    version_dir = resolve(path)
    manifest = read_manifest(version_dir)
    mismatched = {
        name: (built, now)
        for name, now in library_versions().items()
        if (built := manifest.get("libraries", {}).get(name)) not in (None, now)
    }
    if mismatched:
        log.warning(
            "model %s was built with other library versions: %s", version_dir.name, mismatched
        )
    try:
        model = joblib.load(version_dir / MODEL_FILE)
    except Exception as exc:  # unpickling can fail in many ways; all mean "unusable"
        raise ArtifactError(f"{version_dir}/{MODEL_FILE}: cannot be loaded ({exc})") from None
    return model, manifest


def list_versions(models_dir: str | Path) -> list[str]:
    """Complete version directories, oldest first (hidden temporary ones excluded)."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in models_dir.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and not p.is_symlink()
        and (p / MANIFEST).exists()
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
