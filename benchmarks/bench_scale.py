"""Benchmark: scale-out on Dask (issue 17, item 5) -- 1 worker against N, measured in this process.

Three workloads, each run in this process (``--workers 1``: no Dask) and on a local Dask cluster
of N single-thread worker processes (or the cluster at ``--scheduler``), printing the seconds,
the speed-up and the target (>= 0.8 x workers), and checking that the results are identical:

* ``check``: ``bnverify check --profile thorough`` (or ``--profile quick``), the claims as units
  (and, inside the long ones, their batches: ``scheduling.map_units``);
* ``fig1``: the full Fig. 1 panel set (``bnverify figure 1``: 4 panels on the paper's grid, the
  untrusted cells recomputed at high precision, a fixed number per panel);
* ``cells``: the high-precision recomputation of ``--cells`` (200) untrusted Fig. 1 cells
  (kappa = 1000, seed 3, boundary-first order).

Run: ``python benchmarks/bench_scale.py [--only check,fig1,cells] [--profile thorough]
[--cells 200] [--workers N] [--scheduler ADDRESS]``.  The speed-up needs an otherwise idle
machine: on a loaded one the ratio measures the load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def _line(name: str, t1: float, tn: float, n: int, same: bool) -> None:
    print(f"  {name:<34} 1 worker {t1:8.1f} s   {n} workers {tn:8.1f} s   speed-up "
          f"{t1 / tn:5.2f} (target >= {0.8 * n:.1f})   identical: {same}")


def bench_check(profile: str, workers: int, scheduler: str | None) -> None:
    from compare_check_json import diff

    from bnverify.catalogue import IDS
    from bnverify.commands.check import run_checks

    t = time.perf_counter()
    one = run_checks(list(IDS), profile, 0, progress=False, workers=1)
    t1 = time.perf_counter() - t
    t = time.perf_counter()
    many = run_checks(list(IDS), profile, 0, progress=False, workers=workers, scheduler=scheduler)
    tn = time.perf_counter() - t
    _line(f"check --profile {profile}", t1, tn, many["settings"]["workers"],
          not diff(one, many))
    slow = sorted(one["claims"], key=lambda c: -c["seconds"])[:5]
    print("    longest claims (1 worker): "
          + ", ".join(f"{c['id']} {c['seconds']:.1f} s" for c in slow))


def bench_fig1(workers: int, scheduler: str | None) -> None:
    from bnverify.experiments.figures import figure1

    def run(n: int) -> tuple[float, dict]:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            figure1(Path(d), quick=False, seed=0, kappas=None, u_file=None, progress=False,
                    write_npz=True, prefix="", command="bench_scale", jobs=n,
                    scheduler=scheduler if n > 1 else None)
            dt = time.perf_counter() - t
            arrays = {}
            for f in sorted(Path(d).glob("*.npz")):
                with np.load(f) as z:
                    arrays.update({f"{f.name}:{k}": z[k] for k in ("loss_bn", "eff_step",
                                                                  "status", "trusted")
                                   if k in z.files})
        return dt, arrays

    t1, a1 = run(1)
    tn, an = run(workers)
    same = a1.keys() == an.keys() and all(
        np.array_equal(a1[k], an[k], equal_nan=True) for k in a1)
    _line("figure 1 (4 panels, paper grid)", t1, tn, workers, same)


def bench_cells(n_cells: int, workers: int, scheduler: str | None) -> None:
    from bnverify.experiments import fig1 as f1
    from bnverify.scheduling import DaskPool

    s = f1.Fig1Settings(kappas=(1000.0,), seed=3, mp_samples=0, recompute_budget_s=0.0, jobs=1)
    data = f1.compute_fig1(1000.0, f1.draw_u(3), s)
    cells = f1.recompute_order(data, f1.untrusted_cells(data))[:n_cells]
    cfgs = [f1._cell_config(data, *map(int, c)) for c in cells]

    def timed(pool):
        pool.start()
        pool.run(cfgs[:2], f1.MP_LADDER)  # every worker started and its imports done
        t = time.perf_counter()
        out = pool.run(cfgs, f1.MP_LADDER)
        return time.perf_counter() - t, out

    with f1.CellPool(1) as p:
        t1, ref = timed(p)
    with (DaskPool(scheduler) if scheduler else DaskPool(workers=workers)) as p:
        tn, das = timed(p)
        nw = p.jobs

    def vals(out):
        return np.array([[r["loss"], r["eff_step"], r["dps"]] for r in out], dtype=float)

    _line(f"{len(cfgs)} cell recomputations", t1, tn, nw,
          np.array_equal(vals(ref), vals(das), equal_nan=True))


def main() -> None:
    from bnverify.scheduling import default_workers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="check,fig1,cells")
    ap.add_argument("--profile", default="thorough", choices=("quick", "thorough"))
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--scheduler", default=None)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(json.dumps({"cores": os.cpu_count(), "workers": args.workers,
                      "scheduler": args.scheduler or "local", "load_before": round(load, 2)}))
    for what in args.only.split(","):
        if what == "check":
            bench_check(args.profile, args.workers, args.scheduler)
        elif what == "fig1":
            bench_fig1(args.workers, args.scheduler)
        elif what == "cells":
            bench_cells(args.cells, args.workers, args.scheduler)
        else:
            raise SystemExit(f"error: --only: unknown workload {what!r}")


if __name__ == "__main__":
    main()
