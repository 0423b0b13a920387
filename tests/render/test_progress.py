from __future__ import annotations

import io

from reconciler.render.progress import ProgressBar


def test_terminal_gets_a_bar_that_counts_changes_and_shows_waits() -> None:
    stream = io.StringIO()
    bar = ProgressBar(4, stream=stream, interactive=True)
    bar.step("create prod/alert~1234567")
    bar.step("create prod/login~7654321")
    bar.wait("the provider allows one template creation every 30s", 29.6)
    bar.close()
    frames = stream.getvalue().split("\r\x1b[K")
    assert frames[1] == "[------------------------] 0/4 create prod/alert~1234567"
    assert frames[3] == "[############------------] 2/4 the provider allows one template creation every 30s (30s)"
    assert frames[-1] == ""  # the bar is cleared at the end


def test_logs_get_only_the_waits_worth_reading_and_no_phone_numbers() -> None:
    stream = io.StringIO()
    bar = ProgressBar(2, stream=stream, interactive=False)
    bar.step("create prod/alert~1234567")
    bar.wait("test-send gate: polling", 0.2)
    bar.wait("test-send gate: login to +8613812345678 paced", 61)
    bar.close()
    assert stream.getvalue() == "test-send gate: login to +86 138****5678 paced (61s)\n"
