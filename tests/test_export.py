"""Export's parallel prediction gives exactly the lists of one `predict` call."""

import numpy as np
import pandas as pd

from recsys import export
from recsys.models import AnticipationModel
from tests.helpers import fortnightly_rows, history_from_rows


def test_chunks_on_several_threads_match_one_predict_call(monkeypatch):
    history = history_from_rows(fortnightly_rows())
    model = AnticipationModel(horizon_days=14).fit(history)
    codes = np.r_[np.arange(history.n_customers)[::-1], -1]  # any order, and a cold start
    monkeypatch.setattr(export, "CHUNK", 3)  # several chunks, so several threads
    together = export.predict_all(model, codes, 4, model.fitted_until_)
    alone = model.predict(codes, k=4)
    pd.testing.assert_frame_equal(
        together.sort_values(["row", "rank"], ignore_index=True),
        alone.sort_values(["row", "rank"], ignore_index=True),
        check_dtype=False,  # concatenating chunks may turn string columns into object
    )
    assert together["row"].nunique() == len(codes)
