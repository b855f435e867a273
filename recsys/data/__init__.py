"""Order data: reading, cleaning, integer coding and temporal splitting."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from recsys.data.cleaning import CleaningPolicy, CleaningReport, clean
from recsys.data.encoding import encode
from recsys.data.history import OrderHistory
from recsys.data.loading import read_orders
from recsys.data.splitting import TemporalSplit, temporal_split

__all__ = [
    "CleaningPolicy",
    "CleaningReport",
    "OrderHistory",
    "TemporalSplit",
    "clean",
    "encode",
    "load_history",
    "read_orders",
    "temporal_split",
]


def load_history(
    path: str | Path,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    policy: CleaningPolicy | None = None,
) -> OrderHistory:
    """Read, clean and encode an order file: the one call most users need.

    The cleaning policy defaults to `CleaningPolicy.for_preset(preset)`.
    """
    frame = read_orders(path, preset=preset, columns=columns)
    cleaned, report = clean(frame, policy or CleaningPolicy.for_preset(preset))
    return encode(cleaned, report)
