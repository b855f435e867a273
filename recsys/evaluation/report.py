"""Render an `EvaluationResult` as a text table or JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from recsys.evaluation.experiment import EvaluationResult

_METRICS = ("recall", "ndcg", "precision", "hitrate", "recall_repeat", "recall_new", "coverage")


def format_table(result: EvaluationResult) -> str:
    """A fixed-width table: one row per method, metrics at each K, then fit/recommend seconds."""
    headers = ["method"] + [f"{m}@{k}" for k in result.ks for m in _METRICS] + ["fit s", "rec s"]
    rows = []
    for method in result.methods:
        cells = [method.name]
        cells += [_number(method.metrics.get(f"{m}@{k}")) for k in result.ks for m in _METRICS]
        cells += [f"{method.fit_seconds:.1f}", f"{method.recommend_seconds:.1f}"]
        rows.append(cells)
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [headers, *rows]
    ]
    split, data = result.split, result.data
    title = (
        f"{split['protocol']} protocol, cutoff {split['cutoff']}, {split['horizon_days']} days; "
        f"{data['evaluated_customers']:,} customers evaluated, "
        f"{data['repeat_share_of_target']:.0%} of the target bought before"
    )
    return "\n".join([title, *lines])


def format_details(result: EvaluationResult) -> str:
    """One line per method with probabilities: how right its items' details are."""
    return "\n".join(
        details_line(m.name, m.details.figures) for m in result.methods if m.details is not None
    )


def details_line(name: str, f: dict[str, float]) -> str:
    """A method's `item_details` figures (as in the JSON too) in one line."""
    line = (
        f"{name} top-20 items of {f['customers']:,.0f} customers: calibration error "
        f"{f['calibration_error']:.4f}, Brier skill {f['brier_skill']:.3f}"
    )
    if f["dated_bought_items"]:
        line += (
            f"; expected date off by {f['date_mae_days']:.1f} days (middle of the window: "
            f"{f['date_mae_days_window_middle']:.1f}) over {f['dated_bought_items']:,.0f} "
            "items bought"
        )
    if f["quantity_items"]:
        line += (
            f"; quantity WAPE {f['quantity_wape']:.3f} (last quantity: "
            f"{f['quantity_wape_last']:.3f})"
        )
    return line


def format_markdown(
    result: EvaluationResult,
    metrics: tuple[str, ...] = ("recall", "ndcg", "hitrate", "recall_repeat", "recall_new"),
) -> str:
    """A Markdown table of the chosen metrics at each K, for the README and docs."""
    headers = ["method"] + [f"{m}@{k}" for k in result.ks for m in metrics] + ["fit s"]
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for method in result.methods:
        cells = [method.name] + [
            _number(method.metrics.get(f"{m}@{k}")) for k in result.ks for m in metrics
        ]
        out.append("| " + " | ".join(cells + [f"{method.fit_seconds:.1f}"]) + " |")
    return "\n".join(out)


def write_json(result: EvaluationResult, path: str | Path, forecast: dict | None = None) -> None:
    """Write every metric per method, the split and data counts (and the forecast backtest's
    figures, if any) to ``path`` (atomically)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    content = result.to_dict()
    if forecast is not None:
        content["forecast"] = forecast
    tmp.write_text(json.dumps(content, indent=2, allow_nan=True) + "\n")
    tmp.replace(path)


def _number(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4f}"
