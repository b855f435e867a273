"""The model against every baseline on variations of the development data.

Usage: python benchmarks/scenarios.py [--shared ../shared/data] [--scenarios NAME,...]

The model will run on retail histories nobody here has seen, with horizons its users choose.
These scenarios change one thing each about the two development datasets (the horizon asked
about, the length of the history, the number of customers, the share of each customer's orders
seen, whether a product is ever bought twice) and run `recsys evaluate` on the result in the
window protocol, every method in the same run, the test window being the last horizon as
always. Nothing is tuned on them: they show where the model's lead holds and where it thins.
Derived files go to benchmarks/.work/ (not in the repository).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from dev_datasets import DATASETS
from evaluate import run_evaluate
from inner_validation import METRICS, gains_over_best_baseline

from recsys.models import BASELINES, tuned_baselines

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
METHODS = ",".join([*BASELINES, *tuned_baselines(1), "anticipate"])


def quarter_of_customers(source: Path) -> Path:
    """A random quarter of UCI Online Retail's customers, in the published layout."""
    out = WORK / "online_retail_quarter.csv.gz"
    if not out.exists():
        lines = pd.read_csv(source, dtype=str)
        customers = lines["CustomerID"].dropna().unique()
        keep = np.random.default_rng(0).choice(customers, len(customers) // 4, replace=False)
        lines[lines["CustomerID"].isin(keep)].to_csv(out, index=False)
    return out


def last_four_months(source: Path) -> Path:
    """The Complete Journey's last four months (September to December 2017)."""
    out = WORK / "complete_journey_4_months.parquet"
    if not out.exists():
        lines = pd.read_csv(source, dtype=str)
        lines[lines["timestamp"] >= "2017-09-01"].to_parquet(out, index=False)
    return out


def third_of_orders(source: Path, order_column: str) -> Path:
    """A random third of the orders (every line of an order kept or dropped together): a shop
    that sees only part of each buyer's spending, so every history is sparser."""
    out = WORK / f"{source.name.split('.')[0]}_third_of_orders.parquet"
    if not out.exists():
        lines = pd.read_csv(source, dtype=str)
        orders = lines[order_column].dropna().unique()
        keep = np.random.default_rng(0).choice(orders, len(orders) // 3, replace=False)
        lines[lines[order_column].isin(keep)].to_parquet(out, index=False)
    return out


def first_purchases_only(
    source: Path, customer: str, product: str, timestamp: str, quantity: str
) -> Path:
    """Each customer's first purchase of each product, every later one dropped: a shop where
    nothing is bought twice (books, fashion, furniture), so every future purchase is a
    discovery and a customer's own history only says what they like."""
    out = WORK / f"{source.name.split('.')[0]}_first_purchases.parquet"
    if not out.exists():
        lines = pd.read_csv(source, dtype=str)
        bought = lines[pd.to_numeric(lines[quantity], errors="coerce") > 0]
        bought = bought.sort_values(timestamp, kind="stable")
        bought.drop_duplicates([customer, product]).to_parquet(out, index=False)
    return out


# name: (what changes, dataset of dev_datasets.py, derived file maker or None, horizon in days)
SCENARIOS: dict[str, tuple[str, str, Callable[[Path], Path] | None, int]] = {
    "online-retail-7d": (
        "UCI Online Retail asked about a week, not a month",
        "online-retail",
        None,
        7,
    ),
    "online-retail-quarter": (
        "a quarter of UCI Online Retail's customers (a smaller wholesaler)",
        "online-retail",
        quarter_of_customers,
        30,
    ),
    "online-retail-third-of-orders": (
        "a third of UCI Online Retail's orders (sparser histories)",
        "online-retail",
        partial(third_of_orders, order_column="InvoiceNo"),
        30,
    ),
    "online-retail-first-purchases": (
        "UCI Online Retail with only first purchases (nothing bought twice)",
        "online-retail",
        partial(
            first_purchases_only,
            customer="CustomerID",
            product="StockCode",
            timestamp="InvoiceDate",
            quantity="Quantity",
        ),
        30,
    ),
    "complete-journey-30d": (
        "The Complete Journey asked about a month, not a week",
        "complete-journey",
        None,
        30,
    ),
    "complete-journey-4-months": (
        "The Complete Journey's last four months only (a shorter history)",
        "complete-journey",
        last_four_months,
        7,
    ),
    "complete-journey-third-of-trips": (
        "a third of The Complete Journey's trips (sparser histories)",
        "complete-journey",
        partial(third_of_orders, order_column="order_id"),
        7,
    ),
    "complete-journey-first-purchases": (
        "The Complete Journey with only first purchases (nothing bought twice)",
        "complete-journey",
        partial(
            first_purchases_only,
            customer="customer_id",
            product="product_id",
            timestamp="timestamp",
            quantity="quantity",
        ),
        7,
    ),
}


def run(shared: Path, name: str) -> dict:
    _, dataset, derive, horizon = SCENARIOS[name]
    data = DATASETS[dataset]
    orders = shared / data.file if derive is None else derive(shared / data.file)
    options = [*data.cli_args, "--methods", METHODS, "--k", "10"]
    return run_evaluate(orders, options, horizon, WORK / f"scenario_{name}.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print("| scenario | customers | " + " | ".join(METHODS.split(",")) + " | gain R@10 / N@10 |")
    print("|---|---:|" + "---:|" * (len(METHODS.split(",")) + 1))
    for name in args.scenarios.split(","):
        result = run(args.shared, name)
        metrics = {m: v["metrics"] for m, v in result["methods"].items()}
        cells = [" / ".join(f"{v[k]:.4f}" for k in METRICS) for v in metrics.values()]
        gain = " / ".join(f"{g:+.1%}" for g in gains_over_best_baseline(metrics).values())
        print(
            f"| {SCENARIOS[name][0]} ({result['split']['horizon_days']} d from "
            f"{result['split']['cutoff'][:10]}) | {result['data']['evaluated_customers']:,} | "
            + " | ".join(cells)
            + f" | {gain} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
