"""Certified engine (ball arithmetic, python-flint): seconds for d = 6 and d = 100 at 2000 steps,
against mpmath (``run_mp(backend="mpmath")``) at the same precision, and the bits lost per step.

For each configuration (a stable one and one at the edge of stability, where the late effective
step ``eps^ * lambda_max`` sits near 2) it prints:

* ``cert s``: ``run_certified(precision="auto")`` wall time to certify >= 15 significant digits of
  the loss (all restarts included), the bits it ended at and the certified digits;
* ``lost/step``: bits of relative accuracy of the state lost per step in the final run (the
  wrapping effect plus what the dynamics amplify), and the same for a run with the naive update
  ``a + eps_a (w^T g / sigma - a)``, ``w + coef (g - t H w)`` (``--naive``: slower);
* ``mpmath s``: the same run in ``run_mp(backend="mpmath")`` at the same working precision
  (``--no-mpmath`` skips it: at thousands of bits and d = 100 it takes minutes); ``gmpy2 s``
  likewise with the default back end.

Targets (issue 13): d = 6 <= 2 s, d = 100 <= 30 s.

    python benchmarks/bench_certified.py [--no-mpmath] [--steps 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from bnverify.dynamics.batched import run
from bnverify.dynamics.certified import run_certified
from bnverify.dynamics.mp import run_mp
from bnverify.model import OLSProblem


def edge_eps(h, u, w0, a0, eps_a, steps):
    """The ``eps`` on a grid whose late effective step ``eps^ lambda_max`` is nearest 2 (float64
    search, as in :mod:`bnverify.dynamics.calibration`)."""
    lmax = max(h)
    grid = np.logspace(-2, 3, 121) / lmax * 2
    r = run(OLSProblem(np.asarray(h), u), "bngd", eps=grid, w0=w0, eps_a=eps_a, a0=a0, steps=steps,
            history_stride=max(steps // 20, 1))
    late = r.history["eff_step"][len(r.history["eff_step"]) // 2:] * lmax
    ok = np.all(np.isfinite(late), axis=0) & (r.status != 2)
    dist = np.where(ok, np.abs(np.log(np.abs(late[-1]) / 2.0 + 1e-300)), np.inf)
    return float(grid[int(np.argmin(dist))])


def configs(steps):
    out = []
    for d in (6, 100):
        rng = np.random.default_rng(d)
        h = np.logspace(0, 2, d).tolist()
        u = rng.normal(size=d).tolist()
        w0 = rng.normal(size=d).tolist()
        base = dict(H_diag=h, u=u, w0=w0, a0=1.0, eps_a=0.5, steps=steps)
        out.append((f"d={d} stable", dict(base, eps=0.01)))
        out.append((f"d={d} edge", dict(base, eps=edge_eps(h, u, w0, 1.0, 0.5, steps))))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--no-mpmath", action="store_true", help="skip the mpmath comparison")
    ap.add_argument("--naive", action="store_true", help="also measure the naive update's loss")
    args = ap.parse_args(argv)
    print(f"certified engine, {args.steps} steps, >= 15 certified digits of the loss")
    hdr = (f"{'config':<14} {'eps':>9} {'status':<10} {'cert s':>7} {'bits':>6} {'digits':>7} "
           f"{'lost/step':>9} {'gmpy2 s':>8} {'mpmath s':>9}")
    if args.naive:
        hdr += f" {'naive lost/step':>15}"
    print(hdr)
    for name, cfg in configs(args.steps):
        t0 = time.perf_counter()
        r = run_certified(precision="auto", **cfg)
        tc = time.perf_counter() - t0
        dps = max(5, int(r.bits * math.log10(2)))
        t0 = time.perf_counter()
        g = run_mp(precision=dps, **cfg)
        tg = time.perf_counter() - t0
        assert g.status == r.status, (g.status, r.status)
        tm = math.nan
        if not args.no_mpmath:
            t0 = time.perf_counter()
            run_mp(precision=dps, backend="mpmath", **cfg)
            tm = time.perf_counter() - t0
        line = (f"{name:<14} {cfg['eps']:>9.3g} {r.status:<10} {tc:>7.2f} {r.bits:>6} "
                f"{r.loss_digits if r.loss_digits is not None else float('nan'):>7.1f} "
                f"{r.bits_lost_per_step:>9.3f} {tg:>8.2f} {tm:>9.2f}")
        if args.naive:
            line += f" {naive_rate(cfg, r.bits):>15.3f}"
        print(line, flush=True)


def naive_rate(cfg, bits):
    """Bits lost per step by the naive ball update (the textbook form of Eq. 9-10)."""
    from flint import arb

    from bnverify.dynamics.certified import _prec

    with _prec(bits):
        h = [arb(x) for x in cfg["H_diag"]]
        u = [arb(x) for x in cfg["u"]]
        w = [arb(x) for x in cfg["w0"]]
        a, eps, ea = arb(cfg["a0"]), arb(cfg["eps"]), arb(cfg["eps_a"])
        g = [hi * ui for hi, ui in zip(h, u, strict=True)]
        steps = cfg["steps"]
        for k in range(steps):
            hw = [hi * wi for hi, wi in zip(h, w, strict=True)]
            wg = sum((wi * gi for wi, gi in zip(w, g, strict=True)), arb(0))
            s2 = sum((wi * x for wi, x in zip(w, hw, strict=True)), arb(0))
            acc = min(s2.rel_accuracy_bits(), a.rel_accuracy_bits())
            if acc < 30 or not s2 > 0:
                return (bits - acc) / max(k, 1)
            sig = s2.sqrt()
            t = wg / s2
            coef = eps * a / sig
            a = a + ea * (wg / sig - a)
            w = [wi + coef * (gi - t * x) for wi, gi, x in zip(w, g, hw, strict=True)]
        return (bits - min(s2.rel_accuracy_bits(), a.rel_accuracy_bits())) / steps


if __name__ == "__main__":
    main()
