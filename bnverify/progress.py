"""Progress bars on stderr, drawn by `rich <https://rich.readthedocs.io>`_.

One class, :class:`ProgressBar`, for every long piece of work (``check``'s claims, on this
machine or on a Dask cluster; figure sweeps; recomputations):

* on a terminal, a live rich bar with the count, the rate (units per second), the elapsed time,
  the estimated time left and the unit that finished last;
* on a pipe or a log file (CI), one plain line per quarter of the work, so that logs stay short
  and free of control characters;
* ``enabled=False`` prints nothing (``--no-progress``, ``--json -``, tests).

Colours follow rich's rules: none when ``NO_COLOR`` is set or the stream is not a terminal.
Nothing here writes to stdout, so ``--json -`` output is never decorated.

:func:`end_progress_line` stops a live bar (the command line calls it before ``error:
interrupted``, so that the message starts on a line of its own).

Example
-------
>>> import io
>>> buf = io.StringIO()
>>> with ProgressBar(4, "demo", stream=buf) as bar:
...     for _ in range(4):
...         bar.update(item="unit")
>>> "demo" in buf.getvalue() and "4/4" in buf.getvalue()
True
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: the live display shared by the bars drawing now (rich allows one live display at a time: a
#: bar started while another draws -- the recomputation inside a figure sweep -- becomes a second
#: line of the same display), and how many bars use it
_live = None
_users = 0


def _acquire_live(console, columns):
    global _live, _users
    if _live is None:
        from rich.progress import Progress

        _live = Progress(*columns, console=console, transient=False, redirect_stdout=False,
                         redirect_stderr=False, refresh_per_second=4)
        _live.start()
    _users += 1
    return _live


def _release_live() -> None:
    global _live, _users
    _users = max(0, _users - 1)
    if _users == 0:
        end_progress_line()


def end_progress_line() -> None:
    """Stop the live display, if any, so the next message starts on its own line."""
    global _live, _users
    live, _live, _users = _live, None, 0
    if live is not None:
        try:
            live.stop()
        except (OSError, ValueError):  # the stream is gone (closed pipe)
            pass


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Units per second (rich's own speed column counts bytes)."""

        def render(self, task):
            speed = task.finished_speed or task.speed
            if not speed:
                return Text("  -/s", style="progress.data.speed")
            return Text(f"{speed:5.2f}/s" if speed < 10 else f"{speed:5.0f}/s",
                        style="progress.data.speed")

    return RateColumn()


class ProgressBar:
    """``with ProgressBar(total, "label") as bar: ... bar.update(item="unit") ...``.

    :meth:`update` counts ``n`` finished units (``item`` names the last one)."""

    def __init__(
        self,
        total: int,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = True if enabled is None else bool(enabled)
        self.done = 0
        self.t0 = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_quarter = -1
        self._closed = False
        self._live = None
        self._task = None
        self._console = None
        if self.enabled:
            self._start()

    # -- drawing ---------------------------------------------------------------------------

    def _start(self) -> None:
        from rich.console import Console

        self._console = Console(file=self.stream, force_terminal=self._tty or None,
                                highlight=False, soft_wrap=True)
        if not self._tty:
            self._quarter_line()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
            MofNCompleteColumn(), _rate_column(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("{task.fields[item]}", style="dim"),
        )
        self._live = _acquire_live(self._console, columns)
        self._task = self._live.add_task(self.label, total=self.total, item="")

    def _line(self) -> str:
        frac = self.done / self.total
        dt = time.perf_counter() - self.t0
        rate = self.done / dt if dt > 0 and self.done else 0.0
        left = (self.total - self.done) / rate if rate else float("nan")
        eta = f", eta {left:.0f}s" if rate and self.done < self.total else ""
        return (f"{self.label}: {100 * frac:3.0f}% {self.done}/{self.total} "
                f"{dt:6.1f}s ({rate:.2f}/s{eta})")

    def _quarter_line(self) -> None:
        quarter = int(4 * self.done / self.total)
        if quarter != self._last_quarter:
            self._last_quarter = quarter
            self._console.print(self._line(), markup=False)

    # -- API -------------------------------------------------------------------------------

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1, item: str = "") -> None:
        """``n`` more units finished; ``item`` names the last one (shown on a terminal)."""
        self.done = min(self.done + int(n), self.total)
        if not self.enabled or self._closed:
            return
        if self._live is not None and self._live is _live:
            self._live.update(self._task, completed=self.done, item=str(item)[:30])
        elif not self._tty:
            self._quarter_line()

    def close(self) -> None:
        """Finish the bar (a live bar draws its last state and ends its line)."""
        if self._closed:
            return
        self._closed = True
        live, self._live = self._live, None
        if live is not None and live is _live:  # not stopped by end_progress_line meanwhile
            live.update(self._task, completed=self.done, item="done")
            _release_live()
