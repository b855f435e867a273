"""The demand forecast on hand-made histories whose demand can be counted by hand."""

import numpy as np
import pandas as pd
import pytest

from recsys.evaluation.forecast_backtest import backtest_forecast, rolling_backtest, wape_and_bias
from recsys.exceptions import DataError
from recsys.models import AnticipationModel
from recsys.models.demand import (
    FirstPurchases,
    forecast_demand,
    recent_sales,
    weigh_with_recent_sales,
)
from tests.helpers import START, fortnightly_rows, history_from_rows

WEEKS = 12


@pytest.fixture(scope="module")
def model():
    history = history_from_rows(fortnightly_rows(weeks=WEEKS))
    return AnticipationModel(horizon_days=7).fit(history)


def test_weekly_and_fortnightly_staples_are_forecast_by_their_cycles(model):
    # 80 customers, each buying 1 milk a week and 2 filters every other week: over 14 days,
    # 160 milks and 160 filters.
    table = forecast_demand(model, days=14).set_index("product_id")
    for product in ("milk", "filter"):
        row = table.loc[product]
        assert row["expected_units"] == pytest.approx(160, rel=0.2)
        assert row["low_80"] <= 160 <= row["high_80"]
        assert row["from_first_purchases"] == 0  # everyone has bought both for weeks
        # Sold steadily in the last four weeks: 80 x 2 milks and 80 filters of 2 units.
        assert row["recent_units"] == pytest.approx(160, rel=0.1)
    assert list(table.index[:2]) in (["milk", "filter"], ["filter", "milk"])
    assert (np.diff(table["expected_units"].to_numpy()) <= 0).all()


def test_longer_horizons_forecast_proportionally_more(model):
    short = forecast_demand(model, days=7).set_index("product_id")["expected_units"]
    long = forecast_demand(model, days=28).set_index("product_id")["expected_units"]
    assert long["milk"] == pytest.approx(4 * short["milk"], rel=0.25)


def _lines(rows) -> pd.DataFrame:
    """Order lines ``(product code, day, units)``; days count from START."""
    product, day, units = (np.array(column) for column in zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "product": product,
            "timestamp": (START + pd.to_timedelta(day, unit="D")).to_numpy(),
            "quantity": units.astype(np.float32),
        }
    )


def test_recent_sales_are_a_rate_with_the_noise_of_their_lines():
    # Product 0: 40 lines of 1 unit in the last 20 days; product 1: one line of 20 units in
    # them and one of 10 before; product 2: sold only before.
    rows = [(0, 40 + d / 2, 1) for d in range(40)] + [(1, 50, 20), (1, 5, 10), (2, 5, 3)]
    end = START + pd.Timedelta(days=60)
    rate, variance = recent_sales(_lines(rows), 3, end, days=10)
    assert rate.tolist() == [20.0, 10.0, 0.0]  # units per 10 days over the last 20
    # Sum of squared units in the window, plus one line of mean squared units, over 2**2.
    assert variance.tolist() == [(40 + 1) / 4, (400 + 250) / 4, 9 / 4]
    # Asked for 40 days, the last 80 reach before the first line (day 5): the rate is over the
    # 55 days the lines cover.
    rate, variance = recent_sales(_lines(rows), 3, end, days=40)
    assert rate == pytest.approx(np.array([40, 30, 3]) * 40 / 55)
    assert variance[2] == pytest.approx((9 + 9) * (40 / 55) ** 2)


def test_steady_sellers_follow_their_recent_sales_and_lumpy_ones_the_model():
    model = np.array([30.0, 30.0, 30.0, 0.0])
    rate = np.array([50.0, 50.0, 0.0, 50.0])
    # Product 0 sold in many small lines (sd 5), product 1 in one bulk order (sd 70);
    # product 2 sold nothing lately; the model expects nothing of product 3.
    variance = np.array([25.0, 4900.0, 9.0, 25.0])
    weighed = weigh_with_recent_sales(model, rate, variance, relative_error=0.5)
    # Prior variance (0.5 * 30)**2 = 225: weights 225/250, 225/5125 and 225/234.
    assert weighed[0] == pytest.approx(30 + 0.9 * 20)
    assert weighed[1] == pytest.approx(30 + 225 / 5125 * 20)
    assert weighed[2] == pytest.approx(30 * (1 - 225 / 234))
    assert weighed[3] == 0.0
    assert weigh_with_recent_sales(model, rate, variance, relative_error=0.0).tolist() == [
        30.0,
        30.0,
        30.0,
        0.0,
    ]


def test_wape_and_bias_by_hand():
    forecast, actual = np.array([10.0, 0.0, 5.0]), np.array([8.0, 2.0, 5.0])
    assert wape_and_bias(forecast, actual) == {"wape": 4 / 15, "bias": 0.0}


def test_backtest_compares_with_the_naive_forecasts_on_the_same_window():
    history = history_from_rows(fortnightly_rows(weeks=WEEKS))
    cutoff = START.normalize() + pd.Timedelta(days=7 * (WEEKS - 2))
    result = backtest_forecast(history, cutoff, 7)
    assert set(result.methods) == {"anticipate", "last-period"}  # the data spans 12 weeks
    actual = result.products.set_index("product_id")["actual"]
    assert actual["milk"] == 80  # every customer's weekly milk, counted from the data
    for figures in result.methods.values():
        assert 0 <= figures["wape"] < 1
    assert result.methods["anticipate"]["wape"] < 0.5
    assert 0 <= result.interval_coverage <= 1


def _first_purchases(daily_units) -> FirstPurchases:
    """One first purchase a day of product 0, ``daily_units[d]`` units on day ``d``."""
    days = np.arange(len(daily_units))
    timestamp = (START.normalize() + pd.to_timedelta(days, unit="D")).to_numpy()
    return FirstPurchases(
        timestamp.astype("datetime64[s]"),
        np.zeros(len(days), dtype=np.int64),
        np.asarray(daily_units, dtype=float),
        1,
    )


def test_first_purchases_follow_a_trend_that_held_before():
    # Growing 2% a day for 20 weeks: the undamped trend forecasts it best.
    growth = 1.02 ** np.arange(168)
    firsts = _first_purchases(growth[:140])
    end = START.normalize() + pd.Timedelta(days=140)
    assert firsts.validate(end, 28) == (1.0, 1.0)  # exact, so no widening
    flat, _ = firsts.forecast(end, 28, 0.0)
    trend, _ = firsts.forecast(end, 28, 1.0)
    assert flat[0] == pytest.approx(growth[112:140].sum())  # the last 28 days again
    assert trend[0] == pytest.approx(growth[140:].sum(), rel=1e-6)  # the growth going on


def test_first_purchases_stay_flat_when_a_trend_did_not_hold():
    # Steady, then one jump in the last four weeks before the validation window: extrapolating
    # that jump would have overshot, so the rate stays flat.
    units = np.r_[np.full(84, 10.0), np.full(28, 20.0), np.full(28, 20.0)]
    firsts = _first_purchases(units)
    end = START.normalize() + pd.Timedelta(days=140)
    assert firsts.validate(end, 28)[0] == 0.0
    mean, variance = firsts.forecast(end, 28, 0.0)
    assert mean[0] == 28 * 20 and variance[0] == 28 * 20**2


def test_first_purchases_without_enough_past_stay_flat():
    firsts = _first_purchases(np.arange(1, 41))
    assert firsts.validate(START.normalize() + pd.Timedelta(days=40), 28) == (0.0, 1.0)


def test_rolling_backtest_pools_consecutive_windows_weighted_by_their_units():
    history = history_from_rows(fortnightly_rows(weeks=WEEKS))
    cutoff = START.normalize() + pd.Timedelta(days=7 * (WEEKS - 2))
    result = rolling_backtest(history, cutoff, 7, windows=3)
    assert [w.cutoff for w in result.windows] == [
        cutoff - pd.Timedelta(days=14),
        cutoff - pd.Timedelta(days=7),
        cutoff,
    ]
    pooled = result.pooled()
    assert set(pooled) == {"anticipate", "last-period"}
    units = np.array([w.products["actual"].sum() for w in result.windows])
    for name, figures in pooled.items():
        # WAPE over all windows is each window's WAPE weighted by its units sold.
        per_window = np.array([w.methods[name]["wape"] for w in result.windows])
        assert figures["wape"] == pytest.approx((per_window * units).sum() / units.sum())
    assert 0 <= result.interval_coverage <= 1


def test_rolling_backtest_leaves_out_windows_without_history_before_them():
    history = history_from_rows(fortnightly_rows(weeks=WEEKS))
    cutoff = START.normalize() + pd.Timedelta(days=35)
    result = rolling_backtest(history, cutoff, 7, windows=3)
    # Under three weeks of orders are too few to learn from (a horizon of 7 days before the
    # validation cutoff and two weeks before the first); four weeks and more are enough.
    assert [w.cutoff for w in result.windows] == [cutoff - pd.Timedelta(days=7), cutoff]
    with pytest.raises(DataError, match="not enough history"):
        rolling_backtest(history, START.normalize() + pd.Timedelta(days=14), 7, windows=2)
