"""Hypothesis strategies for configurations of the paper's least-squares problem.

Strategies are values that compose and *shrink toward simple, readable examples*: small
dimension first, diagonal before dense, integer-like eigenvalues before spread ones, ``u`` and
``w0`` toward coordinate-like vectors, step sizes toward 1.  A counterexample therefore comes out
as e.g. ``H = diag(1, 1, 2), u = (1, 1, 1), ...``.

Spectra (the eigenvalues of ``H``, ascending, ``lambda_1 = 1`` after scaling):

* ``"spread"``: log-uniform in ``[1, kappa]`` with ``kappa`` from 1 to ``kappa_max`` (1e8);
* ``"repeated"``: few distinct values, each repeated;
* ``"clustered"``: a cluster near 1 and a cluster near ``kappa``;
* ``"equal-extremes"``: ``lambda_1 = lambda_2`` and/or ``lambda_{d-1} = lambda_d``;
* ``"integers"``: small integers (the shrink target).

Vectors (``u``, ``w0``) include the degenerate alignments the claims care about: orthogonal to an
eigenvector (``u^T v_1 = 0`` or ``u^T v_d = 0``), ``w0`` orthogonal to ``g``, ``w0`` parallel to
``u``, ``w0`` near a saddle (almost orthogonal to ``g``).

Example
-------
>>> from hypothesis import given, settings
>>> @settings(max_examples=5, database=None)
... @given(configurations(max_d=4))
... def t(c):
...     assert c.problem.d == len(c.w0)
>>> t()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .model import OLSProblem

SPECTRUM_KINDS = ("integers", "spread", "repeated", "clustered", "equal-extremes")


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------


def orthogonal_matrix(d: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal matrix from ``seed`` (QR of a Gaussian matrix, signs fixed)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((d, d))
    Q, R = np.linalg.qr(Z)
    return Q * np.sign(np.diag(R))


@st.composite
def spectra(
    draw, d: int, kappa_max: float = 1e8, kinds: tuple[str, ...] = SPECTRUM_KINDS
) -> np.ndarray:
    """Eigenvalues of ``H`` (ascending, smallest 1) for dimension ``d``."""
    kind = draw(st.sampled_from(kinds))
    log_kmax = float(np.log10(max(kappa_max, 1.0)))
    if kind == "integers" or d == 1:
        lam = [float(x) for x in draw(st.lists(st.integers(1, 9), min_size=d, max_size=d))]
        lam.sort()
        lam = [x / lam[0] for x in lam]
        return np.array(lam)
    log_k = draw(st.floats(0.0, log_kmax, allow_nan=False))
    kappa = 10.0**log_k
    if kind == "spread":
        fr = draw(st.lists(st.floats(0.0, 1.0), min_size=d - 2, max_size=d - 2))
        lam = [1.0] + [kappa**f for f in fr] + [kappa]
    elif kind == "repeated":
        n_distinct = draw(st.integers(1, max(1, min(3, d - 1))))
        levels = sorted(
            {1.0, kappa}
            | {
                kappa**f
                for f in draw(
                    st.lists(
                        st.floats(0.0, 1.0),
                        min_size=max(n_distinct - 2, 0),
                        max_size=max(n_distinct - 2, 0),
                    )
                )
            }
        )
        picks = draw(st.lists(st.integers(0, len(levels) - 1), min_size=d, max_size=d))
        lam = [levels[i] for i in picks]
        lam[0], lam[-1] = 1.0, levels[-1]
    elif kind == "clustered":
        width = draw(st.floats(1e-6, 1e-2))
        fr = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
        split = draw(st.integers(1, d - 1)) if d > 1 else 1
        lam = [1.0 + width * f for f in fr[:split]] + [
            kappa * (1.0 - width * f) for f in fr[split:]
        ]
        lam = [max(x, 1.0) for x in lam]
    else:  # equal-extremes
        fr = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
        lam = [kappa**f for f in fr]
        lam[0] = 1.0
        lam[-1] = kappa
        which = draw(st.sampled_from(("low", "high", "both")))
        if which in ("low", "both") and d >= 2:
            lam[1] = 1.0
        if which in ("high", "both") and d >= 2:
            lam[-2] = kappa
    lam = np.sort(np.asarray(lam, dtype=float))
    return lam / lam[0]


@st.composite
def unit_vectors(draw, d: int) -> np.ndarray:
    """A unit vector of R^d, shrinking toward (1, 1, ..., 1)/sqrt(d)."""
    v = np.array(
        draw(
            st.lists(
                st.one_of(st.integers(-3, 3).map(float), st.floats(-1.0, 1.0)),
                min_size=d,
                max_size=d,
            )
        )
    )
    n = np.linalg.norm(v)
    if n <= 1e-3:  # (near) zero draw: fall back to the shrink target
        v, n = np.ones(d), np.sqrt(d)
    return v / n


@dataclass(frozen=True)
class ProblemSpec:
    """How a problem was drawn (readable, replayable): eigenvalues, basis seed, u."""

    eigenvalues: tuple[float, ...]
    basis_seed: int | None  # None: diagonal H
    u_eig: tuple[float, ...]  # u in the eigenbasis (coefficients u^T v_i)

    def build(self) -> OLSProblem:
        lam = np.array(self.eigenvalues)
        ue = np.array(self.u_eig)
        if self.basis_seed is None:
            return OLSProblem(np.diag(lam), ue)
        Q = orthogonal_matrix(len(lam), self.basis_seed)
        H = (Q * lam) @ Q.T
        return OLSProblem(0.5 * (H + H.T), Q @ ue)


@st.composite
def problems(
    draw,
    min_d: int = 1,
    max_d: int = 64,
    kappa_max: float = 1e8,
    dense: bool | None = None,
    kinds: tuple[str, ...] = SPECTRUM_KINDS,
    degenerate_u: bool = True,
) -> OLSProblem:
    """An :class:`OLSProblem` with a controlled spectrum; ``u`` possibly orthogonal to ``v_1`` or
    ``v_d`` (``degenerate_u``).  The drawn spec is kept as ``problem.spec`` for reports."""
    d = draw(st.integers(min_d, max_d))
    lam = draw(spectra(d, kappa_max, kinds))
    ue = draw(unit_vectors(d))
    if degenerate_u and d >= 2:
        mode = draw(st.sampled_from(("generic", "perp-v1", "perp-vd", "perp-both")))
        if mode in ("perp-v1", "perp-both"):
            ue[0] = 0.0
        if mode in ("perp-vd", "perp-both") and d >= 3:
            ue[-1] = 0.0
        if np.linalg.norm(ue) < 1e-3:  # all remaining components (nearly) zero or subnormal
            ue = np.zeros(d)
            ue[d // 2] = 1.0
        ue = ue / np.linalg.norm(ue)
    use_dense = draw(st.booleans()) if dense is None else dense
    seed = draw(st.integers(0, 2**31 - 1)) if use_dense and d > 1 else None
    spec = ProblemSpec(tuple(float(x) for x in lam), seed, tuple(float(x) for x in ue))
    p = spec.build()
    object.__setattr__(p, "spec", spec)
    return p


@dataclass(frozen=True)
class Configuration:
    """A full BNGD configuration ``{H, u, a0, w0, eps_a, eps}`` (Def. 3.1)."""

    problem: OLSProblem
    a0: float
    w0: np.ndarray
    eps_a: float
    eps: float
    w0_kind: str = "generic"

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """The ``bnverify run --config`` format (replayable)."""
        out = self.problem.to_json()
        out.update(
            a0=float(self.a0),
            w0=[float(x) for x in self.w0],
            eps_a=float(self.eps_a),
            eps=float(self.eps),
        )
        out.update(extra)
        return out

    def describe(self) -> str:
        """Human terms, e.g. ``d = 2, H = diag(1, 2), u = (...), a0 = 1, w0 = (...) [w0 ⟂ g]``."""
        p = self.problem

        def fmt(v):
            return "(" + ", ".join(f"{x:.4g}" for x in v) + ")"

        H = f"diag{fmt(np.diag(p.H))}" if p.is_diagonal else f"Q diag{fmt(p.eigenvalues)} Q^T"
        kind = "" if self.w0_kind == "generic" else f" [w0: {self.w0_kind}]"
        return (
            f"d = {p.d}, H = {H}, u = {fmt(p.u)}, a0 = {self.a0:.4g}, w0 = {fmt(self.w0)}{kind}, "
            f"eps_a = {self.eps_a:.4g}, eps = {self.eps:.4g}"
        )


def log_floats(lo: float, hi: float, shrink_to: float | None = None) -> st.SearchStrategy[float]:
    """Floats log-uniform in [lo, hi] (lo > 0), shrinking toward ``shrink_to`` (default: the
    power of ten nearest 1 inside the range)."""
    a, b = float(np.log10(lo)), float(np.log10(hi))
    if shrink_to is None:
        shrink_to = float(10.0 ** np.clip(0.0, a, b))
    s0 = float(np.log10(shrink_to))
    # shrink: hypothesis shrinks floats toward 0, so draw an offset from s0
    return st.floats(a - s0, b - s0, allow_nan=False).map(
        lambda t: float(np.clip(10.0 ** (s0 + t), lo, hi))
    )


def a0_values(lo: float = -1e3, hi: float = 1e3) -> st.SearchStrategy[float]:
    """``a0`` in [-1e3, 1e3], including 0 and 1e-12 (shrinks toward 1)."""
    return st.one_of(
        st.just(1.0),
        st.sampled_from([0.0, 1e-12, -1e-12, 1e-8, -1.0, 10.0, 1e3, -1e3]),
        st.floats(lo, hi, allow_nan=False),
    ).filter(lambda x: lo <= x <= hi)


@st.composite
def initial_w(draw, problem: OLSProblem, kinds: tuple[str, ...] | None = None):
    """``(w0, kind)`` with kind in generic / perp-g / parallel-u / near-saddle / eigenvector."""
    d = problem.d
    allk = ("generic", "parallel-u", "perp-g", "near-saddle", "eigenvector")
    kind = draw(st.sampled_from(kinds or allk))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    g = problem.g
    if kind == "parallel-u":
        w = problem.u.copy()
    elif kind in ("perp-g", "near-saddle") and d >= 2:
        v = draw(unit_vectors(d))
        gh = g / np.linalg.norm(g)
        w = v - (v @ gh) * gh
        if np.linalg.norm(w) < 1e-8:
            w = np.roll(gh, 1) - (np.roll(gh, 1) @ gh) * gh
        if np.linalg.norm(w) < 1e-8:  # d >= 2: some coordinate vector works
            e = np.zeros(d)
            e[int(np.argmin(np.abs(gh)))] = 1.0
            w = e - (e @ gh) * gh
        w = w / np.linalg.norm(w)
        if kind == "near-saddle":
            w = w + 1e-6 * gh
    elif kind == "eigenvector":
        i = draw(st.integers(0, d - 1))
        w = problem.eigenvectors[:, i].copy()
    else:
        kind = "generic"
        w = draw(unit_vectors(d))
    return scale * w, kind


@st.composite
def configurations(
    draw,
    min_d: int = 1,
    max_d: int = 64,
    kappa_max: float = 1e8,
    dense: bool | None = None,
    eps_a: st.SearchStrategy[float] | None = None,
    eps: st.SearchStrategy[float] | None = None,
    a0: st.SearchStrategy[float] | None = None,
    w0_kinds: tuple[str, ...] | None = None,
    kinds: tuple[str, ...] = SPECTRUM_KINDS,
    degenerate_u: bool = True,
) -> Configuration:
    """A :class:`Configuration`; defaults: ``eps_a`` in (0, 2.5), ``eps`` in [1e-8, 1e16],
    ``a0`` in [-1e3, 1e3] (with 0 and 1e-12), dimensions ``min_d..max_d``."""
    p = draw(problems(min_d, max_d, kappa_max, dense, kinds, degenerate_u))
    w0, kind = draw(initial_w(p, w0_kinds))
    ea = draw(eps_a if eps_a is not None else st.floats(1e-6, 2.5, exclude_max=True).map(float))
    e = draw(eps if eps is not None else log_floats(1e-8, 1e16))
    a = draw(a0 if a0 is not None else a0_values())
    return Configuration(p, float(a), np.asarray(w0, dtype=float), float(ea), float(e), kind)
