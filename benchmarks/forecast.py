"""The demand forecast's rolling backtest on the development datasets, validation and test apart.

Usage: python benchmarks/forecast.py [--datasets online-retail,complete-journey] [--windows 5]
       [--relative-errors 0.1,0.2,0.3,0.4,0.5,0.6,0.7,1.0]

For each dataset, `recsys.evaluation.forecast_backtest.rolling_backtest` fits one model per
window (the last window starts at the test cutoff of `benchmarks/evaluate.py`) and forecasts the
horizon after it. The windows before the last lie inside the training data of the test window:
they are where the forecast's settings may be chosen (here: how far off the model is taken to
be when weighed against recent sales, `MODEL_RELATIVE_ERROR`), and the script prints WAPE for
each candidate on them, recomputed from the same fitted parts. The last window is the test.

WAPE sums absolute errors over products in their own units, so a product sold in units of
another scale outweighs the rest: The Complete Journey's fuel and coupon lines (categories
FUEL and COUPON/MISC ITEMS, quantities in the thousands) are 98.6% of its units. Its figures
are given over all products and over goods only.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from dev_datasets import DATASETS

from recsys.data import load_history
from recsys.data.splitting import default_cutoff
from recsys.evaluation.forecast_backtest import rolling_backtest
from recsys.models.demand import MODEL_RELATIVE_ERROR, recent_sales, weigh_with_recent_sales

ROOT = Path(__file__).resolve().parent.parent
#: Categories whose units are not comparable with goods, per dataset.
NOT_GOODS = {"complete-journey": r"^(FUEL|COUPON/MISC ITEMS)$"}


def wape(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.abs(forecast - actual).sum() / max(actual.sum(), 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--relative-errors", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,1.0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    errors = [float(e) for e in args.relative_errors.split(",")]
    for name in args.datasets.split(","):
        data = DATASETS[name]
        history = load_history(args.shared / data.file, preset=data.preset)
        cutoff = default_cutoff(history, data.horizon)
        result = rolling_backtest(history, cutoff, data.horizon, args.windows)
        categories = pd.Series(
            history.product_categories if history.product_categories is not None else "",
            index=history.product_ids,
        )
        scopes = {"all products": None}
        if name in NOT_GOODS:
            scopes["goods only"] = NOT_GOODS[name]
        for scope, pattern in scopes.items():
            columns: dict[str, list[np.ndarray]] = {}
            actuals = []
            for w in result.windows:
                p = w.products
                keep = np.ones(len(p), dtype=bool)
                if pattern is not None:
                    cats = categories.reindex(p["product_id"]).fillna("").astype(str)
                    keep = ~cats.str.match(pattern).to_numpy()
                p = p[keep]
                actuals.append(p["actual"].to_numpy())
                model = (p["from_reorders"] + p["from_first_purchases"]).to_numpy()
                train = history.before(w.cutoff)
                rate, variance = recent_sales(
                    train.lines, history.n_products, train.end, data.horizon
                )
                codes = pd.Index(history.product_ids).get_indexer(p["product_id"])
                forecasts = {
                    "last-period": p["last-period"].to_numpy(),
                    "model parts only": model,
                }
                for e in errors:
                    label = f"weighed, relative error {e:g}"
                    if e == MODEL_RELATIVE_ERROR:
                        label += " (shipped)"
                        # The shipped forecast is the backtest's own column, not a recomputation.
                        forecasts[label] = p["anticipate"].to_numpy()
                    else:
                        forecasts[label] = weigh_with_recent_sales(
                            model, rate[codes], variance[codes], e
                        )
                for label, values in forecasts.items():
                    columns.setdefault(label, []).append(values)
            print(
                f"### {name}, {scope}: {data.horizon}-day windows from "
                f"{', '.join(result.cutoffs)} (the last is the test window)\n"
            )
            print("| forecast | validation windows, pooled | per window | test window |")
            print("|---|---:|---|---:|")
            for label, per_window in columns.items():
                val = wape(np.concatenate(per_window[:-1]), np.concatenate(actuals[:-1]))
                each = " / ".join(
                    f"{wape(f, a):.3f}" for f, a in zip(per_window, actuals, strict=True)
                )
                print(f"| {label} | {val:.4f} | {each} | {wape(per_window[-1], actuals[-1]):.3f} |")
            print(flush=True)
        print(
            f"The 80% interval held the actual units of {result.interval_coverage:.0%} of "
            f"{name}'s (window, product) pairs with sales.\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
