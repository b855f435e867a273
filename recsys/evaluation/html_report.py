"""`recsys evaluate --report FILE.html`: one self-contained page (figures embedded as PNG).

Sections: the metrics of every method, Recall@K curves, the repeat / new breakdown, the
calibration of predicted probabilities, the errors of expected dates and quantities, and the
demand-forecast backtest when it was run.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from recsys.evaluation.experiment import EvaluationResult  # noqa: E402
from recsys.evaluation.forecast_backtest import RollingBacktest  # noqa: E402
from recsys.evaluation.item_details import calibration_bins  # noqa: E402

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 980px; margin: 24px auto; color: #1d2327; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; } .note { color: #5f6b73; }
"""


def write_report(
    result: EvaluationResult, path: str | Path, forecast: RollingBacktest | None = None
) -> None:
    """Write the report to ``path`` (atomically)."""
    split, data = result.split, result.data
    sections = [
        f"<h1>recsys evaluation: {html.escape(str(split['protocol']))} protocol, "
        f"{split['horizon_days']} days from {html.escape(str(split['cutoff'])[:10])}</h1>",
        f'<p class="note">{data["evaluated_customers"]:,} customers evaluated; trained on '
        f"{data['training_lines']:,} lines before the cutoff; "
        f"{data['repeat_share_of_target']:.0%} of the target was bought before.</p>",
        _metrics_section(result),
        _curves_section(result),
        _repeat_new_section(result),
        _calibration_section(result),
        _dates_quantities_section(result),
        _forecast_section(forecast),
    ]
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>recsys evaluation</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page)
    tmp.replace(path)


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metrics_section(result: EvaluationResult) -> str:
    names = [
        f"{metric}@{k}"
        for k in result.ks
        for metric in ("recall", "precision", "ndcg", "hitrate", "coverage")
    ]
    rows = [
        [m.name, *(f"{m.metrics.get(n, float('nan')):.4f}" for n in names), f"{m.fit_seconds:.1f}"]
        for m in result.methods
    ]
    return (
        '<section id="metrics"><h2>Metrics</h2>'
        + _table(["method", *names, "fit s"], rows)
        + "</section>"
    )


def _curves_section(result: EvaluationResult) -> str:
    curves = [m for m in result.methods if m.recall_curve]
    if not curves:
        return '<section id="recall-curves"><h2>Recall@K</h2><p class="note">not computed</p></section>'
    figure, axis = plt.subplots(figsize=(7, 4))
    for m in curves:
        axis.plot(np.arange(1, len(m.recall_curve) + 1), m.recall_curve, label=m.name)
    axis.set_xlabel("K (length of the list)")
    axis.set_ylabel("Recall@K")
    axis.grid(alpha=0.3)
    axis.legend()
    return f'<section id="recall-curves"><h2>Recall@K, K = 1..{len(curves[0].recall_curve)}</h2>{_png(figure)}</section>'


def _repeat_new_section(result: EvaluationResult) -> str:
    k = result.ks[0]
    names = [m.name for m in result.methods]
    repeat = [m.metrics.get(f"recall_repeat@{k}", np.nan) for m in result.methods]
    new = [m.metrics.get(f"recall_new@{k}", np.nan) for m in result.methods]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(names))
    axis.bar(x - 0.2, repeat, 0.4, label="bought before (repeat)")
    axis.bar(x + 0.2, new, 0.4, label="new to the customer")
    axis.set_xticks(x, names)
    axis.set_ylabel(f"Recall@{k}")
    axis.legend()
    rows = [[n, f"{r:.4f}", f"{w:.4f}"] for n, r, w in zip(names, repeat, new, strict=True)]
    return (
        f'<section id="repeat-new"><h2>Repeat versus new products (Recall@{k})</h2>'
        + _table(["method", "repeat", "new"], rows)
        + _png(figure)
        + "</section>"
    )


def _calibration_section(result: EvaluationResult) -> str:
    calibrated = [m for m in result.methods if m.details is not None]
    if not calibrated:
        return (
            '<section id="calibration"><h2>Calibration</h2><p class="note">no method with '
            "probabilities was evaluated</p></section>"
        )
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
    rows = []
    for m in calibrated:
        probability, bought = m.details.probability, m.details.bought
        mean_p, rate, _ = calibration_bins(probability, bought)
        axis.plot(mean_p, rate, marker="o", label=m.name)
        figures = m.details.figures
        rows.append(
            [
                m.name,
                f"{probability.mean():.4f}",
                f"{bought.mean():.4f}",
                f"{figures['calibration_error']:.4f}",
                f"{figures['brier_skill']:.3f}",
                f"{len(bought):,}",
            ]
        )
    axis.set_xlabel("predicted probability (bins of equal count)")
    axis.set_ylabel("observed purchase rate")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.legend()
    return (
        '<section id="calibration"><h2>Calibration of the top-20 probabilities</h2>'
        '<p class="note">Every customer known at the cutoff, whether they ordered in the '
        "window or not: the probability is of buying within the horizon.</p>"
        + _table(
            [
                "method",
                "mean predicted",
                "observed rate",
                "calibration error",
                "Brier skill",
                "items",
            ],
            rows,
        )
        + _png(figure)
        + "</section>"
    )


def _dates_quantities_section(result: EvaluationResult) -> str:
    rows = []
    for m in result.methods:
        if m.details is None:
            continue
        f = m.details.figures
        rows.append(
            [
                m.name,
                f"{f.get('date_mae_days', float('nan')):.1f}",
                f"{f.get('date_mae_days_window_middle', float('nan')):.1f}",
                f"{f['dated_bought_items']:,.0f}",
                f"{f.get('quantity_wape', float('nan')):.3f}",
                f"{f.get('quantity_wape_last', float('nan')):.3f}",
                f"{f['quantity_items']:,.0f}",
            ]
        )
    if not rows:
        return (
            '<section id="dates-quantities"><h2>Expected dates and quantities</h2>'
            '<p class="note">no method with expected dates was evaluated</p></section>'
        )
    return (
        '<section id="dates-quantities"><h2>Expected dates and quantities</h2>'
        '<p class="note">Over the same top-20 items, those bought in the window: mean days '
        "between the expected date and the first purchase (beside the middle of the window as "
        "a guess), and the weighted error of the expected quantity against the first "
        "purchase's (beside the customer's last quantity as a guess).</p>"
        + _table(
            [
                "method",
                "date error, days",
                "middle of the window",
                "dated items bought",
                "quantity WAPE",
                "last quantity",
                "items bought again",
            ],
            rows,
        )
        + "</section>"
    )


def _forecast_section(forecast: RollingBacktest | None) -> str:
    if forecast is None:
        return (
            '<section id="forecast"><h2>Demand forecast backtest</h2><p class="note">not run '
            "(add --forecast)</p></section>"
        )
    cutoffs = forecast.cutoffs
    rows = [
        [name, f"{m['wape']:.3f}", f"{m['bias']:+.3f}"] + [f"{w:.3f}" for w in per_window]
        for name, m, per_window in forecast.summary()
    ]
    top = forecast.windows[-1].products.head(15)
    figure, axis = plt.subplots(figsize=(8, 4))
    x = np.arange(len(top))
    methods = list(forecast.windows[-1].methods)
    width = 0.8 / (len(methods) + 1)
    axis.bar(x, top["actual"], width, label="actual", color="black")
    for i, name in enumerate(methods, start=1):
        axis.bar(x + i * width, top[name], width, label=name)
    axis.set_xticks(x + width * len(methods) / 2, top["product_id"].astype(str), rotation=60)
    axis.set_ylabel("units")
    axis.legend()
    return (
        f'<section id="forecast"><h2>Demand forecast backtest: {len(cutoffs)} window(s) of '
        f"{forecast.days} days</h2>"
        + _table(
            ["method", "WAPE (all windows)", "bias (all windows)"]
            + [f"WAPE from {c}" for c in cutoffs],
            rows,
        )
        + f'<p class="note">Each window\'s model is fitted on the orders before it. The 80% '
        f"interval held the actual units of {forecast.interval_coverage:.0%} of the products "
        f"sold. The best-selling products of the window from {cutoffs[-1]}:</p>"
        + _png(figure)
        + "</section>"
    )
