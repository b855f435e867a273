"""Order data: reading, cleaning, integer coding and temporal splitting."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from recsys.data import schema
from recsys.data.cleaning import CleaningPolicy, CleaningReport, clean
from recsys.data.encoding import encode
from recsys.data.history import OrderHistory
from recsys.data.loading import read_orders
from recsys.data.splitting import TemporalSplit, temporal_split
from recsys.exceptions import DataError

log = logging.getLogger(__name__)

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
    path: str | Path | Sequence[str | Path] | None,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    policy: CleaningPolicy | None = None,
    extra: pd.DataFrame | None = None,
) -> OrderHistory:
    """Read, clean and encode order files: the one call most users need.

    ``path`` is one file or several (exports of successive periods, say): a customer's order id
    in more than one is taken from the last file that holds it, as from a correcting re-export.
    ``extra`` adds order lines already in the canonical layout (orders ingested by the service);
    an order id present in a file is taken from the file only. ``path`` may be None when
    ``extra`` holds every order. The cleaning policy defaults to
    `CleaningPolicy.for_preset(preset)`.
    """
    paths = [] if path is None else [path] if isinstance(path, (str, Path)) else list(path)
    # Lowest priority first: an order id is taken from the last source that holds it.
    sources = [extra] if extra is not None and len(extra) else []
    sources += [read_orders(p, preset=preset, columns=columns) for p in paths]
    if not sources:
        raise DataError("no orders: give an order file, stored orders, or both")
    # A single source is not copied: on tens of millions of lines that would double memory.
    frame = sources[0] if len(sources) == 1 else _latest_orders(sources)
    cleaned, report = clean(frame, policy or CleaningPolicy.for_preset(preset))
    return encode(cleaned, report)


def _latest_orders(sources: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The sources' lines, each customer's order taken from the last source that holds it.

    An order is a customer's: ids derived from timestamps repeat across customers.
    """
    kept, seen = [], None
    for frame in reversed(sources):
        ids = pd.MultiIndex.from_frame(frame[[schema.CUSTOMER_ID, schema.ORDER_ID]])
        kept.append(frame if seen is None else frame[~ids.isin(seen)])
        seen = ids.unique() if seen is None else seen.append(ids.unique())
    left_out = sum(map(len, sources)) - sum(map(len, kept))
    if left_out:
        log.info(
            "orders: %s lines of orders that a later source gives again left out", f"{left_out:,}"
        )
    return pd.concat(kept[::-1], ignore_index=True)
