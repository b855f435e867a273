"""Top-K recommendations, or reorder cycles, of every customer (or a list of them), written
to CSV or Parquet.

This is what nightly jobs feed to CRMs and e-mail: one row per (customer, rank), or per
(customer, product bought), in the customers' and products' original ids. The file is written
to a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys.data.loading import as_id_strings, require_file
from recsys.exceptions import DataError, ParameterError
from recsys.models.anticipate import AnticipationModel
from recsys.models.reorder_cycles import to_days
from recsys.progress import Progress

log = logging.getLogger(__name__)

COLUMNS = (
    "customer_id",
    "rank",
    "product_id",
    "score",
    "probability",
    "expected_date",
    "expected_quantity",
    "reason",
    "reason_text",
)
CYCLE_COLUMNS = (
    "customer_id",
    "product_id",
    "name",
    "status",
    "next_due",
    "purchases",
    "first_purchase",
    "last_purchase",
    "days_since_last",
    "interval_days",
    "interval_spread_days",
    "usual_quantity",
)
_FORMATS = (".csv", ".csv.gz", ".parquet")
#: Customers per unit of work: small enough to keep every core busy to the end.
CHUNK = 2_000


def check_output_path(path: str | Path) -> Path:
    """Refuse an output of unknown format or in a missing directory before any work."""
    path = Path(path)
    if not path.name.lower().endswith(_FORMATS):
        raise ParameterError(f"--out {path}: expected a file ending in {', '.join(_FORMATS)}")
    if not path.parent.is_dir():
        raise ParameterError(f"--out {path}: directory {path.parent} does not exist")
    return path


def read_customer_ids(path: str | Path) -> np.ndarray:
    """Customer ids from a CSV or Parquet file: a ``customer_id`` column, or else the first.

    A CSV file without a ``customer_id`` header is read as one id per line, no header.
    """
    path = require_file(path)
    if path.name.lower().endswith((".parquet", ".pq")):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataError(f"{path}: cannot read customer ids as Parquet ({exc})") from None
        if frame.columns.empty:
            raise DataError(f"{path}: no customer ids in the file")
        column = "customer_id" if "customer_id" in frame else frame.columns[0]
        values = as_id_strings(frame[column]).fillna("")
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, header=None)
        except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataError(f"{path}: cannot read customer ids ({exc})") from None
        header = [str(v).strip() for v in frame.iloc[0]]
        column = header.index("customer_id") if "customer_id" in header else None
        values = frame.iloc[1:, column] if column is not None else frame.iloc[:, 0]
    ids = values.str.strip()
    ids = ids[ids != ""].drop_duplicates().to_numpy(dtype=object)
    if len(ids) == 0:
        raise DataError(f"{path}: no customer ids in the file")
    return ids


def export_recommendations(
    model: AnticipationModel,
    out: str | Path,
    *,
    k: int,
    as_of: pd.Timestamp | None = None,
    customer_ids: np.ndarray | None = None,
    allow_unknown: bool = False,
    new_only: bool = False,
) -> int:
    """Write the top-``k`` of each customer to ``out``; returns the number of rows written.

    ``customer_ids`` defaults to every customer the model knows. Unknown ids are an error
    unless ``allow_unknown`` (they then get the cold-start list). ``new_only``: of the
    products each customer has never bought (cross-sell lists).
    """
    out = check_output_path(out)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"--k must be a positive integer, got {k}")
    as_of = check_as_of(model, as_of)
    customer_ids, codes = _customer_codes(
        model, customer_ids, allow_unknown, "give them popular products"
    )
    table = predict_all(model, codes, k, as_of, new_only)
    return _write_in_original_ids(table, model, customer_ids, COLUMNS, out)


def export_cycles(
    model: AnticipationModel,
    out: str | Path,
    *,
    as_of: pd.Timestamp | None = None,
    customer_ids: np.ndarray | None = None,
    allow_unknown: bool = False,
    statuses: tuple[str, ...] | None = None,
) -> int:
    """Write the reorder cycle of every product each customer has bought (see
    `ReorderCycles.table`) to ``out``, only the ``statuses`` given if any (``overdue``: a
    call list); returns the number of rows written."""
    out = check_output_path(out)
    as_of = check_as_of(model, as_of)
    customer_ids, codes = _customer_codes(model, customer_ids, allow_unknown, "leave them out")
    known = codes >= 0
    table = model.state_.cycles_.table(codes[known], to_days(as_of), model.horizon_days_, statuses)
    table["name"] = model.display_names_[table["product"].to_numpy()]
    return _write_in_original_ids(table, model, customer_ids[known], CYCLE_COLUMNS, out)


def _write_in_original_ids(
    table: pd.DataFrame,
    model: AnticipationModel,
    customer_ids: np.ndarray,
    columns: tuple[str, ...],
    out: Path,
) -> int:
    """Write ``table`` (``row`` indexing ``customer_ids``, ``product`` a code) with the
    customers' and products' original ids, as ``columns``; returns the rows written."""
    table["customer_id"] = customer_ids[table["row"].to_numpy()]
    table["product_id"] = model.product_ids_[table["product"].to_numpy()]
    table = table[list(columns)]
    write_table(table, out)
    return len(table)


def _customer_codes(
    model: AnticipationModel,
    customer_ids: np.ndarray | None,
    allow_unknown: bool,
    for_unknown: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, codes) of the customers asked for, every known one by default; ids unknown to
    the model (code -1) are an error unless ``allow_unknown``."""
    if customer_ids is None:
        customer_ids = model.customer_ids_
    codes = pd.Index(model.customer_ids_).get_indexer(customer_ids)
    unknown = codes < 0
    if unknown.any() and not allow_unknown:
        shown = ", ".join(map(str, customer_ids[unknown][:5]))
        raise DataError(
            f"{unknown.sum():,} of {len(codes):,} customer ids are unknown to the model "
            f"(e.g. {shown}); pass --allow-unknown to {for_unknown}"
        )
    return customer_ids, codes


def check_as_of(model: AnticipationModel, as_of: pd.Timestamp | None) -> pd.Timestamp:
    """``as_of`` or, by default, the model's last date; never before it."""
    if as_of is None:
        return model.fitted_until_
    if as_of.normalize() < model.fitted_until_.normalize():
        raise ParameterError(
            f"--as-of {as_of:%Y-%m-%d} is before the last order the model learned from "
            f"({model.fitted_until_:%Y-%m-%d}); a model cannot answer for its own past"
        )
    return as_of


def predict_all(
    model: AnticipationModel,
    codes: np.ndarray,
    k: int,
    as_of: pd.Timestamp,
    new_only: bool = False,
    reasons: bool = True,
) -> pd.DataFrame:
    """`AnticipationModel.predict` over many customers in chunks, logging progress; ``row``
    indexes ``codes``.

    Chunks run on one thread per core, each limited to one BLAS/OpenMP thread: much of the
    work (sparse products, partitions, tree traversal) releases the GIL, and a chunk's own
    steps are too short to keep several native threads busy.
    """
    progress = Progress("predict", len(codes), "customers")
    starts = range(0, len(codes), CHUNK)

    def run(start: int) -> pd.DataFrame:
        items = model.predict(
            codes[start : start + CHUNK], k=k, as_of=as_of, new_only=new_only, reasons=reasons
        )
        items["row"] += start
        return items

    parts = []
    with threadpool_limits(1), ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for items in pool.map(run, starts):
            parts.append(items)
            progress.update(min(len(parts) * CHUNK, len(codes)))
    return pd.concat(parts, ignore_index=True)


def write_table(table: pd.DataFrame, out: Path) -> None:
    """Write CSV (optionally gzip) or Parquet by the name's suffix, atomically."""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if out.name.lower().endswith(".parquet"):
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(
                tmp,
                index=False,
                date_format="%Y-%m-%d",
                float_format="%.6g",
                compression="gzip" if out.name.lower().endswith(".gz") else None,
            )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
