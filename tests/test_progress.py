"""Progress bars (rich): nested bars share one live display (rich allows one at a time), a pipe
gets plain quarter lines, a disabled bar prints nothing."""

from __future__ import annotations

import io

from bnverify.progress import ProgressBar, end_progress_line


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_nested_bars_share_one_display():
    s = Tty()
    with ProgressBar(3, "outer", stream=s) as a:
        a.update(item="x")
        with ProgressBar(2, "inner", stream=s) as b:  # would raise LiveError with two displays
            b.update(2)
        a.update(2)
    out = s.getvalue()
    assert "outer" in out and "inner" in out and "3/3" in out and "2/2" in out
    assert out.replace("\x1b[?25h", "").endswith("\n")
    end_progress_line()  # nothing left to end
    assert s.getvalue() == out


def test_pipe_and_disabled():
    pipe = io.StringIO()
    with ProgressBar(4, "work", stream=pipe) as bar:
        for _ in range(4):
            bar.update()
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("work: 100% 4/4") and "\x1b" not in lines[-1]
    quiet = io.StringIO()
    with ProgressBar(4, "work", stream=quiet, enabled=False) as bar:
        bar.update(4)
    assert quiet.getvalue() == ""
