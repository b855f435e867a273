"""Should a freshly trained model replace the current one? Checks for an unattended retrain.

Sanity of the input, against the data the current model learned from:

* the row count has not collapsed (at least ``min_lines_ratio`` of the current model's lines);
* the date range moves forward (the last order is not older than the current model's);
* no flood of unknown products (at most ``max_unknown_share`` of the last horizon's lines are
  products the current model never saw).

Quality, on the most recent window of the data (the last horizon): the new model's Recall@10
there is its own validation, measured by a ranker that did not see the window. The current
model is scored on the same window when it was trained before it; otherwise (it saw the window)
its own recorded validation is the comparison. The new model is promoted unless it is worse
than the current one by more than ``tolerance`` (relative).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from recsys.artifacts import load_model
from recsys.data.history import OrderHistory
from recsys.exceptions import ArtifactError
from recsys.models.anticipate import AnticipationModel

log = logging.getLogger(__name__)

K = 10


@dataclass
class GateDecision:
    promote: bool
    reasons: list[str] = field(default_factory=list)  # why not, when not
    figures: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def decide(
    history: OrderHistory,
    model: AnticipationModel,
    models_dir: str,
    *,
    tolerance: float = 0.02,
    min_lines_ratio: float = 0.5,
    max_unknown_share: float = 0.5,
) -> GateDecision:
    """Compare ``model`` (fitted on ``history``) with the current model of ``models_dir``."""
    try:
        current, manifest = load_model(models_dir)
    except ArtifactError as exc:
        if "no promoted model" in str(exc) or "no such model directory" in str(exc):
            return GateDecision(True, figures={"current": None})
        log.warning("gate: the current model cannot be loaded (%s); promoting the new one", exc)
        return GateDecision(True, figures={"current": None, "current_error": str(exc)})
    data = manifest.get("data", {})
    figures: dict[str, object] = {"current": manifest["version"]}
    reasons = []

    lines, previous_lines = history.n_lines, int(data.get("lines", 0))
    figures.update(lines=lines, current_lines=previous_lines)
    if lines < min_lines_ratio * previous_lines:
        reasons.append(
            f"row count collapsed: {lines:,} lines against {previous_lines:,} for the current "
            f"model (below {min_lines_ratio:.0%})"
        )
    last, previous_last = history.end, pd.Timestamp(data.get("last_order", history.end))
    figures.update(last_order=str(last), current_last_order=str(previous_last))
    if last < previous_last:
        reasons.append(f"date range went backwards: last order {last} before {previous_last}")

    h = model.horizon_days_
    window_start = history.end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=h)
    recent = history.between(window_start, history.end + pd.Timedelta(seconds=1)).lines
    known = pd.Index(current.product_ids_)
    unknown = known.get_indexer(history.product_ids[recent["product"].to_numpy()]) < 0
    share = float(unknown.mean()) if len(recent) else 0.0
    figures["unknown_product_share"] = round(share, 4)
    if share > max_unknown_share:
        reasons.append(
            f"{share:.0%} of the last {h} days' lines are products the current model never "
            f"saw (more than {max_unknown_share:.0%})"
        )

    new_recall = model.validation_.get(f"recall@{K}")
    if current.fitted_until_ <= window_start:
        current_recall = _recall_on_window(current, history, window_start)
        figures["current_measured_on"] = "the window"
    else:
        current_recall = manifest.get("validation", {}).get(f"recall@{K}")
        figures["current_measured_on"] = "its own validation (it saw the window)"
    figures.update(
        window_start=str(window_start.date()),
        new_recall=new_recall,
        current_recall=current_recall,
        tolerance=tolerance,
    )
    if new_recall is not None and current_recall:
        if new_recall < current_recall * (1 - tolerance):
            reasons.append(
                f"recall@{K} {new_recall:.4f} is below the current model's "
                f"{current_recall:.4f} by more than {tolerance:.0%}"
            )
    return GateDecision(not reasons, reasons, figures)


def _recall_on_window(
    current: AnticipationModel, history: OrderHistory, start: pd.Timestamp
) -> float | None:
    """Recall@K of the current model on the window: customers it knows who bought in it."""
    future = history.between(start, history.end + pd.Timedelta(seconds=1)).lines
    if future.empty:
        return None
    ids = history.customer_ids[future["customer"].to_numpy()]
    bought = pd.DataFrame(
        {"customer_id": ids, "product_id": history.product_ids[future["product"].to_numpy()]}
    )
    bought = bought.drop_duplicates()
    customers = pd.Index(current.customer_ids_)
    codes = customers.get_indexer(bought["customer_id"].unique())
    codes = codes[codes >= 0]
    if len(codes) == 0:
        return None
    items = current.predict(codes, k=K, as_of=start, reasons=False)
    listed = pd.DataFrame(
        {
            "customer_id": current.customer_ids_[codes[items["row"].to_numpy()]],
            "product_id": current.product_ids_[items["product"].to_numpy()],
        }
    )
    bought = bought[bought["customer_id"].isin(listed["customer_id"])]
    hits = bought.merge(listed, on=["customer_id", "product_id"])
    per_customer = (
        hits.groupby("customer_id").size() / bought.groupby("customer_id").size()
    ).fillna(0.0)
    return float(np.mean(per_customer.reindex(bought["customer_id"].unique(), fill_value=0.0)))
