"""A shop's page on another origin calls the API from a real Chromium: allowed origins only."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.service.conftest import DUE_DAY
from tests.service.live import server

FETCH = """async ([api, key]) => {
    try {
        const response = await fetch(api, {headers: {"X-API-Key": key}});
        return {status: response.status, body: await response.json()};
    } catch (error) {
        return {blocked: String(error)};
    }
}"""


@contextmanager
def shop_page() -> Iterator[str]:
    """A storefront page served from its own origin (another port), as a shop's site is."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            body = b"<!doctype html><title>shop</title><p>a shop"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_listed_origin_may_call_the_api_from_a_browser_and_others_may_not(
    browser, models_dir, tmp_path
):
    with shop_page() as shop, shop_page() as stranger:
        env = {"RECSYS_READ_KEYS": "r-key", "RECSYS_CORS_ORIGINS": f"{shop}/"}
        with server(models_dir, tmp_path / "orders.sqlite", **env) as (client, _):
            api = f"{client.base_url}/v1/customers/c0/next?k=2&as_of={DUE_DAY.isoformat()}"
            page = browser.new_page()
            page.goto(shop)
            # The key header makes the browser ask first (a preflight); the answer lets it on.
            answer = page.evaluate(FETCH, [api, "r-key"])
            assert answer.get("status") == 200, answer
            assert answer["body"]["customer_id"] == "c0" and len(answer["body"]["items"]) == 2
            # The key is still checked, and the page may read why it was refused.
            refused = page.evaluate(FETCH, [api, "wrong"])
            assert refused.get("status") == 401 and refused["body"]["error"] == "unknown API key"
            # A page of another origin is refused by the browser itself.
            page.goto(stranger)
            assert "blocked" in page.evaluate(FETCH, [api, "r-key"])
            page.close()
