"""The anticipation model on hand-made histories with patterns a person can check."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.exceptions import ParameterError
from recsys.models import AnticipationModel, copurchase
from recsys.models.anticipate import Examples, fit_ranker
from recsys.models.copurchase import CoPurchase
from recsys.models.ranker import Ranker
from tests.helpers import START, fortnightly_rows, history_from_rows


def synthetic_rows(seed: int = 0) -> list[tuple]:
    """120 shoppers over ten weeks: each has a weekly staple and some noise. Printer buyers buy
    toner in the same order (80%) or the week after. 'amy' buys coffee every 7 days (last on
    day 63); 'new' bought a printer once, without toner."""
    rng = np.random.default_rng(seed)
    staples = ["coffee", "milk", "bread", "eggs", "tea", "rice"]
    extras = [f"snack{i}" for i in range(30)]
    rows = []
    for i in range(120):
        offset = int(rng.integers(0, 7))
        staple = staples[i % len(staples)]
        toner_due = False
        for week in range(10):
            day = offset + 7 * week
            order = f"c{i}-{week}"
            rows.append((f"c{i}", order, day, staple))
            for extra in rng.choice(extras, 2, replace=False):
                rows.append((f"c{i}", order, day, extra))
            if toner_due:
                rows.append((f"c{i}", order, day, "toner"))
                toner_due = False
            if rng.random() < 0.3:
                rows.append((f"c{i}", order, day, "printer"))
                if rng.random() < 0.8:
                    rows.append((f"c{i}", order, day, "toner"))
                else:
                    toner_due = True
    for week in range(10):
        rows.append(("amy", f"amy-{week}", 7 * week, "coffee", 2))
        rows.append(("amy", f"amy-{week}", 7 * week, extras[week], 1))
    rows.append(("new", "new-1", 60, "printer"))
    return rows


@pytest.fixture(scope="module")
def fitted():
    history = history_from_rows(synthetic_rows())
    return history, AnticipationModel(horizon_days=7).fit(history)


def _code(history, name):
    return int(np.flatnonzero(history.customer_ids == name)[0])


def test_due_item_ranks_first_with_the_right_date_and_quantity(fitted):
    history, model = fitted
    as_of = START.normalize() + pd.Timedelta(days=66)
    items = model.predict(np.array([_code(history, "amy")]), k=5, as_of=as_of)
    first = items.iloc[0]
    assert history.product_ids[first["product"]] == "coffee"
    assert first["reason"] == "due"
    assert first["expected_date"] == START.normalize() + pd.Timedelta(days=70)  # 63 + 7
    assert first["expected_quantity"] == 2
    assert "every ~7 days, last 3 days ago" in first["reason_text"]
    assert 0 < first["probability"] <= 1
    assert (np.diff(items["score"].to_numpy()) <= 0).all()


def test_lapsed_cycle_is_overdue(fitted):
    history, model = fitted
    as_of = START.normalize() + pd.Timedelta(days=84)  # three weeks after the last coffee
    items = model.predict(np.array([_code(history, "amy")]), k=10, as_of=as_of)
    coffee = items[history.product_ids[items["product"]] == "coffee"].iloc[0]
    assert coffee["reason"] == "overdue"
    assert "overdue" in coffee["reason_text"]


def test_complement_is_suggested_with_its_reason(fitted):
    history, model = fitted
    items = model.predict(np.array([_code(history, "new")]), k=5)
    names = list(history.product_ids[items["product"]])
    assert "toner" in names[:3]
    toner = items.iloc[names.index("toner")]
    assert toner["reason"] == "bought_with"
    rows = synthetic_rows()
    printer_orders = {r[1] for r in rows if r[3] == "printer"}
    both = printer_orders & {r[1] for r in rows if r[3] == "toner"}
    share = len(both) / len(printer_orders)
    assert toner["reason_text"] == f"bought with printer in {share:.0%} of orders"


def test_a_new_only_list_holds_what_the_customer_has_never_bought(fitted):
    history, model = fitted
    rows = synthetic_rows()
    names = ["amy", "new", "c3"]
    customers = np.array([_code(history, n) for n in names])
    full = model.predict(customers, k=8)
    new = model.predict(customers, k=8, new_only=True)
    for row, name in enumerate(names):
        bought = {r[3] for r in rows if r[0] == name}
        listed = set(history.product_ids[new.loc[new["row"] == row, "product"]])
        assert len(listed) == 8 and not listed & bought, name
    assert set(new["reason"]) <= {"bought_with", "similar_customers", "popular"}
    # The regular's due coffee leads her list and stays out of the new-only one.
    assert history.product_ids[full.loc[full["row"] == 0, "product"].iloc[0]] == "coffee"
    # The printer buyer's first suggestion is still the toner, for the same reason.
    first = new[new["row"] == 1].iloc[0]
    assert history.product_ids[first["product"]] == "toner"
    assert first["reason"] == "bought_with"


def test_copurchase_complements_never_include_the_basket():
    history = history_from_rows(synthetic_rows())
    cp = CoPurchase().fit(history)
    printer = int(np.flatnonzero(history.product_ids == "printer")[0])
    best, scores = cp.complements(np.array([printer]), 3)
    assert history.product_ids[best[0]] == "toner"
    assert printer not in best
    assert (np.diff(scores) <= 0).all()


def test_cold_start_gets_popular_items(fitted):
    _, model = fitted
    items = model.predict(np.array([-1]), k=4)
    assert len(items) == 4
    assert (items["reason"] == "popular").all()
    assert items["expected_date"].isna().all()


def test_recommend_interface_matches_predict(fitted):
    history, model = fitted
    customers = np.array([_code(history, "amy"), _code(history, "c3")])
    products, _ = model.recommend(customers, k=5)
    items = model.predict(customers, k=5)
    for row in range(2):
        assert list(products[row]) == list(items[items["row"] == row]["product"])


def test_lists_without_reasons_are_the_same_lists(fitted):
    history, model = fitted
    # Known customers and a cold start, as a demand forecast or a promotion check asks.
    customers = np.r_[np.arange(history.n_customers), -1]
    full = model.predict(customers, k=8)
    lean = model.predict(customers, k=8, reasons=False)
    assert list(lean.columns) == ["row", "rank", "product", "score", "probability"]
    pd.testing.assert_frame_equal(lean, full[list(lean.columns)])


def test_a_list_longer_than_the_fully_scored_part_goes_on_with_the_candidates(fitted):
    """Past PRESCORE_KEEP, lists hold the customer's other candidates in the leading trees'
    order (what recall@50 of `recsys evaluate` measures), not the popularity fill."""
    from recsys.models.anticipate import PRESCORE_KEEP

    history, model = fitted
    customer = _code(history, "c3")
    _, product, X = model._candidate_features(model.state_, np.array([customer]), model.state_.end_)
    assert len(product) > PRESCORE_KEEP
    rounds = model._leading_rounds()
    assert model.ranker_.n_rounds_ > rounds, "the cascade is in use"
    lead = model.ranker_.leading_score(X, rounds)
    by_lead = product[np.argsort(-lead, kind="stable")]
    listed, _ = model.recommend(customer, k=len(product))
    head, tail = listed[0, :PRESCORE_KEEP], listed[0, PRESCORE_KEEP:]
    assert set(head) == set(by_lead[:PRESCORE_KEEP])  # the fully scored part, in its own order
    assert set(tail) == set(by_lead[PRESCORE_KEEP:])
    lead_of = dict(zip(product, lead, strict=True))
    assert (np.diff([lead_of[p] for p in tail]) <= 1e-6).all()  # products alike may tie


def test_features_use_only_lines_before_each_inner_cutoff():
    rows = synthetic_rows()
    history = history_from_rows(rows)
    model = AnticipationModel(horizon_days=7)
    model.horizon_days_ = 7
    cutoff = START.normalize() + pd.Timedelta(days=49)
    # Same past, different future: features must not move; labels may.
    changed = [r if r[2] < 49 else (r[0], r[1], r[2], "snack0") for r in rows]
    a = model._examples(history, cutoff, 7)
    b = model._examples(history_from_rows(changed), cutoff, 7)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.y, b.y)


def test_a_shop_where_nothing_is_bought_twice_gets_discoveries():
    """Books, furniture, fashion: no customer buys a product twice, so every interval feature
    is empty. Each shopper keeps to one of four themes; their suggestions must be new products
    of that theme."""
    rng = np.random.default_rng(0)
    weights = 1 / np.arange(1, 41)
    rows = []
    for i in range(150):
        theme = i % 4
        picks = rng.choice(40, 24, replace=False, p=weights / weights.sum())
        for week in range(8):
            for product in picks[3 * week : 3 * week + 3]:
                rows.append((f"c{i}", f"c{i}-{week}", 7 * week + i % 7, f"t{theme}-{product}"))
    history = history_from_rows(rows)
    model = AnticipationModel(horizon_days=7).fit(history)
    customer = _code(history, "c5")
    items = model.predict(np.array([customer]), k=10)
    names = history.product_ids[items["product"]]
    bought = {r[3] for r in rows if r[0] == "c5"}
    assert len(items) == 10
    assert not bought & set(names)
    assert sum(name.startswith("t1-") for name in names) >= 8


def test_validation_metrics_are_recorded(fitted):
    _, model = fitted
    assert {"recall@10", "ndcg@10", "candidate_recall"} <= set(model.validation_)
    assert 0 <= model.validation_["recall@10"] <= 1


def test_choose_horizon_adapts_to_cadence():
    from recsys.models.anticipate import choose_horizon

    weekly = history_from_rows([("a", f"o{i}", 7 * i, "x") for i in range(8)])
    monthly = history_from_rows([("a", f"o{i}", 31 * i, "x") for i in range(8)])
    assert choose_horizon(weekly) == 7
    assert choose_horizon(monthly) == 30


def _recent(customer, order, day, product, quantity=1):
    return pd.DataFrame(
        {
            "customer_id": [customer],
            "order_id": [order],
            "product_id": [product],
            "timestamp": [START + pd.Timedelta(days=day)],
            "quantity": [quantity],
        }
    )


@pytest.mark.parametrize("categories", [None, {"milk": "dairy", "filter": "coffee"}])
def test_a_product_just_bought_is_no_longer_due(categories):
    weeks = 12
    history = history_from_rows(fortnightly_rows(weeks=weeks), categories)
    model = AnticipationModel(horizon_days=7).fit(history)
    assert ("category_orders" in model.feature_names_) == (categories is not None)
    as_of = START.normalize() + pd.Timedelta(days=7 * weeks)
    c0 = _code(history, "c0")
    before = model.predict(np.array([c0]), k=2, as_of=as_of)
    assert "filter" in set(history.product_ids[before["product"]])

    # c0 orders the filter a day early: the next one is two weeks away, outside the horizon.
    updated = model.with_recent_orders(_recent("c0", "c0-late", 7 * weeks - 1, "filter", 2))
    assert list(updated.customer_ids_) == ["c0"]
    after = updated.predict(np.array([0]), k=10, as_of=as_of)
    names = list(history.product_ids[after["product"]])
    assert "filter" not in names[:2]
    if "filter" in names:
        filt = after.iloc[names.index("filter")]
        assert filt["expected_date"] == START.normalize() + pd.Timedelta(days=7 * weeks + 13)
        assert filt["probability"] < before["probability"].min() / 2


def test_a_new_customers_first_order_steers_their_list(fitted):
    history, model = fitted
    updated = model.with_recent_orders(_recent("zed", "zed-1", 64, "printer"))
    items = updated.predict(np.array([0]), k=5, as_of=START.normalize() + pd.Timedelta(days=65))
    names = list(history.product_ids[items["product"]])
    assert "toner" in names[:3]
    assert items.iloc[names.index("toner")]["reason"] == "bought_with"


def test_recent_orders_of_unknown_products_leave_the_customer_as_they_were(fitted):
    history, model = fitted
    as_of = START.normalize() + pd.Timedelta(days=66)
    before = model.predict(np.array([_code(history, "amy")]), k=5, as_of=as_of)
    updated = model.with_recent_orders(_recent("amy", "amy-x", 65, "unheard-of"))
    after = updated.predict(np.array([0]), k=5, as_of=as_of)
    assert list(after["product"]) == list(before["product"])
    np.testing.assert_allclose(after["probability"], before["probability"], rtol=1e-5)
    stranger = model.with_recent_orders(_recent("zed", "zed-x", 65, "unheard-of"))
    assert (stranger.predict(np.array([0]), k=3)["reason"] == "popular").all()


def test_products_without_a_name_are_called_by_id_and_category():
    from recsys.data import clean, encode
    from recsys.data.cleaning import CleaningPolicy
    from recsys.models.anticipate import display_names
    from tests.helpers import frame_from_rows

    # A grocer's export: ids and categories, a name for only some products.
    frame = frame_from_rows(
        [("a", "o1", 0, "1029743"), ("a", "o1", 0, "995242"), ("b", "o2", 1, "7")]
    )
    frame["category"] = ["FLUID MILK", "BANANAS", None]
    frame["product_name"] = [None, "Bananas, loose", None]
    history = encode(*clean(frame, CleaningPolicy(non_product_ids=None, non_product_names=None)))
    names = dict(zip(history.product_ids, display_names(history), strict=True))
    assert names == {"1029743": "1029743 (FLUID MILK)", "995242": "Bananas, loose", "7": "7"}


@pytest.mark.parametrize("block", [2, 4096])
def test_copurchase_keeps_the_top_cosine_neighbours_whatever_the_block(monkeypatch, block):
    """Computed a few products at a time (a wide catalogue), the neighbours are those of the
    cosine over shared orders: n_ij / sqrt(n_i n_j), at least two shared, the best first."""
    monkeypatch.setattr(copurchase, "PRODUCTS_PER_BLOCK", block)
    history = history_from_rows(fortnightly_rows(n_customers=30, weeks=6))
    cp = CoPurchase(neighbours=4, min_count=2).fit(history)
    lines = history.lines
    baskets = pd.crosstab(lines["order"], lines["product"]).clip(upper=1).to_numpy()
    shared = baskets.T @ baskets
    counts = np.diag(shared)
    for i in range(history.n_products):
        links = [
            (-shared[i, j] / np.sqrt(counts[i] * counts[j]), j)
            for j in range(history.n_products)
            if j != i and shared[i, j] >= 2
        ]
        expected = [j for _, j in sorted(links)[:4]]
        row = cp.similarity_[i]
        got = row.indices[np.lexsort((row.indices, -row.data))]
        assert list(got) == expected, history.product_ids[i]
        np.testing.assert_allclose(
            np.sort(row.data)[::-1], [-v for v, _ in sorted(links)[:4]], rtol=1e-6
        )


def test_an_item_bought_once_borrows_the_cycle_of_those_who_rebuy_it():
    # Everyone rebuys 'filter' every 14 days; 'once' bought it a single time, on day 80.
    rows = fortnightly_rows() + [("once", "once-1", 80, "filter"), ("once", "once-1", 80, "milk")]
    history = history_from_rows(rows)
    model = AnticipationModel(horizon_days=7).fit(history)
    as_of = START.normalize() + pd.Timedelta(days=84)
    # Not due within the week (its next is day 94), so wherever it ranks: every product listed.
    items = model.predict(np.array([_code(history, "once")]), k=40, as_of=as_of)
    item = items[history.product_ids[items["product"]] == "filter"].iloc[0]
    assert item["reason"] == "due"
    assert item["reason_text"] == "bought once, last 4 days ago; others rebuy it every ~14 days"
    assert item["expected_date"] == START.normalize() + pd.Timedelta(days=94)  # 80 + 14


def _cutoff_examples(rng: np.random.Generator, follows: int):
    """One inner cutoff's examples: 60 customers x 10 candidates, two features in [0, 1), bought
    (mostly) when feature ``follows`` is high."""
    n_customers, per = 60, 10
    X = rng.random((n_customers * per, 2)).astype(np.float32)
    y = ((X[:, follows] > 0.7) ^ (rng.random(len(X)) < 0.05)).astype(np.int8)
    row = np.repeat(np.arange(n_customers), per)
    product = np.tile(np.arange(per), n_customers)
    targets = sp.csr_matrix(
        (np.ones(int(y.sum())), (row[y == 1], product[y == 1])), shape=(n_customers, per)
    )
    days = np.where(y == 1, 1.0, np.nan)
    return Examples(
        X, y, row, product, np.arange(n_customers), targets, X[:n_customers], y[:n_customers], days
    )


def test_recent_inner_cutoffs_outweigh_older_ones_with_a_cutoff_decay():
    """Habits changed: the two latest cutoffs buy by feature 0, the four before by feature 1.
    Weighed alike, the older majority wins; decayed, the recent habit does."""
    rng = np.random.default_rng(0)
    examples = [_cutoff_examples(rng, 0), _cutoff_examples(rng, 0)]
    examples += [_cutoff_examples(rng, 1) for _ in range(4)]
    grid = np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32)  # high on feature 0 / on 1

    def prefers_feature_0(decay: float) -> bool:
        ranker = fit_ranker(Ranker(rerank_top=None), examples, cutoff_decay=decay)
        first, second = ranker.predict_proba(grid)
        return bool(first > second)

    assert not prefers_feature_0(1.0)
    assert prefers_feature_0(0.2)


def test_a_cutoff_decay_outside_zero_to_one_is_refused():
    history = history_from_rows(fortnightly_rows())
    for decay in (0.0, 1.5):
        with pytest.raises(ParameterError, match="cutoff_decay"):
            AnticipationModel(horizon_days=7, cutoff_decay=decay).fit(history)
