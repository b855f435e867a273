"""Candidate features of a hand-made shopper whose trips a person can check."""

from dataclasses import replace

import numpy as np
import pandas as pd

from recsys.models.category_cycles import CategoryCycles
from recsys.models.features import FeatureState
from recsys.models.reorder_cycles import to_days
from tests.helpers import START, history_from_rows

STOCK_UP = ["rice", "oil", "milk", "bread", "soap"]


def test_trip_features_tell_stock_up_products_from_top_up_ones():
    # 'cat' stocks up every Saturday (days 0 .. 21) and buys milk alone every Wednesday;
    # 'dan' buys tea and rice every few days, so some product is new to 'cat'.
    rows = [("cat", f"s{d}", d, p, 1) for d in (0, 7, 14, 21) for p in STOCK_UP]
    rows += [("cat", f"t{d}", d, "milk", 1) for d in (3, 10, 17)]
    rows += [("dan", f"d{d}", d, p, 1) for d in range(0, 24, 3) for p in ("tea", "rice")]
    history = history_from_rows(rows)
    state = FeatureState(horizon_days=7).fit(history)
    cat = np.array([int(np.flatnonzero(history.customer_ids == "cat")[0])])
    cand = state.candidates(cat)
    as_of = to_days(START + pd.Timedelta(days=25))
    f = pd.DataFrame(state.features(cat, cand, as_of), index=history.product_ids[cand.product])
    # Rice rides only the stock-ups, milk every trip, tea none of hers.
    assert (f.loc["rice", "pair_large_share"], f.loc["rice", "pair_small_share"]) == (1, 0)
    assert (f.loc["milk", "pair_large_share"], f.loc["milk", "pair_small_share"]) == (1, 1)
    assert (f.loc["tea", "pair_large_share"], f.loc["tea", "pair_small_share"]) == (0, 0)
    assert np.isnan(f.loc["tea", "pair_trip_size"])
    # Her last stock-up was on day 21, four days before; they come every 7 days.
    assert f.loc["rice", "customer_large_since"] == 4
    assert f.loc["rice", "customer_large_gap"] == 7
    assert f.loc["rice", "customer_large_dueness"] == 4 / 7


def test_category_features_see_a_need_met_by_another_brand():
    # 'eve' buys yogurt every week, brand a or b (both on day 7: one purchase of yogurt),
    # and bread each time; 'dan' buys tea, a category she never bought.
    rows = [("eve", f"e{d}", d, "bread", 1) for d in (0, 7, 14, 21)]
    rows += [("eve", "e0", 0, "yog-a"), ("eve", "e7", 7, "yog-a"), ("eve", "e7", 7, "yog-b")]
    rows += [("eve", "e14", 14, "yog-a"), ("eve", "e21", 21, "yog-b")]
    rows += [("dan", f"d{d}", d, "tea", 1) for d in range(0, 24, 3)]
    categories = {"bread": "bakery", "yog-a": "yogurt", "yog-b": "yogurt", "tea": "drinks"}
    history = history_from_rows(rows, categories)
    state = FeatureState(horizon_days=7).fit(history)
    eve = np.array([int(np.flatnonzero(history.customer_ids == "eve")[0])])
    cand = state.candidates(eve)
    as_of = to_days(START + pd.Timedelta(days=25))
    f = pd.DataFrame(state.features(eve, cand, as_of), index=history.product_ids[cand.product])
    # Yogurt in all four orders, last on day 21 (four days before), every 7 days.
    assert f.loc["yog-a", ["category_orders", "category_share"]].tolist() == [4, 1]
    assert f.loc["yog-a", ["category_days_since_last", "category_gap"]].tolist() == [4, 7]
    assert f.loc["yog-a", "category_dueness"] == 4 / 7
    # Brand a is three of the four yogurt purchases, but the latest was b's, 7 days after a's.
    assert f.loc["yog-a", ["pair_category_share", "pair_days_behind_category"]].tolist() == [
        0.75,
        7,
    ]
    assert f.loc["yog-b", ["pair_category_share", "pair_days_behind_category"]].tolist() == [0.5, 0]
    assert f.loc["tea", "category_orders"] == 0
    assert f.loc["tea", ["category_days_since_last", "pair_category_share"]].isna().all()


def test_history_without_categories_has_no_category_columns():
    rows = [("eve", f"e{d}", d, p) for d in (0, 7, 14) for p in ("bread", "milk")]
    everything_one = history_from_rows(rows, {"bread": "food", "milk": "food"})
    for history in (history_from_rows(rows), everything_one):
        state = FeatureState(horizon_days=7).fit(history)
        cand = state.candidates(np.array([0]))
        as_of = to_days(START + pd.Timedelta(days=20))
        assert not any("category" in name for name in state.features(np.array([0]), cand, as_of))


def test_refreshed_category_cycles_keep_the_fitted_categories():
    rows = [("eve", f"e{d}", d, "yog-a" if d % 14 else "yog-b") for d in (0, 7, 14, 21)]
    rows += [("dan", "d0", 0, "tea")]
    history = history_from_rows(rows, {"yog-a": "yogurt", "yog-b": "yogurt", "tea": "drinks"})
    fitted = CategoryCycles().fit(history)
    # The lines of a refresh carry product codes, not categories.
    early = replace(history.before(START + pd.Timedelta(days=10)), product_categories=None)
    fresh = fitted.refreshed(early)
    yog_a = np.flatnonzero(history.product_ids == "yog-a")
    eve = history.customer_ids == "eve"
    args = (np.flatnonzero(eve), yog_a, np.array([1.0]), np.array([3.0]), np.array([2.0]))
    as_of = to_days(START + pd.Timedelta(days=10))
    assert fresh.features(*args, as_of)["category_orders"].tolist() == [2]
    assert fresh.features(*args, as_of)["category_days_since_last"].tolist() == [3]
    assert fitted.features(*args, as_of)["category_orders"].tolist() == [4]
