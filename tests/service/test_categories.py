"""A category's list from a model whose data has categories: the customer's own candidates
first, then the category's best sellers until k."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.cli import main as recsys_main
from tests.helpers import fortnightly_rows, frame_from_rows
from tests.service.conftest import DUE_DAY, WEEKS, make_client

TEAS = 150


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The service fixture's shoppers, plus 150 teas that other customers bought in the last
    week (the more buyers, the lower the tea's number): more teas than any list holds."""
    rng = np.random.default_rng(1)
    rows = fortnightly_rows(weeks=WEEKS)
    for tea in range(TEAS):
        for buyer in rng.choice(np.arange(1, 80), size=max(1, 12 - tea // 10), replace=False):
            day = 7 * WEEKS - 1 - int(rng.integers(0, 5))
            rows.append((f"c{buyer}", f"c{buyer}-tea-{day}", day, f"tea{tea:03d}"))
    frame = frame_from_rows(rows)
    frame["category"] = np.where(
        frame["product_id"].str.startswith("tea"),
        "tea",
        np.where(frame["product_id"] == "milk", "dairy", "pantry"),
    )
    folder = tmp_path_factory.mktemp("categorised")
    frame.to_csv(folder / "orders.csv", index=False)
    models = folder / "models"
    args = ["-q", "train", "--orders", str(folder / "orders.csv"), "--models-dir", str(models)]
    assert recsys_main([*args, "--horizon-days", "7"]) == 0
    with make_client(models) as c:
        yield c


def _items(client, **params):
    params.setdefault("as_of", DUE_DAY.isoformat())
    response = client.get("/v1/customers/c0/next", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_category_list_is_filled_to_k_with_its_best_sellers(client):
    own = [i["product_id"] for i in _items(client, k=100) if i["product_id"].startswith("tea")]
    assert len(own) < 30  # the customer's list holds some teas, not enough for k=30
    items = _items(client, k=30, category="tea", exclude="tea000")
    ids = [i["product_id"] for i in items]
    assert len(ids) == 30 == len(set(ids)) and all(p.startswith("tea") for p in ids)
    assert [i["rank"] for i in items] == list(range(1, 31))
    assert "tea000" not in ids
    # The customer's own teas first, in their list's order; the best sellers after them.
    assert ids[: len(own)] == [p for p in own if p != "tea000"][: len(own)]
    fill = items[len([p for p in own if p != "tea000"]) :]
    assert fill and all(i["reason"] == "popular" for i in fill)
    assert fill[0]["reason_text"].startswith("popular in tea: bought by ")
    # Most buyers first: tea number n has 12 - n // 10 buyers (one from n = 110 on).
    tiers = [min(int(i["product_id"][3:]) // 10, 11) for i in fill]
    assert tiers == sorted(tiers)


def test_a_category_with_all_its_products_listed_needs_no_fill(client):
    items = _items(client, k=10, category="dairy")
    assert [i["product_id"] for i in items] == ["milk"]
    assert items[0]["reason"] in ("due", "overdue")


def test_a_new_only_category_list_is_never_filled_with_what_was_bought(client):
    cycles = client.get("/v1/customers/c0/cycles", params={"as_of": DUE_DAY.isoformat()})
    bought = {i["product_id"] for i in cycles.json()["items"]}
    assert "filter" in bought and len(bought) > 10
    # The pantry is the filter and 30 snacks: those c0 never bought are all there is to list.
    items = _items(client, k=30, category="pantry", new_only="true")
    ids = {i["product_id"] for i in items}
    assert ids and not ids & bought
    assert len(ids) == 31 - len(bought - {"milk"})
