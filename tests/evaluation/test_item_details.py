"""How right the items' probabilities, dates and quantities are, measured on a temporal split."""

import numpy as np
import pandas as pd
import pytest

from recsys.data.splitting import temporal_split
from recsys.evaluation.item_details import calibration_bins, item_details
from recsys.models import AnticipationModel
from recsys.models.popular import GlobalPopular
from tests.helpers import START, fortnightly_rows, history_from_rows


def test_calibration_bins_hold_equal_counts_and_their_rates():
    rng = np.random.default_rng(0)
    probability = rng.random(10_000)
    bought = rng.random(10_000) < probability
    mean_p, rate, counts = calibration_bins(probability, bought)
    assert counts.sum() == 10_000 and counts.min() >= 990
    assert np.all(np.diff(mean_p) > 0)
    np.testing.assert_allclose(rate, mean_p, atol=0.05)  # calibrated by construction


@pytest.fixture(scope="module")
def measured():
    # Weekly shoppers, each on their own weekday; quantities vary so that the errors are not 0.
    rows = [(*row[:4], 1 + (i % 3)) for i, row in enumerate(fortnightly_rows(weeks=14))]
    history = history_from_rows(rows)
    split = temporal_split(history, 7, START.normalize() + pd.Timedelta(days=7 * 12))
    model = AnticipationModel(horizon_days=7).fit(split.train)
    return history, split, model, item_details(model, split)


def test_figures_match_a_count_by_hand(measured):
    history, split, model, details = measured
    customers = split.train.active_customers
    items = model.predict(customers, k=20, as_of=split.cutoff)
    future = split.future.lines
    first = {}
    for c, p, t, q in future[["customer", "product", "timestamp", "quantity"]].itertuples(
        index=False
    ):
        if (c, p) not in first or t < first[(c, p)][0]:
            first[(c, p)] = (t, q)
    last = {}
    for c, p, t, q in split.train.lines[
        ["customer", "product", "timestamp", "quantity"]
    ].itertuples(index=False):
        if (c, p) not in last or t >= last[(c, p)][0]:
            last[(c, p)] = (t, q)
    date_errors, middle_errors, abs_q, abs_last, total = [], [], 0.0, 0.0, 0.0
    bought = []
    middle = split.cutoff.normalize() + pd.Timedelta(days=3)  # of a 7-day window
    for row in items.itertuples(index=False):
        pair = (customers[row.row], row.product)
        bought.append(pair in first)
        if pair not in first:
            continue
        day = first[pair][0].normalize()
        if not pd.isna(row.expected_date):
            date_errors.append(abs((row.expected_date.normalize() - day).days))
            middle_errors.append(abs((middle - day).days))
        if pair in last:
            abs_q += abs(row.expected_quantity - first[pair][1])
            abs_last += abs(last[pair][1] - first[pair][1])
            total += first[pair][1]
    f = details.figures
    assert f["items"] == len(items) and f["customers"] == len(customers)
    assert f["purchase_rate"] == pytest.approx(np.mean(bought))
    np.testing.assert_array_equal(details.bought, bought)
    assert f["dated_bought_items"] == len(date_errors) > 50
    assert f["date_mae_days"] == pytest.approx(np.mean(date_errors))
    assert f["date_mae_days_window_middle"] == pytest.approx(np.mean(middle_errors))
    assert f["quantity_wape"] == pytest.approx(abs_q / total)
    assert f["quantity_wape_last"] == pytest.approx(abs_last / total)
    assert 0 <= f["calibration_error"] < 0.2 and f["brier_skill"] > 0


def test_weekly_shoppers_get_their_purchase_day(measured):
    # Each shopper comes back on the same weekday: a model that knows the cycles dates their
    # weekly milk and fortnightly filter on that day (their snacks are chance), far better
    # than the middle of the window.
    _, _, _, details = measured
    f = details.figures
    assert f["date_mae_days"] < f["date_mae_days_window_middle"] / 2


def test_a_model_without_probabilities_has_no_details(measured):
    _, split, _, _ = measured
    assert item_details(GlobalPopular().fit(split.train), split) is None
