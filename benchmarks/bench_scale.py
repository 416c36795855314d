"""Benchmark: scale-out of the high-precision recomputation (issue 17 item 5, the part that is
distributed today).

Recomputes the first ``--cells`` untrusted float64 cells of the Fig. 1 panel kappa = 1000
(seed 3, in the deterministic boundary-first order) three ways, measured in this process:

* in this process (``CellPool(1)``, the reference);
* local worker processes (``CellPool(N)``, N = ``--workers``, default: the number of cores);
* a Dask cluster: ``--scheduler ADDRESS``, or a ``distributed.LocalCluster`` with N single-thread
  worker processes started here;

prints the seconds, the speed-up ratios against the reference (target >= 0.8 x workers) and
checks that the three give identical values.

Run: ``python benchmarks/bench_scale.py [--cells 200] [--workers N] [--scheduler ADDRESS]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bnverify.experiments import fig1 as f1
from bnverify.scheduling import DaskPool


def cells_and_configs(n: int):
    s = f1.Fig1Settings(kappas=(1000.0,), seed=3, mp_samples=0, recompute_budget_s=0.0)
    data = f1.compute_fig1(1000.0, f1.draw_u(3), s)
    cells = f1.recompute_order(data, f1.untrusted_cells(data))[:n]
    return [f1._cell_config(data, *map(int, c)) for c in cells]


def timed(pool, cfgs, warm: int = 2):
    pool.start()
    pool.run(cfgs[:warm], f1.MP_LADDER)  # every worker started and its imports done
    t = time.perf_counter()
    out = pool.run(cfgs, f1.MP_LADDER)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--scheduler", default=None)
    args = ap.parse_args()
    cfgs = cells_and_configs(args.cells)
    print(f"{len(cfgs)} untrusted cells of Fig. 1 (kappa = 1000, seed 3), ladder {f1.MP_LADDER}")
    with f1.CellPool(1) as p:
        t1, ref = timed(p, cfgs)
    print(f"  in this process:           {t1:7.1f} s")
    with f1.CellPool(args.workers) as p:
        tl, loc = timed(p, cfgs, warm=args.workers)
    print(f"  {args.workers} local processes:       {tl:7.1f} s  speed-up {t1 / tl:.2f} "
          f"(target >= {0.8 * args.workers:.1f})")
    cluster = None
    addr = args.scheduler
    if addr is None:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        addr = cluster.scheduler_address
    try:
        with DaskPool(addr) as p:
            td, das = timed(p, cfgs, warm=args.workers)
            nw = p.jobs
    finally:
        if cluster is not None:
            cluster.close()
    print(f"  Dask ({nw} workers):         {td:7.1f} s  speed-up {t1 / td:.2f} "
          f"(target >= {0.8 * nw:.1f})")

    def vals(out):
        return np.array([[r["loss"], r["eff_step"], r["dps"]] for r in out], dtype=float)

    same = np.array_equal(vals(ref), vals(loc), equal_nan=True) and np.array_equal(
        vals(ref), vals(das), equal_nan=True)
    print(f"  identical results: {same}")


if __name__ == "__main__":
    main()
