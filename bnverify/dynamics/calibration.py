"""Calibration of the float64 trust estimate against high-precision reference runs.

A *calibration set* is a list of configurations (small d, diagonal or rotated ``H``, random
``u``, ``w0``, ``a0``, ``eps_a``) with ``eps`` chosen either at random or at the *edge of
stability*: where the late effective step ``eps^ * lambda_max`` (Eq. 11-12) is near 2, found by a
float64 search over a grid of ``eps``.  Those are the configurations in which the top eigen-mode
grows from a rounding-sized seed, i.e. where float64 loses its digits.

:func:`calibrate` runs each configuration in float64 with the trust estimate and at
``ref_dps`` digits (inputs: the binary doubles, so both engines solve the same problem), and
counts *false trust*: the estimate claiming more than one digit more than the reference grants,
or a trusted status that differs from the reference status.  ``benchmarks/bench_trust.py`` prints
the table; ``tests/test_trust.py`` runs a fixed set of 30+.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from ..model import OLSProblem
from .batched import FLOAT64_DIGITS, STATUS_NAMES, run
from .mp import run_mp


@dataclass
class CalibConfig:
    H: list  # dense (list of rows) or diagonal (list)
    diagonal: bool
    u: list
    w0: list
    a0: float
    eps_a: float
    eps: float
    method: str
    steps: int
    kind: str  # "edge" or "random"

    def problem(self) -> OLSProblem:
        return OLSProblem(np.asarray(self.H, dtype=float), self.u)

    def mp_kwargs(self) -> dict[str, Any]:
        key = "H_diag" if self.diagonal else "H"
        return {key: self.H, "u": self.u, "w0": self.w0, "a0": self.a0, "eps_a": self.eps_a,
                "eps": self.eps, "method": self.method, "steps": self.steps}


def _random_base(rng: np.random.Generator, steps: int, method: str):
    d = int(rng.integers(2, 7))
    kappa = 10 ** rng.uniform(1, 4)
    lam = np.logspace(0, np.log10(kappa), d) * rng.uniform(0.5, 2)
    rotated = bool(rng.random() < 0.3)
    if rotated:
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        H = (Q * lam) @ Q.T
        H = 0.5 * H + 0.5 * H.T  # exactly symmetric doubles: the problem both engines solve
        Hl: list = H.tolist()
    else:
        Hl = lam.tolist()
    u = rng.normal(size=d).tolist()
    w0 = rng.normal(size=d).tolist()
    a0 = float(10 ** rng.uniform(-2, 1))
    eps_a = float(10 ** rng.uniform(-3, np.log10(1.5)))
    return Hl, not rotated, u, w0, a0, eps_a, float(lam.max())


def from_config(cfg: dict[str, Any], kind: str = "given") -> CalibConfig:
    """A calibration configuration from a run configuration (JSON-like dict)."""
    diag = "H_diag" in cfg
    return CalibConfig(cfg["H_diag"] if diag else cfg["H"], diag, cfg["u"], cfg["w0"],
                       cfg["a0"], cfg["eps_a"], cfg["eps"], cfg.get("method", "bngd"),
                       int(cfg.get("steps", 1000)), kind)


def calibration_set(n: int, seed: int = 0, steps: int = 2000, edge_fraction: float = 0.6,
                    method: str = "bngd") -> list[CalibConfig]:
    """``n`` configurations; about ``edge_fraction`` of them at the edge of stability."""
    rng = np.random.default_rng(seed)
    out: list[CalibConfig] = []
    while len(out) < n:
        Hl, diag, u, w0, a0, eps_a, lmax = _random_base(rng, steps, method)
        if rng.random() < edge_fraction:
            # edge of stability: eps whose effective step eps^ * lambda_max crosses 2 in the
            # second half of the run (the top mode then grows from a rounding-sized seed), else
            # the one whose late effective step is nearest 2
            p = OLSProblem(np.asarray(Hl), u)
            grid = np.logspace(-2, 3, 121) / lmax * 2
            stride = max(steps // 20, 1)
            r = run(p, method, eps=grid, w0=w0, eps_a=eps_a, a0=a0, steps=steps,
                    history_stride=stride)
            eh = r.history["eff_step"] * lmax  # (records, grid)
            late = eh[len(eh) // 2:]
            ok = np.all(np.isfinite(late), axis=0) & (r.status != 2)
            if not ok.any():
                continue
            crosses = ok & (np.nanmax(late, axis=0) > 2) & (np.nanmin(late, axis=0) < 2)
            if crosses.any() and rng.random() < 0.7:
                i = int(rng.choice(np.flatnonzero(crosses)))
            else:
                dist = np.where(ok, np.abs(np.log(np.abs(late[-1]) / 2.0 + 1e-300)), np.inf)
                i = int(np.argmin(dist))
            eps = float(grid[i] * 10 ** rng.uniform(-0.004, 0.004))
            kind = "edge"
        else:
            eps = float(10 ** rng.uniform(-3, 3) / lmax * 2)
            kind = "random"
        out.append(CalibConfig(Hl, diag, u, w0, a0, eps_a, eps, method, steps, kind))
    return out


def actual_digits(x: float, ref: Any, floor: float) -> float:
    """Correct significant digits of ``x`` against ``ref`` relative to ``max(|ref|, floor)``."""
    if not np.isfinite(x):
        return 0.0
    err = abs(mpmath.mpf(x) - ref)
    scale = max(abs(ref), mpmath.mpf(floor))
    if err == 0:
        return FLOAT64_DIGITS + 1
    return float(max(0.0, -mpmath.log10(err / scale)))


def calibrate(configs: list[CalibConfig], ref_dps: int = 300, trust_seed: int = 0) -> list[dict]:
    """One row per configuration: claimed and actual digits of the loss, trusted, statuses,
    ``ref_ok`` (the ``ref_dps`` and ``ref_dps / 2`` runs agree on the status and to 30 digits of
    the loss: the reference is itself trustworthy) and ``false_trust`` (with a trustworthy
    reference: a trusted status that is wrong, or a claim of more than one digit beyond the
    reference's, trusted or not)."""
    rows = []
    for c in configs:
        p = c.problem()
        r = run(p, c.method, eps=c.eps, w0=c.w0, eps_a=c.eps_a, a0=c.a0, steps=c.steps,
                trust=True, trust_seed=trust_seed)
        m = run_mp(precision=ref_dps, **c.mp_kwargs())
        m2 = run_mp(precision=ref_dps // 2, **c.mp_kwargs())
        ref_ok = m.status == m2.status and (
            m.status == "diverged"
            or abs(m.loss - m2.loss) <= mpmath.mpf(10) ** -30 * max(abs(m.loss), 1e-300)
        )
        st = STATUS_NAMES[int(r.status)]
        floor = float(np.ravel(r.loss_floor)[0])  # the estimator's own scale for the loss
        act = actual_digits(float(r.loss), m.loss, floor) if st != "diverged" else float("nan")
        claimed = float(r.digits) if r.digits is not None and np.isfinite(r.digits) else float("nan")
        status_ok = st == m.status
        trusted = bool(r.trusted)
        over = st != "diverged" and np.isfinite(claimed) and claimed > act + 1
        false = ref_ok and ((trusted and not status_ok) or over)
        rows.append({"kind": c.kind, "d": len(c.u), "diagonal": c.diagonal, "status": st,
                     "ref_status": m.status, "claimed": claimed, "actual": act,
                     "trusted": trusted, "false_trust": bool(false), "ref_ok": bool(ref_ok),
                     "loss": float(r.loss), "ref_loss": float(m.loss)})
    return rows
