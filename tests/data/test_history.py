import numpy as np
import pandas as pd
import pytest

from recsys.data.splitting import default_cutoff, parse_date, temporal_split
from recsys.exceptions import ParameterError
from tests.helpers import START, history_from_rows

ROWS = [
    ("bob", "b2", 5, "milk"),
    ("bob", "b1", 1, "milk"),
    ("bob", "b1", 1, "eggs"),
    ("amy", "a1", 2, "tea"),
    ("amy", "a2", 9, "milk", 3),
]


def test_codes_follow_sorted_ids_and_order_time():
    h = history_from_rows(ROWS)
    assert list(h.customer_ids) == ["amy", "bob"]
    assert list(h.product_ids) == ["eggs", "milk", "tea"]
    lines = h.lines
    assert lines["customer"].is_monotonic_increasing
    for _, group in lines.groupby("customer"):
        assert group["timestamp"].is_monotonic_increasing
        assert group["order"].is_monotonic_increasing
    orders = h.orders
    assert orders["n_lines"].tolist() == [1, 1, 2, 1]
    bob_first = orders[orders["customer"] == 1].iloc[0]
    assert bob_first["timestamp"] == START + pd.Timedelta(days=1)


def test_purchase_matrix_counts_orders():
    h = history_from_rows(ROWS)
    m = h.purchase_matrix().toarray()
    assert m.tolist() == [[0, 1, 1], [1, 2, 0]]


def test_before_and_between_keep_the_coding():
    h = history_from_rows(ROWS)
    cutoff = START + pd.Timedelta(days=5)
    before, after = h.before(cutoff), h.between(cutoff, cutoff + pd.Timedelta(days=30))
    assert (before.lines["timestamp"] < cutoff).all()
    assert (after.lines["timestamp"] >= cutoff).all()
    assert before.n_lines + after.n_lines == h.n_lines
    assert before.n_products == after.n_products == h.n_products


def test_default_cutoff_holds_out_whole_days():
    h = history_from_rows(ROWS)  # last order on day 9 at 09:00
    assert default_cutoff(h, 3) == pd.Timestamp("2024-01-08")


def test_split_rejects_cutoff_outside_the_data():
    h = history_from_rows(ROWS)
    with pytest.raises(ParameterError, match="^--cutoff 2030-01-01 00:00 is outside the data"):
        temporal_split(h, 7, pd.Timestamp("2030-01-01"))
    # Orders from 2 to 10 January cannot hold out a month: the default is named, with a way out.
    with pytest.raises(
        ParameterError,
        match=r"^the default cutoff 2023-12-12 \(the last 30 days held out\) is outside the data "
        r"\(2024-01-02 .. 2024-01-10\).*give a shorter --horizon-days or a --cutoff$",
    ):
        temporal_split(h, 30)
    with pytest.raises(ParameterError, match="at least 1"):
        temporal_split(h, 0)


def test_parse_date():
    assert parse_date("2024-02-03") == pd.Timestamp("2024-02-03")
    with pytest.raises(ParameterError, match="--cutoff: cannot parse 'soon'"):
        parse_date("soon", "--cutoff")


def test_sample_orders_are_contiguous(sample_history):
    order = sample_history.lines["order"].to_numpy()
    assert (np.diff(order) >= 0).all()
    assert len(sample_history.orders) == order.max() + 1
