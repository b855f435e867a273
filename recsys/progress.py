"""Progress of long work: a bar on a terminal, a log line per step elsewhere (cron, CI).

A bar is drawn only when stderr is a terminal, so a nightly job's log holds one readable line
per step with counts and rate instead of carriage-return noise.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("recsys")


class Progress:
    """``update(done)`` after each step of ``total`` units (customers, cutoffs, ...)."""

    def __init__(self, label: str, total: int, unit: str) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.started = time.perf_counter()
        self.bar = sys.stderr.isatty()

    def update(self, done: int) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = done / elapsed
        if self.bar:
            width = 30
            filled = int(width * done / max(self.total, 1))
            sys.stderr.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                f"{done:,}/{self.total:,} {self.unit} ({rate:,.0f}/s, {elapsed:.0f}s)"
            )
            if done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        else:
            log.info(
                "%s: %s/%s %s (%.0f/s, %.0fs)",
                self.label,
                f"{done:,}",
                f"{self.total:,}",
                self.unit,
                rate,
                elapsed,
            )
