"""Each baseline recovers the obvious pattern of a tiny hand-made history."""

import numpy as np

from recsys.models import ALS, TIFUKNN, GlobalPopular, ItemKNN, NewProductsOnly, PersonalTopFreq
from recsys.models.tifu_knn import basket_weights
from tests.helpers import history_from_rows


def _code(history, customer):
    return int(np.flatnonzero(history.customer_ids == customer)[0])


def _names(history, products):
    return [history.product_ids[p] for p in products if p >= 0]


def test_global_popular_ranks_by_number_of_orders():
    rows = [(f"c{i}", f"o{i}", i, "bread") for i in range(5)]
    rows += [(f"c{i}", f"o{i}", i, "jam") for i in range(3)]
    rows += [("c0", "o0", 0, "caviar")]
    h = history_from_rows(rows)
    products, _ = GlobalPopular().fit(h).recommend(0, k=3)
    assert _names(h, products[0]) == ["bread", "jam", "caviar"]


def test_personal_top_freq_puts_own_favourite_first_then_popular():
    rows = [("amy", f"a{i}", i, "tea") for i in range(4)] + [("amy", "a9", 9, "scones")]
    rows += [(f"c{i}", f"o{i}", i, "bread") for i in range(6)]
    h = history_from_rows(rows)
    products, _ = PersonalTopFreq().fit(h).recommend(_code(h, "amy"), k=3)
    assert _names(h, products[0]) == ["tea", "scones", "bread"]


def test_item_knn_suggests_what_is_bought_with_the_customers_items():
    rows = []
    for i in range(8):  # everyone who buys printers buys toner; others buy apples and pears
        rows += [(f"p{i}", f"po{i}", i, "printer"), (f"p{i}", f"po{i}", i, "toner")]
        rows += [(f"f{i}", f"fo{i}", i, "apples"), (f"f{i}", f"fo{i}", i, "pears")]
    rows += [("new", "n1", 9, "printer")]
    h = history_from_rows(rows)
    products, _ = ItemKNN(neighbours=10).fit(h).recommend(_code(h, "new"), k=2)
    assert set(_names(h, products[0])) == {"printer", "toner"}


def test_als_separates_two_tastes():
    rows = []
    for i in range(20):
        tea = ["tea", "scones", "jam"]
        coffee = ["coffee", "croissant", "butter"]
        group = tea if i % 2 else coffee
        for j, product in enumerate(group):
            if (i + j) % 3:  # each customer misses one product of their group
                rows.append((f"c{i}", f"o{i}", i, product))
    h = history_from_rows(rows)
    model = ALS(factors=4, iterations=30, regularization=0.01).fit(h)
    for i in range(20):
        top3 = set(_names(h, model.recommend(_code(h, f"c{i}"), k=3)[0][0]))
        expected = {"tea", "scones", "jam"} if i % 2 else {"coffee", "croissant", "butter"}
        assert top3 == expected


def test_als_learning_from_a_pool_still_gives_every_customer_their_taste():
    tea, coffee = ["tea", "scones", "jam"], ["coffee", "croissant", "butter"]
    rows = [(f"c{i}", f"o{i}", i % 20, p) for i in range(60) for p in (tea if i % 2 else coffee)]
    h = history_from_rows(rows)
    settings = {"factors": 4, "iterations": 30, "regularization": 0.01}
    pooled = ALS(max_pool=10, **settings).fit(h)
    full = ALS(**settings).fit(h)
    # The product factors come from 10 of the 60 customers ...
    assert not np.allclose(pooled.product_factors_, full.product_factors_)
    # ... and all 60 get a factor solved against them that tells their taste.
    for i in range(60):
        top3 = set(_names(h, pooled.recommend(_code(h, f"c{i}"), k=3)[0][0]))
        assert top3 == set(tea if i % 2 else coffee)
    np.testing.assert_allclose(
        pooled.folded_in(h).customer_factors_, pooled.customer_factors_, atol=1e-5
    )
    # A pool as large as the buyers changes nothing.
    np.testing.assert_array_equal(
        ALS(max_pool=60, **settings).fit(h).product_factors_, full.product_factors_
    )


def test_als_folding_in_a_customers_own_lines_gives_back_their_fitted_factors():
    rows = [(f"c{i}", f"o{i}-{j}", j, f"p{(i + j) % 7}") for i in range(12) for j in range(5)]
    h = history_from_rows(rows)
    model = ALS(factors=4, iterations=3).fit(h)
    folded = model.folded_in(h)
    np.testing.assert_allclose(folded.customer_factors_, model.customer_factors_, atol=1e-5)


def test_tifu_knn_prefers_recent_items_and_borrows_from_neighbours():
    rows = [("amy", "a1", 0, "old"), ("amy", "a2", 10, "recent")]
    # Amy's neighbours (same items) also buy "extra".
    for i in range(3):
        rows += [
            (f"n{i}", f"n{i}a", 0, "old"),
            (f"n{i}", f"n{i}b", 10, "recent"),
            (f"n{i}", f"n{i}b", 10, "extra"),
        ]
    rows += [("far", "f1", 5, "unrelated")] * 1
    h = history_from_rows(rows)
    model = TIFUKNN(n_neighbours=3).fit(h)
    products, _ = model.recommend(_code(h, "amy"), k=3)
    assert _names(h, products[0]) == ["recent", "old", "extra"]


def test_tifu_basket_weights_follow_the_paper():
    # One customer with 5 baskets, 2 groups: sizes 2 and 3 (the later group takes the extra).
    w = basket_weights(np.zeros(5, dtype=int), n_groups=2, within_decay=0.5, group_decay=0.1)
    group1 = np.array([0.5, 1.0]) / 2 * 0.1 / 2
    group2 = np.array([0.25, 0.5, 1.0]) / 3 * 1.0 / 2
    np.testing.assert_allclose(w, np.r_[group1, group2])
    # Fewer baskets than groups: one group per basket.
    w = basket_weights(np.array([0, 0, 1]), n_groups=7, within_decay=0.5, group_decay=0.1)
    np.testing.assert_allclose(w, [0.1 / 2, 1.0 / 2, 1.0])


def test_new_products_only_is_the_base_ranking_without_the_customers_own_products(
    sample_history,
):
    als = ALS()
    new = NewProductsOnly(als).fit(sample_history)  # fits `als` itself: the same factors
    customers = np.arange(40)
    full, _ = als.recommend(customers, k=sample_history.n_products)
    listed, _ = new.recommend(customers, k=10)
    bought = sample_history.purchase_matrix(binary=True)
    for row, customer in enumerate(customers):
        own = set(bought[customer].indices)
        assert list(listed[row]) == [p for p in full[row] if p not in own][:10]
    # The popularity fill of a sparse model leaves the customer's products out too.
    listed, _ = NewProductsOnly(ItemKNN()).fit(sample_history).recommend(customers, k=50)
    for row, customer in enumerate(customers):
        assert not set(bought[customer].indices) & set(listed[row])
