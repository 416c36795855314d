"""Figure recomputation on a real Dask cluster (a `dask scheduler` and two `dask worker`
processes started here): the same results as in this process; an unreachable scheduler is one
error line before any work, and nothing is written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bnverify.experiments import fig1 as f1
from bnverify.scheduling import DaskPool, check_scheduler

pytest.importorskip("distributed")
DASK = shutil.which("dask") or os.path.join(os.path.dirname(sys.executable), "dask")

# the issue-11 cell of Fig. 1 (kappa = 1000, seed 3) and two neighbours: untrusted in float64
CELLS = dict(eps_a=f1.PAPER_EPS_A[33:35], eps=f1.PAPER_EPS[7:8], a0=f1.PAPER_A0[0:1])


def _panel(pool):
    s = f1.Fig1Settings(kappas=(1000.0,), seed=3, jobs=1, mp_samples=0, recompute_all=True,
                        **CELLS)
    return f1.compute_fig1(1000.0, f1.draw_u(3), s, pool=pool)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not os.path.exists(DASK):
        pytest.skip("the dask command line is not installed")
    d = tmp_path_factory.mktemp("dask")
    sfile = d / "scheduler.json"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([DASK, "scheduler", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sfile)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        t0 = time.monotonic()
        while not sfile.exists() and time.monotonic() - t0 < 30:
            time.sleep(0.2)
        import json

        addr = json.loads(sfile.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([DASK, "worker", addr, "--nthreads", "1",
                                           "--no-dashboard"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(addr, timeout="20s") as c:
            c.wait_for_workers(2, timeout=60)
        yield addr
    finally:
        for p in procs[::-1]:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_recomputation_on_a_cluster_equals_in_process(cluster):
    assert check_scheduler(cluster) == cluster
    with f1.CellPool(1) as local:
        here = _panel(local)
    with DaskPool(cluster) as pool:
        there = _panel(pool)
        assert pool.jobs == 2
    assert here["recomputed"].any()  # the cells really were recomputed
    for k in ("loss_bn", "eff_step", "status", "trusted", "recomputed", "digits", "mp_dps"):
        np.testing.assert_array_equal(np.asarray(here[k]), np.asarray(there[k]), err_msg=k)


def test_unreachable_scheduler_one_line_nothing_written(tmp_path):
    out = tmp_path / "figs"
    r = subprocess.run([sys.executable, "-m", "bnverify", "figure", "1", "--quick",
                        "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: scheduler: cannot reach"), lines
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _no_times(x):
    if isinstance(x, dict):
        return {k: _no_times(v) for k, v in x.items() if k not in ("seconds",)}
    if isinstance(x, list):
        return [_no_times(v) for v in x]
    return x


def test_check_on_a_cluster_equals_in_process(cluster):
    """Claims as units on the cluster: the same verdicts, evidence and counterexamples as in
    this process, for the same seed."""
    from bnverify.commands.check import run_checks

    ids = ["S2.GD-opt", "P3.2-1", "C-A.5", "L-A.10"]
    here = run_checks(ids, "quick", 0, progress=False, jobs=1)
    there = run_checks(ids, "quick", 0, progress=False, scheduler=cluster)
    assert there["settings"]["scheduler"] == cluster
    assert [c["verdict"] for c in here["claims"]] == [c["verdict"] for c in there["claims"]]
    assert "refuted" in [c["verdict"] for c in here["claims"]]
    assert _no_times(here["claims"]) == _no_times(there["claims"])


def test_check_unreachable_scheduler_one_line(tmp_path):
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "bnverify", "check", "S2.GD-opt", "--scheduler",
                        "tcp://127.0.0.1:9", "--json", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: scheduler: cannot reach"), lines


def test_check_survives_a_killed_worker(cluster):
    """A worker killed (SIGKILL) while it runs a claim: the claim is recomputed on another
    worker, and the document equals the in-process one (issue 17, item 3)."""
    import threading

    from distributed import Client

    from bnverify.commands.check import run_checks

    ids = ["S3.no-saddle", "F6", "S3.Hstar", "P3.2-1", "C-A.5"]
    here = run_checks(ids, "quick", 0, progress=False, workers=1)
    out: dict = {}
    th = threading.Thread(target=lambda: out.update(
        doc=run_checks(ids, "quick", 0, progress=False, scheduler=cluster)))
    killed = None
    with Client(cluster, timeout="20s") as c:
        pids = c.run(os.getpid)  # worker address -> pid of its worker process
        th.start()
        t0 = time.monotonic()
        while killed is None and time.monotonic() - t0 < 120 and th.is_alive():
            busy = {w: ks for w, ks in c.processing().items()
                    if any(str(k).startswith("bnverify-check-") for k in ks)}
            if busy:
                time.sleep(0.5)  # let it be mid-claim
                w = next(iter(busy))
                os.kill(pids[w], signal.SIGKILL)
                killed = (w, busy[w])
            time.sleep(0.05)
        th.join(timeout=300)
        c.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the tests after this
    assert killed is not None, "no worker was seen running a claim"
    assert not th.is_alive() and "doc" in out
    there = out["doc"]
    assert [c["verdict"] for c in here["claims"]] == [c["verdict"] for c in there["claims"]]
    assert _no_times(here["claims"]) == _no_times(there["claims"])
