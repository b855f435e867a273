"""The contract every recommender answers, run against each one on the bundled sample."""

import numpy as np
import pytest

from recsys.exceptions import DataError, NotFittedError, ParameterError
from recsys.models import BASELINES, tuned_baselines

#: Every baseline of the harness, the tuned ones with the wholesaler's 30-day horizon.
ALL = {**BASELINES, **tuned_baselines(30)}
MODELS = list(ALL.items())


@pytest.fixture(scope="module")
def fitted(sample_history):
    return {name: cls().fit(sample_history) for name, cls in MODELS}


@pytest.mark.parametrize("name", list(ALL))
def test_shapes_order_and_padding(fitted, sample_history, name):
    model = fitted[name]
    customers = np.arange(sample_history.n_customers)
    products, scores = model.recommend(customers, k=15)
    assert products.shape == scores.shape == (len(customers), 15)
    assert products.dtype == np.int32
    valid = products >= 0
    assert valid.all(), "enough products were bought to fill every list"
    # Best first, and no product twice in a list.
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    assert all(len(set(row)) == len(row) for row in products)
    # Never a product that nobody bought in training.
    bought = np.bincount(sample_history.lines["product"], minlength=sample_history.n_products) > 0
    assert bought[products].all()


@pytest.mark.parametrize("name", list(ALL))
def test_single_customer_equals_batch_row(fitted, name):
    model = fitted[name]
    batch, _ = model.recommend(np.array([3, 7, 11]), k=10)
    single, _ = model.recommend(7, k=10)
    assert single.shape == (1, 10)
    assert (single[0] == batch[1]).all()


@pytest.mark.parametrize("name", list(ALL))
def test_unknown_customers_get_a_full_list(fitted, name):
    products, _ = fitted[name].recommend(np.array([-1, 10**9]), k=5)
    assert (products >= 0).all()


@pytest.mark.parametrize("name", list(ALL))
def test_bad_k_and_unfitted(name):
    model = ALL[name]()
    with pytest.raises(NotFittedError):
        model.recommend(0, k=5)


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_bad_k(fitted, name, k):
    with pytest.raises(ParameterError, match="k must be a positive integer"):
        fitted[name].recommend(0, k=k)


@pytest.mark.parametrize("name", list(ALL))
def test_fit_returns_self_and_refuses_empty(sample_history, name):
    model = ALL[name]()
    assert model.fit(sample_history) is model
    empty = sample_history.before(sample_history.start)
    with pytest.raises(DataError, match="empty"):
        ALL[name]().fit(empty)
