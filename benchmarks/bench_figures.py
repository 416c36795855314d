"""Timings of the figure reproductions at their default (paper) sizes.

Targets (issue 5): the whole Fig. 1 at four condition numbers in under a minute on 2 cores;
Fig. 5-8 in under 2 minutes together.  The script prints wall and CPU seconds per figure and the
ratio to a reference measured in the same process: one bare Fig. 1 panel on the batched engine
(8815 BNGD configurations, d = 100, 2000 steps), so that a loaded or slower machine shows up in
the reference too.  The 1-minute load average is printed: on a shared machine wall times are
inflated by the other processes, CPU seconds much less.

Since issue 11 every figure measures the correct digits of its float64 results (the engine's
shadow copies) and Fig. 1 recomputes untrusted cells at high precision within a budget of
``fig1.RECOMPUTE_BUDGET_S`` per panel: expect the figures to take 2-4x their earlier times
(measured under load: Fig. 5-8 together 96 s).  ``bench_trust_fig1.py`` isolates the cost on one
Fig. 1 panel.

Usage::

    python benchmarks/bench_figures.py            # default sizes (about 2-3 minutes)
    python benchmarks/bench_figures.py --quick    # reduced grids (smoke test)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def reference_panel() -> float:
    """Seconds for one bare Fig. 1 panel (engine only, kappa = 1000, a0 = 1 ... 1e-8 at once)."""
    from bnverify.dynamics.batched import run
    from bnverify.experiments import fig1 as f1

    u = f1.draw_u(0)
    p = f1.fig1_problem(1000.0, u)
    h = np.diag(p.H)
    w0 = h * u / np.linalg.norm(h * u)
    args = dict(
        eps=f1.PAPER_EPS[None, :, None],
        eps_a=f1.PAPER_EPS_A[:, None, None],
        a0=f1.PAPER_A0[None, None, :],
        w0=w0,
        steps=2000,
    )
    run(p, "bngd", **{**args, "steps": 2})  # compile / load the cached kernel
    t0 = time.perf_counter()
    run(p, "bngd", **args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--figures", default="1,5,6,7,8")
    args = ap.parse_args()
    from bnverify.experiments.figures import make_figure

    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    ref = reference_panel()
    print(f"reference: one bare Fig. 1 panel on the engine: {ref:.2f} s")
    total = {}
    with tempfile.TemporaryDirectory() as d:
        for fig in args.figures.split(","):
            w0, c0 = time.perf_counter(), time.process_time()
            make_figure(fig, d, quick=args.quick, progress=False)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            total[fig] = wall
            print(
                f"Fig. {fig}: wall {wall:7.2f} s  cpu {cpu:7.2f} s  = {wall / ref:6.1f} x reference"
            )
    if not args.quick:
        f1_t = total.get("1")
        rest = sum(v for k, v in total.items() if k in "5678")
        if f1_t is not None:
            print(f"Fig. 1 (4 kappas, plots, mp checks): {f1_t:.1f} s (target < 60 s)")
        print(f"Fig. 5-8 together: {rest:.1f} s (target < 120 s)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
