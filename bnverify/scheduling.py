"""Where the embarrassingly parallel work runs: this process, a local process pool, or a Dask
cluster.

Work units are pure functions of their own inputs (a high-precision recomputation of one figure
cell or MBNGD run derives nothing from a shared random stream), so the results are identical
whichever executor ran them and in whatever order they finished; budgets are counts of units,
never deadlines.

* :class:`bnverify.experiments.fig1.CellPool` -- this process (``jobs == 1``) or ``jobs`` spawned
  worker processes (the default for figures);
* :class:`DaskPool` -- any Dask cluster reachable at ``--scheduler ADDRESS`` (or the
  ``BNVERIFY_SCHEDULER`` environment variable): a ``dask scheduler`` with ``dask worker``
  processes, dask-jobqueue (SLURM/PBS), dask-kubernetes (docs/cluster.md).  Each unit is
  submitted with retries, so a worker that dies mid-run has its units recomputed elsewhere with
  the same result.

:func:`make_pool` picks one; :func:`check_scheduler` is called before any work so that an
unreachable scheduler is a one-line error (exit 2).
"""

from __future__ import annotations

import math
import os
from typing import Any

from .errors import BNVerifyError

#: seconds to wait for a scheduler before giving up (one line, exit 2)
CONNECT_TIMEOUT_S = 5.0
#: retries of a unit whose worker died
RETRIES = 3


def scheduler_address(address: str | None) -> str | None:
    """The scheduler to use: ``address``, else ``$BNVERIFY_SCHEDULER``, else None (local)."""
    addr = address or os.environ.get("BNVERIFY_SCHEDULER") or None
    if addr is not None and (not isinstance(addr, str) or len(addr) > 500 or not addr.strip()):
        raise BNVerifyError(f"scheduler: not an address: {str(addr)[:60]!r}")
    return addr.strip() if addr else None


def _connect(address: str):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise BNVerifyError("scheduler: dask.distributed is not installed "
                            "(pip install 'dask[distributed]')") from None
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        msg = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise BNVerifyError(f"scheduler: cannot reach {address} ({msg})") from None


def check_scheduler(address: str | None) -> str | None:
    """Connect once (and disconnect) so that a bad ``--scheduler`` fails before any work."""
    addr = scheduler_address(address)
    if addr is not None:
        client = _connect(addr)
        try:
            if not client.scheduler_info().get("workers"):
                raise BNVerifyError(f"scheduler: {addr} has no workers")
        finally:
            client.close()
    return addr


class DaskPool:
    """The :class:`~bnverify.experiments.fig1.CellPool` interface on a Dask cluster."""

    def __init__(self, address: str):
        self.address = address
        self._client = None
        self._futures: list[Any] = []
        self.jobs = 0

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, et, ev, tb) -> None:
        self.close(abort=et is not None)

    def start(self) -> None:
        if self._client is None:
            self._client = _connect(self.address)
            info = self._client.scheduler_info()
            self.jobs = int(sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def run(self, cfgs: list[dict[str, Any]], ladder: tuple[int, ...],
            deadline: float = math.inf, fn: Any = None) -> list[dict[str, Any] | None]:
        """``fn(cfg, ladder, inf)`` of every configuration on the cluster, results in input
        order (``deadline`` is not used: budgets are counts, see fig1.cells_for_budget)."""
        from .experiments.fig1 import mp_ladder

        fn = mp_ladder if fn is None else fn
        if not cfgs:
            return []
        self.start()
        n = len(cfgs)
        self._futures = self._client.map(fn, cfgs, [tuple(ladder)] * n, [math.inf] * n,
                                         pure=False, retries=RETRIES)
        out = self._client.gather(self._futures)
        self._futures = []
        return list(out)

    def close(self, abort: bool = False) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if abort and self._futures:
                client.cancel(self._futures)
        finally:
            self._futures = []
            client.close()


def make_pool(jobs: int, scheduler: str | None = None):
    """A Dask pool when a scheduler is given (or ``$BNVERIFY_SCHEDULER`` is set), else the local
    process pool with ``jobs`` workers (in-process for ``jobs == 1``)."""
    addr = scheduler_address(scheduler)
    if addr is not None:
        return DaskPool(addr)
    from .experiments.fig1 import CellPool

    return CellPool(jobs)
