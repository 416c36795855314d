"""Benchmark: the high-precision engine vs a plain mpmath list loop, same run.

d = 100 (H = diag(logspace(0, 3, 100))), 2000 BNGD steps at 50 significant digits.  The plain
loop is what a user writes first with mpmath (lists of mpf, ``mp.dps = 50``); the engine's
default back end uses MPFR numbers through gmpy2 (mpmath's own fast back end).  Both results are
compared to 45 digits.  Target: engine at least 4x faster.

Run: ``python benchmarks/bench_mp.py [--steps 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time

import mpmath
import numpy as np

from bnverify.dynamics.mp import run_mp


def plain_mpmath_loop(h, u, w0, a0, eps_a, eps, steps):
    with mpmath.workdps(50):
        h = [mpmath.mpf(x) for x in h]
        u = [mpmath.mpf(x) for x in u]
        w = [mpmath.mpf(x) for x in w0]
        a, eps_a, eps = mpmath.mpf(a0), mpmath.mpf(eps_a), mpmath.mpf(eps)
        g = [hi * ui for hi, ui in zip(h, u, strict=False)]
        for _ in range(steps):
            wg = mpmath.fsum(wi * gi for wi, gi in zip(w, g, strict=False))
            s2 = mpmath.fsum(hi * wi * wi for hi, wi in zip(h, w, strict=False))
            sig = mpmath.sqrt(s2)
            c = eps * a / sig
            t = wg / s2
            w = [wi + c * (gi - t * hi * wi) for wi, gi, hi in zip(w, g, h, strict=False)]
            a = a + eps_a * (wg / sig - a)
        sig = mpmath.sqrt(mpmath.fsum(hi * wi * wi for hi, wi in zip(h, w, strict=False)))
        r = [ui - a / sig * wi for ui, wi in zip(u, w, strict=False)]
        return mpmath.fsum(hi * ri * ri for hi, ri in zip(h, r, strict=False)) / 2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    d = 100
    rng = np.random.default_rng(0)
    h = np.logspace(0, 3, d)
    u = rng.standard_normal(d)
    w0 = rng.standard_normal(d)
    kw = dict(a0=1.0, eps_a=1.0, eps=0.01)
    print(f"d = {d}, {args.steps} steps, 50 digits, {os.cpu_count()} cores")

    t = time.perf_counter()
    ref = plain_mpmath_loop(h, u, w0, steps=args.steps, **kw)
    t_plain = time.perf_counter() - t

    t = time.perf_counter()
    r = run_mp(H_diag=list(h), u=list(u), w0=list(w0), steps=args.steps, precision=50, **kw)
    t_engine = time.perf_counter() - t

    t = time.perf_counter()
    r2 = run_mp(
        H_diag=list(h),
        u=list(u),
        w0=list(w0),
        steps=args.steps,
        precision=50,
        backend="mpmath",
        **kw,
    )
    t_engine_mpmath = time.perf_counter() - t

    with mpmath.workdps(60):
        agree = abs(r.loss - ref) <= mpmath.mpf(10) ** -45 * abs(ref)
        agree2 = abs(r.loss - r2.loss) <= mpmath.mpf(10) ** -45 * abs(ref)
    print(f"plain mpmath list loop        {t_plain:7.2f} s")
    print(f"engine, gmpy2 back end        {t_engine:7.2f} s   loss agrees to 45 digits: {agree}")
    print(f"engine, mpmath back end       {t_engine_mpmath:7.2f} s   agrees with gmpy2: {agree2}")
    print(f"speed-up engine vs plain loop {t_plain / t_engine:7.1f}x  (target >= 4)")


if __name__ == "__main__":
    main()
