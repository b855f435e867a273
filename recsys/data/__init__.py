"""Order data: reading, cleaning, integer coding and temporal splitting."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from recsys.data import schema
from recsys.data.cleaning import CleaningPolicy, CleaningReport, clean
from recsys.data.encoding import encode
from recsys.data.history import OrderHistory
from recsys.data.loading import read_orders
from recsys.data.splitting import TemporalSplit, temporal_split
from recsys.exceptions import DataError

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
    path: str | Path | None,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    policy: CleaningPolicy | None = None,
    extra: pd.DataFrame | None = None,
) -> OrderHistory:
    """Read, clean and encode an order file: the one call most users need.

    ``extra`` adds order lines already in the canonical layout (orders ingested by the service);
    an order id present in the file is taken from the file only. ``path`` may be None when
    ``extra`` holds every order. The cleaning policy defaults to
    `CleaningPolicy.for_preset(preset)`.
    """
    frames = [] if path is None else [read_orders(path, preset=preset, columns=columns)]
    if extra is not None and len(extra):
        if frames:
            extra = extra[~extra[schema.ORDER_ID].isin(frames[0][schema.ORDER_ID])]
        frames.append(extra)
    if not frames:
        raise DataError("no orders: give an order file, stored orders, or both")
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    cleaned, report = clean(frame, policy or CleaningPolicy.for_preset(preset))
    return encode(cleaned, report)
