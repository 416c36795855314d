"""A small progress bar on stderr (no dependency); silent when disabled or not a terminal."""

from __future__ import annotations

import sys
import time

#: the stream of a progress bar left mid-line (drawn with ``\r``, not closed), if any
_mid_line = None


def mark_mid_line(stream) -> None:
    """A bar was drawn on ``stream`` without a newline (progress bars call this)."""
    global _mid_line
    _mid_line = stream


def mark_line_done() -> None:
    """The bar ended its line (progress bars call this on close)."""
    global _mid_line
    _mid_line = None


def end_progress_line() -> None:
    """If a progress bar is mid-line, end that line, so the next message starts on its own
    line (the command line calls this before ``error: interrupted``)."""
    global _mid_line
    stream, _mid_line = _mid_line, None
    if stream is not None:
        try:
            stream.write("\n")
            stream.flush()
        except (OSError, ValueError):
            pass


class Progress:
    """``bar = Progress(n, "label"); bar.update("item"); ...; bar.close()``."""

    def __init__(self, total: int, label: str = "", enabled: bool = True, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = 0
        self.t0 = time.perf_counter()

    def update(self, item: str = "", advance: int = 1) -> None:
        """Announce ``item`` (about to run) and count the previous one as done."""
        self._draw(item)
        self.done += advance

    def _draw(self, item: str) -> None:
        if not self.enabled:
            return
        frac = min(self.done / self.total, 1.0)
        width = 24
        fill = int(frac * width)
        el = time.perf_counter() - self.t0
        self.stream.write(
            f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} "
            f"{el:5.1f}s {item[:30]:<30}"
        )
        self.stream.flush()
        mark_mid_line(self.stream)

    def close(self) -> None:
        if self.enabled:
            self.done = self.total
            self._draw("done")
            self.stream.write("\n")
            self.stream.flush()
            mark_line_done()
