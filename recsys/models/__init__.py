"""Recommenders: the baselines of the evaluation harness, and the product's own model."""

from recsys.models.als import ALS
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

__all__ = [
    "ALS",
    "BASELINES",
    "GlobalPopular",
    "ItemKNN",
    "PersonalTopFreq",
    "Recommender",
    "TIFUKNN",
]
