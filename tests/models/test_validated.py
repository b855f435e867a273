"""A baseline's settings chosen on the last horizon of its own training data."""

import numpy as np

from recsys.data.splitting import default_cutoff, temporal_split
from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.protocols import build_targets
from recsys.models import TIFUKNN, Validated
from tests.helpers import history_from_rows

GRID = {"alpha": (0.0, 1.0)}  # neighbours only, or the customer's own frequency only


def test_picks_the_setting_that_ranks_the_held_out_window_best(sample_history):
    model = Validated(TIFUKNN, GRID, horizon_days=30).fit(sample_history)
    # Judged as the evaluation harness judges: fitted before the last 30 days, scored on them.
    cutoff = default_cutoff(sample_history, 30)
    targets = build_targets(temporal_split(sample_history, 30, cutoff), "window")
    quality = {}
    for alpha in GRID["alpha"]:
        candidate = TIFUKNN(alpha=alpha).fit(sample_history.before(cutoff))
        recommended, _ = candidate.recommend(targets.customers, 10, as_of=cutoff)
        m = ranking_metrics(recommended, targets.products, 10)
        quality[alpha] = m["recall@10"] + m["ndcg@10"]
    assert quality[0.0] != quality[1.0]
    assert model.best_params_ == {"alpha": max(quality, key=quality.get)}
    assert [v["params"]["alpha"] for v in model.validation_] == [0.0, 1.0]
    # The chosen setting is refitted on the whole history: its lists are the baseline's.
    customers = np.arange(sample_history.n_customers)
    chosen = TIFUKNN(**model.best_params_).fit(sample_history)
    np.testing.assert_array_equal(
        model.recommend(customers, 10)[0], chosen.recommend(customers, 10)[0]
    )


def test_a_history_shorter_than_the_horizon_keeps_the_defaults():
    # Two customers over ten days: a 30-day window cannot be held out of them.
    history = history_from_rows(
        (c, f"{c}{day}", day, product) for c in "ab" for day in range(10) for product in "xy"
    )
    model = Validated(TIFUKNN, GRID, horizon_days=30).fit(history)
    assert model.best_params_ == {}
    assert model.validation_ == []
    products, _ = model.recommend(np.array([0, 1]), 2)
    assert (products >= 0).all()
