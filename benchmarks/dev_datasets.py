"""The development datasets of `../shared/data/`: one table for every benchmark script."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One order history: its file, the column preset that reads it, its horizon in days."""

    file: str
    preset: str | None
    horizon: int

    @property
    def cli_args(self) -> list[str]:
        """The `recsys` arguments that read this file."""
        return ["--preset", self.preset] if self.preset else []


DATASETS = {
    "online-retail": Dataset("online_retail.csv.gz", "online-retail", 30),
    "complete-journey": Dataset("complete_journey.csv.gz", None, 7),
}
