"""The CRM sidebar page in a real headless Chromium against a real server."""

from __future__ import annotations

import datetime as dt

from recsys.service.account import SECTION_SIZE
from tests.service.conftest import DUE_DAY, WEEKS, order
from tests.service.live import server


def _section_products(page, section: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{section} li", "items => items.map(li => li.dataset.productId)"
    )


def test_the_page_shows_the_models_items_for_a_known_and_an_unknown_customer(
    browser, models_dir, tmp_path
):
    keys = {"RECSYS_READ_KEYS": "r-key", "RECSYS_INGEST_KEYS": "i-key"}
    with server(models_dir, tmp_path / "orders.sqlite", **keys) as (client, _):
        headers = {"X-API-Key": "r-key"}
        late = order("crm-1", "c1", 7 * WEEKS - 3, "milk")
        assert (
            client.post("/v1/orders", json=late, headers={"X-API-Key": "i-key"}).status_code == 201
        )
        expected = client.get(
            "/v1/customers/c0/next",
            params={"k": 100, "as_of": DUE_DAY.isoformat()},
            headers=headers,
        ).json()["items"]
        new_to_c0 = client.get(
            "/v1/customers/c0/next",
            params={"k": 100, "as_of": DUE_DAY.isoformat(), "new_only": "true"},
            headers=headers,
        ).json()["items"]
        link = client.post("/v1/crm/links", json={"customer_id": "c0"}, headers=headers).json()
        page = browser.new_page(viewport={"width": 360, "height": 900})

        # A signed link opens the page without a key, as an iframe in a CRM would.
        response = page.goto(link["url"] + f"&as_of={DUE_DAY.isoformat()}")
        assert response.status == 200
        assert page.title() == "Customer c0"
        due = _section_products(page, "due")
        overdue = _section_products(page, "overdue")
        suggest = _section_products(page, "suggest")
        # Each section holds the API's items of its reasons, in the API's order.
        horizon_end = (DUE_DAY + dt.timedelta(days=7)).isoformat()
        assert due == _of(
            [i for i in expected if (i["expected_date"] or "9") <= horizon_end], "due"
        )
        assert overdue == _of(expected, "overdue")
        # Suggestions are what is new to the customer, which their repeat items would
        # crowd out of one list.
        assert suggest == _of(new_to_c0, "bought_with", "similar_customers", "popular")
        assert len(suggest) == SECTION_SIZE
        assert "filter" in due
        assert "every ~14 days" in page.inner_text("#due")
        assert "Orders" in page.inner_text("#glance")
        assert page.eval_on_selector_all("#glance svg rect", "r => r.length") == WEEKS
        # The stylesheet came from the app itself (the page works offline).
        color = page.eval_on_selector("h2", "h => getComputedStyle(h).textTransform")
        assert color == "uppercase"
        page.screenshot(path=str(tmp_path / "crm-known.png"), full_page=True)
        assert (tmp_path / "crm-known.png").stat().st_size > 5_000

        # A customer nobody knows: a page with popular suggestions, not an error.
        page.set_extra_http_headers(headers)
        assert page.goto(client.base_url.join("/crm/customers/stranger").__str__()).status == 200
        assert "No orders yet" in page.inner_text("#glance")
        assert _section_products(page, "due") == []
        assert _section_products(page, "suggest")[0] == "milk"
        page.screenshot(path=str(tmp_path / "crm-unknown.png"), full_page=True)

        # Without a key or with a tampered link: refused.
        page.set_extra_http_headers({})
        assert page.goto(link["url"].replace("signature=", "signature=0")).status == 401
        assert page.goto(client.base_url.join("/crm/customers/c0").__str__()).status == 401
        page.close()


def _of(items: list[dict], *reasons: str) -> list[str]:
    return [item["product_id"] for item in items if item["reason"] in reasons][:SECTION_SIZE]
