"""A baseline at the settings that rank the last horizon of its own training data best.

Published settings are one dataset's best; a baseline run at them is weaker than it could be
elsewhere, and a model that beats it has not yet beaten the method. `Validated` does for a
baseline what the anticipation model does for itself: it holds out the last ``horizon_days``
of the history it is given, fits one copy per setting on the lines before, ranks the window
protocol's customers with each, and refits the setting with the best recall@k + NDCG@k on the
whole history. Nothing after the history's end is seen, so its figures are as honest as the
model's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterGrid

from recsys.data.history import OrderHistory
from recsys.data.splitting import temporal_split
from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.protocols import Targets, build_targets
from recsys.exceptions import DataError, ParameterError
from recsys.models.base import Recommender
from recsys.progress import Progress

log = logging.getLogger(__name__)


class Validated(Recommender):
    """``factory(**setting)`` at the setting of ``grid`` chosen on the last horizon.

    ``grid`` maps constructor arguments to the values tried (every combination is, as in
    scikit-learn's ``ParameterGrid``). After ``fit``: ``best_params_`` is the chosen setting
    (``{}``, the factory's defaults, when the history is too short to hold a window out),
    ``validation_`` lists each setting with its recall@k and NDCG@k, ``estimator_`` is the
    chosen setting fitted on the whole history.
    """

    def __init__(
        self,
        factory: Callable[..., Recommender],
        grid: Mapping[str, Sequence[Any]],
        horizon_days: int,
        k: int = 10,
    ) -> None:
        self.factory = factory
        self.grid = grid
        self.horizon_days = horizon_days
        self.k = k

    @property
    def fill_with_popular(self) -> bool:  # type: ignore[override]
        return self.estimator_.fill_with_popular

    def _fit(self, history: OrderHistory) -> None:
        self.validation_: list[dict[str, Any]] = []
        self.best_params_: dict[str, Any] = {}
        try:
            split = temporal_split(history, self.horizon_days)  # the last horizon held out
            targets = build_targets(split, "window")
        except (DataError, ParameterError) as error:
            log.info("%s at its defaults: no validation window (%s)", self._name, error)
        else:
            self.best_params_ = self._choose(split.train, targets, split.cutoff)
        self.estimator_ = self.factory(**self.best_params_).fit(history)

    def _choose(
        self, train: OrderHistory, targets: Targets, cutoff: pd.Timestamp
    ) -> dict[str, Any]:
        settings = list(ParameterGrid(self.grid))
        progress = Progress(self._name, len(settings), "settings tried", every_seconds=10.0)
        for i, params in enumerate(settings, 1):
            model = self.factory(**params).fit(train)
            recommended, _ = model.recommend(targets.customers, self.k, as_of=cutoff)
            metrics = ranking_metrics(recommended, targets.products, self.k)
            recall, ndcg = metrics[f"recall@{self.k}"], metrics[f"ndcg@{self.k}"]
            self.validation_.append({"params": params, "recall": recall, "ndcg": ndcg})
            log.debug(
                "%s %s: recall@%d %.4f, NDCG@%d %.4f",
                self._name,
                params,
                self.k,
                recall,
                self.k,
                ndcg,
            )
            progress.update(i)
        best = int(np.argmax([v["recall"] + v["ndcg"] for v in self.validation_]))
        log.info(
            "%s: chose %s on %d customers of the window from %s",
            self._name,
            settings[best],
            len(targets.customers),
            cutoff.date(),
        )
        return settings[best]

    @property
    def _name(self) -> str:
        return getattr(self.factory, "__name__", type(self).__name__)

    def _score(self, customers: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
        return self.estimator_._score(customers, as_of)
