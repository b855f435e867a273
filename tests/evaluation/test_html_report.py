"""`recsys evaluate --report`: one self-contained HTML file with every section and figure."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

from tests.helpers import SAMPLE
from tests.test_cli import run

SECTIONS = (
    "metrics",
    "recall-curves",
    "repeat-new",
    "calibration",
    "dates-quantities",
    "forecast",
)


class _Sections(HTMLParser):
    """Collects, per section id, its text and the images' sources."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.text: dict[str, str] = {}
        self.images: dict[str, list[str]] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs.get("id")
            self.text[self.current] = ""
            self.images[self.current] = []
        elif tag == "img" and self.current:
            self.images[self.current].append(attrs["src"])
        if tag in ("script", "link") or (tag == "img" and not attrs["src"].startswith("data:")):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.text[self.current] += data


def test_report_has_every_section_with_embedded_figures(tmp_path):
    report = tmp_path / "report.html"
    result = run(
        "evaluate",
        "--orders",
        str(SAMPLE),
        "--preset",
        "online-retail",
        "--methods",
        "p-topfreq,anticipate",
        "--forecast",
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    parser = _Sections()
    parser.feed(report.read_text())
    assert list(parser.text) == list(SECTIONS)
    assert parser.external == []  # self-contained: no script, stylesheet or image file
    for section in ("recall-curves", "repeat-new", "calibration", "forecast"):
        (src,) = parser.images[section]
        png = base64.b64decode(src.split(",", 1)[1])
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), section
    assert "p-topfreq" in parser.text["metrics"] and "anticipate" in parser.text["metrics"]
    assert "K = 1..50" in parser.text["recall-curves"]
    assert "anticipate" in parser.text["calibration"]
    assert "anticipate" in parser.text["dates-quantities"]
    assert "last-period" in parser.text["forecast"] and "WAPE" in parser.text["forecast"]


def test_report_path_is_checked_before_any_work(tmp_path):
    for bad in (tmp_path / "report.txt", tmp_path / "missing" / "report.html"):
        result = run(
            "evaluate", "--orders", str(SAMPLE), "--preset", "online-retail", "--report", str(bad)
        )
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert not bad.exists()
