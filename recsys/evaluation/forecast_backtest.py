"""Backtest of the demand forecast on a held-out window, against two naive forecasts.

The model is fitted on the lines before the cutoff and forecasts units per product over the
next ``days``; the truth is every unit sold in ``[cutoff, cutoff + days)``, to known and new
customers alike. The naive forecasts, measured on the same window: the units of the last
``days`` before the cutoff, and the units of the same ``days`` a year before (where the data
reaches that far back). WAPE = sum |forecast - actual| / sum actual over all products; bias =
sum (forecast - actual) / sum actual (positive: over-forecast).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.exceptions import DataError
from recsys.models.anticipate import AnticipationModel
from recsys.models.demand import ITEMS_PER_CUSTOMER, forecast_table

log = logging.getLogger(__name__)

YEAR = pd.Timedelta(days=364)  # 52 weeks: the same weekdays a year before
PARTS = ("from_reorders", "from_first_purchases", "recent_units")


@dataclass
class ForecastBacktest:
    cutoff: pd.Timestamp
    days: int
    methods: dict[str, dict[str, float]]  # method -> wape, bias
    interval_coverage: float  # share of sold products whose units fell in the 80% interval
    #: Per product: actual, each method's forecast, and the parts of anticipate's
    #: (`PARTS`: the model's reorders and first purchases, the recent sales rate).
    products: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        return {
            "cutoff": str(self.cutoff.date()),
            "days": self.days,
            "methods": self.methods,
            "interval_coverage_80": self.interval_coverage,
        }


def units(history: OrderHistory, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Units sold per product code in [start, end)."""
    part = history.between(start, end).lines
    return np.bincount(
        part["product"].to_numpy(), part["quantity"].to_numpy(np.float64), history.n_products
    )


def wape_and_bias(forecast: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    total = max(actual.sum(), 1e-9)
    return {
        "wape": float(np.abs(forecast - actual).sum() / total),
        "bias": float((forecast - actual).sum() / total),
    }


def backtest_forecast(
    history: OrderHistory, cutoff: pd.Timestamp, days: int, random_state: int = 0
) -> ForecastBacktest:
    """Fit before ``cutoff``, forecast ``days`` ahead, compare with what was sold."""
    train = history.before(cutoff)
    if train.n_lines == 0:
        raise DataError(f"no orders before the forecast cutoff {cutoff:%Y-%m-%d}")
    actual = units(history, cutoff, cutoff + pd.Timedelta(days=days))
    model = AnticipationModel(horizon_days=days, random_state=random_state).fit(train)
    known = np.flatnonzero(model.state_.cycles_.customer_orders_ > 0)
    items = model.predict(known, k=ITEMS_PER_CUSTOMER, as_of=cutoff, reasons=False)
    table = forecast_table(model, known, items, days, cutoff)
    codes = pd.Index(model.product_ids_).get_indexer(table["product_id"])

    def per_product(column: str) -> np.ndarray:
        values = np.zeros(history.n_products)
        values[codes] = table[column].to_numpy()
        return values

    forecast, low, high = (per_product(c) for c in ("expected_units", "low_80", "high_80"))
    forecasts = {
        "anticipate": forecast,
        "last-period": units(history, cutoff - pd.Timedelta(days=days), cutoff),
    }
    if history.start <= cutoff - YEAR:
        forecasts["same-period-last-year"] = units(
            history, cutoff - YEAR, cutoff - YEAR + pd.Timedelta(days=days)
        )
    else:
        log.info("forecast backtest: the data does not reach a year before the cutoff")
    sold = actual > 0
    coverage = float(((actual >= low) & (actual <= high))[sold].mean()) if sold.any() else 0.0
    products = pd.DataFrame({"product_id": history.product_ids, "actual": actual})
    for name, values in forecasts.items():
        products[name] = values
    products = products[(products.drop(columns="product_id") > 0).any(axis=1)]
    products = products.assign(**{part: per_product(part)[products.index] for part in PARTS})
    return ForecastBacktest(
        cutoff=cutoff,
        days=days,
        methods={name: wape_and_bias(values, actual) for name, values in forecasts.items()},
        interval_coverage=coverage,
        products=products.sort_values("actual", ascending=False, ignore_index=True),
    )


@dataclass
class RollingBacktest:
    """Backtests on consecutive windows (oldest first), each model fitted before its own."""

    windows: list[ForecastBacktest]

    @property
    def days(self) -> int:
        return self.windows[-1].days

    def pooled(self) -> dict[str, dict[str, float]]:
        """WAPE and bias over every (window, product), for the methods of every window."""
        methods = [m for m in self.windows[-1].methods if all(m in w.methods for w in self.windows)]
        actual = np.concatenate([w.products["actual"].to_numpy() for w in self.windows])
        return {
            m: wape_and_bias(
                np.concatenate([w.products[m].to_numpy() for w in self.windows]), actual
            )
            for m in methods
        }

    @property
    def cutoffs(self) -> list[str]:
        return [f"{w.cutoff:%Y-%m-%d}" for w in self.windows]

    def summary(self) -> list[tuple[str, dict[str, float], list[float]]]:
        """Per method: the pooled WAPE and bias, and the WAPE of each window."""
        return [
            (name, pooled, [w.methods[name]["wape"] for w in self.windows])
            for name, pooled in self.pooled().items()
        ]

    @property
    def interval_coverage(self) -> float:
        """Share of the (window, product) pairs with sales whose units fell in the interval."""
        sold = np.array([(w.products["actual"] > 0).sum() for w in self.windows], dtype=float)
        held = np.array([w.interval_coverage for w in self.windows])
        return float((held * sold).sum() / sold.sum()) if sold.sum() else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "days": self.days,
            "pooled": self.pooled(),
            "interval_coverage_80": self.interval_coverage,
            "windows": [w.to_dict() for w in self.windows],
        }


def rolling_backtest(
    history: OrderHistory, cutoff: pd.Timestamp, days: int, windows: int, random_state: int = 0
) -> RollingBacktest:
    """`backtest_forecast` on ``windows`` consecutive windows of ``days``, the last one from
    ``cutoff``. An earlier window with too little history before it to fit a model is left
    out (and logged); the last one must fit."""
    cutoffs = [cutoff - pd.Timedelta(days=days * i) for i in reversed(range(windows))]
    results = []
    for i, c in enumerate(cutoffs, start=1):
        log.info("forecast backtest: window %d/%d from %s", i, len(cutoffs), f"{c:%Y-%m-%d}")
        try:
            results.append(backtest_forecast(history, c, days, random_state))
        except DataError as exc:
            if c == cutoff:
                raise
            log.info("forecast backtest: window from %s left out: %s", f"{c:%Y-%m-%d}", exc)
    return RollingBacktest(results)


def format_backtest(result: RollingBacktest) -> str:
    """The pooled table, then each window's WAPE."""
    cutoffs = result.cutoffs
    lines = [
        f"demand forecast, {len(cutoffs)} window(s) of {result.days} days from {', '.join(cutoffs)}:",
        f"{'method':<24}{'WAPE':>8}{'bias':>8}   WAPE per window",
    ]
    for name, m, per_window in result.summary():
        wapes = " ".join(f"{w:.3f}" for w in per_window)
        lines.append(f"{name:<24}{m['wape']:>8.3f}{m['bias']:>+8.3f}   {wapes}")
    lines.append(
        f"80% interval holds the actual units of {result.interval_coverage:.0%} of sold products"
    )
    return "\n".join(lines)
