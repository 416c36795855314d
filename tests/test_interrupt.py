"""Interrupts stop cleanly (issue 12, item 3): Ctrl-C (SIGINT to the whole process group, as a
terminal sends it) or SIGTERM (to the main process, as ``kill`` or a job scheduler sends it)
during ``check`` (the local Dask cluster's worker processes), ``report`` and ``figure`` ends the command within a few
seconds with exit status 130 / 143, exactly one line on stderr, no traceback, no leaked
semaphore warning, no worker left running, and no output file or temporary file left behind.

The command runs as a real subprocess (``python -m bnverify``); each test waits until the
command is at work (its worker processes exist, or its staging directory appeared), then
signals it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: seconds allowed between the signal and the exit (2 s on an idle machine; CI may be loaded)
DEADLINE = 5.0

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or sys.platform != "linux",
    reason="uses /proc to find the worker processes",
)


def _start(argv: list[str]) -> subprocess.Popen:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "bnverify", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )


def _children(pid: int) -> list[int]:
    """The descendant processes of ``pid``, started by any of its threads (a local Dask cluster
    forks its workers from multiprocessing's fork server, a child of the command)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
        for k in kids:
            out += [k, *_children(k)]
    return out


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended before it was signalled: {proc.returncode} {err}")
        if time.monotonic() - t0 > timeout:
            _kill(proc)
            pytest.fail("the command did not start working in time")
        time.sleep(0.1)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _signal_and_wait(proc: subprocess.Popen, sig: int, group: bool) -> tuple[int, str, float]:
    t0 = time.monotonic()
    if group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    try:
        # stderr is shared with the workers and the resource tracker: communicate() returns
        # when all of them closed it, so a leaked-semaphore warning would be captured here
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        _kill(proc)
        pytest.fail(f"no exit within 30 s after signal {sig} (hang)")
    return proc.returncode, err, time.monotonic() - t0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _left(tmp_path: Path) -> list[str]:
    """What the command left in ``tmp_path`` (the test's isolated Hypothesis cache aside)."""
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "bnverify-cache")


def _assert_clean_stop(code: int, err: str, elapsed: float, want_code: int, line: str) -> None:
    assert code == want_code, err
    assert err == line, err  # exactly one line: no traceback, no worker output, no warnings
    assert elapsed < DEADLINE, f"took {elapsed:.1f} s to stop"


@pytest.mark.parametrize(
    "sig, group, want_code, line",
    [
        (signal.SIGINT, True, 130, "error: interrupted\n"),
        (signal.SIGTERM, False, 143, "error: terminated by SIGTERM\n"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_check_with_workers_stops(tmp_path, sig, group, want_code, line):
    out = tmp_path / "results.json"
    proc = _start(["check", "--workers", "2", "--no-progress", "--json", str(out),
                   "--counterexamples", str(tmp_path / "cex")])
    # wait for the local Dask cluster's two worker processes (beside the fork server and the
    # resource tracker), then let them work
    _wait_for(lambda: len(_children(proc.pid)) >= 4, proc)
    time.sleep(2.0)
    workers = _children(proc.pid)
    code, err, elapsed = _signal_and_wait(proc, sig, group)
    _assert_clean_stop(code, err, elapsed, want_code, line)
    assert "leaked" not in err and "Traceback" not in err
    assert _left(tmp_path) == []  # no results.json, no cex/, no temporary file
    t0 = time.monotonic()
    while any(_alive(w) for w in workers) and time.monotonic() - t0 < 2:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "worker processes left running"


def test_report_stops_on_ctrl_c(tmp_path):
    out = tmp_path / "rep"
    proc = _start(["report", "--no-progress", "--out", str(out)])
    _wait_for(lambda: len(_children(proc.pid)) >= 2, proc)
    time.sleep(2.0)
    code, err, elapsed = _signal_and_wait(proc, signal.SIGINT, group=True)
    _assert_clean_stop(code, err, elapsed, 130, "error: interrupted\n")
    assert _left(tmp_path) == []


def test_figure_stops_on_sigterm(tmp_path):
    out = tmp_path / "figs"
    proc = _start(["figure", "1", "--quick", "--no-progress", "--out", str(out)])
    # the figure writes into a staging directory beside --out while it works
    _wait_for(lambda: any(n.startswith(".figs.") for n in _left(tmp_path)), proc)
    time.sleep(1.0)
    code, err, elapsed = _signal_and_wait(proc, signal.SIGTERM, group=False)
    _assert_clean_stop(code, err, elapsed, 143, "error: terminated by SIGTERM\n")
    assert _left(tmp_path) == []  # neither --out nor the staging directory
