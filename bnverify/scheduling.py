"""Where the embarrassingly parallel work runs: this process, or a Dask cluster -- a local one
started here (the default: one worker process per core) or any cluster reachable at an address.

Work units are pure functions of their own inputs (a claim check seeds its random streams from
the seed and the claim's ID; a high-precision recomputation of one figure cell or MBNGD run, or a
batch of a claim's examples, derives nothing from a shared random stream), so the results are
identical whichever worker ran them, in whatever order they finished, and however often a unit
was retried after its worker died; budgets are counts of units, never deadlines.

* ``workers == 1``: this process, no Dask at all;
* ``workers > 1`` (default: :func:`default_workers`, one per core): a :class:`Cluster` over a
  ``distributed.LocalCluster`` of that many single-threaded worker processes, started with SIGINT
  ignored (Ctrl-C reaches only the command, which cancels the tasks and kills the workers);
* ``--scheduler ADDRESS`` (or ``$BNVERIFY_SCHEDULER``): a :class:`Cluster` connected to a
  ``dask scheduler`` with ``dask worker`` processes, dask-jobqueue (SLURM/PBS) or
  dask-kubernetes (docs/cluster.md).

Each unit is submitted with :data:`RETRIES` retries, so a worker that dies mid-run has its units
recomputed elsewhere with the same result.  :func:`run_units` maps a function over units on a
cluster, reporting each finished unit to a callback (the progress bar);
:func:`check_scheduler` is called before any work so that an unreachable scheduler is a one-line
error (exit 2).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import BNVerifyError

#: seconds to wait for a scheduler before giving up (one line, exit 2)
CONNECT_TIMEOUT_S = 5.0
#: retries of a unit whose worker died
RETRIES = 3
#: environment of local worker processes: one BLAS / OpenMP / numba thread each (the processes
#: already occupy the cores, and the matrices are small)
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1"}


def default_workers() -> int:
    """One worker process per core (at least 1)."""
    return max(1, os.cpu_count() or 1)


def scheduler_address(address: str | None) -> str | None:
    """The scheduler to use: ``address``, else ``$BNVERIFY_SCHEDULER``, else None (local)."""
    addr = address or os.environ.get("BNVERIFY_SCHEDULER") or None
    if addr is not None and (not isinstance(addr, str) or len(addr) > 500 or not addr.strip()):
        raise BNVerifyError(f"scheduler: not an address: {str(addr)[:60]!r}")
    return addr.strip() if addr else None


def _quiet_dask() -> None:
    """Dask's own log lines (worker restarts, closing comms) are not the command's output."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler",
                 "distributed.worker", "distributed.core", "distributed.comm",
                 "distributed.batched", "distributed.client", "distributed.deploy",
                 "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _connect(address: str):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise BNVerifyError("scheduler: dask.distributed is not installed "
                            "(pip install 'dask[distributed]')") from None
    _quiet_dask()
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


@contextlib.contextmanager
def _worker_environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: how local worker processes are started (see :func:`_forkserver_ignoring_sigint`)
START_METHOD = "forkserver"


def _forkserver_ignoring_sigint() -> None:
    """Start multiprocessing's fork server (once per process) with SIGINT ignored.

    Dask's nanny starts each local worker process through it; a forked process inherits the
    fork server's SIGINT disposition, *ignored*, from its first instruction, so a terminal's
    Ctrl-C, sent to the whole process group, reaches only the command, which then cancels the
    tasks and kills the workers -- also workers a nanny restarts later, and without a window in
    which this process itself ignores Ctrl-C for longer than the fork server's own start (the
    workers' start takes seconds; the fork server's milliseconds)."""
    import multiprocessing
    from multiprocessing import forkserver, resource_tracker

    import dask
    from distributed.utils import get_mp_context

    from .safeio import children_ignore_sigint

    with dask.config.set({"distributed.worker.multiprocessing-method": START_METHOD}):
        ctx = get_mp_context()  # sets Dask's preload list for the fork server
    assert ctx is multiprocessing.get_context(START_METHOD)
    # and ours: the workers start with every claim imported (bnverify.worker_preload)
    preload = list(getattr(forkserver._forkserver, "_preload_modules", []) or [])
    if "bnverify.worker_preload" not in preload:
        ctx.set_forkserver_preload([*preload, "bnverify.worker_preload"])
    # A worker killed mid-task (Ctrl-C, a cancelled run) cannot unregister the semaphores it
    # made; multiprocessing's resource tracker unlinks them when the command exits and says so
    # in a warning.  That cleanup is the intended path here, so the tracker, started now if it
    # is not running yet, runs with that warning filtered (it inherits PYTHONWARNINGS).
    saved = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(
        x for x in (saved, "ignore:resource_tracker:UserWarning") if x)
    try:
        with children_ignore_sigint():
            resource_tracker.ensure_running()
            forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = saved


class Cluster:
    """A Dask client: on the scheduler at ``address``, or on a local cluster of ``workers``
    single-threaded worker processes started on first use.  A context manager; ``close(abort=
    True)`` (on an exception) cancels the tasks and, for a local cluster, kills its workers at
    once instead of waiting for the running units."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        if address is None and (workers is None or workers < 1):
            raise BNVerifyError(f"workers: must be >= 1, got {workers}")
        self.address = address
        self.workers = workers
        self._client = None
        self._local = None
        self._config = None
        self.futures: list[Any] = []

    @property
    def kind(self) -> str:
        """``"local"`` or the scheduler's address (recorded in reports)."""
        return "local" if self.address is None else self.address

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, et, ev, tb) -> None:
        self.close(abort=et is not None)

    @property
    def client(self):
        if self._client is None:
            self._client = self._start()
        return self._client

    def _start(self):
        if self.address is not None:
            return _connect(self.address)
        import dask
        from distributed import Client, LocalCluster

        _quiet_dask()
        # the start method stays set while the cluster lives: a nanny restarting a dead worker
        # forks it from the same server
        self._config = dask.config.set({"distributed.worker.multiprocessing-method":
                                        START_METHOD})
        from .safeio import deferred_signals

        # a Ctrl-C while the workers start is acted on once the cluster is whole (then
        # close(abort=True) kills every worker): tearing it down half-started leaves workers
        # failing with tracebacks of their own
        with _worker_environment(), deferred_signals():
            _forkserver_ignoring_sigint()
            self._local = LocalCluster(
                n_workers=int(self.workers), threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=":0", worker_dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
        return Client(self._local, set_as_default=False)

    def n_workers(self) -> int:
        """Worker threads of the cluster (its parallelism)."""
        if self.address is None:
            return int(self.workers)
        info = self.client.scheduler_info()
        return int(sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def worker_pids(self) -> list[int]:
        """The local cluster's worker processes (empty for a remote cluster or before start)."""
        return [] if self._local is None else self._pids_of(self._local)

    def close(self, abort: bool = False) -> None:
        from .safeio import ignoring_signals

        client, self._client = self._client, None
        local, self._local = self._local, None
        futures, self.futures = self.futures, []
        if client is None and local is None:
            return
        with ignoring_signals():
            if abort and local is not None:
                # no restarts, then kill: a running unit is not waited for
                for nanny in list(local.workers.values()):
                    with contextlib.suppress(Exception):
                        nanny.auto_restart = False
                for pid in self._pids_of(local):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            elif abort and client is not None and futures:
                with contextlib.suppress(Exception):
                    client.cancel(futures)
            with contextlib.suppress(Exception):
                if client is not None:
                    client.close(timeout=2 if abort else 10)
            with contextlib.suppress(Exception):
                if local is not None:
                    local.close(timeout=2 if abort else 10)
            config, self._config = self._config, None
            if config is not None:
                config.__exit__(None, None, None)

    @staticmethod
    def _pids_of(local) -> list[int]:
        out = []
        for nanny in list(local.workers.values()):
            proc = getattr(getattr(nanny, "process", None), "process", None)
            if proc is not None and proc.pid:
                out.append(int(proc.pid))
        return out


def _submit(client, fn: Callable[..., Any], args: Sequence[tuple],
            keys: Sequence[str] | None) -> list[Any]:
    """``fn(*a)`` for every ``a`` as tasks (impure, :data:`RETRIES` retries, ``keys`` if given)."""
    kw: dict[str, Any] = {"pure": False, "retries": RETRIES}
    if keys is not None:
        kw["key"] = list(keys)
    return client.map(fn, *zip(*args, strict=True), **kw)


def run_units(cluster: Cluster, fn: Callable[..., Any], args: Sequence[tuple],
              keys: Sequence[str] | None = None,
              on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``fn(*a)`` for every ``a`` in ``args`` on the cluster, each with :data:`RETRIES`
    retries; ``on_done(i, result)`` as each finishes (in completion order); the results in
    input order."""
    from distributed import as_completed

    if not args:
        return []
    client = cluster.client
    futs = _submit(client, fn, args, keys)
    cluster.futures = list(futs)
    index = {f.key: i for i, f in enumerate(futs)}
    out: list[Any] = [None] * len(futs)
    for fut in as_completed(futs, loop=client.loop):
        i = index[fut.key]
        out[i] = fut.result()
        if on_done is not None:
            on_done(i, out[i])
    cluster.futures = []
    return out


def on_dask_worker() -> bool:
    """Whether this code runs inside a task on a Dask worker."""
    try:
        from distributed import get_worker
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True


def map_units(fn: Callable[..., Any], args: Sequence[tuple],
              keys: Sequence[str] | None = None) -> list[Any]:
    """``[fn(*a) for a in args]``, split into work units inside a long claim.

    Inside a task on a Dask worker (a claim that ``check`` sent to a cluster), every ``fn(*a)``
    becomes a task of its own on the same cluster: the claim's task secedes from its worker's
    thread while it waits, so the units spread over all workers (a claim as long as the rest
    together no longer sets the wall time).  Elsewhere they run here, in order.  ``fn`` must be
    a pure top-level function of its arguments (results identical either way); equal ``keys``
    from two claims share one computation while it is held."""
    args = list(args)
    if not args or not on_dask_worker():
        return [fn(*a) for a in args]
    from distributed import worker_client

    with worker_client() as client:
        return list(client.gather(_submit(client, fn, args, keys)))


class DaskPool:
    """The :class:`~bnverify.experiments.fig1.CellPool` interface on a Dask cluster (local or
    at an address)."""

    def __init__(self, address: str | None = None, workers: int | None = None,
                 progress: bool = False):
        self.cluster = Cluster(address, workers)
        self.address = address
        self.jobs = 0 if address is not None else int(workers or 0)
        self.progress = progress

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, et, ev, tb) -> None:
        self.close(abort=et is not None)

    def start(self) -> None:
        self.cluster.client  # noqa: B018 - starts the cluster / connects
        self.jobs = self.cluster.n_workers()

    def run(self, cfgs: list[dict[str, Any]], ladder: tuple[int, ...],
            deadline: float = math.inf, fn: Any = None) -> list[dict[str, Any] | None]:
        """``fn(cfg, ladder, inf)`` of every configuration on the cluster, results in input
        order (``deadline`` is not used: budgets are counts, see fig1.cells_for_budget)."""
        from .experiments.fig1 import mp_ladder

        fn = mp_ladder if fn is None else fn
        if not cfgs:
            return []
        self.start()
        from .progress import ProgressBar

        where = "local" if self.address is None else "cluster"
        with ProgressBar(len(cfgs), f"recomputing ({where}, {self.jobs} workers)",
                         enabled=self.progress) as bar:
            return run_units(self.cluster, fn, [(c, tuple(ladder), math.inf) for c in cfgs],
                             on_done=lambda i, r: bar.update())

    def close(self, abort: bool = False) -> None:
        self.cluster.close(abort=abort)


def make_pool(jobs: int, scheduler: str | None = None, progress: bool = False):
    """A Dask pool on the cluster at ``scheduler`` (or ``$BNVERIFY_SCHEDULER``), else on a local
    cluster of ``jobs`` worker processes, else (``jobs == 1``) this process; ``progress``: a bar
    over the pool's tasks (on a terminal)."""
    addr = scheduler_address(scheduler)
    if addr is not None:
        return DaskPool(addr, progress=progress)
    if jobs > 1:
        return DaskPool(workers=jobs, progress=progress)
    from .experiments.fig1 import CellPool

    return CellPool(1)
