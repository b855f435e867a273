"""The demand forecast on hand-made histories whose demand can be counted by hand."""

import numpy as np
import pandas as pd
import pytest

from recsys.evaluation.forecast_backtest import backtest_forecast, wape_and_bias
from recsys.models import AnticipationModel
from recsys.models.demand import forecast_demand
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
    assert list(table.index[:2]) in (["milk", "filter"], ["filter", "milk"])
    assert (np.diff(table["expected_units"].to_numpy()) <= 0).all()


def test_longer_horizons_forecast_proportionally_more(model):
    short = forecast_demand(model, days=7).set_index("product_id")["expected_units"]
    long = forecast_demand(model, days=28).set_index("product_id")["expected_units"]
    assert long["milk"] == pytest.approx(4 * short["milk"], rel=0.25)


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
