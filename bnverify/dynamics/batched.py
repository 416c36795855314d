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

Status vocabulary (the same in every engine, ``STATUS_NAMES``): ``converged`` when
``||e~||_H <= CONVERGED_RTOL ||u||_H`` at the last step; ``diverged`` when the new state reaches
the float64 overflow threshold (``DIVERGENCE_CRITERION``: ``a^2`` -- the scale of the loss --,
``w^T g`` or ``sigma^2 = w^T H w`` not finite in float64, i.e. at or beyond 2^1024, or NaN; the
high-precision engines test the same thresholds); else ``max-steps``.  A diverged
configuration's state is frozen at the last finite iterate, ``diverged_step`` records the step
at which the threshold was crossed, and the run goes on for the others.  Divergence is a result,
never an exception.

Trust (``trust=True``): shadow copies run beside the main one with rounding-sized random
perturbations injected every step; their spread gives the estimated correct digits of the loss,
``a`` and ``eff_step`` (docs/numerics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import MAX_STEPS  # largest accepted number of steps, shared with config files
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
STATUS_NAMES = ("max-steps", "converged", "diverged")
MAX_STEPS_STATUS, CONVERGED, DIVERGED = 0, 1, 2
RUNNING = MAX_STEPS_STATUS  # old name of code 0, kept for callers

#: the divergence criterion, the same in every engine (float64, high precision, certified)
DIVERGENCE_CRITERION = (
    "a^2, w^T g or w^T H w reached the float64 overflow threshold 2^1024 (or became NaN)"
)
#: coordinate updates per kernel call: signals are seen between calls
CHUNK_WORK = 1 << 23
#: trust estimate: shadow copies, relative size of the per-step injected perturbation,
#: safety factor on the observed spread, default digits required, float64's digits
#: the first shadow's injection is float64's own rounding scale; the second's is 2^6 times
#: coarser: a result that moves more than 2^6 times as much under it depends on where float64's
#: rounding floor lies (a mode grown from a rounding-sized seed), which no float64 copy can see
TRUST_INJECTIONS = (2.0**-52, 2.0**-46)
N_SHADOWS = len(TRUST_INJECTIONS)
TRUST_SAFETY = 16.0
DEFAULT_MIN_DIGITS = 8.0
TRUST_CHECKPOINTS = 32
TRUST_LOSS_RTOL = 1e-6
LINEAR_DIGITS = 4.0
FLOAT64_DIGITS = 15.0
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
    digits: np.ndarray | None = None
    digits_a: np.ndarray | None = None
    digits_eff: np.ndarray | None = None
    trusted: np.ndarray | None = None
    status_agree: np.ndarray | None = None
    below_floor: np.ndarray | None = None
    min_digits: float | None = None
    loss_floor: Any = None

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
# shadow copies for the trust estimate (see docs/numerics.md)
# ----------------------------------------------------------------------------------------------

_U64 = np.uint64
#: fast-math for the shadows: reassociation (vectorised sums) but never 'nnan'/'ninf', which
#: would fold away the divergence test
_FAST = {"reassoc", "nsz", "arcp", "contract"}
_XS_MUL = np.uint64(0x2545F4914F6CDD1D)


def _rng_next_np(state: np.ndarray) -> np.ndarray:
    """xorshift64* on a uint64 array in place; returns uniforms in [-1, 1) (same stream as the
    kernel's ``_rng_next``)."""
    with np.errstate(over="ignore"):
        state ^= state >> _U64(12)
        state ^= state << _U64(25)
        state ^= state >> _U64(27)
        out = state * _XS_MUL
    return (out >> _U64(11)).astype(np.float64) * (2.0**-52) - 1.0


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


def _diverged_np(method, An, wgn, s2n):
    """The divergence criterion (module docstring): ``a^2``, ``w^T g`` or ``w^T H w`` not finite."""
    ok = np.isfinite(wgn) & np.isfinite(s2n)
    if method == 0:
        ok &= np.isfinite(An * An)
    return ~ok


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


def _run_numpy(method, h, U, G, A, W, EPS, EPSA, k0, k1, stride, noise, rec, div_step):
    """Steps ``k0 .. k1-1`` of the main copy on (d, B) states, in place on ``A``, ``W``,
    ``div_step`` (records into ``rec`` at multiples of ``stride``)."""
    hcol = h[:, None]
    active = div_step < 0
    with np.errstate(all="ignore"):
        wg = _seqsum(W * G)
        s2 = _seqsum((hcol * W) * W)
        for k in range(k0, k1):
            if rec is not None and k % stride == 0:
                _history_put(rec, k // stride, method, h, U, G, A, W, EPS, noise, div_step)
            An, Wn = _step_numpy(method, hcol, G, A, W, wg, s2, EPS, EPSA)
            wgn = _seqsum(Wn * G)
            s2n = _seqsum((hcol * Wn) * Wn)
            bad = active & _diverged_np(method, An, wgn, s2n)
            if bad.any():
                div_step[bad] = k + 1
                active &= ~bad
            if active.all():
                W[...], A[...], wg, s2 = Wn, An, wgn, s2n
            else:
                W[...] = np.where(active, Wn, W)
                A[...] = np.where(active, An, A)
                wg = np.where(active, wgn, wg)
                s2 = np.where(active, s2n, s2)


def _shadow_numpy(method, h, G, A, W, EPS, EPSA, k0, k1, div_step, rng, pat, inj):
    """Steps ``k0 .. k1-1`` of one shadow copy (d, B), in place: the main iteration with a
    rounding-sized random perturbation injected into every component each step."""
    hcol = h[:, None]
    patc = pat[:, None]
    active = div_step < 0
    with np.errstate(all="ignore"):
        wg = np.sum(W * G, axis=0)
        s2 = np.sum((hcol * W) * W, axis=0)
        for k in range(k0, k1):
            r = _rng_next_np(rng)
            r2 = _rng_next_np(rng)
            An, Wn = _step_numpy(method, hcol, G, A, W, wg, s2, EPS, EPSA)
            Wn = Wn + (r * inj) * patc * (np.abs(Wn) + np.abs(W))
            if method == 0:
                An = An + (r2 * inj) * (np.abs(An) + EPSA * (np.abs(wg / np.sqrt(s2)) + np.abs(A)))
            wgn = np.sum(Wn * G, axis=0)
            s2n = np.sum((hcol * Wn) * Wn, axis=0)
            bad = active & _diverged_np(method, An, wgn, s2n)
            if bad.any():
                div_step[bad] = k + 1
                active &= ~bad
            W[...] = np.where(active, Wn, W)
            A[...] = np.where(active, An, A)
            wg = np.where(active, wgn, wg)
            s2 = np.where(active, s2n, s2)


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
# numba kernels (the main copy in the same expression order as the numpy path)
# ----------------------------------------------------------------------------------------------

if HAVE_NUMBA:

    @numba.njit(parallel=True, fastmath=False, cache=True, nogil=True)
    def _kernel(
        method, h, U, G, A, W, EPS, EPSA, k0, k1, stride, noise, rec, div_step
    ):  # pragma: no cover
        """Steps ``k0 .. k1-1`` of the main copy, in place on ``A`` (B,), ``W`` (B, d),
        ``div_step`` (B,); configurations already diverged are skipped."""
        d = h.shape[0]
        B = A.shape[0]
        ustride = 0 if U.shape[0] == 1 else 1
        for b in numba.prange(B):
            if div_step[b] >= 0:
                continue
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
            for k in range(k0, k1):
                if stride > 0 and k % stride == 0:
                    _kernel_record(method, h, ub_u, g, a, w, eps, noise, rec, k // stride, b)
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
                if not (np.isfinite(wgn) and np.isfinite(s2n)) or (
                    method == 0 and not np.isfinite(an * an)
                ):
                    div_step[b] = k + 1
                    break
                a = an
                wg = wgn
                s2 = s2n
                w, wn = wn, w
            A[b] = a
            W[b] = w

    @numba.njit(fastmath=False, cache=True, nogil=True)
    def _rng_next(state):  # pragma: no cover
        """xorshift64* (same stream as ``_rng_next_np``): (new state, uniform in [-1, 1))."""
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        out = state * np.uint64(0x2545F4914F6CDD1D)
        return state, np.float64(out >> np.uint64(11)) * (2.0**-52) - 1.0

    @numba.njit(fastmath=_FAST, cache=True, nogil=True)
    def _shadow_steps(method, h, g, a, w, wn, eps, epsa, k0, k1, rng, pat, inj):  # pragma: no cover
        """Steps ``k0 .. k1-1`` of one shadow copy of one configuration (``w`` updated in place).
        ``fastmath``: the shadow's own sums are reassociated (vectorised), one more independent
        rounding pattern on top of the injected perturbation.  Returns (a, rng, diverged step)."""
        d = h.shape[0]
        wg = 0.0
        s2 = 0.0
        for i in range(d):
            wg += w[i] * g[i]
            s2 += (h[i] * w[i]) * w[i]
        cur = w
        nxt = wn
        swapped = False
        div = -1
        for k in range(k0, k1):
            rng, r = _rng_next(rng)
            rng, r2 = _rng_next(rng)
            ri = r * inj
            wgn = 0.0
            s2n = 0.0
            if method == 1:
                an = a
                for i in range(d):
                    x = cur[i] + eps * (g[i] - h[i] * cur[i])
                    x += (ri * pat[i]) * (abs(x) + abs(cur[i]))
                    nxt[i] = x
                    wgn += x * g[i]
                    s2n += (h[i] * x) * x
            else:
                sig = np.sqrt(s2)
                t = wg / s2
                if method == 0:
                    coef = eps * (a / sig)
                    an = a + epsa * (wg / sig - a)
                    an += (r2 * inj) * (abs(an) + epsa * (abs(wg / sig) + abs(a)))
                else:
                    coef = eps * t
                    an = a
                for i in range(d):
                    x = cur[i] + coef * (g[i] - (t * h[i]) * cur[i])
                    x += (ri * pat[i]) * (abs(x) + abs(cur[i]))
                    nxt[i] = x
                    wgn += x * g[i]
                    s2n += (h[i] * x) * x
            if not (np.isfinite(wgn) and np.isfinite(s2n)) or (
                method == 0 and not np.isfinite(an * an)
            ):
                div = k + 1
                break
            a = an
            wg = wgn
            s2 = s2n
            cur, nxt = nxt, cur
            swapped = not swapped
        if swapped:
            for i in range(d):
                w[i] = cur[i]
        return a, rng, div

    @numba.njit(parallel=True, fastmath=False, cache=True, nogil=True)
    def _kernel_shadows(
        method, HS, GS, AS, WS, EPS, EPSA, k0, k1, DIV, RNG, PAT, INJ
    ):  # pragma: no cover
        """All shadow copies (``WS``: (S, B, d)) of every configuration, steps ``k0 .. k1-1``,
        in place; one parallel pass (the copies of a configuration share its cache lines)."""
        S = WS.shape[0]
        B = WS.shape[1]
        d = WS.shape[2]
        gstride = 0 if GS.shape[1] == 1 else 1
        for b in numba.prange(B):
            wn = np.empty(d)
            for s in range(S):
                if DIV[s, b] >= 0:
                    continue
                a, r, dv = _shadow_steps(
                    method, HS[s], GS[s, np.int64(b) * gstride], AS[s, b], WS[s, b], wn,
                    EPS[b], EPSA[b], k0, k1, RNG[s, b], PAT[s], INJ[s],
                )
                AS[s, b] = a
                RNG[s, b] = r
                if dv >= 0:
                    DIV[s, b] = dv

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
    trust: bool = False,
    min_digits: float = DEFAULT_MIN_DIGITS,
    trust_seed: int = 0,
    loss_floor: float | None = None,
) -> BatchResult:
    """Run ``steps`` iterations of ``method`` for a batch of configurations.

    ``eps``, ``eps_a``, ``a0`` broadcast together to the batch shape; ``w0`` is ``(d,)`` (shared)
    or ``batch_shape + (d,)``; ``u`` (optional) overrides ``problem.u`` per configuration
    (``batch_shape + (d,)``).  ``backend``: ``"auto"`` (numba when available), ``"numba"``,
    ``"numpy"``.

    ``trust=True`` runs ``N_SHADOWS`` shadow copies beside each configuration (rounding-sized
    random perturbations injected every step, seeded by ``trust_seed``; see docs/numerics.md) and
    fills ``digits`` (estimated correct significant digits of the loss: the fewest at any of
    ``TRUST_CHECKPOINTS`` checkpoints and at the end), ``digits_a``, ``digits_eff`` (at the end)
    and ``trusted`` (all copies agree on the status -- and on the step, when diverged -- and the
    loss keeps at least ``min_digits`` digits -- or every copy ends below ``loss_floor`` after
    being followed to ``min_digits`` wherever its loss was above it: ``below_floor``).  Digits of
    the loss are relative to
    ``max(|loss|, loss_floor)``; the default floor ``0.5 (TRUST_LOSS_RTOL ||u||_H)^2`` is where
    float64 stops resolving the loss relative to the problem's scale (the loss is quadratic in the
    residual ``e~``, which float64 carries with absolute error ``~ u ||u||_H``).  The main copy's results are bit-identical
    to ``trust=False``.

    The loop runs in chunks of about ``CHUNK_WORK`` coordinate updates, so that Ctrl-C and SIGTERM
    are seen between chunks (within a fraction of a second) on long runs.

    Example
    -------
    >>> import numpy as np
    >>> p = OLSProblem.from_diagonal([1.0, 10.0], [1.0, 1.0])
    >>> r = run(p, "bngd", eps=np.array([0.1, 1e3]), w0=[1.0, 0.0], eps_a=1.0, a0=1.0, steps=500)
    >>> r.loss.shape, [r.status_name(i) for i in range(2)]
    ((2,), ['converged', 'max-steps'])
    """
    if method not in METHODS:
        raise BNVerifyError(f"method: unknown method {method!r} (use bngd, gd or mbngd)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    if steps > MAX_STEPS:
        raise BNVerifyError(f"steps: at most {MAX_STEPS}, got {steps}")
    if history_stride is not None and (
        isinstance(history_stride, bool)
        or not isinstance(history_stride, (int, np.integer))
        or history_stride < 1
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
    stride = int(history_stride or 0)
    if stride:
        need = len(HISTORY_FIELDS) * (steps // stride + 1) * B * 8
        check_memory(need, "history")

    # Diagonal problems run in their own coordinates (exact, O(d)); dense ones in the eigenbasis.
    rot = not problem.is_diagonal
    if rot:
        V = problem.eigenvectors
        h = np.ascontiguousarray(problem.eigenvalues, dtype=np.float64)
    else:
        V = None
        h = np.ascontiguousarray(problem.diagonal, dtype=np.float64)

    def to_eig(x: np.ndarray) -> np.ndarray:
        return x @ V if rot else x

    EPS = np.broadcast_to(eps_arr, shape).reshape(B).astype(np.float64)
    EPSA = np.broadcast_to(epsa_arr, shape).reshape(B).astype(np.float64)
    A = np.broadcast_to(a0_arr, shape).reshape(B).astype(np.float64)
    W0 = np.array(to_eig(np.broadcast_to(w0_arr, shape + (d,)).reshape(B, d)), dtype=np.float64, order="C")
    if u is None:
        U = to_eig(problem.u)[None, :]
    else:
        Ub = np.broadcast_to(u_arr, shape + (d,)).reshape(-1, d)
        U = to_eig(Ub if u_arr.ndim > 1 else u_arr[None, :])
    U = np.ascontiguousarray(U, dtype=np.float64)
    G = h[None, :] * U
    mcode = _METHOD_CODE[method]
    noise = float(problem.noise)
    div_step = np.full(B, -1, dtype=np.int64)
    chunk = max(1, min(max(steps, 1), CHUNK_WORK // max(1, B * d)))
    every = max(1, -(-steps // TRUST_CHECKPOINTS))  # checkpoints: the copies are compared
    if trust:
        chunk = min(chunk, every)

    def at_checkpoint(k0: int, k1: int) -> bool:
        return k1 == steps or (k1 // every) > (k0 // every)

    # shadow copies (trust estimate): own data (perturbed by the rotation's rounding when H was
    # rotated), own state, own random stream
    S = N_SHADOWS if trust else 0
    shadows = []
    if S:
        prng = np.random.default_rng([int(trust_seed), 0x5EED])
        for s in range(S):
            pat = prng.uniform(0.5, 1.0, d) * prng.choice([-1.0, 1.0], d)
            hs, Us, Ws = h.copy(), U.copy(), W0.copy()
            if rot:  # eigh / rotation rounding: backward error about d * u * |x|
                rel = d * 2.0**-52
                hs = h + rel * float(np.max(np.abs(h))) * prng.uniform(-1, 1, d)
                hs = np.maximum(hs, h * 0.5)
                Us = U + rel * np.max(np.abs(U), axis=1, keepdims=True) * prng.uniform(-1, 1, U.shape)
                Ws = W0 + rel * np.max(np.abs(W0), axis=1, keepdims=True) * prng.uniform(-1, 1, W0.shape)
            seeds = _splitmix64_np(np.arange(B, dtype=np.uint64) + np.uint64(B * s) + _U64((int(trust_seed) * 0x9E37) % (1 << 63)))
            shadows.append(
                {
                    "h": np.ascontiguousarray(hs),
                    "U": np.ascontiguousarray(Us),
                    "G": np.ascontiguousarray(hs[None, :] * Us),
                    "A": A.copy(),
                    "W": np.ascontiguousarray(Ws),
                    "div": np.full(B, -1, dtype=np.int64),
                    "rng": seeds,
                    "pat": np.ascontiguousarray(pat),
                    "inj": float(TRUST_INJECTIONS[s]),
                    "ratio": float(TRUST_INJECTIONS[s] / TRUST_INJECTIONS[0]),
                }
            )

    # fewest digits of the loss at any checkpoint; and at the checkpoints where some copy's loss
    # is above the floor (a run whose copies all end below the floor is a tie at the floor)
    path_digits = (np.full(B, FLOAT64_DIGITS), np.full(B, FLOAT64_DIGITS))
    with np.errstate(all="ignore"):  # ||u||_H, scaled so that it cannot overflow
        su = np.sqrt(h) * np.abs(U)
        m = np.max(su, axis=1)
        m = np.where(m > 0, m, 1.0)
        u_norm0 = m * np.sqrt(np.sum((su / m[:, None]) ** 2, axis=1))
    lfloor = 0.5 * (TRUST_LOSS_RTOL * u_norm0) ** 2 if loss_floor is None else float(loss_floor)
    if use_numba:
        W = W0.copy()
        if shadows:  # stacked arrays; each shadow's entries become views into them
            stk = {k: np.ascontiguousarray(np.stack([sh[k] for sh in shadows]))
                   for k in ("h", "G", "A", "W", "div", "rng", "pat")}
            INJ = np.array([sh["inj"] for sh in shadows])
            for i, sh in enumerate(shadows):
                for k, v in stk.items():
                    sh[k] = v[i]
        # the kernel's typed signature wants an array even without a history
        rec = _history_alloc(steps, stride, B) if stride else np.empty((len(HISTORY_FIELDS), 0, B))
        for k0 in range(0, steps, chunk):
            k1 = min(steps, k0 + chunk)
            _kernel(mcode, h, U, G, A, W, EPS, EPSA, k0, k1, stride, noise, rec, div_step)
            if shadows:
                _kernel_shadows(
                    mcode, stk["h"], stk["G"], stk["A"], stk["W"], EPS, EPSA, k0, k1,
                    stk["div"], stk["rng"], stk["pat"], INJ,
                )
            if shadows and at_checkpoint(k0, k1):
                path_digits = _checkpoint(path_digits, mcode, h, U, A, W, EPS, noise, div_step, shadows, True, lfloor)
        Wt = np.ascontiguousarray(W.T)
        rec = rec if stride else None
        backend_used = "numba"
    else:
        Ut0 = np.ascontiguousarray(np.broadcast_to(U, (B, d)).T)
        Gt0 = h[:, None] * Ut0
        Wt = np.array(W0.T, order="C")
        rec = _history_alloc(steps, stride, B)
        for sh in shadows:
            sh["W"] = np.array(sh["W"].T, order="C")
        for k0 in range(0, steps, chunk):
            k1 = min(steps, k0 + chunk)
            _run_numpy(mcode, h, Ut0, Gt0, A, Wt, EPS, EPSA, k0, k1, stride, noise, rec, div_step)
            for sh in shadows:
                Gs = np.ascontiguousarray(np.broadcast_to(sh["G"], (B, d)).T)
                _shadow_numpy(
                    mcode, sh["h"], Gs, sh["A"], sh["W"], EPS, EPSA, k0, k1,
                    sh["div"], sh["rng"], sh["pat"], sh["inj"],
                )
            if shadows and at_checkpoint(k0, k1):
                path_digits = _checkpoint(path_digits, mcode, h, U, A, Wt, EPS, noise, div_step, shadows, False, lfloor)
        for sh in shadows:
            sh["W"] = np.ascontiguousarray(sh["W"].T)
        backend_used = "numpy"

    Ut = np.ascontiguousarray(np.broadcast_to(U, (B, d)).T)
    Gt = h[:, None] * Ut
    if rec is not None and steps % stride == 0:
        _history_put(rec, steps // stride, mcode, h, Ut, Gt, A, Wt, EPS, noise, div_step)
    with np.errstate(all="ignore"):
        a_rep, loss, w_norm, eff, e_norm, et_norm = _state_scalars(
            mcode, h, Ut, Gt, A, Wt, EPS, noise
        )
        u_norm_H = np.sqrt(_seqsum((h[:, None] * Ut) * Ut))
    status = _status(et_norm, u_norm_H, div_step)
    W_out = Wt.T @ V.T if rot else Wt.T

    def shaped(x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(shape)

    trust_fields: dict[str, Any] = {}
    if S:
        copies = []
        for sh in shadows:
            Us_t = np.ascontiguousarray(np.broadcast_to(sh["U"], (B, d)).T)
            Gs_t = sh["h"][:, None] * Us_t
            with np.errstate(all="ignore"):
                sc = _state_scalars(mcode, sh["h"], Us_t, Gs_t, sh["A"], sh["W"].T, EPS, noise)
                un = np.sqrt(np.sum((sh["h"][:, None] * Us_t) * Us_t, axis=0))
            copies.append((sc[0], sc[1], sc[3], _status(sc[5], un, sh["div"]), sh["div"], sh["ratio"]))
        ratios = [c[5] for c in copies]
        with np.errstate(all="ignore"):
            dl = _digits(loss, [c[1] for c in copies], ratios, lfloor)
            da = (
                np.full(B, np.nan)
                if method == "gd"
                else _digits(a_rep, [c[0] for c in copies], ratios, CONVERGED_RTOL * u_norm_H)
            )
            # eff_step matters against the stability threshold 2 / lambda_max (Eq. 11-12)
            de = _digits(eff, [c[2] for c in copies], ratios, CONVERGED_RTOL * 2.0 / float(np.max(h)))
        agree = np.ones(B, dtype=bool)
        for c in copies:
            agree &= (c[3] == status) & ((status != DIVERGED) | (c[4] == div_step))
        # the loss's digits: the fewest at any checkpoint (a transient that float64 could not
        # follow moves the whole rest of the trajectory in time, even if all copies end alike)
        dl = np.fmin(dl, path_digits[0])
        # copies that disagree on the status leave no digit to claim
        dl = np.where(agree, dl, 0.0)
        da = np.where(agree | np.isnan(da), da, 0.0)
        de = np.where(agree, de, 0.0)
        diverged = status == DIVERGED
        dl = np.where(diverged, np.nan, dl)
        da = np.where(diverged, np.nan, da)
        de = np.where(diverged, np.nan, de)
        with np.errstate(invalid="ignore"):
            all_below = loss <= lfloor
            for c in copies:
                all_below &= c[1] <= lfloor
        # all copies end below the floor, agree on the status, and were followed to min_digits
        # wherever the loss was above the floor: the result is "below the floor", trusted as such
        tie = agree & all_below & (path_digits[1] >= min_digits)
        trusted = agree & (diverged | (dl >= min_digits) | tie)
        trust_fields = {
            "digits": shaped(dl),
            "digits_a": shaped(da),
            "digits_eff": shaped(de),
            "trusted": shaped(trusted),
            "status_agree": shaped(agree),
            "below_floor": shaped(all_below),
            "min_digits": float(min_digits),
            "loss_floor": (
                float(np.ravel(lfloor)[0]) if np.size(lfloor) == 1
                else shaped(np.broadcast_to(lfloor, (B,)))
            ),
        }

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
        **trust_fields,
    )


def _checkpoint(path_digits, mcode, h, U, A, W, EPS, noise, div_step, shadows, rows, lfloor):
    """Update the running minimum of the loss's estimated digits at a checkpoint: compares the
    main copy's loss with its shadows' (states are (B, d) when ``rows`` -- the numba path -- else
    (d, B))."""
    if rows:
        # (B, d) states exist only on the numba path
        main = _kernel_losses(mcode, h, U, A, W, noise)
        others = [_kernel_losses(mcode, sh["h"], sh["U"], sh["A"], sh["W"], noise)
                  for sh in shadows]
    else:
        B, d = A.shape[0], h.shape[0]
        Ut = np.broadcast_to(U, (B, d)).T
        with np.errstate(all="ignore"):
            main = _state_scalars(mcode, h, Ut, h[:, None] * Ut, A, W, EPS, noise)[1]
            others = []
            for sh in shadows:
                Us = np.broadcast_to(sh["U"], (B, d)).T
                others.append(
                    _state_scalars(mcode, sh["h"], Us, sh["h"][:, None] * Us, sh["A"], sh["W"],
                                   EPS, noise)[1]
                )
    with np.errstate(all="ignore"):
        dig = _digits(main, others, [sh["ratio"] for sh in shadows], lfloor)
        above = main > lfloor
        for o in others:
            above |= ~(o <= lfloor)
    live = div_step < 0
    for sh in shadows:
        live &= sh["div"] < 0
    path_digits, path_above = path_digits
    return (np.where(live, np.fmin(path_digits, dig), path_digits),
            np.where(live & above, np.fmin(path_above, dig), path_above))


if HAVE_NUMBA:

    @numba.njit(parallel=True, fastmath=_FAST, cache=True, nogil=True)
    def _kernel_losses(method, h, U, A, W, noise):  # pragma: no cover
        """Loss of each (B, d) state (checkpoints of the trust estimate; summation order free)."""
        B, d = W.shape
        ustride = 0 if U.shape[0] == 1 else 1
        out = np.empty(B)
        for b in numba.prange(B):
            u = U[np.int64(b) * ustride]
            w = W[b]
            wg = 0.0
            s2 = 0.0
            for i in range(d):
                wg += w[i] * h[i] * u[i]
                s2 += h[i] * w[i] * w[i]
            sig = np.sqrt(s2)
            if method == 1:
                c = 1.0
            elif method == 0:
                c = A[b] / sig
            else:
                c = wg / s2
            et2 = 0.0
            for i in range(d):
                e = u[i] - c * w[i]
                et2 += h[i] * e * e
            out[b] = 0.5 * et2 + 0.5 * noise
        return out


def _status(et_norm: np.ndarray, u_norm_H: np.ndarray, div_step: np.ndarray) -> np.ndarray:
    status = np.where(et_norm <= CONVERGED_RTOL * u_norm_H, CONVERGED, MAX_STEPS_STATUS)
    return np.where(div_step >= 0, DIVERGED, status)


def _digits(main: np.ndarray, others: list[np.ndarray], ratios: list[float], floor: Any) -> np.ndarray:
    """Estimated correct significant digits of ``main`` from the spread of its shadow copies:
    ``-log10(TRUST_SAFETY * max_s |x_s - x| / r_s / max(|x|, floor))`` (``r_s``: the copy's
    injection relative to float64 rounding), in ``[0, FLOAT64_DIGITS]``;
    0 where a copy is not finite while ``main`` is (or the other way round), and 0 below
    ``LINEAR_DIGITS``."""
    dev = np.zeros_like(main)
    for o, r in zip(others, ratios, strict=True):
        dev = np.fmax(dev, np.abs(o - main) / r)
        bad = np.isfinite(o) != np.isfinite(main)
        dev = np.where(bad, np.inf, dev)
    scale = np.fmax(np.abs(main), floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = TRUST_SAFETY * dev / scale
        dig = np.where(rel > 0, -np.log10(rel), FLOAT64_DIGITS)
    dig = np.where(np.isfinite(main) | ~np.isfinite(dev), dig, np.where(dev == 0, FLOAT64_DIGITS, 0.0))
    dig = np.clip(np.nan_to_num(dig, nan=0.0, posinf=FLOAT64_DIGITS, neginf=0.0), 0.0, FLOAT64_DIGITS)
    # below LINEAR_DIGITS the copies have left the regime in which their spread measures the
    # error (the rounding errors are no longer small perturbations): claim nothing
    return np.where(dig < LINEAR_DIGITS, 0.0, dig)


def _splitmix64_np(x: np.ndarray) -> np.ndarray:
    """splitmix64 of a uint64 array (seeds of the shadows' xorshift64* streams; never 0)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        z = z ^ (z >> _U64(31))
    return np.where(z == 0, _U64(1), z)


def check_memory(nbytes: int, what: str) -> None:
    """Refuse an allocation larger than half the machine's available memory (one line, exit 2)."""
    avail = _available_memory()
    if avail is not None and nbytes > avail // 2:
        raise BNVerifyError(
            f"{what}: would need {_human_bytes(nbytes)}, more than half the available memory "
            f"({_human_bytes(avail)}); use fewer steps or a larger --history stride"
        )


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"
