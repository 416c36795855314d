"""Cost of measured float64 trust on a default Fig. 1 panel (issue 11, item 3).

Measured in one run, on the default kappa = 1000 panel (paper grid 41 x 43 x 5, d = 100, 2000
steps; seed 3 by default, the issue's example):

* the plain float64 panel (``trust=False``: sweep, high-precision spot check of 2 cells, plot,
  data file) -- what the panel cost before issue 11;
* the trust panel (default: sweep with the engine's shadow copies, recomputation of untrusted
  cells at high precision within ``fig1.RECOMPUTE_BUDGET_S``, spot check, hatched plot);
* their ratio, the sweep-only ratio (the engine's trust overhead), the issue's target
  ``2 x plain + 10 s``, the number of untrusted cells, recomputed cells and the recomputation
  time;
* the issue's cell (eps_a index 34, eps index 7, a0 index 0): float64 1.80e-4 while 40-120
  digits agree on 2.46e-6 -- what the pipeline stored for it.

The 1-minute load average is printed: on a shared machine wall times are inflated by the other
processes (the two panels run back to back, so both see about the same load).

Usage::

    python benchmarks/bench_trust_fig1.py                  # seed 3, kappa 1000 (~1 minute)
    python benchmarks/bench_trust_fig1.py --recompute-all  # also time recomputing every cell
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

CELL = (34, 7, 0)


def _panel(out: Path, seed: int, kappa: float, **kw) -> tuple[float, dict, dict]:
    from bnverify.experiments.figures import make_figure

    t0 = time.perf_counter()
    res = make_figure("1", out, kappas=[kappa], seed=seed, progress=False, **kw)["1"]
    wall = time.perf_counter() - t0
    with np.load(out / f"fig1_kappa{int(kappa)}.npz") as z:
        data = {k: z[k] for k in z.files}
    return wall, res["panels"][0], data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--kappa", type=float, default=1000.0)
    ap.add_argument("--recompute-all", action="store_true")
    args = ap.parse_args()

    from bnverify.dynamics.batched import run
    from bnverify.experiments import fig1 as f1

    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    # load the compiled kernels (plain and trust) before timing
    p = f1.fig1_problem(args.kappa, f1.draw_u(args.seed))
    run(p, "bngd", eps=1.0, w0=p.u, steps=2)
    run(p, "bngd", eps=1.0, w0=p.u, steps=2, trust=True)

    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        t_plain, pp, _ = _panel(Path(d1), args.seed, args.kappa, trust=False)
        t_trust, pt, data = _panel(Path(d2), args.seed, args.kappa)
    tr = pt["trust"]
    print(
        f"plain float64 panel: {t_plain:6.2f} s  (sweep {pp['seconds']['sweep']:.2f} s, "
        f"spot check {pp['seconds']['mp']:.2f} s)"
    )
    print(
        f"trust panel:         {t_trust:6.2f} s  (sweep {pt['seconds']['sweep']:.2f} s, "
        f"recompute {pt['seconds']['recompute']:.2f} s, spot check {pt['seconds']['mp']:.2f} s)"
    )
    ratio = t_trust / t_plain
    target = 2 * t_plain + 10
    print(
        f"ratio trust/plain panel: {ratio:.2f}x; target 2 x plain + 10 s = "
        f"{target:.1f} s: {'met' if t_trust <= target else 'NOT met'}"
    )
    print(
        f"sweep only (engine trust overhead, issue: <= 2x): "
        f"{pt['seconds']['sweep'] / pp['seconds']['sweep']:.2f}x"
    )
    print(
        f"cells {tr['cells']}: untrusted in float64 {tr['untrusted_float64']}, recomputed "
        f"{tr['recomputed']} ({tr['recompute_unresolved']} unresolved, "
        f"{tr['colour_changed_by_recompute']} changed colour) in {tr['recompute_seconds']:.2f} s "
        f"(budget {tr['recompute_budget_s']:g} s, {tr['jobs']} workers), left untrusted "
        f"(hatched) {tr['left_untrusted']}"
    )
    i, j, k = CELL
    order = [
        tuple(c)
        for c in f1.recompute_order(
            dict(
                data,
                loss_bn=data["loss_bn_float64"],
                eff_step=data["eff_step_float64"],
                status=data["status_float64"],
            ),
            np.argwhere(~data["trusted"] | data["recomputed"]),
        )
    ]
    pos = order.index(CELL) if CELL in order else None
    print(
        f"issue cell {CELL}: float64 loss {data['loss_bn_float64'][CELL]:.4g} "
        f"(digits {data['digits'][CELL] if not data['recomputed'][CELL] else float('nan'):.3g}), "
        f"stored {data['loss_bn'][CELL]:.4g}, trusted {bool(data['trusted'][CELL])}, "
        f"recomputed {bool(data['recomputed'][CELL])}"
        + (
            f", position {pos + 1} of {len(order)} in the recomputation order"
            if pos is not None
            else ", trusted in float64"
        )
    )
    if not data["recomputed"][CELL]:
        t0 = time.perf_counter()
        ref = f1.mp_reference(data, i, j, k)
        print(
            f"  its high-precision value: {ref['loss']:.10g} at {ref['dps']} digits "
            f"(resolved {ref['resolved']}, {time.perf_counter() - t0:.2f} s)"
        )
    if args.recompute_all:
        with tempfile.TemporaryDirectory() as d3:
            t_all, pa, _ = _panel(Path(d3), args.seed, args.kappa, recompute_all=True)
        ta = pa["trust"]
        print(
            f"recompute_all panel: {t_all:.1f} s; recomputed {ta['recomputed']} of "
            f"{ta['untrusted_float64']} ({ta['recompute_unresolved']} unresolved, "
            f"{ta['colour_changed_by_recompute']} changed colour) in "
            f"{ta['recompute_seconds']:.1f} s"
        )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
