"""Every route and its errors through FastAPI's TestClient, over a model really trained."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from recsys.service.schemas import (
    BasketResponse,
    ComplementsResponse,
    CustomerCycles,
    NextItems,
)
from tests.service.conftest import DUE_DAY, WEEKS, make_client, order


def _next(client, customer="c0", **params):
    params.setdefault("as_of", DUE_DAY.isoformat())
    response = client.get(f"/v1/customers/{customer}/next", params=params)
    if response.status_code == 200:
        NextItems.model_validate(response.json())  # the documented schema holds
    return response


def _products(response):
    return [item["product_id"] for item in response.json()["items"]]


def test_next_lists_the_due_item_with_its_date_quantity_and_reason(client):
    response = _next(client, k=3)
    assert response.status_code == 200
    body = response.json()
    assert body["cold_start"] is False
    assert body["as_of"] == DUE_DAY.isoformat()
    assert body["horizon_days"] == 7
    items = {item["product_id"]: item for item in body["items"]}
    assert len(body["items"]) == 3
    assert [item["rank"] for item in body["items"]] == [1, 2, 3]
    filt = items["filter"]
    assert filt["reason"] in ("due", "overdue")
    assert filt["expected_quantity"] == 2
    assert dt.date.fromisoformat(filt["expected_date"]) == DUE_DAY
    assert "every ~14 days" in filt["reason_text"]
    probabilities = [item["probability"] for item in body["items"]]
    assert all(0 <= p <= 1 for p in probabilities)


def test_unknown_customer_gets_popular_items_and_cold_start(client):
    body = _next(client, "someone-new", k=4).json()
    assert body["cold_start"] is True
    assert len(body["items"]) == 4
    assert {item["reason"] for item in body["items"]} == {"popular"}
    assert body["items"][0]["product_id"] == "milk"  # every customer's weekly staple


def test_empty_filters_filter_nothing(client):
    assert _products(_next(client, k=5, category="", exclude="")) == _products(_next(client, k=5))


def test_exclude_and_k(client):
    everything = _products(_next(client, k=5))
    response = _next(client, k=5, exclude=f"{everything[0]},{everything[1]},not-a-product")
    assert response.status_code == 200
    assert _products(response) == everything[2:] + _products(response)[3:]
    assert everything[0] not in _products(response)


def test_new_only_lists_what_the_customer_has_never_bought_even_since_training(client, orders_csv):
    orders = pd.read_csv(orders_csv)
    bought = set(orders.loc[orders["customer_id"] == "c0", "product_id"])
    response = _next(client, k=5, new_only="true")
    assert response.status_code == 200
    items = response.json()["items"]
    listed = [item["product_id"] for item in items]
    assert len(listed) == 5 and not set(listed) & bought
    assert {item["reason"] for item in items} <= {"bought_with", "similar_customers", "popular"}
    assert "filter" in _products(_next(client, k=5))  # the plain list is unchanged
    # A product the customer orders now is no longer new to them.
    client.post("/v1/orders", json=order("c0-new", "c0", 7 * WEEKS - 1, listed[0]))
    assert listed[0] not in _products(_next(client, k=5, new_only="true"))


def test_cycles_say_what_is_due_and_follow_ingested_orders(client):
    def cycles(customer="c0", **params):
        params.setdefault("as_of", DUE_DAY.isoformat())
        response = client.get(f"/v1/customers/{customer}/cycles", params=params)
        assert response.status_code == 200, response.text
        return CustomerCycles.model_validate(response.json())

    body = cycles()
    items = {item.product_id: item for item in body.items}
    # 'filter' every 14 days, 2 units, last bought two weeks before DUE_DAY: due that day.
    filt = items["filter"]
    assert (filt.status, filt.next_due, filt.usual_quantity) == ("due", DUE_DAY, 2)
    assert filt.interval_days == 14 and filt.purchases == WEEKS // 2
    assert items["milk"].interval_days == 7 and items["milk"].purchases == WEEKS
    assert [i.next_due for i in body.items if i.next_due] == sorted(
        i.next_due for i in body.items if i.next_due
    )
    assert {i.product_id for i in cycles(status="due").items} >= {"filter", "milk"}
    assert all(i.status == "once" for i in cycles(status="once").items)
    # Bought the day before: the next one is two weeks on, past the 7-day horizon.
    client.post("/v1/orders", json=order("c0-f", "c0", 7 * WEEKS - 1, "filter", quantity=2))
    filt = {i.product_id: i for i in cycles().items}["filter"]
    assert filt.status == "later" and filt.purchases == WEEKS // 2 + 1
    assert filt.last_purchase == DUE_DAY - dt.timedelta(days=1)
    assert cycles("someone-new").items == []
    bad = client.get("/v1/customers/c0/cycles", params={"status": "late"})
    assert bad.status_code == 422 and bad.json()["field"] == "query.status"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"k": 0}, "query.k"),
        ({"new_only": "perhaps"}, "query.new_only"),
        ({"k": 101}, "query.k"),
        ({"k": "ten"}, "query.k"),
        ({"as_of": "2024-13-45"}, "query.as_of"),
        ({"as_of": "2023-01-01"}, "query.as_of"),  # before the model's data ends
        ({"category": "dairy"}, "query.category"),  # the data has no categories
        ({"as_of": "9999-12-31"}, "query.as_of"),
    ],
)
def test_next_rejects_bad_parameters_naming_the_field(client, params, field):
    response = _next(client, **params)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert body["error"].startswith(field)


def test_basket_completion_never_returns_a_cart_item_and_warns_of_unknown_ones(client):
    response = client.post(
        "/v1/baskets/complete", json={"items": ["milk", "filter", "mystery"], "k": 5}
    )
    assert response.status_code == 200
    body = response.json()
    BasketResponse.model_validate(body)
    products = [item["product_id"] for item in body["items"]]
    assert products and not {"milk", "filter"} & set(products)
    assert len(products) <= 5
    assert body["warnings"] == [f"unknown product 'mystery' (not in model {body['model_version']})"]
    assert all(item["anchor_product_id"] in ("milk", "filter") for item in body["items"])
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [], "k": 3}, "body.items"),
        ({"items": ["milk"], "k": 0}, "body.k"),
        ({"items": ["milk"], "k": 1000}, "body.k"),
        ({"items": [""], "k": 3}, "body.items.0"),
        ({"k": 3}, "body.items"),
    ],
)
def test_basket_errors_name_the_field(client, body, field):
    response = client.post("/v1/baskets/complete", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_basket_of_only_unknown_products_is_empty_with_warnings(client):
    body = client.post("/v1/baskets/complete", json={"items": ["x", "y"]}).json()
    assert body["items"] == []
    assert len(body["warnings"]) == 2


def test_product_complements(client):
    response = client.get("/v1/products/milk/complements", params={"k": 3})
    assert response.status_code == 200
    body = response.json()
    ComplementsResponse.model_validate(body)
    assert body["product_id"] == "milk"
    assert 0 < len(body["items"]) <= 3
    assert "milk" not in [item["product_id"] for item in body["items"]]
    assert all(item["reason_text"].startswith("bought with milk") for item in body["items"])


def test_unknown_product_complements_is_404(client):
    response = client.get("/v1/products/nothing-like-it/complements")
    assert response.status_code == 404
    assert response.json()["field"] == "path.product_id"


def test_an_ingested_order_applies_at_once_and_is_idempotent(client):
    assert "filter" in _products(_next(client, k=2))
    new = order("late-1", "c0", 7 * WEEKS - 1, "filter", quantity=2)
    first = client.post("/v1/orders", json=new)
    assert first.status_code == 201
    assert first.json() == {"stored": 1, "duplicates": 0, "unknown_products": []}
    assert "filter" not in _products(_next(client, k=2))
    again = client.post("/v1/orders", json=new)
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert client.get("/v1/model").json()["orders_since_training"] == 1


def test_a_new_customers_orders_steer_their_list_and_cart(client):
    client.post("/v1/orders", json=order("z-1", "zed", 7 * WEEKS - 2, "filter", "snack3"))
    body = _next(client, "zed", k=5).json()
    assert body["cold_start"] is False
    cart = client.post(
        "/v1/baskets/complete", json={"customer_id": "zed", "items": ["snack7"], "k": 10}
    ).json()
    anchors = {item["anchor_product_id"] for item in cart["items"]}
    assert anchors & {"filter", "snack3"}


def test_a_batch_with_a_conflicting_order_stores_nothing(client):
    client.post("/v1/orders", json=order("b-1", "c1", 80, "milk"))
    batch = {
        "orders": [
            order("b-2", "c2", 80, "milk"),
            order("b-1", "c1", 80, "filter"),  # same id, different order
        ]
    }
    response = client.post("/v1/orders", json=batch)
    assert response.status_code == 409
    assert "b-1" in response.json()["error"]
    retry = client.post("/v1/orders", json={"orders": [order("b-2", "c2", 80, "milk")]})
    assert retry.json()["stored"] == 1  # b-2 was not stored by the failed batch


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(lines=[]), "body.Order.lines"),
        (lambda o: o["lines"][0].update(quantity=-1), "body.Order.lines.0.quantity"),
        (lambda o: o["lines"][0].update(quantity=0), "body.Order.lines.0.quantity"),
        (lambda o: o.update(timestamp="yesterday"), "body.Order.timestamp"),
        (lambda o: o.update(timestamp="2999-01-01T00:00:00"), "body.timestamp"),
        (lambda o: o.update(timestamp="0001-01-01T00:00:00"), "body.timestamp"),
        (lambda o: o.update(timestamp="2024-02-30T00:00:00"), "body.Order.timestamp"),
        (lambda o: o["lines"][0].update(quantity="NaN"), "body.Order.lines.0.quantity"),
        (lambda o: o.update(customer_id=""), "body.Order.customer_id"),
        (lambda o: o.pop("order_id"), "body.Order.order_id"),
    ],
)
def test_bad_orders_are_rejected_naming_the_field_and_nothing_is_stored(client, mutate, field):
    body = order("bad-1", "c0", 80, "milk")
    mutate(body)
    response = client.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert client.get("/v1/model").json()["orders_since_training"] == 0


def test_model_info(client, models_dir):
    body = client.get("/v1/model").json()
    assert body["version"] == (models_dir / "current").readlink().name
    assert body["horizon_days"] == 7
    assert body["last_order"].startswith("2024-03-2")
    assert 0 <= body["validation"]["recall@10"] <= 1


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok", "model_version": None}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model_version"]
    _next(client)
    client.post("/v1/orders", json=order("m-1", "c0", 80, "milk"))
    text = client.get("/metrics").text
    assert (
        'recsys_requests_total{method="GET",route="/v1/customers/{customer_id}/next",status="200"} 1.0'
        in text
    )
    assert (
        'recsys_request_duration_seconds_bucket{le="0.5",route="/v1/customers/{customer_id}/next"}'
        in text
    )
    assert f'recsys_model_info{{version="{ready["model_version"]}"}} 1.0' in text
    assert "recsys_orders_ingested_total 1.0" in text


def test_without_a_model_the_service_is_alive_but_not_ready(tmp_path):
    with make_client(tmp_path / "empty") as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        response = _next(client)
        assert response.status_code == 503
        assert "no model" in response.json()["error"]


def test_api_keys(models_dir):
    with make_client(
        models_dir, read_keys=frozenset({"r-key"}), ingest_keys=frozenset({"i-key"})
    ) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert _next(client).status_code == 401
        assert client.get("/v1/model", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/v1/model", headers={"X-API-Key": "i-key"}).status_code == 403
        assert client.get("/v1/model", headers={"X-API-Key": "r-key"}).status_code == 200
        assert client.get("/metrics", headers={"X-API-Key": "r-key"}).status_code == 200
        new = order("k-1", "c0", 80, "milk")
        assert client.post("/v1/orders", json=new).status_code == 401
        denied = client.post("/v1/orders", json=new, headers={"X-API-Key": "r-key"})
        assert denied.status_code == 403
        assert "ingest" in denied.json()["error"]
        assert (
            client.post("/v1/orders", json=new, headers={"X-API-Key": "i-key"}).status_code == 201
        )


def test_openapi_documents_every_route_and_the_key(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    paths = schema["paths"]
    assert paths["/v1/model"]["get"]["security"] == [{"apiKey": []}]
    assert paths["/v1/orders"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in paths["/healthz"]["get"]
    for path in (
        "/v1/customers/{customer_id}/next",
        "/v1/baskets/complete",
        "/v1/products/{product_id}/complements",
        "/v1/orders",
        "/v1/model",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_a_non_ascii_api_key_is_a_401_not_a_crash(models_dir):
    with make_client(models_dir, read_keys=frozenset({"r-key"})) as client:
        response = client.get("/v1/model", headers={"X-API-Key": "clé-é".encode("latin-1")})
        assert response.status_code == 401


def test_demand_forecast(client):
    response = client.get(
        "/v1/forecast/demand", params={"days": 14, "top": 3, "as_of": DUE_DAY.isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["days"], body["as_of"]) == (14, DUE_DAY.isoformat())
    products = body["products"]
    assert len(products) == 3
    assert {p["product_id"] for p in products[:2]} == {"milk", "filter"}
    units = [p["expected_units"] for p in products]
    assert units == sorted(units, reverse=True)
    assert all(p["low_80"] <= p["expected_units"] <= p["high_80"] for p in products)
    assert client.get("/v1/forecast/demand", params={"days": 0}).json()["field"] == "query.days"
    # A planner's own products, in the order asked, the same figures as in the ranking.
    asked = client.get(
        "/v1/forecast/demand",
        params={"days": 14, "as_of": DUE_DAY.isoformat(), "products": "filter, nope,milk"},
    ).json()
    assert [p["product_id"] for p in asked["products"]] == ["filter", "milk"]
    assert {p["product_id"]: p for p in asked["products"]} == {
        p["product_id"]: p for p in products[:2]
    }
    assert asked["warnings"] == ["unknown product ids: nope"]


def test_ids_holding_a_slash_are_addressable(client):
    response = client.get("/v1/customers/north%2Fwest/next", params={"k": 2})
    assert response.status_code == 200
    assert response.json()["customer_id"] == "north/west"
    assert response.json()["cold_start"] is True
    link = client.post("/v1/crm/links", json={"customer_id": "north/west"}).json()
    assert "/crm/customers/north%2Fwest?expires=" in link["url"]
    assert client.get(link["url"]).status_code == 200


def test_an_order_dated_off_the_calendar_is_a_422(client):
    body = order("cal-1", "c0", 80, "milk")
    body["timestamp"] = "0001-01-01T00:00:00+00:01"
    response = client.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "body.timestamp"
