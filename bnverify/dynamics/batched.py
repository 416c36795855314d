"""Batched float64 engine for BNGD (Eq. 9-10), GD (Eq. 3) and MBNGD (Eq. 81).

Many configurations ``(eps_a, eps, a0[, w0][, u])`` run at once on one ``H``.  ``H`` is reduced to
diagonal form once through its eigen-decomposition ``H = V diag(lambda) V^T``: the three iterations
are equivariant under orthogonal changes of basis (Prop. 3.2(1) with ``mu = gamma = 1``: the
configurations ``{Q^T H Q, Q^T u, a0, Q^T w0}`` and ``{H, u, a0, w0}`` are equivalent), so running
in the eigenbasis and rotating back gives the same orbit; ``tests/test_dynamics.py`` keeps a test
that the dense and diagonalised runs agree.

Two back ends give bit-identical results (the test suite checks ``==``): a fused numba kernel
(default when numba imports) and a pure-numpy path.  Identity is obtained by evaluating every
expression in the same order in both: dot products are sequential sums over the coordinates
(numpy's reduction over axis 0 of a ``(d, B)`` array accumulates row by row, exactly like the
kernel's loop), and no fast-math contraction is allowed in the kernel.

Residuals are computed from vectors (``e = u - (w^T g / sigma^2) w``, ``e~ = u - (a/sigma) w``,
Eq. 35, 70), never as ``u^T H u - (w^T g)^2 / sigma^2``, which cancels catastrophically near
convergence.

A configuration whose state becomes non-finite is *diverged* (``a``, ``w^T g`` or
``sigma^2 = w^T H w`` not finite; the last implies some component of ``w`` overflowed or
``sigma^2`` itself did): its state is frozen at the last finite iterate, ``diverged_step`` records
the step at which the non-finite value appeared, and the run goes on for the others.  Divergence is a result, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BNVerifyError
from ..model import OLSProblem, as_float_array

try:  # numba is a speed dependency; the numpy path gives identical results without it
    import numba

    HAVE_NUMBA = True
except Exception:  # pragma: no cover - exercised only where numba is missing
    numba = None
    HAVE_NUMBA = False

METHODS = ("bngd", "gd", "mbngd")
_METHOD_CODE = {"bngd": 0, "gd": 1, "mbngd": 2}
STATUS_NAMES = ("running", "converged", "diverged")
RUNNING, CONVERGED, DIVERGED = 0, 1, 2
HISTORY_FIELDS = ("a", "loss", "w_norm", "eff_step", "e_norm_H")

#: a run counts as converged when ``||e~||_H <= CONVERGED_RTOL * ||u||_H``: the predictor's
#: H-norm error relative to the signal is at 1e-8, far above float64 rounding of the iterates
#: (about sqrt(kappa) * 1e-16 for the kappa <= 1e8 used here) and far below any loss a figure shows.
CONVERGED_RTOL = 1e-8


@dataclass
class BatchResult:
    """Per-configuration results; every array has the broadcast batch shape (plus ``d`` for ``w``).

    ``eff_step`` is Eq. 11 evaluated at the final iterate (``eps`` for GD); ``e_norm_H`` is
    ``||e_k||_H`` of Eq. 13 (``||u - w_k||_H`` for GD, Eq. 4); ``a`` is NaN for GD
    (no scale variable) and ``w^T g / sigma`` for MBNGD (Eq. 81); ``loss`` is ``J(a, w)`` (Eq. 7)
    for BNGD/MBNGD and ``J0(w)`` (Eq. 2) for GD.  ``status`` holds codes into ``STATUS_NAMES``.
    ``history[field]`` has shape ``(n_records,) + batch_shape`` for the records at steps
    ``history_steps``.
    """

    method: str
    steps: int
    a: np.ndarray
    w: np.ndarray
    loss: np.ndarray
    w_norm: np.ndarray
    eff_step: np.ndarray
    e_norm_H: np.ndarray
    e_tilde_norm_H: np.ndarray
    status: np.ndarray
    diverged_step: np.ndarray
    backend: str
    history: dict[str, np.ndarray] = field(default_factory=dict)
    history_steps: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.loss.shape

    def status_name(self, index: Any = ()) -> str:
        return STATUS_NAMES[int(self.status[index])]


# ----------------------------------------------------------------------------------------------
# scalars of a state, shared by both back ends (layout: vectors are (d, B))
# ----------------------------------------------------------------------------------------------


def _seqsum(x: np.ndarray) -> np.ndarray:
    """Sequential sum over axis 0 (row by row), the order the kernel uses."""
    return np.add.reduce(x, axis=0)


def _state_scalars(
    method: int,
    h: np.ndarray,
    U: np.ndarray,
    G: np.ndarray,
    a: np.ndarray,
    W: np.ndarray,
    eps: np.ndarray,
    noise: float,
) -> tuple[np.ndarray, ...]:
    """(a_reported, loss, w_norm, eff_step, e_norm_H, e_tilde_norm_H) for states W (d, B)."""
    hcol = h[:, None]
    wg = _seqsum(W * G)
    s2 = _seqsum((hcol * W) * W)
    sig = np.sqrt(s2)
    t = wg / s2
    w_norm = np.sqrt(_seqsum(W * W))
    if method == 1:  # GD: J0(w) = ||u - w||_H^2 / 2; its error is u - w (Eq. 4)
        Et = U - W
        a_rep = np.full_like(wg, np.nan)
        eff = eps.copy()
    else:
        E = U - t * W
        e2 = _seqsum((hcol * E) * E)
        a_rep = a if method == 0 else wg / sig
        Et = U - (a_rep / sig) * W
        eff = eps * (a_rep / sig) * t
    et2 = _seqsum((hcol * Et) * Et)
    if method == 1:
        e2 = et2
    loss = 0.5 * et2 + 0.5 * noise
    return a_rep, loss, w_norm, eff, np.sqrt(e2), np.sqrt(et2)


# ----------------------------------------------------------------------------------------------
# numpy path
# ----------------------------------------------------------------------------------------------


def _step_numpy(method, hcol, G, A, W, wg, s2, EPS, EPSA):
    """One iteration on (d, B) states given their sums ``wg = w^T g``, ``s2 = w^T H w``; the
    single numpy statement of Eq. 3, 9-10 and 81 in the engine."""
    if method == 1:  # GD, Eq. 3: w + eps (g - H w)
        return A, W + EPS * (G - hcol * W)
    sig = np.sqrt(s2)
    t = wg / s2
    if method == 0:  # BNGD, Eq. 9-10
        coef = EPS * (A / sig)
        An = A + EPSA * (wg / sig - A)
    else:  # MBNGD, Eq. 81: a_k = w_k^T g / sigma_k enforced
        coef = EPS * t
        An = A
    return An, W + coef * (G - (t * hcol) * W)


def step(
    problem: OLSProblem, method: str, a: Any, w: Any, eps: Any, eps_a: Any = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One iteration ``(a_k, w_k) -> (a_{k+1}, w_{k+1})`` in the original basis, vectorised over a
    batch (``a``, ``eps``, ``eps_a`` broadcast; ``w`` is ``(..., d)``).  For checks that need the
    iterates themselves (identities along trajectories).  Uses dense ``H`` directly (no rotation).

    >>> p = OLSProblem.from_diagonal([1.0, 4.0], [1.0, 1.0])
    >>> a1, w1 = step(p, "bngd", 1.0, [1.0, 0.0], eps=0.5, eps_a=1.0)
    >>> float(a1), w1.tolist()
    (1.0, [1.0, 2.0])
    """
    if method not in METHODS:
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    w = np.asarray(w, dtype=float)
    a = np.asarray(a, dtype=float)
    eps = np.asarray(eps, dtype=float)
    eps_a = np.asarray(eps_a, dtype=float)
    H, g = problem.H, problem.g
    with np.errstate(all="ignore"):
        Hw = w @ H  # H symmetric
        if method == "gd":
            return a, w + eps[..., None] * (g - Hw)
        wg = w @ g
        s2 = np.einsum("...i,...i->...", w, Hw)
        sig = np.sqrt(s2)
        t = wg / s2
        if method == "bngd":
            coef = eps * (a / sig)
            an = a + eps_a * (wg / sig - a)
        else:
            coef = eps * t
            an = a * np.ones_like(t)
        return an, w + coef[..., None] * (g - t[..., None] * Hw)


def _run_numpy(method, h, U, G, A, W, EPS, EPSA, steps, stride, noise):
    d, B = W.shape
    hcol = h[:, None]
    div_step = np.full(B, -1, dtype=np.int64)
    active = np.ones(B, dtype=bool)
    rec = _history_alloc(steps, stride, B)
    r = 0
    with np.errstate(all="ignore"):
        wg = _seqsum(W * G)
        s2 = _seqsum((hcol * W) * W)
        for k in range(steps):
            if rec is not None and k % stride == 0:
                _history_put(rec, r, method, h, U, G, A, W, EPS, noise, div_step)
                r += 1
            An, Wn = _step_numpy(method, hcol, G, A, W, wg, s2, EPS, EPSA)
            wgn = _seqsum(Wn * G)
            s2n = _seqsum((hcol * Wn) * Wn)
            # diverged: a, w^T g or sigma^2 of the new state is not finite (sigma^2 finite
            # implies every component of w finite, since H > 0)
            ok = np.isfinite(An) & np.isfinite(wgn) & np.isfinite(s2n)
            bad = active & ~ok
            if bad.any():
                div_step[bad] = k + 1
                active &= ~bad
            if active.all():
                W, A, wg, s2 = Wn, An, wgn, s2n
            else:
                W = np.where(active, Wn, W)
                A = np.where(active, An, A)
                wg = np.where(active, wgn, wg)
                s2 = np.where(active, s2n, s2)
        if rec is not None and steps % stride == 0:
            _history_put(rec, r, method, h, U, G, A, W, EPS, noise, div_step)
    return A, W, div_step, rec


def _history_alloc(steps: int, stride: int, B: int):
    if not stride:
        return None
    n = steps // stride + 1
    return np.full((len(HISTORY_FIELDS), n, B), np.nan)


def _history_put(rec, r, method, h, U, G, A, W, EPS, noise, div_step):
    vals = _state_scalars(method, h, U, G, A, W, EPS, noise)[:5]
    frozen = div_step >= 0
    for j, v in enumerate(vals):
        rec[j, r] = np.where(frozen, np.nan, v)


# ----------------------------------------------------------------------------------------------
# numba kernel (same expression order as the numpy path)
# ----------------------------------------------------------------------------------------------

if HAVE_NUMBA:

    @numba.njit(parallel=True, fastmath=False, cache=True, nogil=True)
    def _kernel(method, h, U, G, A0, W0, EPS, EPSA, steps, stride, noise, rec):  # pragma: no cover
        d = h.shape[0]
        B = A0.shape[0]
        ustride = 0 if U.shape[0] == 1 else 1
        A = A0.copy()
        W = W0.copy()
        div_step = np.full(B, -1, dtype=np.int64)
        for b in numba.prange(B):
            ub = np.int64(b) * ustride
            a = A[b]
            eps = EPS[b]
            epsa = EPSA[b]
            w = W[b].copy()
            wn = np.empty(d)
            g = G[ub]  # 1-D views: invariant addresses the compiler can hoist
            ub_u = U[ub]
            # sequential sums from 0.0 (0.0 + x == x: the same values as numpy's row-by-row
            # reduction, up to the sign of an all-zero sum)
            wg = 0.0
            s2 = 0.0
            for i in range(d):
                wg += w[i] * g[i]
                s2 += (h[i] * w[i]) * w[i]
            r = 0
            for k in range(steps + 1):
                if stride > 0 and k % stride == 0:
                    _kernel_record(method, h, ub_u, g, a, w, eps, noise, rec, r, b)
                    r += 1
                if k == steps:
                    break
                # one fused pass: the update and the next state's sums w^T g, w^T H w
                wgn = 0.0
                s2n = 0.0
                if method == 1:
                    an = a
                    for i in range(d):
                        x = w[i] + eps * (g[i] - h[i] * w[i])
                        wn[i] = x
                        wgn += x * g[i]
                        s2n += (h[i] * x) * x
                else:
                    sig = np.sqrt(s2)
                    t = wg / s2
                    if method == 0:
                        coef = eps * (a / sig)
                        an = a + epsa * (wg / sig - a)
                    else:
                        coef = eps * t
                        an = a
                    for i in range(d):
                        x = w[i] + coef * (g[i] - (t * h[i]) * w[i])
                        wn[i] = x
                        wgn += x * g[i]
                        s2n += (h[i] * x) * x
                if not (np.isfinite(an) and np.isfinite(wgn) and np.isfinite(s2n)):
                    div_step[b] = k + 1
                    break
                a = an
                wg = wgn
                s2 = s2n
                w, wn = wn, w
            A[b] = a
            W[b] = w
        return A, W, div_step

    @numba.njit(fastmath=False, cache=True, nogil=True)
    def _kernel_record(method, h, u, g, a, w, eps, noise, rec, r, b):  # pragma: no cover
        d = h.shape[0]
        wg = 0.0
        s2 = 0.0
        ww = 0.0
        for i in range(d):
            wg += w[i] * g[i]
            s2 += (h[i] * w[i]) * w[i]
            ww += w[i] * w[i]
        sig = np.sqrt(s2)
        t = wg / s2
        e2 = 0.0
        et2 = 0.0
        if method == 1:
            a_rep = np.nan
            eff = eps
        elif method == 0:
            a_rep = a
            eff = eps * (a_rep / sig) * t
        else:
            a_rep = wg / sig
            eff = eps * (a_rep / sig) * t
        for i in range(d):
            e = u[i] - t * w[i]
            if method == 1:
                et = u[i] - w[i]
            else:
                et = u[i] - (a_rep / sig) * w[i]
            e2 += (h[i] * e) * e
            et2 += (h[i] * et) * et
        rec[0, r, b] = a_rep
        rec[1, r, b] = 0.5 * et2 + 0.5 * noise
        rec[2, r, b] = np.sqrt(ww)
        rec[3, r, b] = eff
        rec[4, r, b] = np.sqrt(et2) if method == 1 else np.sqrt(e2)


# ----------------------------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------------------------


def run(
    problem: OLSProblem,
    method: str = "bngd",
    *,
    eps: Any,
    w0: Any,
    eps_a: Any = 1.0,
    a0: Any = 1.0,
    u: Any = None,
    steps: int = 1000,
    history_stride: int | None = None,
    backend: str = "auto",
) -> BatchResult:
    """Run ``steps`` iterations of ``method`` for a batch of configurations.

    ``eps``, ``eps_a``, ``a0`` broadcast together to the batch shape; ``w0`` is ``(d,)`` (shared)
    or ``batch_shape + (d,)``; ``u`` (optional) overrides ``problem.u`` per configuration
    (``batch_shape + (d,)``).  ``backend``: ``"auto"`` (numba when available), ``"numba"``,
    ``"numpy"``.

    Example
    -------
    >>> import numpy as np
    >>> p = OLSProblem.from_diagonal([1.0, 10.0], [1.0, 1.0])
    >>> r = run(p, "bngd", eps=np.array([0.1, 1e3]), w0=[1.0, 0.0], eps_a=1.0, a0=1.0, steps=500)
    >>> r.loss.shape, [r.status_name(i) for i in range(2)]
    ((2,), ['converged', 'running'])
    """
    if method not in METHODS:
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    if history_stride is not None and (
        not isinstance(history_stride, (int, np.integer)) or history_stride < 1
    ):
        raise BNVerifyError(f"history: stride must be a positive integer, got {history_stride!r}")
    if backend not in ("auto", "numba", "numpy"):
        raise BNVerifyError(f"backend: unknown back end {backend!r}")
    if backend == "numba" and not HAVE_NUMBA:
        raise BNVerifyError("backend: numba is not installed")
    use_numba = HAVE_NUMBA and backend != "numpy"

    d = problem.d
    eps_arr = as_float_array(eps, "eps")
    epsa_arr = as_float_array(eps_a, "eps_a")
    a0_arr = as_float_array(a0, "a0")
    if np.any(eps_arr <= 0):
        raise BNVerifyError("eps: step sizes must be > 0")
    if np.any(epsa_arr < 0):
        raise BNVerifyError("eps_a: step sizes must be >= 0")
    w0_arr = as_float_array(w0, "w0")
    if w0_arr.ndim == 0 or w0_arr.shape[-1] != d:
        raise BNVerifyError(f"w0: last dimension must be d = {d}, got shape {w0_arr.shape}")
    try:
        shape = np.broadcast_shapes(eps_arr.shape, epsa_arr.shape, a0_arr.shape, w0_arr.shape[:-1])
        if u is not None:
            u_arr = as_float_array(u, "u")
            if u_arr.ndim == 0 or u_arr.shape[-1] != d:
                raise BNVerifyError(f"u: last dimension must be d = {d}, got shape {u_arr.shape}")
            shape = np.broadcast_shapes(shape, u_arr.shape[:-1])
    except ValueError:
        raise BNVerifyError(
            "eps, eps_a, a0, w0, u: batch shapes do not broadcast together"
        ) from None
    if method != "gd" and np.any(np.all(w0_arr == 0, axis=-1)):
        raise BNVerifyError("w0: must be nonzero (sigma = sqrt(w0^T H w0) would vanish)")
    B = int(np.prod(shape)) if shape else 1

    V = problem.eigenvectors
    h = np.ascontiguousarray(problem.eigenvalues, dtype=np.float64)
    rot = not problem.is_diagonal or not np.array_equal(V, np.eye(d))

    def to_eig(x: np.ndarray) -> np.ndarray:
        return x @ V if rot else x

    EPS = np.broadcast_to(eps_arr, shape).reshape(B).astype(np.float64)
    EPSA = np.broadcast_to(epsa_arr, shape).reshape(B).astype(np.float64)
    A0 = np.broadcast_to(a0_arr, shape).reshape(B).astype(np.float64)
    W0 = to_eig(np.broadcast_to(w0_arr, shape + (d,)).reshape(B, d))
    if u is None:
        U = to_eig(problem.u)[None, :]
    else:
        Ub = np.broadcast_to(u_arr, shape + (d,)).reshape(-1, d)
        U = to_eig(Ub if u_arr.ndim > 1 else u_arr[None, :])
    U = np.ascontiguousarray(U)
    G = h[None, :] * U
    mcode = _METHOD_CODE[method]
    stride = int(history_stride or 0)
    noise = float(problem.noise)

    if use_numba:
        rec = (
            np.full((len(HISTORY_FIELDS), steps // stride + 1, B), np.nan)
            if stride
            else np.empty((len(HISTORY_FIELDS), 0, B))
        )
        A, W, div_step = _kernel(
            mcode, h, U, G, A0, np.ascontiguousarray(W0), EPS, EPSA, int(steps), stride, noise, rec
        )
        Wt = np.ascontiguousarray(W.T)
        # records after a divergence are never written by the kernel: they stay NaN
        rec = rec if stride else None
        backend_used = "numba"
    else:
        Ut = np.ascontiguousarray(np.broadcast_to(U, (B, d)).T)
        Gt = h[:, None] * Ut
        A, Wt, div_step, rec = _run_numpy(
            mcode,
            h,
            Ut,
            Gt,
            A0.copy(),
            np.ascontiguousarray(W0.T),
            EPS,
            EPSA,
            int(steps),
            stride,
            noise,
        )
        backend_used = "numpy"

    Ut = np.ascontiguousarray(np.broadcast_to(U, (B, d)).T)
    Gt = h[:, None] * Ut
    with np.errstate(all="ignore"):
        a_rep, loss, w_norm, eff, e_norm, et_norm = _state_scalars(
            mcode, h, Ut, Gt, A, Wt, EPS, noise
        )
    u_norm_H = np.sqrt(_seqsum((h[:, None] * Ut) * Ut))
    status = np.where(et_norm <= CONVERGED_RTOL * u_norm_H, CONVERGED, RUNNING)
    status = np.where(div_step >= 0, DIVERGED, status)
    W_out = Wt.T @ V.T if rot else Wt.T

    def shaped(x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(shape)

    history: dict[str, np.ndarray] = {}
    hsteps = None
    if rec is not None and stride:
        n = rec.shape[1]
        hsteps = np.arange(n) * stride
        for j, name in enumerate(HISTORY_FIELDS):
            history[name] = rec[j].reshape((n,) + shape)
    return BatchResult(
        method=method,
        steps=int(steps),
        a=shaped(a_rep),
        w=W_out.reshape(shape + (d,)),
        loss=shaped(loss),
        w_norm=shaped(w_norm),
        eff_step=shaped(eff),
        e_norm_H=shaped(e_norm),
        e_tilde_norm_H=shaped(et_norm),
        status=shaped(status).astype(np.int8),
        diverged_step=shaped(div_step),
        backend=backend_used,
        history=history,
        history_steps=hsteps,
    )
