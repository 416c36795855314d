"""Fig. 1 of the paper (Sec. 4.1; claims F1, F1.claims): BNGD versus optimal GD on least squares.

Setting as printed (CLAIMS.md F1): ``H = diag(logspace(0, log10 kappa, 100))``, ``u`` uniform on
the unit sphere of R^100, ``w0 = H u / ||H u||``; 2000 steps of GD at ``eps_opt = 2/(lambda_max +
lambda_min)`` (Eq. 5) and of BNGD (Eq. 9-10) from the same ``w0``, over ``eps_a`` in
``1.99 * logspace(-10, 0, 41)``, ``eps`` in ``logspace(-5, 16, 43)`` and ``a0`` in
``{10, 1, 1e-2, 1e-4, 1e-8}``.  Each cell is coloured by two questions: is the effective step
``eps^_k`` (Eq. 11) at the last step within ``(0.8 eps_opt, eps_opt / 0.8)``, and is the BNGD loss
``J`` (Eq. 7) below the loss of optimal GD (Eq. 2) after the same number of steps.

Data contract (users re-analyse these files; names are fixed): ``fig1_kappa<K>.npz`` holds
``h, u, w0, kappa, steps, eps_a (41), eps (43), a0 (5), eps_opt, loss_gd_opt`` and, with shape
``(41, 43, 5)`` indexed ``[eps_a, eps, a0]``, ``loss_bn`` (NaN where diverged), ``eff_step`` and
``status`` (0 converged/running, 1 diverged).  Extra arrays (``gd_e_norm_H``, ``kappa_star``,
the example curves) are documented in :func:`compute_fig1`.

Measured trust (issue 11): every cell also carries ``trusted`` (bool) and ``digits`` (estimated
correct significant digits of the loss, NaN where diverged), of the same shape, measured by the
engine's shadow copies (``run(..., trust=True)``), not guessed from where the inputs lie.
Untrusted cells are recomputed at high precision within a time budget
(:func:`recompute_untrusted`); ``recomputed`` marks them, ``loss_bn``/``eff_step``/``status``
then hold the high-precision values and ``loss_bn_float64``/``eff_step_float64``/
``status_float64`` keep the float64 ones.  Cells still untrusted are hatched in the plot and
left out of every statistic of :func:`analyse_fig1` (which says how many it left out).

The findings of Sec. 4.1 (F1.claims) are quantified by :func:`analyse_fig1`; each has a predicate
(``finding_*``) returning ``(holds, evidence)`` that the checks in
``proofs/sec4_1_ols_experiments.py`` (F1, F1.claims) and ``proofs/appB2_mbngd_experiment.py``
(F5-F8) turn into verdicts.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..dynamics.batched import DIVERGED, run
from ..errors import BNVerifyError
from ..model import OLSProblem, as_float_array
from ..progress import ProgressBar
from .common import UNIT_ROUNDOFF, decades_where, longest_run, unit_sphere

#: the paper's grids (Fig. 1 caption)
PAPER_EPS_A = 1.99 * np.logspace(-10, 0, 41)
PAPER_EPS = np.logspace(-5, 16, 43)
PAPER_A0 = np.array([10.0, 1.0, 1e-2, 1e-4, 1e-8])
PAPER_STEPS = 2000
PAPER_D = 100
#: condition numbers offered by default (the caption does not print the panels' kappa values)
DEFAULT_KAPPAS = (10.0, 100.0, 1000.0, 10000.0)
#: the band "close to the optimal step size" of the Fig. 1 caption: 0.8 eps_opt < eps^ < eps_opt/0.8
NEAR_FACTOR = 0.8
#: GD's own near-optimal band in decades of eps: log10(1 / 0.8^2)
GD_BAND_DECADES = math.log10(1.0 / NEAR_FACTOR**2)
#: "greatly widens": a band at least ten times GD's (one order of magnitude), our reading of
#: "significantly extends" (Sec. 4.1)
WIDEN_FACTOR = 10.0
#: eps_a rows where a barely moves in ``steps`` iterations (eps_a * steps <= 0.4) are "small eps_a";
#: rows with eps_a >= 0.0199 (a relaxes within 50 steps) are the reference
SMALL_EPS_A_PRODUCT = 0.4
LARGE_EPS_A = 0.0199
#: correct digits a float64 cell needs to be drawn and counted (``min_digits`` of the engine's
#: trust estimate).  A cell enters the figure only through comparisons: its loss against optimal
#: GD's on a log scale, ``eps^`` against the band edges 0.8 and 1/0.8 of ``eps_opt``.  Three
#: correct digits put the loss within 0.1% (0.0004 decades, far below any visible difference on a
#: log axis spanning 10-30 decades) and decide every comparison whose two sides differ by more
#: than 0.2%; the engine's 8-digit default is meant for printed numbers, not for colours.  Two
#: digits would leave 1% (a loss ratio of 0.99 vs 1.01 decided by rounding), and the estimate
#: claims no digit below ``LINEAR_DIGITS`` = 4 anyway unless it measured at least that many, so 3
#: never admits a cell whose copies have visibly drifted apart.
FIGURE_MIN_DIGITS = 3.0
#: default wall-clock budget (seconds per panel) for recomputing untrusted cells at high
#: precision: with 2 worker processes about 20-25 cells of the d = 100, 2000-step panel (one cell
#: is two or more ``run_mp`` runs of 0.3-0.4 s).  The panel's target is at most twice its
#: float64-only time plus 10 s on two cores: with the engine's trust overhead at its 2x target,
#: the sweep takes twice as long, the spot check and the plot about as long as before, which
#: leaves about 10 s + twice the old high-precision check (1-2 s) for the recomputation; 8 s keeps
#: a margin for the last cells in flight.  benchmarks/bench_trust_fig1.py measures it.
#: ``recompute_all`` lifts the budget.
RECOMPUTE_BUDGET_S = 8.0
RECOMPUTE_BUDGET_QUICK_S = 2.0
#: the budget is applied as a *number of cells*, never as a deadline, so that the same cells are
#: recomputed on every machine and the figure's verdicts are reproducible: budget_s /
#: NOMINAL_CELL_SECONDS cells (one cell is about 1 s of one worker; two workers), in the order
#: of :func:`recompute_order`
NOMINAL_CELL_SECONDS = 0.5


def cells_for_budget(budget_s: float) -> float:
    """How many cells (or runs) a recomputation budget of ``budget_s`` nominal seconds admits:
    deterministic, independent of the machine's speed and of the number of workers."""
    if not budget_s > 0:
        return 0
    if not math.isfinite(budget_s):
        return math.inf
    return max(1, int(math.ceil(budget_s / NOMINAL_CELL_SECONDS)))
#: high-precision ladder (decimal digits): a cell is settled when two successive precisions give
#: the same status and agree to ``MP_STABLE_DIGITS`` digits in the loss and in eps^
MP_LADDER = (40, 60, 120, 240, 480)
#: two successive precisions must agree to this many significant digits in eps^ and the loss
MP_STABLE_DIGITS = 8
#: a float64 number holds no more than this many correct digits
FLOAT64_DIGITS = 15.0


def default_jobs() -> int:
    """Worker processes for the high-precision recomputation: one per core (a local Dask
    cluster; 1: in this process)."""
    from ..scheduling import default_workers

    return default_workers()


@dataclass
class Fig1Settings:
    """Grids and sizes of one Fig. 1 run (paper sizes by default; :meth:`quick` reduces them)."""

    kappas: tuple[float, ...] = DEFAULT_KAPPAS
    eps_a: np.ndarray = field(default_factory=lambda: PAPER_EPS_A.copy())
    eps: np.ndarray = field(default_factory=lambda: PAPER_EPS.copy())
    a0: np.ndarray = field(default_factory=lambda: PAPER_A0.copy())
    steps: int = PAPER_STEPS
    d: int = PAPER_D
    seed: int = 0
    u: np.ndarray | None = None  # explicit u (--u FILE); otherwise drawn from the seed
    mp_samples: int = 2  # trusted float64 cells per panel spot-checked at high precision
    mp_dps: tuple[int, ...] = MP_LADDER  # escalating precisions (see mp_reference)
    trust: bool = True  # measure each cell's correct digits (engine's shadow copies)
    min_digits: float = FIGURE_MIN_DIGITS
    recompute_budget_s: float = RECOMPUTE_BUDGET_S  # per panel; 0 recomputes nothing
    recompute_all: bool = False  # recompute every untrusted cell, whatever the time
    jobs: int = field(default_factory=default_jobs)  # worker processes for the recomputation

    @classmethod
    def quick(cls, **kw: Any) -> Fig1Settings:
        """Reduced grid: every 4th eps_a (11), every 2nd eps (22, one decade apart), all a0,
        paper's d and steps (so that the GD contract and the rates are the paper's); a 2 s
        recomputation budget per panel."""
        kw.setdefault("eps_a", PAPER_EPS_A[::4].copy())
        kw.setdefault("eps", PAPER_EPS[::2].copy())
        kw.setdefault("mp_samples", 1)
        kw.setdefault("recompute_budget_s", RECOMPUTE_BUDGET_QUICK_S)
        return cls(**kw)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["u"] = None if self.u is None else "given (--u FILE)"
        out["eps_a"] = {
            "n": len(self.eps_a),
            "min": float(self.eps_a[0]),
            "max": float(self.eps_a[-1]),
        }
        out["eps"] = {"n": len(self.eps), "min": float(self.eps[0]), "max": float(self.eps[-1])}
        out["a0"] = [float(x) for x in self.a0]
        out["kappas"] = [float(k) for k in self.kappas]
        out["mp_dps"] = [int(x) for x in self.mp_dps]
        return out


def fig1_problem(kappa: float, u: np.ndarray) -> OLSProblem:
    """``H = diag(logspace(0, log10 kappa, d))`` with the given ``u`` (Fig. 1 caption)."""
    if not (np.isfinite(kappa) and kappa >= 1):
        raise BNVerifyError(f"kappa: condition number must be finite and >= 1, got {kappa}")
    h = np.logspace(0.0, math.log10(kappa), u.shape[0])
    return OLSProblem.from_diagonal(h, u)


def draw_u(seed: int, d: int = PAPER_D) -> np.ndarray:
    """``u`` uniform on the unit sphere of R^d from a seeded generator (Fig. 1 caption)."""
    return unit_sphere(np.random.default_rng([seed, 1]), 1, d)[0]


def load_u(path: str | Path, d: int = PAPER_D) -> np.ndarray:
    """Read ``u`` from a file: ``.npy``, or text/JSON with ``d`` numbers (the sphere constraint
    is not imposed; a nonzero vector is required)."""
    p = Path(path)
    if not p.is_file():
        raise BNVerifyError(f"u: file not found: {p}")
    try:
        if p.suffix == ".npy":
            raw = np.load(p, allow_pickle=False)
        else:
            import json

            text = p.read_text()
            try:
                raw = json.loads(text)
                if isinstance(raw, dict):
                    if "u" not in raw:
                        raise BNVerifyError(f"u: {p} is a JSON object without a 'u' field")
                    raw = raw["u"]
            except json.JSONDecodeError:
                raw = [float(t) for t in text.replace(",", " ").split()]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BNVerifyError(f"u: cannot read {p}: {' '.join(str(exc).split())}") from None
    u = as_float_array(raw, "u", ndim=1)
    if u.shape[0] != d:
        raise BNVerifyError(f"u: expected {d} numbers (d = {d}), got {u.shape[0]}")
    if not np.any(u):
        raise BNVerifyError("u: must be nonzero")
    return u


def loss_floor(h: np.ndarray, u: np.ndarray) -> float:
    """Below this a float64 loss is rounding noise.

    After thousands of steps the iterate carries errors of up to a few hundred ulps relative to
    ``|u|``, so ``||e~||_H`` (Eq. 70) cannot be resolved below ``256 * u_round * sqrt(lambda_max)
    * ||u||``; the loss ``J = ||e~||_H^2 / 2`` not below half its square.  Two losses both under
    the floor are a tie, not a win for either method.
    """
    return 0.5 * (256 * UNIT_ROUNDOFF) ** 2 * float(np.max(h)) * float(u @ u)


def compute_fig1(
    kappa: float,
    u: np.ndarray,
    settings: Fig1Settings,
    progress: ProgressBar | None = None,
    pool: CellPool | None = None,
) -> dict[str, Any]:
    """One panel: the contract arrays plus ``gd_e_norm_H`` (``||u - w_k||_H`` of GD at
    ``eps_opt`` for k = 0..steps), ``kappa_star`` (Eq. 27), ``loss_floor``, ``diverged_step``,
    example BNGD loss curves ``curve_loss`` (3, steps/10 + 1) at ``a0 = 1, eps_a = 1`` and
    ``curve_eps`` (3,), ``curve_steps``, and ``gd_loss_history``.

    With ``settings.trust`` (the default) every float64 run carries its measured trust
    (``run(..., trust=True, min_digits=settings.min_digits, loss_floor=loss_floor(h, u))``; the
    main results are bit-identical to a plain run): per cell ``digits`` (loss), ``digits_eff``
    (eps^), ``status_agree`` and ``trusted``: the engine's verdict on the loss *and* at least
    ``min_digits`` digits of eps^, since the colour is decided by both (diverged cells: all
    copies diverge at the same step); ``gd_trusted``/``gd_digits`` for optimal GD and
    ``curve_trusted``/``curve_digits`` (3,) for the curves.  Then the untrusted cells are
    recomputed at high precision (:func:`recompute_untrusted`, in ``pool`` or a pool of
    ``settings.jobs`` workers made here), which adds ``recomputed``, ``mp_dps``,
    ``loss_bn_float64``, ``eff_step_float64``, ``status_float64`` and the scalars
    ``untrusted_float64``, ``recompute_attempted``, ``recompute_unresolved``,
    ``recompute_seconds``, ``recompute_budget_s``, ``recompute_all``, ``min_digits``.

    The sweep runs one ``a0`` at a time (the progress bar advances per ``a0``)."""
    problem = fig1_problem(kappa, u)
    h = np.array(problem.diagonal, dtype=float)
    w0 = h * u / np.linalg.norm(h * u)
    s = settings
    floor = loss_floor(h, u)
    tkw: dict[str, Any] = (
        dict(trust=True, min_digits=float(s.min_digits), loss_floor=floor, trust_seed=int(s.seed))
        if s.trust
        else {}
    )
    gd = run(problem, "gd", eps=problem.eps_opt, w0=w0, steps=s.steps, history_stride=1, **tkw)
    shape = (len(s.eps_a), len(s.eps), len(s.a0))
    loss = np.empty(shape)
    eff = np.empty(shape)
    status = np.zeros(shape, dtype=np.int8)
    div_step = np.empty(shape, dtype=np.int64)
    trusted = np.ones(shape, dtype=bool)
    digits = np.full(shape, np.nan)
    digits_eff = np.full(shape, np.nan)
    agree = np.ones(shape, dtype=bool)
    for j, a0 in enumerate(s.a0):
        r = run(
            problem,
            "bngd",
            eps=s.eps[None, :],
            eps_a=s.eps_a[:, None],
            a0=float(a0),
            w0=w0,
            steps=s.steps,
            **tkw,
        )
        bad = r.status == DIVERGED
        loss[..., j] = np.where(bad, np.nan, r.loss)
        eff[..., j] = r.eff_step
        status[..., j] = bad.astype(np.int8)
        div_step[..., j] = r.diverged_step
        if s.trust:
            # the colour depends on eps^ as well as on the loss (the engine's ``trusted`` is
            # about the loss): a cell is trusted when both keep min_digits (or all copies
            # diverge at the same step)
            trusted[..., j] = r.trusted & (bad | (r.digits_eff >= s.min_digits))
            digits[..., j] = r.digits
            digits_eff[..., j] = r.digits_eff
            agree[..., j] = r.status_agree
        if progress is not None:
            progress.update()
    curve_eps = np.array([problem.eps_opt, 1.0, 1e8])
    stride = max(s.steps // 200, 1)
    cr = run(
        problem,
        "bngd",
        eps=curve_eps,
        eps_a=1.0,
        a0=1.0,
        w0=w0,
        steps=s.steps,
        history_stride=stride,
        **tkw,
    )
    data = {
        "h": h,
        "u": np.asarray(u, dtype=float),
        "w0": w0,
        "kappa": float(kappa),
        "steps": int(s.steps),
        "eps_a": np.asarray(s.eps_a, dtype=float),
        "eps": np.asarray(s.eps, dtype=float),
        "a0": np.asarray(s.a0, dtype=float),
        "eps_opt": problem.eps_opt,
        "loss_gd_opt": float(gd.loss),
        "loss_bn": loss,
        "eff_step": eff,
        "status": status,
        "diverged_step": div_step,
        "gd_e_norm_H": gd.history["e_norm_H"].copy(),
        "gd_loss_history": gd.history["loss"].copy(),
        "kappa_star": problem.kappa_star,
        "loss_floor": floor,
        "curve_eps": curve_eps,
        "curve_steps": cr.history_steps,
        "curve_loss": np.moveaxis(cr.history["loss"], 0, -1),
    }
    if not s.trust:
        return data
    data.update(
        trusted=trusted,
        digits=digits,
        digits_eff=digits_eff,
        status_agree=agree,
        min_digits=float(s.min_digits),
        gd_trusted=bool(gd.trusted),
        gd_digits=float(gd.digits),
        curve_trusted=np.asarray(cr.trusted, dtype=bool),
        curve_digits=np.asarray(cr.digits, dtype=float),
    )
    budget = float("inf") if s.recompute_all else float(s.recompute_budget_s)
    if pool is None:
        from ..scheduling import make_pool

        with make_pool(s.jobs) as own:
            recompute_untrusted(data, own, budget, tuple(s.mp_dps))
    else:
        recompute_untrusted(data, pool, budget, tuple(s.mp_dps))
    data["recompute_all"] = bool(s.recompute_all)
    return data


# ----------------------------------------------------------------------------------------------
# analysis
# ----------------------------------------------------------------------------------------------


def trusted_mask(data: dict[str, Any]) -> np.ndarray:
    """The cells whose values may be drawn and counted: ``data["trusted"]`` (measured float64
    trust, or settled at high precision); all cells for data without a trust estimate (files
    written before issue 11, or ``trust=False``)."""
    shape = np.asarray(data["eff_step"]).shape
    if "trusted" not in data:
        return np.ones(shape, dtype=bool)
    return np.asarray(data["trusted"], dtype=bool).reshape(shape)


def categories(data: dict[str, Any]) -> dict[str, np.ndarray]:
    """The four colours of Fig. 1 plus 'diverged', as boolean arrays of shape (n_eps_a, n_eps, n_a0),
    and ``trusted`` (:func:`trusted_mask`).

    ``near``: ``0.8 eps_opt < eps^_k < eps_opt / 0.8``; ``better``: BNGD loss < optimal-GD loss,
    where a GD loss below :func:`loss_floor` makes the comparison a tie (not better).  The colours
    are those of the stored values (float64, or high precision where recomputed) in every cell;
    the statistics of :func:`analyse_fig1` use only the ``trusted`` ones, the plot hatches the
    others."""
    eps_opt = float(data["eps_opt"])
    diverged = np.asarray(data["status"]) == 1
    eff = np.asarray(data["eff_step"])
    loss = np.asarray(data["loss_bn"])
    floor = float(data["loss_floor"]) if "loss_floor" in data else 0.0
    gd = float(data["loss_gd_opt"])
    with np.errstate(invalid="ignore"):
        near = (eff > NEAR_FACTOR * eps_opt) & (eff < eps_opt / NEAR_FACTOR) & ~diverged
        better = (loss < gd) & (gd > floor) & ~diverged
        tie = (loss <= floor) & (gd <= floor) & ~diverged
    return {
        "near": near,
        "better": better,
        "tie": tie,
        "diverged": diverged,
        "trusted": trusted_mask(data),
    }


def gd_rate(data: dict[str, Any]) -> dict[str, float]:
    """Measured per-step contraction of GD at eps_opt versus the closed form (kappa-1)/(kappa+1)
    (Eq. 5; claim S2.GD-opt).

    For diagonal H the components of ``u - w_0`` on the extreme eigenvalues both contract by
    exactly ``rho = (kappa-1)/(kappa+1)`` per step and every other one by at most
    ``rho_2 = max_{1<i<d} |1 - eps_opt lambda_i|``, so the measured rate of ``||u - w_k||_H``
    lies in ``[rho_2, rho]`` and tends to ``rho``.  It is read between the step where the error
    is first below 1e-2 of its start and the last step where it is above 1e6 times the rounding
    level (NaN when that window is shorter than 10 steps).
    """
    e = np.asarray(data["gd_e_norm_H"], dtype=float)
    h = np.sort(np.asarray(data["h"], dtype=float))
    kappa = float(h[-1] / h[0])
    rho = (kappa - 1) / (kappa + 1)
    eps_opt = 2.0 / (h[0] + h[-1])
    rho2 = float(np.max(np.abs(1 - eps_opt * h[1:-1]))) if h.size > 2 else 0.0
    noise = 1e6 * UNIT_ROUNDOFF * e[0]
    idx = np.arange(e.size)
    start_c = idx[e <= 1e-2 * e[0]]
    k1 = int(start_c[0]) if start_c.size else e.size // 2
    above = idx[(e > noise) & (idx > k1)]
    out = {
        "rho_closed_form": rho,
        "rho_second_mode": rho2,
        "rho_measured": float("nan"),
        "k1": k1,
        "k2": k1,
        "relative_error": float("nan"),
    }
    if above.size == 0 or above[-1] - k1 < 10:
        return out
    k2 = int(above[-1])
    measured = float((e[k2] / e[k1]) ** (1.0 / (k2 - k1)))
    out.update(rho_measured=measured, k2=k2, relative_error=abs(measured - rho) / (1 - rho))
    return out


def analyse_fig1(data: dict[str, Any]) -> dict[str, Any]:
    """Quantified findings of one panel (Sec. 4.1; F1.claims).

    Returns fractions of cells per colour, the near-optimal band width (decades of eps) for every
    (eps_a, a0) row, its mean per a0, the win fractions and loss levels for small and large eps_a,
    and the GD rate check.

    Untrusted cells (``trusted`` False: float64 lost its digits there and no high-precision value
    settled them) are excluded from every statistic: fractions are over the trusted cells, a
    row's band width counts only trusted near-optimal cells (a lower bound of the row's band;
    ``band_width_decades_upper`` counts the untrusted cells of the row as near, the upper bound),
    G-means, best losses and the colours present are over trusted cells.  ``untrusted_excluded``
    says how many were left out."""
    cat = categories(data)
    T = cat["trusted"]
    near, better, div = cat["near"] & T, cat["better"] & T, cat["diverged"] & T
    n_out = int((~T).sum())
    eps = np.asarray(data["eps"])
    eps_a = np.asarray(data["eps_a"])
    a0 = np.asarray(data["a0"])
    steps = int(data["steps"])
    log_eps = np.log10(eps)
    n_ea, _, n_a0 = near.shape
    width = np.array(
        [[decades_where(log_eps, near[i, :, j]) for j in range(n_a0)] for i in range(n_ea)]
    )
    width_up = np.array(
        [
            [decades_where(log_eps, near[i, :, j] | ~T[i, :, j]) for j in range(n_a0)]
            for i in range(n_ea)
        ]
    )
    run_len = np.array([[longest_run(near[i, :, j]) for j in range(n_a0)] for i in range(n_ea)])
    spacing = float(log_eps[1] - log_eps[0]) if log_eps.size > 1 else float("nan")
    order = np.argsort(a0)  # ascending a0
    mean_width_by_a0 = {float(a0[j]): float(width[:, j].mean()) for j in order}
    # row-wise monotonicity: width non-increasing as a0 grows, for each eps_a row
    w_sorted = width[:, order]
    row_monotone = np.all(np.diff(w_sorted, axis=1) <= 0, axis=1)
    small = eps_a * steps <= SMALL_EPS_A_PRODUCT
    large = eps_a >= LARGE_EPS_A
    loss = np.where(T, np.asarray(data["loss_bn"], dtype=float), np.nan)
    floor = float(data.get("loss_floor", 0.0))

    def gm(x):
        x = x[np.isfinite(x)]
        if x.size == 0:
            return float("nan")
        return float(np.exp(np.mean(np.log(np.maximum(x, floor if floor > 0 else 1e-300)))))

    def frac(mask, where):
        n = int(where.sum())
        return float((mask & where).sum() / n) if n else float("nan")

    def rows(sel):
        w = np.zeros(T.shape, dtype=bool)
        w[sel] = True
        return w & T

    gd_loss = float(data["loss_gd_opt"])
    gd_at_floor = gd_loss <= floor
    finite = np.isfinite(loss)
    best = float(np.nanmin(loss)) if finite.any() else float("nan")
    ks = float(data.get("kappa_star", float("nan")))
    kap = float(data["kappa"])
    # Sec. 4.1 ascribes the acceleration to kappa* < kappa: the asymptotic loss ratio that
    # explains is (rho*_opt / rho_opt)^(2 steps), rho_opt = (k-1)/(k+1) (Eq. 5, S3.acceleration)
    with np.errstate(all="ignore"):
        predicted = float(
            np.exp(2 * steps * (np.log((ks - 1) / (ks + 1)) - np.log((kap - 1) / (kap + 1))))
        )
    by_a0 = [rows((slice(None), slice(None), j)) for j in range(n_a0)]
    rs, rl = rows(small), rows(large)
    return {
        "kappa": kap,
        "kappa_star": ks,
        "kappa_star_predicted_loss_ratio": predicted,
        "grid": {
            "n_eps_a": int(n_ea),
            "n_eps": int(eps.size),
            "a0": a0.tolist(),
            "eps_spacing_decades": spacing,
            "steps": steps,
        },
        "eps_opt": float(data["eps_opt"]),
        "loss_gd_opt": gd_loss,
        "loss_floor": floor,
        "gd_at_rounding_floor": bool(gd_at_floor),
        "gd_trusted": bool(data.get("gd_trusted", True)),
        "gd_rate": gd_rate(data),
        "cells": int(near.size),
        "trusted_cells": int(T.sum()),
        "untrusted_excluded": n_out,
        "recomputed_cells": int(np.asarray(data.get("recomputed", False)).sum()),
        "min_digits": float(data.get("min_digits", float("nan"))),
        "diverged_cells": int(div.sum()),
        "fraction_near": frac(near, T),
        "fraction_better": frac(better, T),
        "fraction_near_and_better": frac(near & better, T),
        "fraction_tie_at_floor": frac(cat["tie"], T),
        "colours_present": {
            "near&better": bool((near & better).any()),
            "near&worse": bool((near & ~better & ~div & T).any()),
            "far&better": bool((~near & better).any()),
            "far&worse": bool((~near & ~better & ~div & T).any()),
        },
        "fraction_near_by_a0": {float(a0[j]): frac(near, by_a0[j]) for j in order},
        "fraction_better_by_a0": {float(a0[j]): frac(better, by_a0[j]) for j in order},
        "untrusted_by_a0": {float(a0[j]): int((~T[..., j]).sum()) for j in order},
        "best_loss_bn": best,
        "best_loss_ratio_bn_over_gd": (best / gd_loss) if gd_loss > 0 else float("nan"),
        "gd_band_decades": GD_BAND_DECADES,
        "band_width_decades": width,  # (n_eps_a, n_a0), trusted near cells only
        "band_width_decades_upper": width_up,  # untrusted cells counted as near
        "band_longest_run_cells": run_len,
        "median_band_width_decades": float(np.median(width)),
        "median_band_width_decades_upper": float(np.median(width_up)),
        "median_band_width_by_a0": {float(a0[j]): float(np.median(width[:, j])) for j in order},
        "mean_band_width_by_a0": mean_width_by_a0,
        "mean_band_width_by_a0_upper": {float(a0[j]): float(width_up[:, j].mean()) for j in order},
        "fraction_rows_monotone_in_a0": float(row_monotone.mean()),
        "small_eps_a": {
            "rows": int(small.sum()),
            "threshold": SMALL_EPS_A_PRODUCT / steps,
            "gmean_loss": gm(loss[small]) if small.any() else float("nan"),
            "fraction_better": frac(better, rs) if small.any() else float("nan"),
            "fraction_near": frac(near, rs) if small.any() else float("nan"),
            "untrusted_excluded": int((~T[small]).sum()),
        },
        "large_eps_a": {
            "rows": int(large.sum()),
            "threshold": LARGE_EPS_A,
            "gmean_loss": gm(loss[large]) if large.any() else float("nan"),
            "fraction_better": frac(better, rl) if large.any() else float("nan"),
            "fraction_near": frac(near, rl) if large.any() else float("nan"),
            "untrusted_excluded": int((~T[large]).sum()),
        },
    }


def _excluded(an: dict[str, Any]) -> str:
    """The evidence's note on cells left out (empty when none were)."""
    n = int(an.get("untrusted_excluded", 0))
    return f"; {n} untrusted cells excluded" if n else ""


# -- predicates: (holds, one-line evidence) ----------------------------------------------------


def finding_beats_gd(an: dict[str, Any]) -> tuple[bool, str]:
    """ "The optimal convergence rate of BNGD can be better than GD in some configurations"
    (Sec. 4.1): some trusted non-diverged cell has BNGD loss below optimal GD's, GD not at
    rounding."""
    k = an["kappa"]
    if an["gd_at_rounding_floor"]:
        return False, (
            f"kappa={k:g}: optimal GD reached the rounding floor "
            f"({an['loss_gd_opt']:.2g}); no cell can beat it"
        )
    f = an["fraction_better"]
    return f > 0, (
        f"kappa={k:g}: BNGD < GD(opt) in {100 * f:.1f}% of cells, best loss ratio "
        f"{an['best_loss_ratio_bn_over_gd']:.2g} (kappa*={an['kappa_star']:.3g})" + _excluded(an)
    )


def finding_widens(an: dict[str, Any], upper: bool = False) -> tuple[bool, str]:
    """ "BNGD significantly extends the range of 'optimal' step sizes" (Sec. 4.1): the median
    over (eps_a, a0) rows of the near-optimal band (trusted cells) is at least ``WIDEN_FACTOR``
    times GD's own band (``log10(1/0.64)`` = 0.19 decades).  ``upper``: with the untrusted
    cells counted as near (the band's upper bound; see :func:`band_finding`)."""
    med = an["median_band_width_decades_upper" if upper else "median_band_width_decades"]
    ratio = med / an["gd_band_decades"]
    return ratio >= WIDEN_FACTOR, (
        f"kappa={an['kappa']:g}: median band {med:.2f} decades = {ratio:.1f}x GD's "
        f"{an['gd_band_decades']:.2f} (need >= {WIDEN_FACTOR:g}x)"
        + ("" if upper else _excluded(an))
    )


def finding_band_vs_a0(an: dict[str, Any], upper: bool = False) -> tuple[bool, str]:
    """ "The size of this region is inversely dependent on the initial condition a0" (Sec. 4.1):
    the mean band width over eps_a rows (trusted cells) decreases strictly as a0 grows.
    ``upper``: with the untrusted cells counted as near."""
    m = an["mean_band_width_by_a0_upper" if upper else "mean_band_width_by_a0"]
    keys = sorted(m)
    vals = [m[k] for k in keys]
    ok = all(b < a for a, b in zip(vals, vals[1:], strict=False))
    txt = ", ".join(f"a0={k:g}:{v:.2f}" for k, v in zip(keys, vals, strict=False))
    return ok, (
        f"kappa={an['kappa']:g}: mean band (decades) {txt}"
        + (
            ""
            if upper
            else f"; rows monotone {100 * an['fraction_rows_monotone_in_a0']:.0f}%" + _excluded(an)
        )
    )


def band_finding(fn, an: dict[str, Any]) -> tuple[bool | None, str]:
    """A band finding (:func:`finding_widens`, :func:`finding_band_vs_a0`) decided on both
    bounds of the band: untrusted cells left out (lower bound, the figure's statistic) and
    counted as near (upper bound).  ``(holds, evidence)`` when both agree; ``(None, evidence)``
    when the outcome depends on the untrusted cells (the check is then inconclusive, not
    refuted: recomputing them -- ``recompute_all`` -- decides it)."""
    ok, ev = fn(an)
    if not an.get("untrusted_excluded", 0):
        return ok, ev
    ok_up, ev_up = fn(an, upper=True)
    if ok == ok_up:
        return ok, ev + f" (the same with them counted as near: {ev_up.split(': ', 1)[-1]})"
    return None, (
        ev + f"; undecided: with the untrusted cells counted as near it "
        f"{'holds' if ok_up else 'fails'} ({ev_up.split(': ', 1)[-1]})"
    )


def finding_small_eps_a(an: dict[str, Any]) -> tuple[bool, str]:
    """ "Small eps_a will weaken the performance of BN" (Sec. 4.1): the G-mean BNGD loss over the
    rows with eps_a * steps <= 0.4 exceeds that over the rows with eps_a >= 0.0199."""
    s, l_ = an["small_eps_a"], an["large_eps_a"]
    ok = s["gmean_loss"] > l_["gmean_loss"]
    return ok, (
        f"kappa={an['kappa']:g}: G-mean loss small eps_a {s['gmean_loss']:.2g} vs large "
        f"{l_['gmean_loss']:.2g}; BN<GD cells {100 * s['fraction_better']:.0f}% vs "
        f"{100 * l_['fraction_better']:.0f}%" + _excluded(an)
    )


def finding_gd_rate(an: dict[str, Any], slack: float = 1e-3) -> tuple[bool, str]:
    """GD at eps_opt contracts at the closed-form rate (kappa-1)/(kappa+1) (Eq. 5, S2.GD-opt).

    Tolerance, from the spectrum (see :func:`gd_rate`): the measured rate must lie in
    ``[rho_2 - s, rho + s]`` with ``s = slack * (1 - rho)``: below ``rho`` by at most the pull of
    the second-slowest mode, above it only by rounding (the window ends 1e6 above the rounding
    level, so rounding moves the rate by far less than ``1e-3 (1 - rho)``)."""
    g = an["gd_rate"]
    if not np.isfinite(g["rho_measured"]):
        return False, f"kappa={an['kappa']:g}: GD rate window too short to measure"
    s = slack * (1 - g["rho_closed_form"])
    ok = g["rho_second_mode"] - s <= g["rho_measured"] <= g["rho_closed_form"] + s
    return ok, (
        f"kappa={an['kappa']:g}: GD rate {g['rho_measured']:.6f} vs (k-1)/(k+1) "
        f"{g['rho_closed_form']:.6f} (|diff|/(1-rho)={g['relative_error']:.1e}, "
        f"allowed down to rho_2={g['rho_second_mode']:.6f})"
    )


# ----------------------------------------------------------------------------------------------
# high-precision confirmation
# ----------------------------------------------------------------------------------------------


def untrusted_cells(data: dict[str, Any]) -> np.ndarray:
    """Indices (i_eps_a, i_eps, i_a0) of the cells whose stored values are not trusted: the
    measured set ``~data["trusted"]`` (the engine's shadow copies disagree on the status or the
    loss keeps fewer than ``min_digits`` digits, and no high-precision value settled the cell).

    Before issue 11 this was an input-region rule (``a0 <= 1e-8`` or ``eps >= 1e12``); it missed
    every cell float64 actually gets wrong -- edge-of-stability cells in which the top eigenmode
    grows from a rounding-sized seed (kappa = 1000, seed 3, cell (34, 7, 0): float64 1.80e-4,
    40-120 digits 2.46e-6).  Data without a trust estimate have no untrusted cell."""
    return np.argwhere(~trusted_mask(data))


def _colour(data: dict[str, Any], diverged: bool, eff: float, loss: float) -> str:
    """The Fig. 1 colour of one cell (see :func:`categories`)."""
    if diverged:
        return "diverged"
    eo, gd, floor = float(data["eps_opt"]), float(data["loss_gd_opt"]), float(data["loss_floor"])
    near = NEAR_FACTOR * eo < eff < eo / NEAR_FACTOR
    better = loss < gd and gd > floor
    return f"{'near' if near else 'far'}&{'better' if better else 'worse'}"


def _agree_digits(x: float, y: float, floor: float = 0.0) -> float:
    """Significant digits in which ``x`` and ``y`` agree, relative to ``max(|y|, floor)``
    (``FLOAT64_DIGITS`` when equal; 0 when not finite)."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return FLOAT64_DIGITS if (x == y or (math.isnan(x) and math.isnan(y))) else 0.0
    scale = max(abs(y), floor)
    diff = abs(x - y)
    if diff == 0 or scale == 0:
        return FLOAT64_DIGITS if diff == 0 else 0.0
    return float(min(FLOAT64_DIGITS, max(0.0, -math.log10(diff / scale))))


def mp_ladder(
    cfg: dict[str, Any], ladder: tuple[int, ...] = MP_LADDER, deadline: float = math.inf
) -> dict[str, Any]:
    """High-precision value of one BNGD configuration: ``run_mp`` at the precisions of
    ``ladder`` until two successive ones give the same status (and divergence step) and agree to
    ``MP_STABLE_DIGITS`` significant digits in eps^ and in the loss (relative to
    ``max(|loss|, cfg["loss_floor"])``).

    ``cfg``: ``h, u, w0`` (lists of floats), ``eps, eps_a, a0, steps, loss_floor``; floats are
    taken as the exact doubles they denote, as the float64 engine reads them.  Returns the
    higher precision's ``status, loss, eff_step, diverged_step, dps``, ``digits`` (digits of
    the loss in which the last two precisions agree, at most 15), ``resolved`` and ``seconds``.
    ``deadline`` (``time.time()``): past the first two precisions, the ladder climbs only while
    the next run is expected to end before it (the cell is then left unresolved).  A top-level
    function so that worker processes can run it."""
    from ..dynamics.mp import run_mp

    floor = float(cfg.get("loss_floor", 0.0))

    def evaluate(dps: int) -> dict[str, Any]:
        r = run_mp(
            H_diag=cfg["h"],
            u=cfg["u"],
            w0=cfg["w0"],
            eps=float(cfg["eps"]),
            eps_a=float(cfg["eps_a"]),
            a0=float(cfg["a0"]),
            method="bngd",
            steps=int(cfg["steps"]),
            precision=dps,
        )
        div = r.status == "diverged"
        return {
            "dps": dps,
            "status": r.status,
            "diverged_step": r.diverged_step,
            "loss": float("nan") if div or r.loss is None else float(r.loss),
            "eff_step": float(r.eff_step) if r.eff_step is not None else float("nan"),
            "digits": float("nan"),
        }

    def agree(prev: dict[str, Any], cur: dict[str, Any]) -> tuple[bool, float]:
        if cur["status"] == "diverged":
            return prev["diverged_step"] == cur["diverged_step"], float("nan")
        dig = _agree_digits(prev["loss"], cur["loss"], floor)
        ok = (
            dig >= MP_STABLE_DIGITS
            and _agree_digits(prev["eff_step"], cur["eff_step"]) >= MP_STABLE_DIGITS
        )
        return ok, dig

    return climb_ladder(ladder, deadline, evaluate, agree)


def climb_ladder(
    ladder: tuple[int, ...],
    deadline: float,
    evaluate: Any,
    agree: Any,
) -> dict[str, Any]:
    """The precision ladder shared by :func:`mp_ladder` and
    :func:`bnverify.experiments.mbngd.mp_mbngd`: ``evaluate(dps)`` (a dict with ``status``) at
    each precision of ``ladder`` until two successive results have the same status and
    ``agree(prev, cur)`` returns ``(True, digits)``; past the first two precisions the ladder
    climbs only while the next run is expected to end before ``deadline`` (``time.time()``).
    Returns the last result with ``digits``, ``resolved`` and ``seconds``."""
    t0 = time.perf_counter()
    prev = None
    last = 0.0
    for n, dps in enumerate(ladder):
        if n >= 2 and time.time() + 1.5 * last > deadline:
            break
        t1 = time.perf_counter()
        cur = evaluate(int(dps))
        last = time.perf_counter() - t1
        if prev is not None and prev["status"] == cur["status"]:
            ok, dig = agree(prev, cur)
            if ok:
                return {**cur, "digits": dig, "resolved": True, "seconds": time.perf_counter() - t0}
        prev = cur
    assert prev is not None
    return {**prev, "resolved": False, "seconds": time.perf_counter() - t0}


def _cell_config(data: dict[str, Any], i: int, j: int, k: int) -> dict[str, Any]:
    return {
        "h": [float(x) for x in data["h"]],
        "u": [float(x) for x in data["u"]],
        "w0": [float(x) for x in data["w0"]],
        "eps": float(data["eps"][j]),
        "eps_a": float(data["eps_a"][i]),
        "a0": float(data["a0"][k]),
        "steps": int(data["steps"]),
        "loss_floor": float(data.get("loss_floor", 0.0)),
    }


def mp_reference(
    data: dict[str, Any], i: int, j: int, k: int, ladder: tuple[int, ...] = MP_LADDER
) -> dict[str, Any]:
    """High-precision value of cell ``(i, j, k)`` (:func:`mp_ladder`: 40, 60, 120, 240, 480
    digits until two successive precisions agree to 8 significant digits in eps^ and the loss).

    Why a ladder and not a fixed precision: the digits an orbit loses vary by many orders from
    cell to cell.  At kappa = 1000, seed 3, cell (34, 7, 0) 30 digits give a loss of 2.20e-6 and
    40, 60, 120 digits agree on 2.4630967806e-6; in some cells (kappa = 10, eps = 3.2e12,
    a0 = 1e-8) 50 and 100 digits give eps^ = 0.213 and 0.187 while 200 and 400 digits agree with
    float64's 0.3406 to 15 digits.  ``resolved`` is False when no two precisions agreed (the cell
    is then reported, not judged)."""
    return mp_ladder(_cell_config(data, i, j, k), tuple(ladder))


# -- worker processes ---------------------------------------------------------------------------


class CellPool:
    """Runs high-precision cells in this process, with a wall-clock deadline (the interface
    :class:`bnverify.scheduling.DaskPool` has on a cluster; :func:`bnverify.scheduling.make_pool`
    picks one)."""

    def __init__(self, jobs: int = 1):
        if int(jobs) != 1:
            raise ValueError("CellPool runs in this process: jobs must be 1 "
                             "(bnverify.scheduling.make_pool gives a Dask pool for more)")
        self.jobs = 1

    def __enter__(self) -> CellPool:
        return self

    def __exit__(self, et, ev, tb) -> None:
        self.close(abort=et is not None)

    def start(self) -> None:
        """Nothing to start."""

    def run(
        self,
        cfgs: list[dict[str, Any]],
        ladder: tuple[int, ...],
        deadline: float = math.inf,
        fn: Any = None,
    ) -> list[dict[str, Any] | None]:
        """``fn(cfg, ladder, wall_deadline)`` (default :func:`mp_ladder`; a top-level function
        returning a dict with ``seconds``) of each configuration, in order, as long as time
        allows: a cell is started only while ``now + (mean seconds per cell so far) <=
        deadline`` (the first always starts when the deadline is in the future); cells not
        started give None."""
        fn = mp_ladder if fn is None else fn
        out: list[dict[str, Any] | None] = [None] * len(cfgs)
        times: list[float] = []
        wall_deadline = time.time() + (deadline - time.perf_counter())
        for n, cfg in enumerate(cfgs):
            now = time.perf_counter()
            if now >= deadline or (times and now + float(np.mean(times)) > deadline):
                break
            out[n] = fn(cfg, ladder, wall_deadline)
            times.append(out[n]["seconds"])
        return out

    def close(self, abort: bool = False) -> None:
        """Nothing to release."""


# -- recomputation of the untrusted cells --------------------------------------------------------


def decision_margin(data: dict[str, Any], cells: np.ndarray) -> np.ndarray:
    """Distance in decades of each cell's stored values from the figure's decision boundaries:
    the smallest of ``|log10(loss / loss_GD)|`` (the 'better' colour; ``|log10(loss / floor)|``
    when optimal GD is at the rounding floor), ``|log10(eps^ / (0.8 eps_opt))|`` and
    ``|log10(eps^ / (eps_opt / 0.8))|`` (the 'near' colour).  Diverged or non-finite cells get 0
    (their colour itself is in doubt)."""
    if len(cells) == 0:
        return np.zeros(0)
    idx = tuple(np.asarray(cells).T)
    eo = float(data["eps_opt"])
    gd = float(data["loss_gd_opt"])
    floor = float(data.get("loss_floor", 0.0))
    loss = np.asarray(data["loss_bn"], dtype=float)[idx]
    eff = np.asarray(data["eff_step"], dtype=float)[idx]
    div = np.asarray(data["status"])[idx] == 1
    ref = gd if gd > floor else max(floor, 1e-300)
    with np.errstate(all="ignore"):
        m = np.fmin(
            np.abs(np.log10(np.maximum(loss, 1e-300) / ref)),
            np.fmin(
                np.abs(np.log10(eff / (NEAR_FACTOR * eo))),
                np.abs(np.log10(eff / (eo / NEAR_FACTOR))),
            ),
        )
    bad = div | ~np.isfinite(m)
    return np.where(bad, 0.0, m)


def recompute_order(data: dict[str, Any], cells: np.ndarray) -> np.ndarray:
    """The untrusted cells in the order they are recomputed: nearest the figure's decision
    boundaries first (:func:`decision_margin`: a cell whose float64 value sits 0.01 decades from
    a band edge or from optimal GD's loss changes colour under the smallest error; one 5 decades
    away needs a grossly wrong orbit), ties in index order.  The order depends only on the data,
    so a larger budget recomputes a superset."""
    cells = np.asarray(cells).reshape(-1, 3)
    if len(cells) == 0:
        return cells
    m = decision_margin(data, cells)
    return cells[np.lexsort((cells[:, 2], cells[:, 1], cells[:, 0], m))]


def recompute_untrusted(
    data: dict[str, Any],
    pool: CellPool,
    budget_s: float = RECOMPUTE_BUDGET_S,
    ladder: tuple[int, ...] = MP_LADDER,
) -> dict[str, Any]:
    """Recompute the panel's untrusted cells at high precision (:func:`mp_ladder`), in the order
    of :func:`recompute_order`, in ``pool``'s workers: the first
    ``cells_for_budget(budget_s)`` of them (about ``budget_s`` seconds on two workers;
    ``math.inf``: all of them) -- a count, not a deadline, so the result does not depend on the
    machine.

    ``data`` is updated in place: ``loss_bn_float64``, ``eff_step_float64``, ``status_float64``
    keep the float64 values; for every settled cell (two precisions agree)
    ``loss_bn``/``eff_step``/``status`` take the high-precision values, ``trusted`` becomes True,
    ``digits`` the digits in which the two precisions agree (at most 15, the float64 storage),
    ``recomputed`` True and ``mp_dps`` the precision used (0 elsewhere).  Cells the ladder could
    not settle stay untrusted (counted in ``recompute_unresolved``).  Returns the record of the
    recomputation (also stored as scalars in ``data``)."""
    t0 = time.perf_counter()
    shape = np.asarray(data["eff_step"]).shape
    data.setdefault("loss_bn_float64", np.array(data["loss_bn"], dtype=float, copy=True))
    data.setdefault("eff_step_float64", np.array(data["eff_step"], dtype=float, copy=True))
    data.setdefault("status_float64", np.array(data["status"], dtype=np.int8, copy=True))
    data.setdefault("recomputed", np.zeros(shape, dtype=bool))
    data.setdefault("mp_dps", np.zeros(shape, dtype=np.int16))
    if "trusted" not in data:
        data["trusted"] = np.ones(shape, dtype=bool)
    if "digits" not in data:
        data["digits"] = np.full(shape, np.nan)
    cells = recompute_order(data, untrusted_cells(data))
    n_untrusted = int(len(cells))
    n_take = cells_for_budget(budget_s)
    if math.isfinite(n_take):
        cells = cells[: int(n_take)]
    results = (
        pool.run([_cell_config(data, *map(int, c)) for c in cells], tuple(ladder), math.inf)
        if len(cells)
        else []
    )
    records = []
    n_att = n_unres = 0
    for c, ref in zip(cells, results, strict=False):
        if ref is None:
            continue
        n_att += 1
        i, j, k = (int(x) for x in c)
        rec = {
            "cell": [i, j, k],
            "eps_a": float(data["eps_a"][i]),
            "eps": float(data["eps"][j]),
            "a0": float(data["a0"][k]),
            "float64_loss": float(data["loss_bn_float64"][i, j, k]),
            "float64_eff_step": float(data["eff_step_float64"][i, j, k]),
            "float64_digits": float(data["digits"][i, j, k]),
            "mp_status": ref["status"],
            "mp_loss": ref["loss"],
            "mp_eff_step": ref["eff_step"],
            "mp_dps": ref["dps"],
            "mp_digits": ref["digits"],
            "resolved": bool(ref["resolved"]),
        }
        f_div = int(data["status_float64"][i, j, k]) == 1
        rec["colour_float64"] = _colour(data, f_div, rec["float64_eff_step"], rec["float64_loss"])
        if ref["resolved"]:
            m_div = ref["status"] == "diverged"
            data["loss_bn"][i, j, k] = np.nan if m_div else ref["loss"]
            data["eff_step"][i, j, k] = ref["eff_step"]
            data["status"][i, j, k] = 1 if m_div else 0
            data["trusted"][i, j, k] = True
            data["digits"][i, j, k] = ref["digits"]
            data["recomputed"][i, j, k] = True
            data["mp_dps"][i, j, k] = ref["dps"]
            rec["colour_mp"] = _colour(data, m_div, ref["eff_step"], ref["loss"])
        else:
            n_unres += 1
            rec["colour_mp"] = None
        records.append(rec)
    secs = time.perf_counter() - t0
    info = {
        "untrusted_float64": n_untrusted,
        "recompute_attempted": n_att,
        "recomputed": int(sum(r["resolved"] for r in records)),
        "recompute_unresolved": n_unres,
        "left_untrusted": int((~trusted_mask(data)).sum()),
        "colour_changed": int(
            sum(r["resolved"] and r["colour_mp"] != r["colour_float64"] for r in records)
        ),
        "recompute_seconds": round(secs, 3),
        "recompute_budget_s": float(budget_s),
        "jobs": pool.jobs,
        "ladder": [int(x) for x in ladder],
        "order": "nearest the decision boundaries first (decision_margin, decades)",
        "cells": records,
    }
    data["untrusted_float64"] = n_untrusted
    data["recompute_attempted"] = n_att
    data["recompute_unresolved"] = n_unres
    data["recompute_seconds"] = float(secs)
    data["recompute_budget_s"] = float(budget_s)
    data["_recompute"] = info
    return info


def trust_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Counts of the panel's trust record for the figure summary (JSON): cells, float64-untrusted,
    recomputed, unresolved, left untrusted (= hatched in the plot), times and settings."""
    info = dict(data.get("_recompute") or {})
    T = trusted_mask(data)
    return {
        "measured": "trusted" in data,
        "min_digits": float(data.get("min_digits", float("nan"))),
        "loss_floor": float(data.get("loss_floor", 0.0)),
        "cells": int(T.size),
        "untrusted_float64": int(info.get("untrusted_float64", (~T).sum())),
        "recomputed": int(np.asarray(data.get("recomputed", False)).sum()),
        "recompute_attempted": int(info.get("recompute_attempted", 0)),
        "recompute_unresolved": int(info.get("recompute_unresolved", 0)),
        "left_untrusted": int((~T).sum()),
        "colour_changed_by_recompute": int(info.get("colour_changed", 0)),
        "recompute_seconds": float(info.get("recompute_seconds", 0.0)),
        "recompute_budget_s": float(info.get("recompute_budget_s", 0.0)),
        "recompute_all": bool(data.get("recompute_all", False)),
        "jobs": int(info.get("jobs", 1)),
        "ladder": info.get("ladder", []),
        "order": info.get("order", ""),
        "gd_trusted": bool(data.get("gd_trusted", True)),
        "curve_trusted": [bool(x) for x in np.atleast_1d(data.get("curve_trusted", []))],
        "recomputed_cells": info.get("cells", []),
    }


def mp_confirm(
    data: dict[str, Any],
    n: int,
    rng: np.random.Generator,
    dps: tuple[int, ...] = MP_LADDER,
    cells: np.ndarray | None = None,
    pool: CellPool | None = None,
) -> dict[str, Any]:
    """Spot check of the trust estimate: re-run ``n`` sampled cells that float64 claims to
    hold (``trusted`` and not recomputed) with the high-precision engine
    (:func:`mp_reference`, inputs taken exactly from the float64 ones) and compare.

    The untrusted cells are not sampled here: they are recomputed
    (:func:`recompute_untrusted`) or hatched and excluded.  What remains to confirm is that a
    cell the shadow copies trust is right.  A cell *agrees* when both engines give it the same
    Fig. 1 colour (diverged?, eps^ within (0.8, 1/0.8) eps_opt?, loss below optimal GD's?) --
    the figure's content; ``agree`` is None when the high-precision value itself did not settle
    (``mp_resolved`` False).  The relative differences of the loss and of eps^ are recorded too.
    Half of the sample is drawn among cells at the rounding floor, half among the others.
    ``cells`` gives the cells explicitly (any cells, trusted or not)."""

    empty = {
        "samples": [],
        "n": 0,
        "all_agree": True,
        "dps_ladder": list(dps),
        "disagree": 0,
        "unresolved": 0,
        "pool": "trusted float64 cells",
    }
    explicit = cells is not None
    if cells is None:
        T = trusted_mask(data) & ~np.asarray(
            data.get("recomputed", np.zeros(np.shape(data["eff_step"]), dtype=bool)), dtype=bool
        )
        cand = np.argwhere(T)
        if n <= 0 or cand.size == 0:
            return empty
        loss = np.asarray(data["loss_bn"])[tuple(cand.T)]
        at_floor = np.nan_to_num(loss, nan=np.inf) <= 1e3 * float(data["loss_floor"])
        strata = [cand[at_floor], cand[~at_floor]]
        if len(strata[0]) and len(strata[1]):
            sizes = ((n + 1) // 2, n // 2)
        else:
            sizes = (n, 0) if len(strata[0]) else (0, n)
        picks = [
            st[rng.choice(len(st), size=min(m, len(st)), replace=False)]
            for st, m in zip(strata, sizes, strict=True)
            if m > 0
        ]
        cells = np.concatenate(picks)
    cells = np.asarray(cells).reshape(-1, 3)
    cfgs = [_cell_config(data, *map(int, c)) for c in cells]
    if pool is None:
        refs = [mp_ladder(c, tuple(dps)) for c in cfgs]
    else:
        refs = pool.run(cfgs, tuple(dps))
    out = []
    for (i, j, k), ref in zip(cells, refs, strict=True):
        assert ref is not None
        eps, eps_a, a0 = float(data["eps"][j]), float(data["eps_a"][i]), float(data["a0"][k])
        mp_loss, mp_eff = ref["loss"], ref["eff_step"]
        m_div = ref["status"] == "diverged"
        f_loss = float(data["loss_bn"][i, j, k])
        f_eff = float(data["eff_step"][i, j, k])
        f_div = int(data["status"][i, j, k]) == 1
        with np.errstate(all="ignore"):
            rel_eff = abs(f_eff - mp_eff) / max(abs(mp_eff), 1e-300)
            rel_loss = abs(f_loss - mp_loss) / max(abs(mp_loss), 1e-300)
        c_f = _colour(data, f_div, f_eff, f_loss)
        c_m = _colour(data, m_div, mp_eff, mp_loss)
        tr = trusted_mask(data)[i, j, k]
        out.append(
            {
                "cell": [int(i), int(j), int(k)],
                "eps_a": eps_a,
                "eps": eps,
                "a0": a0,
                "trusted": bool(tr),
                "float64_digits": float(data["digits"][i, j, k]) if "digits" in data else math.nan,
                "float64_loss": f_loss,
                "mp_loss": mp_loss,
                "rel_diff_loss": float(rel_loss),
                "float64_eff_step": f_eff,
                "mp_eff_step": mp_eff,
                "rel_diff_eff_step": float(rel_eff),
                "colour_float64": c_f,
                "colour_mp": c_m,
                "mp_digits": ref["dps"],
                "mp_resolved": ref["resolved"],
                "agree": (c_f == c_m) if ref["resolved"] else None,
            }
        )
    return {
        "samples": out,
        "n": len(out),
        "all_agree": all(s["agree"] is True for s in out),
        "dps_ladder": list(dps),
        "disagree": sum(s["agree"] is False for s in out),
        "unresolved": sum(s["agree"] is None for s in out),
        "max_rel_diff_loss": max((s["rel_diff_loss"] for s in out), default=0.0),
        "max_rel_diff_eff_step": max((s["rel_diff_eff_step"] for s in out), default=0.0),
        "pool": "given cells" if explicit else empty["pool"],
        "criterion": "same Fig. 1 colour (diverged / near band / below optimal GD) in float64 "
        "and at high precision, for cells the float64 trust estimate trusts; relative "
        "differences recorded",
    }
