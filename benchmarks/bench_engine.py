"""Benchmark: one Fig. 1 panel (41 x 43 x 5 configurations, d = 100, 2000 steps, diagonal H).

Prints, measured in this process on this machine:
* the engine (``bnverify.dynamics.run``, default back end: numba kernel, parallel over configs);
* the engine's pure-numpy path (bit-identical results, checked here);
* a fused compiled reference kernel written plainly below (serial numba loop, one config at a
  time, no batching tricks) -- the target is engine time <= 1.5 x this;
* a per-configuration Python loop (numpy vectors, one configuration at a time), timed on a
  sample of configurations and extrapolated to the panel -- the target is engine >= 50 x faster;
* peak memory of the engine run (tracemalloc peak of Python/numpy allocations, and the process's
  maximum resident set size) -- target < 500 MB.

Run: ``python benchmarks/bench_engine.py [--steps 2000] [--sample 40]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import numba
import numpy as np

from bnverify.dynamics import run
from bnverify.model import OLSProblem


@numba.njit(cache=True)
def reference_fused_kernel(h, u, w0, eps_a, eps, a0, steps):  # pragma: no cover
    """Plain fused loop over configurations: BNGD Eq. 9-10 with diagonal H, final loss J."""
    d = h.shape[0]
    n = eps_a.shape[0]
    g = h * u
    out = np.empty(n)
    for b in range(n):
        w = w0.copy()
        a = a0[b]
        for _ in range(steps):
            wg = 0.0
            s2 = 0.0
            for i in range(d):
                wg += w[i] * g[i]
                s2 += h[i] * w[i] * w[i]
            sig = np.sqrt(s2)
            c = eps[b] * a / sig
            t = wg / s2
            for i in range(d):
                w[i] += c * (g[i] - t * h[i] * w[i])
            a += eps_a[b] * (wg / sig - a)
        s2 = 0.0
        for i in range(d):
            s2 += h[i] * w[i] * w[i]
        sig = np.sqrt(s2)
        loss = 0.0
        for i in range(d):
            e = u[i] - a / sig * w[i]
            loss += h[i] * e * e
        out[b] = 0.5 * loss
    return out


def python_loop(h, u, w0, eps_a, eps, a0, steps):
    """One configuration at a time, numpy vectors: the loop a user would write first."""
    g = h * u
    out = []
    for ea, e, a in zip(eps_a, eps, a0, strict=False):
        w = w0.copy()
        for _ in range(steps):
            wg = w @ g
            s2 = w @ (h * w)
            sig = np.sqrt(s2)
            w_new = w + e * a / sig * (g - wg / s2 * h * w)
            a = a + ea * (wg / sig - a)
            w = w_new
        sig = np.sqrt(w @ (h * w))
        r = u - a / sig * w
        out.append(0.5 * r @ (h * r))
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=40, help="configs timed in the Python loop")
    ap.add_argument("--kappa", type=float, default=1e3)
    args = ap.parse_args()

    d = 100
    rng = np.random.default_rng(0)
    h = np.logspace(0, np.log10(args.kappa), d)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    w0 = h * u / np.linalg.norm(h * u)
    eps_a = 1.99 * np.logspace(-10, 0, 41)
    eps = np.logspace(-5, 16, 43)
    a0 = np.array([10, 1, 1e-2, 1e-4, 1e-8])
    EA, E, A = np.meshgrid(eps_a, eps, a0, indexing="ij")
    n = EA.size
    p = OLSProblem(np.diag(h), u)
    print(
        f"Fig. 1 panel: {n} configurations, d = {d}, {args.steps} steps; "
        f"{os.cpu_count()} cores, numba threads {numba.get_num_threads()}"
    )

    # warm up compilations (cached on disk after the first run)
    run(p, "bngd", eps=E[:1, :1, :1], eps_a=EA[:1, :1, :1], a0=A[:1, :1, :1], w0=w0, steps=2)
    reference_fused_kernel(h, u, w0, EA.ravel()[:2], E.ravel()[:2], A.ravel()[:2], 2)

    tracemalloc.start()
    t = time.perf_counter()
    r = run(p, "bngd", eps=E, eps_a=EA, a0=A, w0=w0, steps=args.steps)
    t_engine = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux

    numba.set_num_threads(1)
    t = time.perf_counter()
    run(p, "bngd", eps=E, eps_a=EA, a0=A, w0=w0, steps=args.steps)
    t_engine1 = time.perf_counter() - t
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    t = time.perf_counter()
    ref = reference_fused_kernel(h, u, w0, EA.ravel(), E.ravel(), A.ravel(), args.steps)
    t_ref = time.perf_counter() - t

    t = time.perf_counter()
    r_np = run(p, "bngd", eps=E, eps_a=EA, a0=A, w0=w0, steps=args.steps, backend="numpy")
    t_numpy = time.perf_counter() - t
    identical = np.array_equal(r.loss, r_np.loss, equal_nan=True) and np.array_equal(r.w, r_np.w)

    idx = rng.choice(n, size=min(args.sample, n), replace=False)
    t = time.perf_counter()
    loop = python_loop(h, u, w0, EA.ravel()[idx], E.ravel()[idx], A.ravel()[idx], args.steps)
    t_loop = (time.perf_counter() - t) * n / len(idx)

    # the plain kernels round differently (e.g. (eps*a)/sigma vs eps*(a/sigma)); in cells where
    # the effective step hovers near 2/lambda_max the dynamics amplify rounding (a 50-digit run
    # is needed there: see docs), so agreement is reported as the fraction of cells within 1e-6
    fin = np.isfinite(ref) & np.isfinite(r.loss.ravel())
    close = np.isclose(ref[fin], r.loss.ravel()[fin], rtol=1e-6, atol=1e-12)
    agree = f"{close.mean():.1%} of cells within 1e-6"
    agree_loop = np.allclose(loop, r.loss.ravel()[idx], rtol=1e-6, atol=1e-12, equal_nan=True)

    print(f"engine (numba, parallel)      {t_engine:8.2f} s")
    print(f"engine (numba, 1 thread)      {t_engine1:8.2f} s")
    print(f"engine numpy path             {t_numpy:8.2f} s   bit-identical to numba: {identical}")
    print(f"fused compiled reference      {t_ref:8.2f} s   losses agree: {agree}")
    print(
        f"per-config Python loop (est.) {t_loop:8.1f} s   from {len(idx)} configs; agree: {agree_loop}"
    )
    print(f"ratio engine / fused kernel   {t_engine / t_ref:8.2f}   (target <= 1.5)")
    print(f"  same, engine on 1 thread    {t_engine1 / t_ref:8.2f}   (like for like: both serial)")
    print(f"speed-up vs Python loop       {t_loop / t_engine:8.1f}x  (target >= 50)")
    print(f"speed-up numpy path vs loop   {t_loop / t_numpy:8.1f}x")
    print(
        f"peak traced memory            {peak / 2**20:8.1f} MB (target < 500); max RSS {maxrss:.0f} MB"
    )


if __name__ == "__main__":
    main()
