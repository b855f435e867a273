"""Reorder cycles as a table: a hand-made customer whose cycles a person can check."""

import numpy as np
import pandas as pd

from recsys.models.reorder_cycles import ReorderCycles, to_days
from tests.helpers import START, history_from_rows

# 'ann' buys coffee every 7 days (days 0..63, 3 units), paper every 30 days (days 0, 30, 60),
# a lamp once (day 10) and tea every 5 days until day 20 (then stops).
ROWS = (
    [("ann", f"w{d}", d, "coffee", 3) for d in range(0, 64, 7)]
    + [("ann", f"p{d}", d, "paper", 1) for d in (0, 30, 60)]
    + [("ann", "l10", 10, "lamp", 1)]
    + [("ann", f"t{d}", d, "tea", 2) for d in (5, 10, 15, 20)]
    + [("bob", f"b{d}", d, "coffee", 1) for d in (0, 14, 28)]
)


def _table(day: int, horizon: float = 7) -> pd.DataFrame:
    history = history_from_rows(ROWS)
    cycles = ReorderCycles().fit(history)
    ann = int(np.flatnonzero(history.customer_ids == "ann")[0])
    table = cycles.table(np.array([ann]), to_days(START + pd.Timedelta(days=day)), horizon)
    table["product"] = history.product_ids[table["product"].to_numpy()]
    return table.set_index("product")


def test_each_product_gets_its_cycle_next_due_date_and_status():
    table = _table(66)
    assert set(table.index) == {"coffee", "paper", "lamp", "tea"}  # only ann's own products
    coffee = table.loc["coffee"]
    assert (coffee["purchases"], coffee["interval_days"], coffee["usual_quantity"]) == (10, 7, 3)
    assert coffee["next_due"] == (START + pd.Timedelta(days=70)).normalize()
    assert coffee["days_since_last"] == 3
    assert coffee["status"] == "due"  # in 4 days, within the 7-day horizon
    assert table.loc["paper", "status"] == "later"  # due on day 90
    assert table.loc["paper", "interval_days"] == 30
    assert table.loc["lamp", "status"] == "once" and pd.isna(table.loc["lamp", "next_due"])
    # Tea's 5-day cycle lapsed 46 days ago: the item a rep would call about.
    assert table.loc["tea", "status"] == "overdue"
    # Soonest due first; a product bought once (no date) last.
    assert list(table.index) == ["tea", "coffee", "paper", "lamp"]


def test_a_cycle_goes_from_later_to_due_to_overdue_as_days_pass():
    statuses = [_table(day).loc["paper", "status"] for day in (66, 85, 95, 125)]
    # Due within the horizon (day 90), still due just after it, overdue once past another
    # whole interval (day 120).
    assert statuses == ["later", "due", "due", "overdue"]


def test_a_status_filter_gives_the_filtered_table():
    history = history_from_rows(ROWS)
    cycles = ReorderCycles().fit(history)
    day = to_days(START + pd.Timedelta(days=66))
    both = np.arange(history.n_customers)
    full = cycles.table(both, day, 7)
    for statuses in (("overdue",), ("due", "once")):
        wanted = full[full["status"].isin(statuses)].reset_index(drop=True)
        pd.testing.assert_frame_equal(cycles.table(both, day, 7, statuses), wanted)
        assert len(wanted) > 0


def test_large_and_small_orders_say_which_trip_a_product_rides_on():
    # 'cat' stocks up every Saturday (days 0, 7, 14, 21: rice, oil, milk, bread, soap) and tops
    # up every Wednesday (days 3, 10, 17: milk alone); her mean order holds 23/7 lines.
    stock_up = ["rice", "oil", "milk", "bread", "soap"]
    rows = [("cat", f"s{d}", d, p, 1) for d in (0, 7, 14, 21) for p in stock_up]
    rows += [("cat", f"t{d}", d, "milk", 1) for d in (3, 10, 17)]
    history = history_from_rows(rows)
    cycles = ReorderCycles().fit(history)
    product = {p: i for i, p in enumerate(history.product_ids)}
    pairs = cycles.lookup(np.zeros(2, dtype=np.int64), np.array([product["rice"], product["milk"]]))
    mean = 23 / 7
    # Rice rides only the stock-ups (5 lines each); milk every order: (4 * 5 + 3 * 1) / 7
    # lines on average, her mean order.
    np.testing.assert_allclose(cycles.pair_trip_size_[pairs], [5 / mean, 1], rtol=1e-6)
    np.testing.assert_array_equal(cycles.pair_large_orders_[pairs], [4, 4])
    assert cycles.customer_large_orders_[0] == 4
    assert cycles.customer_large_gap_[0] == 7  # days 0 .. 21, three intervals
    assert cycles.customer_last_large_[0] == to_days(START + pd.Timedelta(days=21))
    assert cycles.customer_last_order_size_[0] == np.float32(5 / mean)
