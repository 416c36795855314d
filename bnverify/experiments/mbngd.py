"""Fig. 5-8 of the paper (App. B.2; claims F5, F6, F7, F8, E81, T-B.1): MBNGD versus GD.

MBNGD (Eq. 81) is BNGD with ``a_k = w_k^T g / sigma_k`` enforced.  Setting as printed: ``u`` and
``w0`` uniform on the unit sphere, many random tests, the effective step (Eq. 11), the loss
``||e_k||_H^2`` and the error ``||e_k||`` (Eq. 13) after ``k`` steps, as functions of ``eps``,
averaged over the tests with the geometric mean ``exp(E ln x)`` (G-mean) and the arithmetic mean
(A-mean).  GD (Eq. 3) is run from the same ``w0`` on the same ``eps`` grid and at ``eps_opt``
(Eq. 5); its loss is ``||u - w_k||_H^2`` and its error ``||u - w_k||``.

* Fig. 5: ``d = 5``, ``H = diag(logspace(0, log10 2000, 5))``, 5000 steps, 300 tests.
* Fig. 6: ``d = 100``, ``H = diag(linspace(1, 2000, 100))``, 500 tests (steps not printed: 5000 as
  in Fig. 5).
* Fig. 7: width of the near-optimal eps interval versus ``d``, ``H = diag(linspace(1, 2000, d))``.
* Fig. 8: the same versus the condition number, ``H = diag(linspace(1, cond, 100))``.

"Near-optimal eps" follows App. B.2's own meaning ("we can choose step size in BN at a large
interval to get almost same or better convergence rate than that of the best choice for GD") with
the tolerance of the Fig. 1 caption (0.8): ``eps`` is near-optimal when the MBNGD convergence
exponent ``E ln(loss_k / loss_0)`` (the log of the G-mean loss reduction) is at least 0.8 times
that of GD at ``eps_opt`` -- the exponent GD itself reaches at ``0.8 eps_opt``.  The eps grids
are not printed in the paper; ours are stated in every summary.

Float64 trust (issue 11): every MBNGD and GD run carries its measured correct digits (the
engine's shadow copies, ``run(..., trust=True)``): ``trusted``/``digits`` for the MBNGD arrays
(tests, n_eps), ``gd_trusted``/``gd_digits`` and ``gd_opt_trusted``/``gd_opt_digits`` for GD.
Untrusted MBNGD runs (float64 lost its digits: edge-of-stability runs whose top mode grows
from a rounding-sized seed, mostly at d = 2 and 5) are recomputed at high precision
(:func:`mp_mbngd`, the 40/60/120/... digit ladder of Fig. 1) within a time budget per figure
(:data:`RECOMPUTE_BUDGET_S`; ``recompute_all`` lifts it), cheapest-to-decide first: the eps
columns with the most untrusted runs first, so that no eps value is left without a run.  Runs
still untrusted are excluded from every mean and statistic, and the summaries say how many.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..dynamics.batched import DIVERGED, run
from ..model import OLSProblem
from ..progress import ProgressBar
from .common import UNIT_ROUNDOFF, amean, gmean, unit_sphere
from .fig1 import (
    FIGURE_MIN_DIGITS,
    MP_LADDER,
    MP_STABLE_DIGITS,
    RECOMPUTE_BUDGET_S,
    CellPool,
    _agree_digits,
    cells_for_budget,
    climb_ladder,
)

#: near-optimal: MBNGD exponent >= NEAR_RATIO x GD(opt)'s (Fig. 1's 0.8 tolerance)
NEAR_RATIO = 0.8
#: "observably better" / "not noticeably better" (F5 / F6): the best MBNGD exponent is at least /
#: below 1/0.8 = 1.25 times GD(opt)'s, the same tolerance read the other way
BETTER_RATIO = 1.0 / 0.8
#: F7: a clear increasing trend of the width with d (Kendall's tau over the d values)
TREND_TAU = 0.6
#: F8: "little effect": all widths within a factor 1.25 (= 1/0.8) of each other
LITTLE_FACTOR = 1.0 / 0.8
#: F5: G-mean "more reliable" when its late fluctuation is smaller at a majority of eps values
RELIABLE_MAJORITY = 0.5

DEFAULT_EPS = np.logspace(-5, 4, 37)  # quarter decades (Fig. 5, cheap at d = 5)
HALF_EPS = np.logspace(-5, 4, 19)  # half decades (Fig. 6-8 default; Fig. 5 quick)
QUICK_EPS = np.logspace(-5, 4, 10)  # whole decades (Fig. 6 quick)
#: Fig. 7/8 need the interval's left edge inside the grid at every d and cond (at d >= 20 the
#: exponent ratio is still ~0.8 at eps = 1e-5), hence two more decades on the left
INTERVAL_EPS = np.logspace(-7, 4, 23)
INTERVAL_EPS_QUICK = np.logspace(-7, 4, 12)


@dataclass
class SweepSettings:
    """One MBNGD/GD sweep: a spectrum ``h``, ``tests`` random (u, w0) pairs, ``steps``, eps grid."""

    h: np.ndarray
    tests: int
    steps: int
    eps: np.ndarray = field(default_factory=lambda: DEFAULT_EPS.copy())
    seed: int = 0
    label: str = ""
    kappa_star_tests: int = 20  # kappa* (Eq. 27) costs a dense eigen-solve per test
    trust: bool = True  # measure each run's correct digits (engine's shadow copies)
    min_digits: float = FIGURE_MIN_DIGITS
    recompute_budget_s: float = RECOMPUTE_BUDGET_S  # high-precision recomputation (per sweep)
    recompute_all: bool = False

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        h = np.asarray(self.h)
        out["h"] = {"d": int(h.size), "min": float(h.min()), "max": float(h.max())}
        out["eps"] = {
            "n": int(len(self.eps)),
            "min": float(self.eps[0]),
            "max": float(self.eps[-1]),
        }
        return out


def fig5_settings(quick: bool = False, seed: int = 0) -> SweepSettings:
    """Fig. 5: d = 5, H = diag(logspace(0, log10 2000, 5)), 5000 steps, 300 tests (quick: 60)."""
    return SweepSettings(
        np.logspace(0, math.log10(2000), 5),
        60 if quick else 300,
        5000,
        (HALF_EPS if quick else DEFAULT_EPS).copy(),
        seed,
        "fig5",
        60 if quick else 300,
    )


def fig6_settings(quick: bool = False, seed: int = 0) -> SweepSettings:
    """Fig. 6: d = 100, H = diag(linspace(1, 2000, 100)), 500 tests (quick: 40), 5000 steps."""
    return SweepSettings(
        np.linspace(1, 2000, 100),
        40 if quick else 500,
        5000,
        (QUICK_EPS if quick else HALF_EPS).copy(),
        seed,
        "fig6",
        8 if quick else 40,
    )


FIG7_DIMS = (2, 5, 10, 20, 50, 100, 200)
FIG7_DIMS_QUICK = (2, 10, 50, 200)
FIG8_CONDS = (10.0, 100.0, 1000.0, 1e4)
FIG8_CONDS_QUICK = (10.0, 100.0, 1000.0)
#: Fig. 7/8 horizon: each spectrum runs for the number of steps in which GD at eps_opt reduces
#: its loss bound by this factor (rho^(2k) = 1e-4, Eq. 4-5), so that every point is compared at
#: the same stage of convergence and none saturates at the rounding floor (a fixed 2000 steps
#: would put GD at kappa = 10 or 100 on the floor and make its interval meaningless)
HORIZON_REDUCTION = 1e-4


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No floating-point or empty-slice warnings: a column whose runs are all excluded as
    untrusted gives NaN, which the statistics handle."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def horizon_steps(kappa: float, reduction: float = HORIZON_REDUCTION) -> int:
    """``k`` with ``((kappa-1)/(kappa+1))^(2k) = reduction`` (rounded up)."""
    rho = (kappa - 1) / (kappa + 1)
    return max(int(math.ceil(math.log(reduction) / (2 * math.log(rho)))), 2)


def interval_settings(quick: bool = False) -> dict[str, Any]:
    """Fig. 7/8 sizes (not printed in the paper): tests per point and eps grid; steps come from
    :func:`horizon_steps`."""
    return {
        "tests": 12 if quick else 30,
        "eps": (INTERVAL_EPS_QUICK if quick else INTERVAL_EPS).copy(),
    }


def _floor(h: np.ndarray) -> float:
    """Rounding floor of a loss ``||e||_H^2`` with ``||u|| = 1`` (cf. ``fig1.loss_floor``)."""
    return (256 * UNIT_ROUNDOFF) ** 2 * float(np.max(h))


def e_vectors(h: np.ndarray, U: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``e = u - (w^T g / sigma^2) w`` (Eq. 13, 35) for a diagonal ``H = diag(h)``, batched over
    leading axes (``U`` broadcasts against ``W``).  The same formula as ``OLSProblem.e``;
    ``tests/experiments`` checks that they agree."""
    G = h * U
    t = np.sum(W * G, axis=-1, keepdims=True) / np.sum(h * W * W, axis=-1, keepdims=True)
    return U - t * W


def compute_sweep(
    s: SweepSettings,
    progress: ProgressBar | None = None,
    chunks: int = 1,
    pool: CellPool | None = None,
) -> dict[str, Any]:
    """Run MBNGD on ``tests x eps`` and GD on the same grid and at ``eps_opt``.

    Returns arrays ``u, w0`` (tests, d), ``eps``, ``mb_eff_step, mb_loss, mb_err, mb_loss0``
    (tests, n_eps), ``mb_loss_half`` (loss at steps/2), ``gd_loss, gd_err`` (tests, n_eps; NaN where GD diverged), ``gd_opt_loss,
    gd_opt_err, gd_loss0, gd_opt_loss_half`` (tests,), ``kappa_star`` (first 50 tests), ``mb_status, gd_status`` codes
    (2 = diverged), ``eps_opt``, ``kappa``, ``steps``, ``h``, ``loss_floor``.
    The tests are drawn from ``default_rng([seed, 5])``: u first, then w0.

    With ``s.trust`` (default) also ``trusted``/``digits`` (tests, n_eps) for MBNGD (the
    engine's verdict on the loss -- relative to ``loss_floor`` -- and at least ``min_digits``
    digits of eps^; the path minimum over the run covers ``mb_loss_half``), ``gd_trusted``/
    ``gd_digits`` (tests, n_eps) and ``gd_opt_trusted``/``gd_opt_digits`` (tests,)."""
    rng = np.random.default_rng([s.seed, 5])
    h = np.asarray(s.h, dtype=float)
    d = h.size
    U = unit_sphere(rng, s.tests, d)
    W0 = unit_sphere(rng, s.tests, d)
    eps = np.asarray(s.eps, dtype=float)
    base = OLSProblem.from_diagonal(h, U[0])  # H and eps_opt; u is set per test below
    n_eps = eps.size
    mb = {k: np.empty((s.tests, n_eps)) for k in ("eff_step", "loss", "err", "loss0")}
    gd = {k: np.empty((s.tests, n_eps)) for k in ("loss", "err")}
    mb_status = np.empty((s.tests, n_eps), dtype=np.int8)
    gd_status = np.empty((s.tests, n_eps), dtype=np.int8)
    mb["loss_half"] = np.empty((s.tests, n_eps))
    floor = _floor(h)
    tkw: dict[str, Any] = (
        # the engine's loss is J = ||e||_H^2 / 2: half of this file's floor
        dict(trust=True, min_digits=float(s.min_digits), loss_floor=floor / 2, trust_seed=s.seed)
        if s.trust
        else {}
    )
    trust = {k: np.ones((s.tests, n_eps), dtype=bool) for k in ("trusted", "gd_trusted")}
    digits = {k: np.full((s.tests, n_eps), np.nan) for k in ("digits", "gd_digits")}
    bounds = np.linspace(0, s.tests, max(1, min(chunks, s.tests)) + 1).astype(int)
    half = max(s.steps // 2, 1)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        Uc, Wc = U[lo:hi, None, :], W0[lo:hi, None, :]
        r = run(
            base, "mbngd", eps=eps[None, :], w0=Wc, u=Uc, steps=s.steps, history_stride=half, **tkw
        )
        g = run(base, "gd", eps=eps[None, :], w0=Wc, u=Uc, steps=s.steps, **tkw)
        if s.trust:
            rdiv = r.status == DIVERGED
            trust["trusted"][lo:hi] = r.trusted & (rdiv | (r.digits_eff >= s.min_digits))
            digits["digits"][lo:hi] = r.digits
            trust["gd_trusted"][lo:hi] = g.trusted
            digits["gd_digits"][lo:hi] = g.digits
        mb["eff_step"][lo:hi] = r.eff_step
        mb["loss"][lo:hi] = r.e_norm_H**2
        mb["loss0"][lo:hi] = r.history["e_norm_H"][0] ** 2
        mb["loss_half"][lo:hi] = r.history["e_norm_H"][1] ** 2 if s.steps >= 2 else np.nan
        mb["err"][lo:hi] = np.linalg.norm(e_vectors(h, Uc, r.w), axis=-1)
        mb_status[lo:hi] = r.status
        gd_status[lo:hi] = g.status
        gdiv = g.status == DIVERGED
        gd["loss"][lo:hi] = np.where(gdiv, np.nan, g.e_norm_H**2)
        gd["err"][lo:hi] = np.where(gdiv, np.nan, np.linalg.norm(Uc - g.w, axis=-1))
        if progress is not None:
            progress.update()
    g0 = run(base, "gd", eps=base.eps_opt, w0=W0, u=U, steps=s.steps, history_stride=half, **tkw)
    n_ks = min(s.tests, s.kappa_star_tests)
    kappa_star = np.array([OLSProblem.from_diagonal(h, U[t]).kappa_star for t in range(n_ks)])
    extra: dict[str, Any] = {}
    if s.trust:
        extra = {
            **trust,
            **digits,
            "gd_opt_trusted": np.asarray(g0.trusted, dtype=bool),
            "gd_opt_digits": np.asarray(g0.digits, dtype=float),
            "min_digits": float(s.min_digits),
        }
    out = {
        "h": h,
        "u": U,
        "w0": W0,
        "eps": eps,
        "steps": int(s.steps),
        "tests": int(s.tests),
        "seed": int(s.seed),
        "kappa": float(h.max() / h.min()),
        "eps_opt": base.eps_opt,
        "mb_eff_step": mb["eff_step"],
        "mb_loss": mb["loss"],
        "mb_err": mb["err"],
        "mb_loss0": mb["loss0"],
        "mb_status": mb_status,
        "gd_loss": gd["loss"],
        "gd_err": gd["err"],
        "gd_status": gd_status,
        "mb_loss_half": mb["loss_half"],
        "gd_opt_loss": g0.e_norm_H**2,
        "gd_opt_err": np.linalg.norm(U - g0.w, axis=-1),
        "gd_loss0": g0.history["e_norm_H"][0] ** 2,
        "gd_opt_loss_half": g0.history["e_norm_H"][1] ** 2 if s.steps >= 2 else np.nan,
        "kappa_star": kappa_star,
        "loss_floor": floor,
        **extra,
    }
    if s.trust:
        budget = math.inf if s.recompute_all else float(s.recompute_budget_s)
        if pool is None:
            with CellPool(1) as own:
                recompute_untrusted_runs(out, own, budget)
        else:
            recompute_untrusted_runs(out, pool, budget)
    return out


def mp_mbngd(
    cfg: dict[str, Any], ladder: tuple[int, ...] = MP_LADDER, deadline: float = math.inf
) -> dict[str, Any]:
    """High-precision value of one MBNGD run (``cfg``: ``h, u, w0`` lists, ``eps, steps,
    loss_floor``): ``run_mp(method="mbngd")`` up the ``ladder`` until two successive precisions
    give the same status and agree to ``MP_STABLE_DIGITS`` digits in the loss ``||e||_H^2``
    (relative to ``max(loss, loss_floor)``), the loss at ``steps // 2`` and eps^.  Returns
    ``loss, loss_half, eff_step, err`` (``||e||``, Eq. 13), ``status``, ``dps``, ``digits``,
    ``resolved``, ``seconds``; ``deadline`` (``time.time()``) as in
    :func:`bnverify.experiments.fig1.mp_ladder`.  Top-level, for worker processes."""
    import mpmath

    from ..dynamics.mp import run_mp

    floor = float(cfg.get("loss_floor", 0.0))
    steps = int(cfg["steps"])
    half = max(steps // 2, 1)

    def evaluate(dps: int) -> dict[str, Any]:
        r = run_mp(
            H_diag=cfg["h"],
            u=cfg["u"],
            w0=cfg["w0"],
            eps=float(cfg["eps"]),
            method="mbngd",
            steps=steps,
            precision=dps,
            history_stride=half,
        )
        with mpmath.workdps(dps):
            h = [mpmath.mpf(x) for x in cfg["h"]]
            u = [mpmath.mpf(x) for x in cfg["u"]]
            w = list(r.w)
            wg = mpmath.fsum(wi * hi * ui for wi, hi, ui in zip(w, h, u, strict=True))
            s2 = mpmath.fsum(hi * wi * wi for wi, hi in zip(w, h, strict=True))
            t = wg / s2
            err = mpmath.sqrt(mpmath.fsum((ui - t * wi) ** 2 for ui, wi in zip(u, w, strict=True)))
        hist = r.history.get("e_norm_H", [])
        return {
            "dps": dps,
            "status": r.status,
            "loss": float(r.e_norm_H) ** 2,
            "loss_half": float(hist[1]) ** 2 if steps >= 2 and len(hist) > 1 else math.nan,
            "eff_step": float(r.eff_step),
            "err": float(err),
            "digits": math.nan,
        }

    def agree(prev: dict[str, Any], cur: dict[str, Any]) -> tuple[bool, float]:
        dig = _agree_digits(prev["loss"], cur["loss"], floor)
        ok = (
            dig >= MP_STABLE_DIGITS
            and _agree_digits(prev["loss_half"], cur["loss_half"], floor) >= MP_STABLE_DIGITS
            and _agree_digits(prev["eff_step"], cur["eff_step"]) >= MP_STABLE_DIGITS
        )
        return ok, dig

    return climb_ladder(ladder, deadline, evaluate, agree)


def recompute_untrusted_runs(
    data: dict[str, Any],
    pool: CellPool,
    budget_s: float = RECOMPUTE_BUDGET_S,
    ladder: tuple[int, ...] = MP_LADDER,
) -> dict[str, Any]:
    """Recompute the untrusted MBNGD runs of a sweep at high precision (:func:`mp_mbngd`) in
    ``pool``: the first ``cells_for_budget(budget_s)`` runs (``math.inf``: all), the eps columns with
    the most untrusted runs first (a column left without any trusted run has no mean), tests in
    order within a column.

    ``data`` is updated in place: ``mb_loss_float64``, ``mb_eff_step_float64`` keep the float64
    values; a settled run's ``mb_loss``, ``mb_loss_half``, ``mb_eff_step``, ``mb_err`` take the
    high-precision values, ``trusted`` becomes True, ``digits`` the precisions' agreement and
    ``recomputed`` True.  Returns (and stores as ``_recompute``) the counts and seconds."""
    import time

    t0 = time.perf_counter()
    tm = np.asarray(data["trusted"], dtype=bool)
    data.setdefault("mb_loss_float64", np.array(data["mb_loss"], dtype=float, copy=True))
    data.setdefault("mb_eff_step_float64", np.array(data["mb_eff_step"], dtype=float, copy=True))
    data.setdefault("recomputed", np.zeros(tm.shape, dtype=bool))
    cells = np.argwhere(~tm)
    if len(cells):
        col = (~tm).sum(axis=0)
        cells = cells[np.lexsort((cells[:, 0], -col[cells[:, 1]]))]
    h = [float(x) for x in data["h"]]
    cfgs = [
        {
            "h": h,
            "u": [float(x) for x in data["u"][t]],
            "w0": [float(x) for x in data["w0"][t]],
            "eps": float(data["eps"][j]),
            "steps": int(data["steps"]),
            "loss_floor": float(data["loss_floor"]),
        }
        for t, j in cells
    ]
    n_take = cells_for_budget(budget_s)  # a count, not a deadline: reproducible verdicts
    if math.isfinite(n_take):
        cells, cfgs = cells[: int(n_take)], cfgs[: int(n_take)]
    res = pool.run(cfgs, tuple(ladder), math.inf, fn=mp_mbngd) if cfgs else []
    n_att = n_ok = 0
    for (t, j), ref in zip(cells, res, strict=False):
        if ref is None:
            continue
        n_att += 1
        if not ref["resolved"]:
            continue
        n_ok += 1
        data["mb_loss"][t, j] = ref["loss"]
        data["mb_loss_half"][t, j] = ref["loss_half"]
        data["mb_eff_step"][t, j] = ref["eff_step"]
        data["mb_err"][t, j] = ref["err"]
        data["mb_status"][t, j] = {"diverged": DIVERGED, "converged": 1}.get(ref["status"], 0)
        data["trusted"][t, j] = True
        data["digits"][t, j] = ref["digits"]
        data["recomputed"][t, j] = True
    info = {
        "untrusted_float64": int(len(cells)),
        "recompute_attempted": n_att,
        "recomputed": n_ok,
        "recompute_unresolved": n_att - n_ok,
        "left_untrusted": int((~np.asarray(data["trusted"], dtype=bool)).sum()),
        "recompute_seconds": round(time.perf_counter() - t0, 3),
        "recompute_budget_s": float(budget_s),
        "jobs": pool.jobs,
    }
    data["_recompute"] = info
    return info


def trusted_masks(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(MBNGD (tests, n_eps), GD (tests, n_eps), GD(opt) (tests,))`` masks of the runs that
    may be counted: the measured ``trusted`` arrays, or all runs for data without them."""
    shape = np.shape(data["mb_loss"])
    mb = np.asarray(data.get("trusted", np.ones(shape, dtype=bool)), dtype=bool)
    gd = np.asarray(data.get("gd_trusted", np.ones(shape, dtype=bool)), dtype=bool)
    g0 = np.asarray(
        data.get("gd_opt_trusted", np.ones(np.shape(data["gd_opt_loss"]), dtype=bool)), dtype=bool
    )
    return mb, gd, g0


# ----------------------------------------------------------------------------------------------
# analysis
# ----------------------------------------------------------------------------------------------


def exponent_ratio(data: dict[str, Any]) -> np.ndarray:
    """``R(eps) = E ln(loss_k/loss_0)[MBNGD at eps] / E ln(loss_k/loss_0)[GD at eps_opt]``, the
    G-mean convergence exponent relative to optimal GD (1 = as fast as GD(opt)); losses are
    clipped at the rounding floor; untrusted runs are left out of both means."""
    fl = float(data["loss_floor"])
    tm, _, t0 = trusted_masks(data)
    with _quiet():
        mb = np.log(np.maximum(data["mb_loss"], fl) / data["mb_loss0"])
        mb = np.nanmean(np.where(tm, mb, np.nan), axis=0)
        gd = np.log(np.maximum(data["gd_opt_loss"], fl) / data["gd_loss0"])
        gd = np.nanmean(np.where(t0, gd, np.nan))
    return mb / gd


def late_rate_ratio(data: dict[str, Any]) -> np.ndarray:
    """The asymptotic reading of "convergence rate": ``E ln(loss_k / loss_{k/2})`` of MBNGD at
    each eps over the same quantity for GD at eps_opt (per-step rates over the second half of the
    run; 1 = the same rate as GD(opt), whose late rate is ``rho^2``, Eq. 5).  Losses clipped at
    the rounding floor; untrusted runs are left out of both means."""
    fl = float(data["loss_floor"])
    tm, _, t0 = trusted_masks(data)
    with _quiet():
        mb = np.log(np.maximum(data["mb_loss"], fl) / np.maximum(data["mb_loss_half"], fl))
        mb = np.nanmean(np.where(tm, mb, np.nan), axis=0)
        gd = np.log(np.maximum(data["gd_opt_loss"], fl) / np.maximum(data["gd_opt_loss_half"], fl))
        gd = np.nanmean(np.where(t0, gd, np.nan))
    return mb / gd


def bootstrap_se(
    x: np.ndarray, rng: np.random.Generator, n_boot: int = 200
) -> dict[str, np.ndarray]:
    """Bootstrap standard errors (over the tests, axis 0) of ``ln G-mean`` and ``ln A-mean``: how
    well each mean is known from the tests at hand, in the log units in which the paper plots
    them.  The smaller one "converges quickly when the number of tests increase" (App. B.2).
    NaN entries (excluded runs) are ignored."""
    x = np.asarray(x, dtype=float)
    T = x.shape[0]
    idx = rng.integers(0, T, size=(n_boot, T))
    with _quiet():
        lx = np.log(np.maximum(x, 1e-300))  # NaN (excluded runs) stays NaN
        lg = np.array([np.nanmean(lx[i], axis=0) for i in idx])
        la = np.array([np.log(np.nanmean(x[i], axis=0)) for i in idx])
        return {"se_ln_gmean": np.nanstd(lg, axis=0), "se_ln_amean": np.nanstd(la, axis=0)}


def interval_width(
    log_eps: np.ndarray, ratio: np.ndarray, threshold: float = NEAR_RATIO, upper: bool = False
) -> float:
    """Length in decades of ``{log10 eps : R >= threshold}`` for ``R`` linear between grid points.

    A NaN ratio (every run at that eps excluded as untrusted) leaves its two segments out (the
    lower bound); ``upper``: counts it as above the threshold (the upper bound)."""
    if upper:
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
    total = 0.0
    for x0, x1, r0, r1 in zip(log_eps[:-1], log_eps[1:], ratio[:-1], ratio[1:], strict=False):
        a, b = r0 >= threshold, r1 >= threshold
        if a and b:
            total += x1 - x0
            continue
        if not (np.isfinite(r0) and np.isfinite(r1)):
            continue
        elif a or b:
            hi, lo = (r0, r1) if a else (r1, r0)
            total += (x1 - x0) * (hi - threshold) / (hi - lo)
    return float(total)


def interval_edges(
    log_eps: np.ndarray, ratio: np.ndarray, threshold: float = NEAR_RATIO
) -> dict[str, Any]:
    """Outermost crossings of ``R = threshold`` (log10 eps, linear interpolation) and whether the
    interval reaches the grid's ends (then its width is a lower bound)."""
    above = np.where(np.nan_to_num(ratio, nan=-np.inf) >= threshold)[0]
    if above.size == 0:
        return {
            "left": float("nan"),
            "right": float("nan"),
            "truncated_left": False,
            "truncated_right": False,
        }

    def cross(i0, i1):
        r0, r1 = ratio[i0], ratio[i1]
        return float(log_eps[i0] + (log_eps[i1] - log_eps[i0]) * (threshold - r0) / (r1 - r0))

    lo, hi = int(above[0]), int(above[-1])
    left = float(log_eps[0]) if lo == 0 else cross(lo - 1, lo)
    right = float(log_eps[-1]) if hi == len(ratio) - 1 else cross(hi, hi + 1)
    return {
        "left": left,
        "right": right,
        "truncated_left": lo == 0,
        "truncated_right": hi == len(ratio) - 1,
    }


def running_stability(x: np.ndarray) -> dict[str, np.ndarray]:
    """For samples ``x`` (tests, n_eps): running G-mean and A-mean over the first n tests, and the
    late fluctuation ``max_{n >= N/2} |ln(M_n / M_N)|`` of each (how far the mean still moves
    once half of the tests are in; small = "converges quickly when the number of tests
    increases", App. B.2)."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    n = np.cumsum(ok, axis=0)  # tests counted so far (NaN entries -- excluded runs -- skipped)
    with _quiet():
        lx = np.where(ok, np.log(np.maximum(x, 1e-300)), 0.0)
        run_g = np.exp(np.cumsum(lx, axis=0) / n)
        run_a = np.cumsum(np.where(ok, x, 0.0), axis=0) / n
        half = x.shape[0] // 2
        fl_g = np.nanmax(np.abs(np.log(run_g[half:] / run_g[-1])), axis=0)
        fl_a = np.nanmax(np.abs(np.log(run_a[half:] / run_a[-1])), axis=0)
    return {
        "running_gmean": run_g,
        "running_amean": run_a,
        "fluct_gmean": fl_g,
        "fluct_amean": fl_a,
    }


def analyse_sweep(data: dict[str, Any]) -> dict[str, Any]:
    """Means over tests, the exponent ratio R(eps), the near-optimal interval, the best MBNGD
    versus GD(opt), the kappa* prediction (S3.acceleration) and the G-mean/A-mean stability."""
    eps = np.asarray(data["eps"])
    tm, tg, t0 = trusted_masks(data)
    div_mb = data["mb_status"] == DIVERGED
    ok_mb = ~div_mb & tm  # counted: not diverged and trusted
    stats: dict[str, Any] = {}
    with _quiet():
        for key in ("eff_step", "loss", "err"):
            v = np.where(ok_mb, np.abs(data[f"mb_{key}"]), np.nan)
            stats[f"mb_{key}_gmean"] = gmean(v)
            stats[f"mb_{key}_amean"] = amean(v)
    with _quiet():
        for key in ("loss", "err"):
            v = np.where(tg, np.asarray(data[f"gd_{key}"], dtype=float), np.nan)
            stats[f"gd_{key}_gmean"] = np.exp(np.mean(np.log(np.maximum(v, 1e-300)), axis=0))
            v0 = np.where(t0, np.asarray(data[f"gd_opt_{key}"], dtype=float), np.nan)
            stats[f"gd_opt_{key}_gmean"] = float(gmean(v0))
    R = exponent_ratio(data)
    late = late_rate_ratio(data)
    ibest = int(np.nanargmax(R))
    ilate = int(np.nanargmax(late))
    losses = np.where(ok_mb, data["mb_loss"], np.nan)
    st = running_stability(losses)
    se = bootstrap_se(losses, np.random.default_rng([int(data.get("seed", 0)), 55]))
    g_better = se["se_ln_gmean"] < se["se_ln_amean"]
    stats["running_gmean"] = st["running_gmean"][:, ibest]
    stats["running_amean"] = st["running_amean"][:, ibest]
    stats["running_eps"] = float(eps[ibest])
    stats["se_ln_gmean"] = se["se_ln_gmean"]
    stats["se_ln_amean"] = se["se_ln_amean"]
    kap = float(data["kappa"])
    ks = np.asarray(data["kappa_star"])
    with _quiet():
        pred = (
            float(np.mean(np.log((ks - 1) / (ks + 1))) / math.log((kap - 1) / (kap + 1)))
            if ks.size
            else float("nan")
        )
    eps_opt = float(data["eps_opt"])
    eff_g = stats["mb_eff_step_gmean"]
    near_eff = (eff_g > NEAR_RATIO * eps_opt) & (eff_g < eps_opt / NEAR_RATIO)
    with _quiet():
        at_floor = np.nanmean(
            np.where(tm, np.asarray(data["mb_loss"]) <= float(data["loss_floor"]), np.nan), axis=0
        )
    near_rate = R >= NEAR_RATIO
    # App. B.2: eps^ = O(C / eps) for large eps -- the log-log slope over the last 2 decades
    tail = np.log10(eps) >= np.log10(eps[-1]) - 2
    slope_large = float(np.polyfit(np.log10(eps[tail]), np.log10(eff_g[tail]), 1)[0])
    summary = {
        "d": int(np.asarray(data["h"]).size),
        "kappa": kap,
        "tests": int(data["tests"]),
        "steps": int(data["steps"]),
        "eps_grid": {"n": int(eps.size), "min": float(eps[0]), "max": float(eps[-1])},
        "eps_opt": eps_opt,
        "mbngd_diverged": int((div_mb & tm).sum()),
        "mbngd_converged_or_running": int(ok_mb.sum()),
        "untrusted_excluded": {
            "mbngd": int((~tm).sum()),
            "gd": int((~tg).sum()),
            "gd_opt": int((~t0).sum()),
            "runs": int(tm.size + tg.size + t0.size),
        },
        "untrusted_mbngd_by_eps": (~tm).sum(axis=0),
        "recomputed_mbngd": int(np.asarray(data.get("recomputed", False)).sum()),
        "min_digits": float(data.get("min_digits", float("nan"))),
        "exponent_ratio": R,
        "late_rate_ratio": late,
        "best_eps": float(eps[ibest]),
        "best_exponent_ratio": float(R[ibest]),
        "best_late_eps": float(eps[ilate]),
        "best_late_rate_ratio": float(late[ilate]),
        "best_mb_loss_gmean": float(stats["mb_loss_gmean"][ibest]),
        "gd_opt_loss_gmean": stats["gd_opt_loss_gmean"],
        "best_gd_grid_loss_gmean": float(np.nanmin(stats["gd_loss_gmean"])),
        "best_gd_grid_eps": float(eps[int(np.nanargmin(stats["gd_loss_gmean"]))]),
        "loss_ratio_best_mb_over_gd_opt": float(
            stats["mb_loss_gmean"][ibest] / stats["gd_opt_loss_gmean"]
        ),
        "kappa_star_gmean": float(gmean(ks)) if ks.size else float("nan"),
        "kappa_star_tests": int(ks.size),
        "kappa_star_predicted_rate_ratio": pred,
        "near_optimal_width_decades": interval_width(np.log10(eps), R),
        "near_optimal_edges_log10_eps": interval_edges(np.log10(eps), R),
        "near_optimal_width_late_rate_decades": interval_width(np.log10(eps), late),
        "near_optimal_eff_step_points": int(near_eff.sum()),
        "max_fraction_tests_at_rounding_floor": float(np.max(at_floor)),
        "gd_band_decades": math.log10(1 / NEAR_RATIO**2),
        "fraction_eps_gmean_smaller_se": float(np.mean(g_better)),
        "fraction_eps_gmean_smaller_se_near_optimal": (
            float(np.mean(g_better[near_rate])) if near_rate.any() else float("nan")
        ),
        "fraction_eps_gmean_smaller_se_elsewhere": (
            float(np.mean(g_better[~near_rate])) if (~near_rate).any() else float("nan")
        ),
        "eff_step_loglog_slope_large_eps": slope_large,
        "se_ln_gmean_at_best_eps": float(se["se_ln_gmean"][ibest]),
        "se_ln_amean_at_best_eps": float(se["se_ln_amean"][ibest]),
        "median_se_ln_gmean": float(np.median(se["se_ln_gmean"])),
        "median_se_ln_amean": float(np.median(se["se_ln_amean"])),
        "median_late_fluct_gmean": float(np.median(st["fluct_gmean"])),
        "median_late_fluct_amean": float(np.median(st["fluct_amean"])),
    }
    return {"summary": summary, "stats": stats}


# -- predicates --------------------------------------------------------------------------------


def _excluded(summary: dict[str, Any]) -> str:
    """The evidence's note on runs left out as untrusted (empty when none were)."""
    ex = summary.get("untrusted_excluded") or {}
    n = sum(int(ex.get(k, 0)) for k in ("mbngd", "gd", "gd_opt"))
    if not n:
        return ""
    return (
        f"; {n} untrusted float64 runs excluded (MBNGD {ex.get('mbngd', 0)}, GD "
        f"{ex.get('gd', 0)}, GD(opt) {ex.get('gd_opt', 0)})"
    )


def finding_mbngd_better(summary: dict[str, Any]) -> tuple[bool, str]:
    """F5: "the optimal convergence rate of MBNGD is observably better than GD", read as the
    convergence *rate* (the paper ascribes it to kappa* < kappa, an asymptotic statement): the
    best late per-step rate exponent over the eps grid is at least 1.25x GD(opt)'s.  The
    figure-level reading (loss after ``steps``, as plotted) is reported alongside."""
    r = summary["best_late_rate_ratio"]
    return r >= BETTER_RATIO, (
        f"d={summary['d']}: best MBNGD late rate {r:.2f}x GD(opt)'s (eps="
        f"{summary['best_late_eps']:.3g}; kappa* predicts "
        f"{summary['kappa_star_predicted_rate_ratio']:.2f}x); over all {summary['steps']} steps "
        f"{summary['best_exponent_ratio']:.2f}x, G-mean loss {summary['best_mb_loss_gmean']:.2g} "
        f"vs GD(opt) {summary['gd_opt_loss_gmean']:.2g}" + _excluded(summary)
    )


def finding_not_noticeably_better(summary: dict[str, Any]) -> tuple[bool, str]:
    """F6: "the best optimal convergence rate of MBNGD here has not noticeably improved compared
    with GD with the optimal learning rate": the best late rate exponent is below 1.25x GD(opt)'s."""
    ok, ev = finding_mbngd_better(summary)
    return (not ok), ev


def finding_figure_level_better(summary: dict[str, Any]) -> tuple[bool, str]:
    """The figure-level reading of F5/F6: the best exponent of the loss reduction over the whole
    run (what a loss-versus-eps plot after ``steps`` shows) is at least 1.25x GD(opt)'s."""
    r = summary["best_exponent_ratio"]
    return r >= BETTER_RATIO, (
        f"d={summary['d']}: over {summary['steps']} steps the best MBNGD loss exponent is "
        f"{r:.2f}x GD(opt)'s (G-mean loss {summary['best_mb_loss_gmean']:.2g} vs "
        f"{summary['gd_opt_loss_gmean']:.2g}, ratio {summary['loss_ratio_best_mb_over_gd_opt']:.2g})"
        + _excluded(summary)
    )


def finding_gmean_reliable(summary: dict[str, Any]) -> tuple[bool, str]:
    """F5: "the G-mean is more reliable than the A-mean ... the G-mean converges quickly when the
    number of tests increase, however the A-mean does not": the bootstrap standard error of
    ln G-mean is below that of ln A-mean at a majority of eps values and in the median."""
    f = summary["fraction_eps_gmean_smaller_se"]
    ok = f > RELIABLE_MAJORITY and summary["median_se_ln_gmean"] < summary["median_se_ln_amean"]
    fn = summary.get("fraction_eps_gmean_smaller_se_near_optimal", float("nan"))
    return ok, (
        f"d={summary['d']}: ln G-mean has the smaller bootstrap s.e. at {100 * f:.0f}% of "
        f"eps ({100 * fn:.0f}% inside the near-optimal interval; at the best eps "
        f"{summary.get('se_ln_gmean_at_best_eps', float('nan')):.3f} (G) vs "
        f"{summary.get('se_ln_amean_at_best_eps', float('nan')):.3f} (A)); median s.e. {summary['median_se_ln_gmean']:.3f} (G) vs "
        f"{summary['median_se_ln_amean']:.3f} (A) over {summary['tests']} tests; late "
        f"running-mean drift {summary['median_late_fluct_gmean']:.3f} (G) vs "
        f"{summary['median_late_fluct_amean']:.3f} (A)" + _excluded(summary)
    )


def finding_converges(summary: dict[str, Any]) -> tuple[bool, str]:
    """T-B.1 / E81 as observed in the sweep: MBNGD never diverges, for any eps > 0."""
    n = summary["mbngd_diverged"]
    return n == 0, (
        f"d={summary['d']}: MBNGD diverged in {n} of "
        f"{n + summary['mbngd_converged_or_running']} runs (eps up to "
        f"{summary['eps_grid']['max']:.0e})" + _excluded(summary)
    )


# -- Fig. 7 / 8 ----------------------------------------------------------------------------------


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a between x and y (ties count zero)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = x.size
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(x[j] - x[i]) * np.sign(y[j] - y[i])
    return float(s / (n * (n - 1) / 2)) if n > 1 else 0.0


def fit_trend(xs: np.ndarray, widths: np.ndarray) -> dict[str, Any]:
    """Least-squares line ``width = intercept + slope * log10 x`` and Kendall's tau."""
    lx = np.log10(np.asarray(xs, float))
    A = np.vstack([np.ones_like(lx), lx]).T
    coef, *_ = np.linalg.lstsq(A, widths, rcond=None)
    return {
        "intercept": float(coef[0]),
        "slope": float(coef[1]),
        "kendall_tau": kendall_tau(lx, widths),
        "threshold": NEAR_RATIO,
        "max_over_min": float(np.max(widths) / np.min(widths))
        if np.min(widths) > 0
        else float("inf"),
    }


def compute_interval_sweep(
    spectra: list[np.ndarray],
    labels: list[str],
    quick: bool,
    seed: int,
    progress: ProgressBar | None = None,
    pool: CellPool | None = None,
    recompute_budget_s: float = RECOMPUTE_BUDGET_S,
    recompute_all: bool = False,
) -> dict[str, Any]:
    """Near-optimal interval width for each spectrum (Fig. 7: over d; Fig. 8: over cond), each run
    for :func:`horizon_steps` of its condition number, ``tests`` random (u, w0) per spectrum.
    Untrusted MBNGD runs are recomputed at high precision within ``recompute_budget_s`` for the
    whole sweep (shared out evenly over the points still to come), the rest excluded from each
    point's exponent ratios (``untrusted`` counts them per point and eps)."""

    cfg = interval_settings(quick)
    widths, widths_late, ratios, lates, best, steps, summaries = [], [], [], [], [], [], []
    untrusted, digits, widths_up, widths_late_up = [], [], [], []
    recomputed: list[int] = []
    untrusted64: list[int] = []
    for i, h in enumerate(spectra):
        k = horizon_steps(float(np.max(h) / np.min(h)))
        left = recompute_budget_s / len(spectra)  # an equal share: a count, not a deadline
        s = SweepSettings(
            h,
            cfg["tests"],
            k,
            cfg["eps"],
            seed + 1000 * i,
            labels[i],
            0,
            recompute_budget_s=left,
            recompute_all=recompute_all,
        )
        data = compute_sweep(s, pool=pool)
        rec = data.get("_recompute", {})
        recomputed.append(int(rec.get("recomputed", 0)))
        untrusted64.append(int(rec.get("untrusted_float64", 0)))
        an = analyse_sweep(data)["summary"]
        tm = trusted_masks(data)[0]
        untrusted.append((~tm).sum(axis=0))
        with _quiet():
            dg = np.asarray(data.get("digits", np.full(tm.shape, np.nan)), dtype=float)
            digits.append(
                np.where(
                    np.isnan(dg).all(axis=0),
                    np.nan,
                    np.nanmin(np.nan_to_num(dg, nan=np.inf), axis=0),
                )
            )
        widths.append(an["near_optimal_width_decades"])
        widths_late.append(an["near_optimal_width_late_rate_decades"])
        lg = np.log10(np.asarray(cfg["eps"]))
        widths_up.append(interval_width(lg, an["exponent_ratio"], upper=True))
        widths_late_up.append(interval_width(lg, an["late_rate_ratio"], upper=True))
        ratios.append(an.pop("exponent_ratio"))
        lates.append(an.pop("late_rate_ratio"))
        best.append(an["best_exponent_ratio"])
        steps.append(k)
        summaries.append(an)
        if progress is not None:
            progress.update()
    return {
        "eps": cfg["eps"],
        "widths": np.array(widths),
        "widths_late": np.array(widths_late),
        # upper bounds: eps values whose runs were all untrusted counted as near-optimal
        "widths_upper": np.array(widths_up),
        "widths_late_upper": np.array(widths_late_up),
        "exponent_ratio": np.array(ratios),
        "late_rate_ratio": np.array(lates),
        "best_exponent_ratio": np.array(best),
        "tests": cfg["tests"],
        "steps": np.array(steps),
        "per_point": summaries,
        # (n_points, n_eps): MBNGD tests excluded as untrusted at each point and eps, whether
        # none was (``trusted``), and the fewest digits of any test's loss there
        "untrusted": np.array(untrusted),
        "trusted": np.array(untrusted) == 0,
        "digits": np.array(digits),
        # per point: MBNGD runs untrusted in float64, and how many were recomputed
        "untrusted_float64": np.array(untrusted64),
        "recomputed": np.array(recomputed),
    }


def interval_finding(
    fn, xs: np.ndarray, widths: np.ndarray, widths_upper: np.ndarray | None
) -> tuple[bool | None, str]:
    """A Fig. 7/8 finding decided on both bounds of the widths (eps values whose runs were all
    untrusted left out / counted as near-optimal): ``(holds, evidence)`` when both agree,
    ``(None, evidence)`` when the untrusted runs decide it."""
    ok, ev = fn(xs, widths)
    if widths_upper is None or np.array_equal(widths, widths_upper):
        return ok, ev
    ok_up, ev_up = fn(xs, widths_upper)
    if ok == ok_up:
        return ok, ev + f" (the same with all-untrusted eps counted as near-optimal: {ev_up})"
    return None, (
        ev + f"; undecided: with all-untrusted eps counted as near-optimal it "
        f"{'holds' if ok_up else 'fails'} ({ev_up})"
    )


def finding_width_grows(xs: np.ndarray, widths: np.ndarray) -> tuple[bool, str]:
    """F7: "larger dimensions lead to larger intervals of 'optimal' step size": Kendall's tau of
    width versus d at least 0.6 and a positive fitted slope."""
    fit = fit_trend(xs, widths)
    ok = fit["kendall_tau"] >= TREND_TAU and fit["slope"] > 0
    txt = ", ".join(f"{x:g}:{w:.2f}" for x, w in zip(xs, widths, strict=False))
    return ok, (
        f"width (decades) by d {txt}; slope {fit['slope']:+.2f} per decade of d, "
        f"tau {fit['kendall_tau']:+.2f} (need >= {TREND_TAU})"
    )


def finding_cond_little_effect(xs: np.ndarray, widths: np.ndarray) -> tuple[bool, str]:
    """F8: "the effect of condition number on the 'optimal' interval is small": all widths within
    a factor 1.25 of each other (the paper's own 0.8 tolerance)."""
    fit = fit_trend(xs, widths)
    ok = fit["max_over_min"] <= LITTLE_FACTOR
    txt = ", ".join(f"{x:g}:{w:.2f}" for x, w in zip(xs, widths, strict=False))
    return ok, (
        f"width (decades) by cond {txt}; max/min {fit['max_over_min']:.2f} (need <= "
        f"{LITTLE_FACTOR:.2f}); slope {fit['slope']:+.2f} per decade of cond"
    )
