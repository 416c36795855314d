"""The OLS problem of the paper, its derived quantities, losses and residuals.

Notation (paper, Sec. 2 and App. A; CLAIMS.md):

* ``H = E[x x^T]`` symmetric positive definite, ``g = E[x y] = H u``, ``c = E[y^2]``;
* with ``y = x^T u + noise`` of variance ``noise``, ``c = u^T H u + noise``;
* ``sigma = sqrt(w^T H w)``, ``||x||_H^2 = x^T H x``, ``kappa = lambda_max / lambda_min``;
* ``H* = H - H u u^T H / (u^T H u)`` (Eq. 14, 23; claim S3.Hstar).

Every formula lives here once; the engines, the claims and the tests call these functions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .errors import BNVerifyError

__all__ = [
    "OLSProblem",
    "as_float_array",
    "check_step_size",
    "h_star",
    "spectral_radius",
    "validate_spd",
]


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------


def _to_float(value: Any, name: str) -> float:
    if isinstance(value, str):
        try:
            value = float(Fraction(value)) if "/" in value else float(value)
        except (ValueError, ZeroDivisionError):
            raise BNVerifyError(f"{name}: cannot read {value!r} as a number") from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BNVerifyError(f"{name}: expected a number, got {type(value).__name__}") from None


def as_float_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Convert ``value`` (numbers, decimal strings, nested lists) to a finite float64 array.

    Raises :class:`BNVerifyError` naming ``name`` on wrong dimension or non-finite entries.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        arr = value.astype(np.float64, copy=True)
    else:
        try:
            arr = np.asarray(value, dtype=object)
        except ValueError:
            raise BNVerifyError(f"{name}: ragged nested list") from None
        if arr.dtype == object:
            flat = [_to_float(v, name) for v in arr.ravel()]
            arr = np.asarray(flat, dtype=np.float64).reshape(arr.shape)
        else:
            arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise BNVerifyError(f"{name}: expected {ndim}-dimensional array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BNVerifyError(f"{name}: contains NaN or infinite values")
    return arr


def check_step_size(value: Any, name: str, allow_zero: bool = False) -> float:
    """A step size: finite and > 0 (or >= 0 when ``allow_zero``)."""
    v = _to_float(value, name)
    if not np.isfinite(v):
        raise BNVerifyError(f"{name}: must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise BNVerifyError(f"{name}: step size must be {bound}, got {v}")
    return v


def validate_spd(H: np.ndarray, name: str = "H") -> tuple[np.ndarray, np.ndarray]:
    """Check ``H`` is square, symmetric and positive definite; return ``(eigenvalues, eigenvectors)``.

    Tolerances scale with the norm: symmetry is accepted when
    ``max|H - H^T| <= 64 * eps_machine * max|H|`` (rounding in a product ``X^T X`` of a few terms
    stays well inside this), and positive definiteness when the smallest eigenvalue of the
    symmetrised matrix exceeds ``d * eps_machine * ||H||_2`` -- below that, the sign of the
    smallest eigenvalue is not determined by float64 data (Weyl's inequality with a backward-stable
    eigensolver).
    """
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise BNVerifyError(f"{name}: must be a square matrix, got shape {H.shape}")
    if H.shape[0] == 0:
        raise BNVerifyError(f"{name}: must have dimension >= 1")
    scale = float(np.max(np.abs(H)))
    if scale == 0.0:
        raise BNVerifyError(f"{name}: is the zero matrix, not positive definite")
    asym = float(np.max(np.abs(H - H.T)))
    if asym > 64 * np.finfo(float).eps * scale:
        raise BNVerifyError(f"{name}: not symmetric (max |H - H^T| = {asym:.3g})")
    Hs = H if np.array_equal(H, H.T) else 0.5 * H + 0.5 * H.T  # no overflow near the maximum
    lam, V = np.linalg.eigh(Hs)
    tol = H.shape[0] * np.finfo(float).eps * float(np.max(np.abs(lam)))
    if lam[0] <= tol:
        raise BNVerifyError(
            f"{name}: not positive definite (smallest eigenvalue {lam[0]:.3g} <= tolerance {tol:.3g})"
        )
    return lam, V


def _validate_diagonal(h: np.ndarray, need_vectors: bool = True) -> tuple[np.ndarray, Any]:
    """Positive definiteness of a diagonal matrix: every entry > 0 (exact)."""
    if h.shape[0] == 0:
        raise BNVerifyError("H: must have dimension >= 1")
    if np.any(h <= 0):
        raise BNVerifyError(
            f"H: not positive definite (smallest diagonal entry {h.min():.3g} <= 0)"
        )
    order = np.argsort(h, kind="stable")
    return h[order].copy(), (np.eye(h.shape[0])[:, order] if need_vectors else None)


def spectral_radius(eps: float | np.ndarray, eigenvalues: np.ndarray) -> np.ndarray | float:
    """``rho(I - eps H) = max_i |1 - eps lambda_i|`` (Eq. 4; claim S2.GD-rate)."""
    eps_arr = np.asarray(eps, dtype=float)
    lam = np.asarray(eigenvalues, dtype=float)
    out = np.max(np.abs(1.0 - eps_arr[..., None] * lam), axis=-1)
    return float(out) if out.ndim == 0 else out


def h_star(H: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``H* = H - H u u^T H / (u^T H u)`` (Eq. 14, 23; claim S3.Hstar)."""
    Hu = H @ u
    return H - np.outer(Hu, Hu) / float(u @ Hu)


# ----------------------------------------------------------------------------------------------
# the problem
# ----------------------------------------------------------------------------------------------


class OLSProblem:
    """Least squares ``min_w E[(y - w^T x)^2] / 2`` given its moments (paper, Eq. 2).

    Parameters
    ----------
    H : (d, d) symmetric positive definite matrix, or (d,) diagonal of one
    u : (d,) the minimiser, ``u = H^{-1} g``
    noise : variance of ``y - x^T u`` (so ``c = u^T H u + noise``); default 0

    A diagonal problem (given as a vector, or a matrix with no nonzero off-diagonal entry) is
    stored as its diagonal: every derived quantity costs O(d); the dense ``H`` and
    ``eigenvectors`` are built only when a caller asks for them.  Instances are immutable.

    Example
    -------
    >>> p = OLSProblem.from_diagonal([1.0, 4.0], [1.0, 1.0])
    >>> p.kappa
    4.0
    >>> round(p.eps_opt, 12)
    0.4
    """

    __slots__ = ("_H", "_diag", "u", "noise", "eigenvalues", "_V", "is_diagonal", "spec")

    def __init__(self, H: Any, u: Any, noise: float = 0.0) -> None:
        set_ = object.__setattr__
        Harr = as_float_array(H, "H")
        if Harr.ndim not in (1, 2):
            raise BNVerifyError(f"H: expected a matrix or its diagonal, got shape {Harr.shape}")
        diag = None
        if Harr.ndim == 1:
            diag = Harr
        elif Harr.shape[0] == Harr.shape[1] and not np.count_nonzero(
            Harr - np.diag(np.diag(Harr))
        ):
            diag = np.diag(Harr).copy()
        if diag is not None:
            lam, _ = _validate_diagonal(diag, need_vectors=False)  # exact, O(d)
            Hd = None if Harr.ndim == 1 else Harr
            V = None
        else:
            lam, V = validate_spd(Harr)
            # symmetrise without overflow (entries may be near the float64 maximum)
            Hd = Harr if np.array_equal(Harr, Harr.T) else 0.5 * Harr + 0.5 * Harr.T
        d = lam.shape[0]
        uu = as_float_array(u, "u", ndim=1)
        if uu.shape[0] != d:
            raise BNVerifyError(f"u: length {uu.shape[0]} does not match H of size {d}")
        nz = _to_float(noise, "noise")
        if not np.isfinite(nz) or nz < 0:
            raise BNVerifyError(f"noise: variance must be finite and >= 0, got {nz}")
        for arr in (Hd, diag, uu, lam, V):
            if arr is not None:
                arr.setflags(write=False)
        set_(self, "_H", Hd)
        set_(self, "_diag", diag)
        set_(self, "u", uu)
        set_(self, "noise", nz)
        set_(self, "eigenvalues", lam)
        set_(self, "_V", V)
        set_(self, "is_diagonal", diag is not None)
        set_(self, "spec", None)  # how a generator drew it (bnverify.strategies), for reports

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"OLSProblem is immutable (cannot set {name!r})")

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def __repr__(self) -> str:
        kind = "diagonal" if self.is_diagonal else "dense"
        return f"OLSProblem(d={self.d}, {kind}, kappa={self.kappa:.4g}, noise={self.noise})"

    @property
    def H(self) -> np.ndarray:
        """The dense matrix (built on first use for a diagonal problem)."""
        if self._H is None:
            Hd = np.diag(self._diag)
            Hd.setflags(write=False)
            object.__setattr__(self, "_H", Hd)
        return self._H

    @property
    def diagonal(self) -> np.ndarray | None:
        """The diagonal of a diagonal problem (in the given order), else None."""
        return self._diag

    @property
    def eigenvectors(self) -> np.ndarray:
        """Orthonormal eigenvectors, columns in the order of ``eigenvalues`` (a permutation
        matrix for a diagonal problem, built on first use)."""
        if self._V is None:
            order = np.argsort(self._diag, kind="stable")
            V = np.eye(self.d)[:, order]
            V.setflags(write=False)
            object.__setattr__(self, "_V", V)
        return self._V

    def _Hx(self, x: np.ndarray) -> np.ndarray:
        """``H x`` for x of shape (..., d) (O(d) for a diagonal problem)."""
        x = np.asarray(x, dtype=float)
        return self._diag * x if self._diag is not None else x @ self.H

    @classmethod
    def from_diagonal(cls, h: Any, u: Any, noise: float = 0.0) -> OLSProblem:
        return cls(as_float_array(h, "H_diag", ndim=1), u, noise)

    # -- moments --------------------------------------------------------------------------------
    @property
    def d(self) -> int:
        return int(self.u.shape[0])

    @property
    def g(self) -> np.ndarray:
        """``g = E[x y] = H u``."""
        return self._Hx(self.u)

    @property
    def c(self) -> float:
        """``c = E[y^2] = u^T H u + noise``."""
        return float(self.u @ self._Hx(self.u)) + self.noise

    @property
    def u_norm_H(self) -> float:
        return float(np.sqrt(self.u @ self._Hx(self.u)))

    # -- spectra ----------------------------------------------------------------------------------
    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def kappa(self) -> float:
        """``kappa = lambda_max / lambda_min``."""
        return self.lambda_max / self.lambda_min

    @property
    def eps_opt(self) -> float:
        """GD's optimal step ``2 / (lambda_max + lambda_min)`` (Eq. 5; claim S2.GD-opt)."""
        return 2.0 / (self.lambda_max + self.lambda_min)

    def h_star(self) -> np.ndarray:
        """``H*`` of Eq. 14 (claim S3.Hstar)."""
        return h_star(self.H, self.u)

    def h_star_eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``H*``, ascending; the first is 0 (``H* u = 0``)."""
        lam = np.linalg.eigvalsh(self.h_star())
        lam[0] = max(lam[0], 0.0) if abs(lam[0]) <= 64 * np.finfo(float).eps * lam[-1] else lam[0]
        return lam

    @property
    def kappa_star(self) -> float:
        """``kappa* = lambda*_max / lambda*_min`` over the nonzero eigenvalues ``lambda_2..lambda_d``
        of ``H*`` (Eq. 27; claims S3.Hstar-psd, C-A.5). Infinite when ``d == 1``."""
        lam = self.h_star_eigenvalues()
        if self.d < 2:
            return float("inf")
        return float(lam[-1] / lam[1])

    def rho(self, eps: float) -> float:
        """``rho(I - eps H)`` (Eq. 4)."""
        return spectral_radius(eps, self.eigenvalues)

    def rho_star(self, eps: float) -> float:
        """``rho*(I - eps H*) = max(|1 - eps lambda*_min|, |1 - eps lambda*_max|)`` over the nonzero
        eigenvalues of ``H*`` (Prop. 3.4; claims P3.4, C-A.6, C-A.7)."""
        lam = self.h_star_eigenvalues()
        if self.d < 2:
            return 0.0
        return spectral_radius(eps, np.array([lam[1], lam[-1]]))

    # -- losses and residuals -------------------------------------------------------------------
    def norm_H(self, x: np.ndarray) -> float:
        x = np.asarray(x, dtype=float)
        return float(np.sqrt(max(x @ self._Hx(x), 0.0)))

    def sigma(self, w: np.ndarray) -> float:
        """``sigma = sqrt(w^T H w)``."""
        return self.norm_H(w)

    def loss_gd(self, w: np.ndarray) -> float:
        """``J0(w) = E[(y - w^T x)^2]/2 = ||u - w||_H^2 / 2 + noise/2`` (Eq. 2)."""
        return 0.5 * self.norm_H(self.u - np.asarray(w, dtype=float)) ** 2 + 0.5 * self.noise

    def loss_bn(self, a: float, w: np.ndarray) -> float:
        """``J(a, w) = E[(y - a x^T w / sigma)^2]/2 = ||u - (a/sigma) w||_H^2/2 + noise/2``
        (Eq. 7 and its equivalent form Eq. 16, computed from the vector ``e~`` of Eq. 70 so that no
        nearly equal scalars are subtracted)."""
        return 0.5 * self.norm_H(self.e_tilde(a, w)) ** 2 + 0.5 * self.noise

    def e(self, w: np.ndarray) -> np.ndarray:
        """``e_k = u - (w^T g / sigma^2) w`` (Eq. 13, 35)."""
        w = np.asarray(w, dtype=float)
        return self.u - (w @ self.g) / float(w @ self._Hx(w)) * w

    def q(self, w: np.ndarray) -> float:
        """``q_k = u^T H u - (w^T g)^2 / sigma^2 = ||e_k||_H^2`` (Eq. 35-36), from the vector."""
        return self.norm_H(self.e(w)) ** 2

    def e_tilde(self, a: float, w: np.ndarray) -> np.ndarray:
        """``e~_k = u - (a_k / sigma_k) w_k`` (Eq. 70)."""
        w = np.asarray(w, dtype=float)
        return self.u - float(a) / self.sigma(w) * w

    def effective_step(self, eps: float, a: float, w: np.ndarray) -> float:
        """``eps^_k = eps (a_k / sigma_k)(w_k^T g / sigma_k^2)`` (Eq. 11; claim S3.eff-step)."""
        w = np.asarray(w, dtype=float)
        s2 = float(w @ self._Hx(w))
        return eps * float(a) / np.sqrt(s2) * float(w @ self.g) / s2

    # -- basis change -------------------------------------------------------------------------------
    def to_eigenbasis(self, x: np.ndarray) -> np.ndarray:
        """Coordinates in the eigenbasis of ``H`` (``V^T x``); works on (..., d) arrays."""
        return np.asarray(x, dtype=float) @ self.eigenvectors

    def from_eigenbasis(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.eigenvectors.T

    def to_json(self) -> dict[str, Any]:
        if self.is_diagonal:
            out: dict[str, Any] = {"H_diag": self._diag.tolist()}
        else:
            out = {"H": self.H.tolist()}
        out["u"] = self.u.tolist()
        if self.noise:
            out["noise"] = self.noise
        return out
