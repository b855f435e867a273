"""Progress: log lines with counts and rate off a terminal (cron, CI), a bar on one."""

import io
import logging

from recsys.progress import Progress


def test_off_a_terminal_each_step_is_a_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="recsys"):
        progress = Progress("predict", 40_000, "customers")
        progress.update(20_000)
        progress.update(40_000)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("predict: 20,000/40,000 customers (")
    assert "/s, " in messages[0]


def test_on_a_terminal_it_draws_a_bar(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    progress = Progress("predict", 10, "customers")
    progress.update(5)
    progress.update(10)
    text = screen.getvalue()
    assert text.startswith("\rpredict [###############...............] 5/10 customers")
    assert "[##############################] 10/10" in text and text.endswith("\n")
