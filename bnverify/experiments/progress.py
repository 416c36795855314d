"""A small text progress bar for figure sweeps, written to stderr (no dependency).

On a terminal the bar redraws in place (``\\r``); on a pipe or a log file it prints one line per
quarter of the work, so that CI logs stay short.  ``enabled=False`` silences it (tests, checks).

Example
-------
>>> import io
>>> buf = io.StringIO()
>>> with ProgressBar(4, "demo", stream=buf, enabled=True) as bar:
...     for _ in range(4):
...         bar.update()
>>> "demo" in buf.getvalue() and "4/4" in buf.getvalue()
True
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..progress import mark_line_done, mark_mid_line


class ProgressBar:
    """``ProgressBar(total, label)``; call :meth:`update` after each unit of work."""

    def __init__(
        self,
        total: int,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
    ) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = True if enabled is None else bool(enabled)
        self.width = width
        self.done = 0
        self.t0 = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_quarter = -1
        self._closed = False

    def __enter__(self) -> ProgressBar:
        self._draw()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + int(n), self.total)
        self._draw()

    def _line(self) -> str:
        frac = self.done / self.total
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        dt = time.perf_counter() - self.t0
        return f"{self.label} [{bar}] {100 * frac:3.0f}% {self.done}/{self.total} {dt:6.1f}s"

    def _draw(self) -> None:
        if not self.enabled or self._closed:
            return
        if self._tty:
            self.stream.write("\r" + self._line())
            self.stream.flush()
            mark_mid_line(self.stream)
            return
        quarter = int(4 * self.done / self.total)
        if quarter != self._last_quarter:
            self._last_quarter = quarter
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        if self.enabled and self._tty:
            self.stream.write("\r" + self._line() + "\n")
            self.stream.flush()
            mark_line_done()
        self._closed = True
