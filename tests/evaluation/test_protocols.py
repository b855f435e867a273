import pandas as pd

from recsys.data.splitting import temporal_split
from recsys.evaluation.protocols import build_targets
from tests.helpers import START, history_from_rows

ROWS = [
    ("amy", "a1", 0, "tea"),
    ("amy", "a2", 10, "milk"),  # after the cutoff, first order
    ("amy", "a3", 12, "tea"),  # after the cutoff, second order
    ("bob", "b1", 1, "eggs"),
    ("bob", "b2", 11, "eggs"),
    ("cat", "c1", 11, "milk"),  # no history before the cutoff: not evaluated
    ("dan", "d1", 2, "tea"),  # nothing after the cutoff: not evaluated
]


def _targets(protocol):
    h = history_from_rows(ROWS)
    split = temporal_split(h, 7, START.normalize() + pd.Timedelta(days=10))
    t = build_targets(split, protocol)
    names = h.customer_ids[t.customers]
    products = {n: set(h.product_ids[t.products[i].indices]) for i, n in enumerate(names)}
    repeats = {n: set(h.product_ids[t.repeat[i].indices]) for i, n in enumerate(names)}
    return products, repeats


def test_window_protocol():
    products, repeats = _targets("window")
    assert products == {"amy": {"milk", "tea"}, "bob": {"eggs"}}
    assert repeats == {"amy": {"tea"}, "bob": {"eggs"}}


def test_next_basket_protocol():
    products, _ = _targets("next-basket")
    assert products == {"amy": {"milk"}, "bob": {"eggs"}}
