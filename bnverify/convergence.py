"""Deciding where a BNGD / MBNGD / GD run goes: to a global minimiser, to a saddle, to infinity.

Theorem 3.3 (claims T3.3, T3.3-1, T3.3-2), Lemmas A.11-A.13, Theorem B.1 and Lemma B.2 are
statements about *limits* of the iteration Eq. (9)-(10) (BNGD) or Eq. (81) (MBNGD).  A finite
computation can only *decide* a limit with stated criteria; this module states them once and
applies them to batches of configurations, using the batched float64 engine
(:func:`bnverify.dynamics.batched.run`) first and the high-precision engine
(:func:`bnverify.dynamics.mp.run_mp`) where float64 cannot decide.

Decision criteria (``tol`` defaults to ``CONVERGED_RTOL = 1e-8`` of the engines)
---------------------------------------------------------------------------------
Write ``y_k = w_k^T g``, ``sigma_k = sqrt(w_k^T H w_k)``, ``e~_k = u - (a_k/sigma_k) w_k``
(Eq. 70; for MBNGD ``a_k := y_k / sigma_k``), and ``||u||_H = sqrt(u^T H u)``.

* ``"minimiser"`` -- converged to a global minimiser (Eq. 8 / Eq. 22-23:
  ``a* = sign(s) ||u||_H``, ``w* = s u``):  ``||e~_k||_H <= tol ||u||_H``.  By Eq. (70)
  ``||e~||_H^2 = ||e_k||_H^2 + (a_k - y_k/sigma_k)^2``, so the direction of ``w_k`` is within
  ``tol`` of ``+-u`` in the ``H``-norm *and* ``a_k`` is within ``tol ||u||_H`` of its optimal value
  ``y_k/sigma_k``; the loss ``J_k - J* = ||e~_k||_H^2 / 2`` is below ``tol^2 ||u||_H^2 / 2``.
  Near the minimiser manifold the remaining motion of ``w`` is a convergent geometric series
  (Lemma A.11), so the limit exists and is a minimiser.
* ``"saddle"`` -- converged to a saddle ``{a = 0, w^T g = 0}`` (Sect. 2):
  ``max(|a_k|, |y_k|/sigma_k) <= tol ||u||_H`` (for GD there are no saddles), *and* this saddle
  residual did not grow over the last chunk of iterations (a run that passes near a saddle and
  escapes is not counted).  ``|y_k|/sigma_k`` is the scale-invariant form of
  ``|w^T g| / (||w|| ||g||)`` (both are reported: ``cos_wg`` is the latter).
* ``"diverged"`` -- a non-finite value appeared (the engines' ``diverged`` status).
* ``"undecided"`` -- none of the above within ``max_steps`` iterations.  Undecided runs are never
  counted as converging; callers report the decided fraction.  ``rate`` holds the observed
  per-step contraction factor of ``||e~_k||_H`` over the last chunk (``<1``: still approaching a
  minimiser at that linear rate; ``predicted_steps`` extrapolates it to ``tol``).

High precision.  A configuration moves to the mp engine (``run_mp`` at ``mp_digits`` digits,
rerun from its initial values) when it is undecided after ``max_steps`` and either
(a) its smallest ``||e~||_H / ||u||_H`` came within ``100 tol`` of the threshold while the
float64 rounding floor ``64 d 2^-52 sqrt(kappa)`` is within a factor 100 of ``tol`` (float64 cannot
resolve the crossing), or (b) float64 stalled (``||e~||`` did not decrease over a chunk although it
is above ``tol``: the update fell below rounding) while the rounding floor is above ``tol / 100``;
and also when a float64 decision lies within the rounding floor of the threshold, or (c) the
float64 engine's trust estimate (shadow copies, ``run(..., trust=True)``; docs/numerics.md) saw
its copies end a chunk with different statuses: such a chunk decides nothing in float64
(``Decisions.untrusted``; ``Decisions.digits`` holds the fewest estimated correct digits of the
loss over the chunks).
At most ``max_mp`` configurations go to mp (each costs about ``2e-6 d steps`` seconds).

Example
-------
>>> import numpy as np
>>> from bnverify.model import OLSProblem
>>> p = OLSProblem.from_diagonal([1.0, 4.0], [0.6, 0.8])
>>> dec = decide(p, eps=np.array([0.1, 1.0]), w0=[1.0, 0.0], eps_a=1.0, a0=1.0)
>>> dec.label.tolist()
['minimiser', 'minimiser']
>>> decide(p, eps=0.1, w0=[0.8, -0.15], a0=0.0).label.item()  # w0 orthogonal to g, a0 = 0
'saddle'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dynamics.batched import CONVERGED_RTOL, DIVERGED, run, step
from .errors import BNVerifyError
from .model import OLSProblem, as_float_array

MINIMISER, SADDLE, DIVERGED_LABEL, UNDECIDED = "minimiser", "saddle", "diverged", "undecided"
LABELS = (MINIMISER, SADDLE, DIVERGED_LABEL, UNDECIDED)

CRITERIA = {
    MINIMISER: "||e~_k||_H <= tol ||u||_H (Eq. 70: direction and scale both within tol)",
    SADDLE: "max(|a_k|, |w_k^T g|/sigma_k) <= tol ||u||_H and not growing over the last chunk",
    DIVERGED_LABEL: "non-finite iterate (engine status 'diverged')",
    UNDECIDED: "none of the above within max_steps iterations (never counted as converged)",
}


@dataclass
class Decisions:
    """Decisions for a batch (all arrays have the batch shape; ``w`` has an extra ``d`` axis)."""

    label: np.ndarray
    steps: np.ndarray
    engine: np.ndarray
    e_tilde_rel: np.ndarray
    saddle_rel: np.ndarray
    a: np.ndarray
    w: np.ndarray
    cos_wg: np.ndarray
    rate: np.ndarray
    predicted_steps: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    #: float64 trust: fewest estimated correct digits of the loss over the chunks (NaN: mp or
    #: diverged), and whether the float64 shadow copies ever disagreed on the status
    digits: np.ndarray | None = None
    untrusted: np.ndarray | None = None

    def counts(self) -> dict[str, int]:
        return {lab: int(np.count_nonzero(self.label == lab)) for lab in LABELS}

    @property
    def n(self) -> int:
        return int(self.label.size)

    @property
    def n_decided(self) -> int:
        return self.n - self.counts()[UNDECIDED]

    def summary(self) -> str:
        c = self.counts()
        parts = ", ".join(f"{c[k]} {k}" for k in LABELS if c[k])
        n_mp = int(np.count_nonzero(self.engine == "mp"))
        mp = f"; {n_mp} decided at {self.settings.get('mp_digits')} digits" if n_mp else ""
        nu = 0 if self.untrusted is None else int(np.count_nonzero(
            self.untrusted & (self.engine == "float64")))
        ut = f"; {nu} left undecided because float64's copies disagreed" if nu else ""
        return f"{self.n} runs: {parts} (decided {self.n_decided}/{self.n}){mp}{ut}"

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts(), "n": self.n, "n_decided": self.n_decided,
                "criteria": CRITERIA, "settings": self.settings}


def rounding_floor(problem: OLSProblem) -> float:
    """Relative level of ``||e~||_H / ||u||_H`` below which float64 iterates cannot go reliably:
    ``64 d 2^-52 sqrt(kappa)`` (``e~`` is a difference of O(1) vectors in the ``H``-norm, whose
    relative conditioning is ``sqrt(kappa)``; 64 d covers the dot products' accumulation)."""
    return 64.0 * problem.d * np.finfo(float).eps * float(np.sqrt(problem.kappa))


def _classify(method, problem, a, w, u, tol):
    """Per-configuration (e~_rel, saddle_rel, cos_wg) for final states a (B,), w (B, d), u (B, d)."""
    H = problem.H
    Hu = u @ H
    unorm = np.sqrt(np.einsum("bi,bi->b", u, Hu))
    g = Hu
    with np.errstate(all="ignore"):
        Hw = w @ H
        y = np.einsum("bi,bi->b", w, g)
        sig = np.sqrt(np.einsum("bi,bi->b", w, Hw))
        if method == "mbngd":
            a = y / sig
        if method == "gd":
            et = u - w
            srel = np.full(len(y), np.inf)
        else:
            et = u - (a / sig)[:, None] * w
            srel = np.maximum(np.abs(a), np.abs(y) / sig) / unorm
        erel = np.sqrt(np.einsum("bi,bi->b", et @ H, et)) / unorm
        cos = np.abs(y) / (np.linalg.norm(w, axis=1) * np.linalg.norm(g, axis=1))
    return erel, srel, cos, a


def decide(
    problem: OLSProblem,
    method: str = "bngd",
    *,
    eps: Any,
    w0: Any,
    eps_a: Any = 1.0,
    a0: Any = 1.0,
    u: Any = None,
    chunk: int = 2000,
    max_steps: int = 20000,
    tol: float = CONVERGED_RTOL,
    mp_fallback: bool = True,
    max_mp: int = 4,
    mp_digits: int = 50,
) -> Decisions:
    """Run a batch of configurations (broadcast as in :func:`~bnverify.dynamics.batched.run`)
    until each is decided (criteria in the module docstring) or ``max_steps`` is reached.

    Runs in chunks of ``chunk`` iterations; only the undecided configurations continue, from
    their current state.  Returns :class:`Decisions`.
    """
    if method not in ("bngd", "gd", "mbngd"):
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    if not (isinstance(chunk, int) and chunk >= 10 and isinstance(max_steps, int) and max_steps >= 1):
        raise BNVerifyError("chunk/max_steps: chunk must be an integer >= 10, max_steps >= 1")
    if not 0 < tol < 1:
        raise BNVerifyError(f"tol: must be in (0, 1), got {tol}")
    d = problem.d
    eps_arr, epsa_arr, a0_arr = (as_float_array(x, n) for x, n in
                                 ((eps, "eps"), (eps_a, "eps_a"), (a0, "a0")))
    w0_arr = as_float_array(w0, "w0")
    u_arr = None if u is None else as_float_array(u, "u")
    shapes = [eps_arr.shape, epsa_arr.shape, a0_arr.shape, w0_arr.shape[:-1]]
    if u_arr is not None:
        shapes.append(u_arr.shape[:-1])
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise BNVerifyError("eps, eps_a, a0, w0, u: batch shapes do not broadcast") from None
    B = int(np.prod(shape)) if shape else 1
    EPS = np.broadcast_to(eps_arr, shape).reshape(B).astype(float)
    EPSA = np.broadcast_to(epsa_arr, shape).reshape(B).astype(float)
    A = np.broadcast_to(a0_arr, shape).reshape(B).astype(float).copy()
    W = np.broadcast_to(w0_arr, shape + (d,)).reshape(B, d).astype(float).copy()
    U = np.broadcast_to(problem.u if u_arr is None else u_arr, shape + (d,)).reshape(B, d)
    U = np.ascontiguousarray(U, dtype=float)
    A_init, W_init = A.copy(), W.copy()

    label = np.full(B, UNDECIDED, dtype=object)
    engine = np.full(B, "float64", dtype=object)
    steps_done = np.zeros(B, dtype=np.int64)
    erel = np.full(B, np.nan)
    srel = np.full(B, np.nan)
    cos = np.full(B, np.nan)
    rate = np.full(B, np.nan)
    best_erel = np.full(B, np.inf)
    stalled = np.zeros(B, dtype=bool)
    untrusted = np.zeros(B, dtype=bool)
    digits = np.full(B, np.nan)
    floor = rounding_floor(problem)
    stride = max(chunk // 10, 1)

    # step 0: exact fixed points (e.g. a0 = 0 and w0 ^T g = 0) and already-converged starts
    e0, s0, c0, _ = _classify(method, problem, A, W, U, tol)
    erel[:], srel[:], cos[:] = e0, s0, c0
    label[e0 <= tol] = MINIMISER
    fixed = (s0 == 0) & (label == UNDECIDED)
    label[fixed] = SADDLE

    total = 0
    while total < max_steps:
        act = np.flatnonzero(label == UNDECIDED)
        if act.size == 0:
            break
        n = min(chunk, max_steps - total)
        r = run(problem, method, eps=EPS[act], w0=W[act], eps_a=EPSA[act], a0=A[act],
                u=U[act] if u_arr is not None else None, steps=n, history_stride=stride,
                trust=True)
        # float64 trust (shadow copies): a chunk whose copies end with different statuses
        # decides nothing in float64; such runs are candidates for the high-precision engine
        agree = np.asarray(r.status_agree).reshape(len(act))
        untrusted[act[~agree]] = True
        digits[act] = np.fmin(np.where(np.isnan(digits[act]), np.inf, digits[act]),
                              np.asarray(r.digits).reshape(len(act)))
        total += n
        steps_done[act] = total
        div = r.status == DIVERGED
        label[act[div]] = DIVERGED_LABEL
        steps_done[act[div]] = total - n + r.diverged_step[div]
        Wn = r.w.reshape(len(act), d)
        An = r.a.reshape(len(act)) if method == "bngd" else A[act]
        s_prev = srel[act].copy()
        e_prev = erel[act].copy()
        e1, s1, c1, a_rep = _classify(method, problem, An, Wn, U[act], tol)
        A[act], W[act] = An, Wn
        erel[act], srel[act], cos[act] = e1, s1, c1
        # history of ||e~||_H = sqrt(2 (loss - noise/2)) for the rate over this chunk
        loss_h = r.history["loss"].reshape(-1, len(act)) - 0.5 * problem.noise
        et_h = np.sqrt(np.maximum(2.0 * loss_h, 0.0)) / np.sqrt(np.einsum(
            "bi,bi->b", U[act] @ problem.H, U[act]))[None, :]
        with np.errstate(all="ignore"):
            best_erel[act] = np.fmin(best_erel[act], np.nanmin(et_h, axis=0))
            first, last = et_h[0], e1
            rate[act] = np.where((first > 0) & (last > 0), (last / first) ** (1.0 / n), np.nan)
        stalled[act] = (e1 >= e_prev * (1 - 1e-12)) & (e1 > tol)
        ok = ~div & agree
        is_min = ok & (e1 <= tol)
        is_sad = ok & ~is_min & (s1 <= tol) & ~(s1 > s_prev)
        label[act[is_min]] = MINIMISER
        label[act[is_sad]] = SADDLE

    # high precision where float64 cannot decide (or a decision sits within rounding of tol)
    n_mp = 0
    if mp_fallback:
        near = (label == UNDECIDED) & (
            ((best_erel <= 100 * tol) & (floor >= tol / 100)) | (stalled & (floor >= tol / 100))
            | untrusted
        )
        edge = (label == MINIMISER) & (np.abs(erel - tol) <= floor) & (engine == "float64")
        for b in np.flatnonzero(near | edge):
            if n_mp >= max_mp:
                break
            n_mp += 1
            lab, ee, ss, aa, ww = _decide_mp(problem, method, U[b], W_init[b], A_init[b],
                                             EPS[b], EPSA[b], max_steps, tol, mp_digits)
            label[b], erel[b], srel[b], A[b], W[b] = lab, ee, ss, aa, ww
            engine[b] = "mp"
            steps_done[b] = max_steps

    with np.errstate(all="ignore"):
        pred = np.where((rate > 0) & (rate < 1) & (label == UNDECIDED),
                        steps_done + np.log(tol / erel) / np.log(rate), np.nan)
    if method == "mbngd":
        with np.errstate(all="ignore"):
            Hw = W @ problem.H
            A = np.einsum("bi,bi->b", W, U @ problem.H) / np.sqrt(np.einsum("bi,bi->b", W, Hw))
    settings = {"method": method, "tol": tol, "chunk": chunk, "max_steps": max_steps,
                "mp_fallback": mp_fallback, "mp_digits": mp_digits, "max_mp": max_mp,
                "rounding_floor": floor, "mp_runs": n_mp}
    return Decisions(
        label=label.reshape(shape), steps=steps_done.reshape(shape),
        engine=engine.reshape(shape), e_tilde_rel=erel.reshape(shape),
        saddle_rel=srel.reshape(shape), a=A.reshape(shape), w=W.reshape(shape + (d,)),
        cos_wg=cos.reshape(shape), rate=rate.reshape(shape),
        predicted_steps=pred.reshape(shape), settings=settings,
        digits=np.where(engine == "float64", np.where(np.isinf(digits), np.nan, digits),
                        np.nan).reshape(shape),
        untrusted=untrusted.reshape(shape),
    )


def _decide_mp(problem, method, u, w0, a0, eps, eps_a, steps, tol, digits):
    """One configuration at ``digits`` digits from its initial values; same criteria."""
    import mpmath

    from .dynamics.mp import run_mp

    kw = ({"H_diag": np.diag(problem.H).tolist()} if problem.is_diagonal
          else {"H": problem.H.tolist()})
    stride = max(steps // 10, 1)
    r = run_mp(u=u.tolist(), w0=w0.tolist(), eps=float(eps), eps_a=float(eps_a), a0=float(a0),
               method=method, steps=steps, precision=digits, history_stride=stride, **kw)
    w = np.array([float(x) for x in r.w])
    if r.status == "diverged":
        return DIVERGED_LABEL, np.nan, np.nan, float("nan"), w
    with mpmath.workdps(digits):
        H = mpmath.matrix(problem.H.tolist())
        uu = mpmath.matrix(u.tolist())
        ww = mpmath.matrix(list(r.w))
        unorm = mpmath.sqrt((uu.T * H * uu)[0])
        y = (ww.T * H * uu)[0]
        sig = mpmath.sqrt((ww.T * H * ww)[0])
        a = r.a if method != "gd" else mpmath.nan
        erel = r.e_tilde_norm_H / unorm
        srel = max(abs(a), abs(y) / sig) / unorm if method != "gd" else mpmath.inf
        a_hist = r.history.get("a") or []
        growing = len(a_hist) >= 2 and abs(a_hist[-1]) > abs(a_hist[-2])
    if erel <= tol:
        lab = MINIMISER
    elif srel <= tol and not growing:
        lab = SADDLE
    else:
        lab = UNDECIDED
    return lab, float(erel), float(srel), float(a) if method != "gd" else float("nan"), w


def trajectory(
    problem: OLSProblem, method: str, *, a0: Any, w0: Any, eps: Any, eps_a: Any = 1.0,
    steps: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterates ``(a_k, w_k)``, ``k = 0..steps``, of a batch, by repeated
    :func:`bnverify.dynamics.batched.step` (the single statement of Eq. 9-10 / 81) in the
    original basis.  Returns ``A`` of shape ``(steps + 1,) + batch`` and ``W`` of shape
    ``(steps + 1,) + batch + (d,)``; for MBNGD ``A`` holds ``w_k^T g / sigma_k``.  Non-finite
    values propagate (callers mask them)."""
    w = np.asarray(w0, dtype=float)
    a = np.asarray(a0, dtype=float)
    eps = np.asarray(eps, dtype=float)
    eps_a = np.asarray(eps_a, dtype=float)
    shape = np.broadcast_shapes(a.shape, eps.shape, eps_a.shape, w.shape[:-1])
    a = np.broadcast_to(a, shape).astype(float)
    w = np.broadcast_to(w, shape + (problem.d,)).astype(float)
    As, Ws = [a], [w]
    for _ in range(steps):
        a, w = step(problem, method, a, w, eps, eps_a)
        a = np.broadcast_to(a, shape).astype(float)
        As.append(a)
        Ws.append(w)
    A, W = np.stack(As), np.stack(Ws)
    if method == "mbngd":
        with np.errstate(all="ignore"):
            A = (W @ problem.g) / np.sqrt(np.einsum("...i,...i->...", W @ problem.H, W))
    return A, W


def trajectory_scalars(problem: OLSProblem, A: np.ndarray, W: np.ndarray, eps: Any
                       ) -> dict[str, np.ndarray]:
    """Scalars of iterates from :func:`trajectory`: ``y = w^T g``, ``sigma``, ``w_norm``,
    ``e_norm_H`` (Eq. 35, from the vector), ``d = a - y/sigma`` (Eq. 71), ``eff_step`` (Eq. 11)."""
    with np.errstate(all="ignore"):
        Hw = W @ problem.H
        y = W @ problem.g
        s2 = np.einsum("...i,...i->...", W, Hw)
        sig = np.sqrt(s2)
        t = y / s2
        E = problem.u - t[..., None] * W
        e_norm = np.sqrt(np.maximum(np.einsum("...i,...i->...", E @ problem.H, E), 0.0))
        eff = np.asarray(eps) * (A / sig) * t
    return {"y": y, "sigma": sig, "w_norm": np.linalg.norm(W, axis=-1), "e_norm_H": e_norm,
            "d": A - y / sig, "eff_step": eff, "Hw": Hw, "E": E}


# ----------------------------------------------------------------------------------------------
# seeded draws shared by the convergence checks (proofs/sec3_2_convergence.py, proofs/appA*.py)
# ----------------------------------------------------------------------------------------------


def random_problem(rng: np.random.Generator, d_range: tuple[int, int] = (2, 6),
                   kappa_max: float = 30.0, dense: bool = False) -> OLSProblem:
    """A problem with ``d`` uniform in ``d_range``, eigenvalues log-uniform in ``[1, kappa]``
    (``kappa`` log-uniform in ``[1, kappa_max]``, both extremes present), ``u`` uniform on the unit
    sphere (``||u|| = 1``, the normalisation of Appendix A.3); ``dense``: a Haar-random basis."""
    d = int(rng.integers(d_range[0], d_range[1] + 1))
    kappa = 10 ** rng.uniform(0, np.log10(kappa_max))
    lam = np.sort(np.concatenate([[1.0, kappa], kappa ** rng.uniform(0, 1, max(d - 2, 0))]))[:d]
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    if not dense or d == 1:
        return OLSProblem.from_diagonal(lam, u)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    H = (Q * lam) @ Q.T
    return OLSProblem(0.5 * (H + H.T), u)


def unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` rows uniform on the unit sphere of R^d."""
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def lemma_a10_bound(a0: Any, eps_a: Any, u_norm_H: float) -> np.ndarray:
    """Lemma A.10's bound on ``|a_k|`` as printed: ``|a0| + 2C / (1 - |1 - eps_a|)``,
    ``C = sqrt(u^T H u)`` (claim L-A.10)."""
    return np.abs(a0) + 2.0 * u_norm_H / (1.0 - np.abs(1.0 - np.asarray(eps_a, dtype=float)))


def eps0_lemma_a12(problem: OLSProblem, a0: Any, eps_a: Any) -> np.ndarray:
    """``eps0 := 1 / (2 C_a kappa lambda_max)`` of Lemmas A.12-A.13 (garbled numerator read as 1,
    consistent with Eq. 50: ``eps C_a kappa < 1/(2 lambda_max)``), with ``C_a`` the bound of
    Lemma A.10 divided by ``sqrt(u^T H u)`` (so ``|a_k| < C_a sqrt(u^T H u)``, ``C_a >= 1``)."""
    C = problem.u_norm_H
    Ca = np.maximum(lemma_a10_bound(a0, eps_a, C) / C, 1.0)
    return 1.0 / (2.0 * Ca * problem.kappa * problem.lambda_max)


