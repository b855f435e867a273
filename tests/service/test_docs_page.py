"""The interactive API docs in a real Chromium: rendered from the app's own files, offline."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.service.live import server


def test_the_docs_render_every_route_without_leaving_the_server(browser, models_dir, tmp_path):
    with server(models_dir, tmp_path / "orders.sqlite") as (client, _):
        page = browser.new_page()
        hosts = set()
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        assert page.goto(f"{client.base_url}/docs").status == 200
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.eval_on_selector_all(
            ".opblock-summary-path", "nodes => nodes.map(n => n.dataset.path || n.innerText)"
        )
        # One block per operation, every path of the schema among them.
        assert set(paths) == set(client.get("/openapi.json").json()["paths"])
        assert "/v1/customers/{customer_id}/cycles" in paths
        # Every script, style sheet and the schema came from the server itself.
        assert hosts == {urlsplit(str(client.base_url)).netloc}
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        page.close()
