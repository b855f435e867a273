"""What each evaluated customer is expected to buy after the cutoff.

* ``window``: every product bought in [cutoff, cutoff + horizon).
* ``next-basket``: the products of the customer's first order in that window.

Only customers with orders both before the cutoff and in the window are evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.data.splitting import TemporalSplit
from recsys.exceptions import DataError, ParameterError

PROTOCOLS = ("window", "next-basket")


@dataclass(frozen=True)
class Targets:
    """Evaluated customers (codes) and their target products, one CSR row per customer."""

    customers: np.ndarray
    products: sp.csr_matrix
    #: Same shape: 1 where the target product was bought by the customer before the cutoff.
    repeat: sp.csr_matrix


def build_targets(split: TemporalSplit, protocol: str) -> Targets:
    """Targets of ``protocol`` for the customers active on both sides of the cutoff."""
    if protocol not in PROTOCOLS:
        raise ParameterError(f"--protocol must be one of {', '.join(PROTOCOLS)}, got '{protocol}'")
    future = split.future if protocol == "window" else split.future.first_orders()
    customers = np.intersect1d(split.train.active_customers, future.active_customers)
    if len(customers) == 0:
        raise DataError(
            f"no customer has orders both before {split.cutoff:%Y-%m-%d} and in the "
            f"{split.horizon_days}-day window after it; choose another --cutoff"
        )
    target = future.purchase_matrix(binary=True)[customers]
    bought_before = split.train.purchase_matrix(binary=True)[customers]
    return Targets(customers, target, target.multiply(bought_before).tocsr())
