"""Nothing dated at or after the cutoff may reach any fit."""

import numpy as np
import pandas as pd

from recsys.data.history import OrderHistory
from recsys.data.splitting import default_cutoff
from recsys.evaluation import evaluate_methods
from recsys.models import BASELINES, evaluation_methods, tuned_baselines


def _scramble_after(history: OrderHistory, cutoff: pd.Timestamp, seed: int) -> OrderHistory:
    """The same history with every line at or after the cutoff replaced by random products."""
    lines = history.lines.copy()
    after = (lines["timestamp"] >= cutoff).to_numpy()
    rng = np.random.default_rng(seed)
    lines.loc[after, "product"] = rng.integers(0, history.n_products, after.sum()).astype(np.int32)
    lines = lines.drop_duplicates(["order", "product"]).reset_index(drop=True)
    return OrderHistory(lines, history.customer_ids, history.product_ids)


def test_lists_do_not_depend_on_anything_after_the_cutoff(sample_history):
    cutoff = default_cutoff(sample_history, 30)
    a = _scramble_after(sample_history, cutoff, seed=1)
    b = _scramble_after(sample_history, cutoff, seed=2)
    assert not a.lines.equals(b.lines)
    # Evaluate both on the same customers; only the post-cutoff data differ.
    methods = evaluation_methods(30)
    ra = evaluate_methods(a, methods, cutoff=cutoff, horizon_days=30)
    rb = evaluate_methods(b, methods, cutoff=cutoff, horizon_days=30)
    for ma, mb in zip(ra.methods, rb.methods, strict=True):
        assert ma.name == mb.name
        np.testing.assert_array_equal(ma.recommended, mb.recommended, err_msg=ma.name)


def test_models_are_fitted_on_lines_before_the_cutoff_only(sample_history):
    cutoff = default_cutoff(sample_history, 30)
    fitted_until = {}

    def recording(name, make):
        def factory():
            model = make()
            original_fit = model.fit

            def fit(history):
                fitted_until[name] = history.lines["timestamp"].max()
                return original_fit(history)

            model.fit = fit
            return model

        return factory

    baselines = {**BASELINES, **tuned_baselines(30)}
    evaluate_methods(
        sample_history, {n: recording(n, c) for n, c in baselines.items()}, cutoff=cutoff
    )
    assert len(fitted_until) == len(baselines)
    assert all(t < cutoff for t in fitted_until.values())
