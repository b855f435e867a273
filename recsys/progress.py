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
    """``update(done)`` after each step of ``total`` units (customers, cutoffs, ...).

    With ``every_seconds``, steps closer together than that show nothing until the last one:
    for work of many quick steps whose each line would be noise.
    """

    def __init__(self, label: str, total: int, unit: str, every_seconds: float = 0.0) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.every_seconds = every_seconds
        self.started = self.shown = time.perf_counter()
        self.bar = sys.stderr.isatty()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if done < self.total and now - self.shown < self.every_seconds:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = _rate(done / elapsed)
        if self.bar:
            width = 30
            filled = int(width * done / max(self.total, 1))
            sys.stderr.write(
                f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                f"{done:,}/{self.total:,} {self.unit} ({rate}/s, {elapsed:.0f}s)"
            )
            if done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        else:
            log.info(
                "%s: %s/%s %s (%s/s, %.0fs)",
                self.label,
                f"{done:,}",
                f"{self.total:,}",
                self.unit,
                rate,
                elapsed,
            )


def _rate(per_second: float) -> str:
    """Whole units a second, or two significant digits under ten (0.21 settings a second)."""
    return f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2g}"
