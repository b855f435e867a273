"""Recommenders: the baselines of the evaluation harness, and the product's own model."""

from collections.abc import Callable

from recsys.models.als import ALS
from recsys.models.anticipate import AnticipationModel
from recsys.models.base import Recommender
from recsys.models.item_knn import ItemKNN
from recsys.models.personal_frequency import PersonalTopFreq
from recsys.models.popular import GlobalPopular
from recsys.models.tifu_knn import TIFUKNN

#: Name (as given to ``recsys evaluate --methods``) -> factory with the default settings.
BASELINES: dict[str, type[Recommender]] = {
    "g-topfreq": GlobalPopular,
    "p-topfreq": PersonalTopFreq,
    "itemknn": ItemKNN,
    "als": ALS,
    "tifu-knn": TIFUKNN,
}


def evaluation_methods(horizon_days: int, protocol: str) -> dict[str, Callable[[], Recommender]]:
    """Every method of ``recsys evaluate``: the baselines and the anticipation model.

    The anticipation model is told the question being asked (the horizon and whether the
    target is the window or the next basket); the baselines have no notion of either.
    """
    return {
        **BASELINES,
        "anticipate": lambda: AnticipationModel(horizon_days=horizon_days, target=protocol),
    }


__all__ = [
    "ALS",
    "AnticipationModel",
    "BASELINES",
    "GlobalPopular",
    "ItemKNN",
    "PersonalTopFreq",
    "Recommender",
    "TIFUKNN",
    "evaluation_methods",
]
