"""The expected day of purchase: the cycle's where customers keep to cycles, learned where not."""

import numpy as np
import pytest

from recsys.models.purchase_timing import PurchaseTiming

NAMES = ["pair_days_since_last", "pair_gap", "product_gap", "habit"]
H = 14


def _pairs(n: int, seed: int, keeps_cycle: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs as of a cutoff and the day (0..H-1) of their next purchase: the cycle's day
    (last + interval) when customers keep to their cycles, else the day of a habit column
    that the cycle knows nothing of."""
    rng = np.random.default_rng(seed)
    gap = rng.integers(5, 40, n).astype(float)
    since = rng.uniform(0, gap + 5)
    habit = rng.integers(0, H, n).astype(float)
    cycle_day = np.maximum(np.floor(gap - since), 0)
    day = cycle_day if keeps_cycle else habit
    X = np.column_stack([since, gap, np.full(n, 20.0), habit])
    days = np.where(day < H, day, np.nan)  # bought within the horizon or not
    return X, days


@pytest.mark.parametrize("keeps_cycle", [True, False])
def test_the_validation_period_chooses_how_to_date(keeps_cycle):
    X, days = _pairs(6000, 0, keeps_cycle)
    X_val, days_val = _pairs(2000, 1, keeps_cycle)
    timing = PurchaseTiming(H).fit(NAMES, X, days, X_val, days_val)
    assert timing.method_ == ("cycle" if keeps_cycle else "learned")
    X_new, days_new = _pairs(2000, 2, keeps_cycle)
    as_of = 19_000.0  # a midnight, in days since the epoch
    expected = timing.expected_days(X_new, as_of) - as_of
    bought = ~np.isnan(days_new)
    error = np.abs(expected[bought] - days_new[bought]).mean()
    middle = np.abs((H - 1) / 2 - days_new[bought]).mean()
    assert error < 0.5 < middle
    if not keeps_cycle:
        # Learned days fall in the horizon, whatever the cycle says.
        assert expected.min() >= 0 and expected.max() <= H - 1


def test_pairs_never_bought_before_get_no_date():
    X, days = _pairs(3000, 0, False)
    X_val, days_val = _pairs(1000, 1, False)
    timing = PurchaseTiming(H).fit(NAMES, X, days, X_val, days_val)
    new = X[:3].copy()
    new[:, 0] = np.nan  # no last purchase
    assert np.isnan(timing.expected_days(new, 19_000.0)).all()


def test_too_few_purchases_keep_the_cycle():
    X, days = _pairs(100, 0, False)
    X_val, days_val = _pairs(100, 1, False)
    timing = PurchaseTiming(H).fit(NAMES, X, days, X_val, days_val)
    assert timing.method_ == "cycle" and timing.regressor_ is None
    overdue = np.array([[30.0, 10.0, 20.0, 0.0]])  # ten days late: today
    assert timing.expected_days(overdue, 19_000.5)[0] == 19_000.0
