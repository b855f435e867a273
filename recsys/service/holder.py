"""The model the service answers with, and its replacement when ``models/current`` moves.

A background thread polls the ``current`` link. When it points to another version, that version
is loaded and verified (checksums, then unpickling) beside the serving one, given the orders
ingested since it was trained, and swapped in with one reference assignment: a request holds
the `ServingModel` it started with until it finishes. A version that fails to load is logged
and skipped (not retried until the link moves again); the old model keeps serving.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from recsys.artifacts import load_model, resolve
from recsys.exceptions import ArtifactError
from recsys.service.engine import ServingModel
from recsys.service.store import OrderStore

log = logging.getLogger(__name__)


class ModelHolder:
    """Holds the serving model; `start` begins watching ``models_dir/current``."""

    def __init__(
        self,
        models_dir: Path,
        store: OrderStore,
        *,
        poll_seconds: float = 5.0,
        cache_size: int = 50_000,
        warm: bool = True,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        on_load: Callable[[ServingModel | None, str], None] | None = None,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.store = store
        self.poll_seconds = poll_seconds
        self.cache_size = cache_size
        self.warm = warm
        self.clock = clock
        self.on_load = on_load
        self.current: ServingModel | None = None
        self._failed: Path | None = None
        self._swap_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Load the version ``current`` points to if it is not the one serving; True if swapped."""
        try:
            target = resolve(self.models_dir)
        except ArtifactError:
            return False  # no model promoted yet (or the link is being replaced)
        serving = self.current
        if (serving is not None and serving.path == target) or target == self._failed:
            return False
        with self._swap_lock:
            started = time.perf_counter()
            try:
                applied = self.store.last_seq()
                model, manifest = load_model(target)
                watermark = int(manifest.get("data", {}).get("ingested_through") or 0)
                fresh = ServingModel(
                    model,
                    manifest,
                    target,
                    self.store.orders(after_seq=watermark),
                    cache_size=self.cache_size,
                )
            except Exception as exc:  # any failure to load must leave the old model serving
                self._failed = target
                log.error(
                    "model %s refused: %s; still serving %s",
                    target.name,
                    exc,
                    serving.version if serving else "nothing",
                )
                if self.on_load:
                    self.on_load(None, "failed")
                return False
            self.current = fresh
            # Orders stored while the new model was loading went to the old one only.
            fresh.apply_orders(self.store.orders(after_seq=max(applied, watermark)))
            self._failed = None
            if serving is not None:
                serving.stop()
            log.info(
                "serving model %s (loaded in %.1fs)", fresh.version, time.perf_counter() - started
            )
            if self.on_load:
                self.on_load(fresh, "loaded")
        if self.warm:
            threading.Thread(
                target=fresh.warm, args=(fresh.today(self.clock()),), name="warm-lists", daemon=True
            ).start()
        return True

    def start(self) -> None:
        """Load the current model now, then watch for promotions in the background."""
        self.check()
        self._thread = threading.Thread(target=self._watch, name="model-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.current is not None:
            self.current.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check()
            except Exception:  # the watcher must outlive any one bad poll
                log.exception("model reload check failed")
