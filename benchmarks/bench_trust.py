"""Benchmark: the float64 trust estimate (issue 11) -- its calibration and its overhead.

Prints, measured in this process on this machine:

* the calibration table: ``--n`` configurations (default 300; about 80 % at the edge of
  stability, where the late effective step ``eps^ lambda_max`` crosses 2 -- found by a float64
  search, see :mod:`bnverify.dynamics.calibration`), each run in float64 with the trust estimate
  and at 300 and 150 digits (the reference: the binary doubles of the inputs, the same problem);
  columns: configurations, references that are themselves stable, false trust (target 0),
  claims above the reference by more than one digit (target 0), float64 results below 8 correct
  digits, untrusted results, median digits claimed vs actual;
* the trust overhead on one Fig. 1 panel (kappa = 1000, the draw of seed 3, d = 100,
  41 x 43 x 5 configurations, 2000 steps): plain float64 engine vs the engine with trust, best of
  ``--repeat`` runs each, and their ratio (target <= 2).

Run: ``python benchmarks/bench_trust.py [--n 300] [--seed 5] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bnverify.dynamics.batched import TRUST_INJECTIONS, TRUST_SAFETY, run
from bnverify.dynamics.calibration import calibrate, calibration_set
from bnverify.experiments import fig1


def calibration(n: int, seed: int, steps: int) -> None:
    t = time.perf_counter()
    configs = calibration_set(n, seed=seed, steps=steps, edge_fraction=0.8)
    rows = calibrate(configs, ref_dps=300, trust_seed=seed)
    dt = time.perf_counter() - t
    ok = [r for r in rows if r["ref_ok"] and r["status"] != "diverged"]
    cl = np.array([r["claimed"] for r in ok])
    ac = np.array([min(r["actual"], 15.0) for r in ok])
    print(f"calibration: {n} configurations (seed {seed}, {steps} steps, "
          f"{sum(r['kind'] == 'edge' for r in rows)} at the edge of stability), {dt:.0f} s")
    print(f"  estimator: injections {TRUST_INJECTIONS}, safety factor {TRUST_SAFETY:g}")
    print(f"  references stable (300 vs 150 digits): {sum(r['ref_ok'] for r in rows)}")
    print(f"  false trust:                           {sum(r['false_trust'] for r in rows)}")
    print(f"  claims > actual + 1 digit:             {int(np.sum(cl > ac + 1))}")
    print(f"  float64 below 8 correct digits:        {int(np.sum(ac < 8))}")
    print(f"  untrusted (escalated by `run`):        {sum(not r['trusted'] for r in rows)}")
    print(f"  median digits claimed / actual:        {np.median(cl):.1f} / {np.median(ac):.1f}")
    low = ac < 8
    if low.any():
        print(f"  of the {int(low.sum())} below 8 digits, trusted: "
              f"{sum(r['trusted'] for r, lo in zip(ok, low, strict=True) if lo)}")


def overhead(repeat: int) -> None:
    s = fig1.Fig1Settings()
    u = fig1.draw_u(3)
    p = fig1.fig1_problem(1000.0, u)
    h = p.diagonal
    w0 = h * u / np.linalg.norm(h * u)

    def panel(trust: bool) -> tuple[float, int]:
        t = time.perf_counter()
        n_untrusted = 0
        for a0 in s.a0:
            r = run(p, "bngd", eps=s.eps[None, :], eps_a=s.eps_a[:, None], a0=float(a0), w0=w0,
                    steps=s.steps, trust=trust)
            if trust:
                n_untrusted += int((~r.trusted).sum())
        return time.perf_counter() - t, n_untrusted

    panel(False)
    panel(True)  # compile / load caches
    plain = min(panel(False)[0] for _ in range(repeat))
    trusted = []
    for _ in range(repeat):
        dt, nu = panel(True)
        trusted.append(dt)
    tr = min(trusted)
    cells = len(s.eps_a) * len(s.eps) * len(s.a0)
    print(f"overhead: Fig. 1 panel kappa = 1000 (seed 3), {cells} configurations, d = {s.d}, "
          f"{s.steps} steps, best of {repeat}")
    print(f"  plain float64 {plain:.2f} s, with trust {tr:.2f} s, ratio {tr / plain:.2f} "
          f"(target <= 2); untrusted cells {nu} of {cells}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-calibration", action="store_true")
    args = ap.parse_args()
    overhead(args.repeat)
    if not args.skip_calibration:
        calibration(args.n, args.seed, args.steps)


if __name__ == "__main__":
    main()
