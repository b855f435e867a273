"""Candidate features of a hand-made shopper whose trips a person can check."""

import numpy as np
import pandas as pd

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
