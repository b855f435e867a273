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


def test_steps_closer_than_every_seconds_show_only_the_last(caplog):
    with caplog.at_level(logging.INFO, logger="recsys"):
        progress = Progress("settings", 3, "tried", every_seconds=3600)
        progress.update(1)
        progress.update(2)
        assert caplog.records == []
        progress.update(3)
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("settings: 3/3 tried (")


def test_slow_work_keeps_two_digits_of_its_rate():
    from recsys.progress import _rate

    assert _rate(0.2134) == "0.21"
    assert _rate(3.0) == "3"
    assert _rate(1234.5) == "1,234"
