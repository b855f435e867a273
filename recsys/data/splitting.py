"""Temporal cutoffs: the only way training and target data are separated.

Training holds lines dated strictly before the cutoff; the target window is
[cutoff, cutoff + horizon). Nothing at or after the cutoff reaches a model's ``fit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from recsys.data.history import OrderHistory
from recsys.exceptions import ParameterError


@dataclass(frozen=True)
class TemporalSplit:
    """Training history before ``cutoff`` and the target lines of the following window."""

    cutoff: pd.Timestamp
    horizon_days: int
    train: OrderHistory
    future: OrderHistory

    @property
    def window_end(self) -> pd.Timestamp:
        return self.cutoff + pd.Timedelta(days=self.horizon_days)


def parse_date(text: str, name: str = "date") -> pd.Timestamp:
    """Parse a user-given date or date-time, or raise ParameterError naming the option."""
    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError):
        value = pd.NaT
    if pd.isna(value):
        raise ParameterError(f"{name}: cannot parse '{text}' as a date (use YYYY-MM-DD)")
    return value.tz_convert(None) if value.tzinfo else value


def default_cutoff(history: OrderHistory, horizon_days: int) -> pd.Timestamp:
    """Midnight such that the last ``horizon_days`` whole days of the data are held out."""
    return history.end.normalize() + pd.Timedelta(days=1 - horizon_days)


def temporal_split(
    history: OrderHistory, horizon_days: int, cutoff: pd.Timestamp | None = None
) -> TemporalSplit:
    """Split at ``cutoff`` (default: `default_cutoff`) into training and target window."""
    if horizon_days < 1:
        raise ParameterError(f"--horizon-days must be at least 1, got {horizon_days}")
    given = cutoff is not None
    if cutoff is None:
        cutoff = default_cutoff(history, horizon_days)
    if not history.start < cutoff <= history.end:
        what = (
            f"--cutoff {cutoff:%Y-%m-%d %H:%M}"
            if given
            else f"the default cutoff {cutoff:%Y-%m-%d} (the last {horizon_days} days held out)"
        )
        raise ParameterError(
            f"{what} is outside the data ({history.start:%Y-%m-%d} .. {history.end:%Y-%m-%d}); "
            "it needs orders both before and after it"
            + ("" if given else "; give a shorter --horizon-days or a --cutoff")
        )
    end = cutoff + pd.Timedelta(days=horizon_days)
    return TemporalSplit(
        cutoff=cutoff,
        horizon_days=horizon_days,
        train=history.before(cutoff),
        future=history.between(cutoff, end),
    )
