"""An account at a glance, for the CRM sidebar: orders, cadence, last order, trend, timeline,
and the customer's list split into what a sales rep says on the phone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: The period compared with the one before it for the trend, and shown on the timeline.
TREND_DAYS = 90
TIMELINE_DAYS = 365
SECTION_SIZE = 8


@dataclass(frozen=True)
class Line:
    """One product line of a section, in words."""

    product_id: str
    name: str
    quantity: float
    expected_date: str | None
    reason_text: str
    probability: float


@dataclass(frozen=True)
class Account:
    customer_id: str
    day: dt.date
    orders: int
    first_order: dt.date | None
    last_order: dt.date | None
    cadence_days: float | None
    trend: str  # "new", "up", "steady", "down", "lapsed" or "no orders"
    recent_orders: int
    previous_orders: int
    timeline: list[tuple[int, float]] = field(default_factory=list)  # (days before, lines)
    due: list[Line] = field(default_factory=list)
    overdue: list[Line] = field(default_factory=list)
    suggest: list[Line] = field(default_factory=list)


def summarise(
    customer_id: str,
    day: dt.date,
    orders: pd.DataFrame,
    items: list[dict],
    new_items: list[dict],
    horizon_days: int,
) -> Account:
    """The account of a customer as of ``day`` from their orders (``timestamp, lines``, oldest
    first), their "next" list and their list of products new to them (item dicts as the API
    returns them). "Due now" holds the repeat items expected within the horizon, "Suggest"
    the new ones: a regular's repeat items would crowd them out of one list."""
    horizon_end = (day + dt.timedelta(days=horizon_days)).isoformat()
    when = pd.to_datetime(orders["timestamp"]).dt.normalize()
    when = when[when <= pd.Timestamp(day)]
    n = len(when)
    age = (pd.Timestamp(day) - when).dt.days.to_numpy()
    recent = int((age < TREND_DAYS).sum())
    previous = int(((age >= TREND_DAYS) & (age < 2 * TREND_DAYS)).sum())
    cadence = float((when.iloc[-1] - when.iloc[0]).days / (n - 1)) if n > 1 else None
    shown = age < TIMELINE_DAYS
    return Account(
        customer_id=customer_id,
        day=day,
        orders=n,
        first_order=when.iloc[0].date() if n else None,
        last_order=when.iloc[-1].date() if n else None,
        cadence_days=cadence,
        trend=_trend(n, recent, previous, age, cadence),
        recent_orders=recent,
        previous_orders=previous,
        timeline=list(
            zip(
                age[shown].tolist(),
                orders["lines"].to_numpy()[: len(when)][shown].tolist(),
                strict=True,
            )
        ),
        due=_lines(
            [i for i in items if i["expected_date"] and i["expected_date"] <= horizon_end],
            ("due",),
        ),
        overdue=_lines(items, ("overdue",)),
        suggest=_lines(new_items, ("bought_with", "similar_customers", "popular")),
    )


def _trend(n: int, recent: int, previous: int, age: np.ndarray, cadence: float | None) -> str:
    if n == 0:
        return "no orders"
    if cadence is not None and age.min() > max(3 * cadence, 30):
        return "lapsed"
    if previous == 0:
        return "new" if age.max() < 2 * TREND_DAYS else ("up" if recent else "steady")
    ratio = recent / previous
    return "up" if ratio >= 1.25 else "down" if ratio <= 0.75 else "steady"


def _lines(items: list[dict], reasons: tuple[str, ...]) -> list[Line]:
    return [
        Line(
            item["product_id"],
            item["name"] or item["product_id"],
            item["expected_quantity"],
            item["expected_date"],
            item["reason_text"],
            item["probability"],
        )
        for item in items
        if item["reason"] in reasons
    ][:SECTION_SIZE]


def timeline_svg(account: Account, width: int = 320, height: int = 56) -> str:
    """The orders of the last year as an inline SVG bar chart (no script, no external file)."""
    bars = []
    tallest = max((lines for _, lines in account.timeline), default=1) or 1
    for days_before, lines in account.timeline:
        x = width - 2 - (days_before / TIMELINE_DAYS) * (width - 4)
        h = max(3.0, (height - 14) * lines / tallest)
        bars.append(
            f'<rect x="{x - 1.5:.1f}" y="{height - 12 - h:.1f}" width="3" height="{h:.1f}">'
            f"<title>{days_before} days ago: {lines:g} lines</title></rect>"
        )
    return (
        f'<svg class="timeline" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{len(account.timeline)} orders in the last year">'
        f'<line x1="0" y1="{height - 12}" x2="{width}" y2="{height - 12}" class="axis"/>'
        + "".join(bars)
        + f'<text x="0" y="{height - 1}">a year ago</text>'
        f'<text x="{width}" y="{height - 1}" text-anchor="end">today</text></svg>'
    )
