"""The OLS problem of the paper, its derived quantities, losses and residuals.

Notation (paper, Sec. 2 and App. A; CLAIMS.md):

* ``H = E[x x^T]`` symmetric positive definite, ``g = E[x y] = H u``, ``c = E[y^2]``;
* with ``y = x^T u + noise`` of variance ``noise``, ``c = u^T H u + noise``;
* ``sigma = sqrt(w^T H w)``, ``||x||_H^2 = x^T H x``, ``kappa = lambda_max / lambda_min``;
* ``H* = H - H u u^T H / (u^T H u)`` (Eq. 14, 23; claim S3.Hstar).

Every formula lives here once; the engines, the claims and the tests call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    Hs = 0.5 * (H + H.T)
    lam, V = np.linalg.eigh(Hs)
    tol = H.shape[0] * np.finfo(float).eps * float(np.max(np.abs(lam)))
    if lam[0] <= tol:
        raise BNVerifyError(
            f"{name}: not positive definite (smallest eigenvalue {lam[0]:.3g} <= tolerance {tol:.3g})"
        )
    return lam, V


def _validate_diagonal(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive definiteness of a diagonal matrix: every entry > 0 (exact)."""
    if h.shape[0] == 0:
        raise BNVerifyError("H: must have dimension >= 1")
    if np.any(h <= 0):
        raise BNVerifyError(
            f"H: not positive definite (smallest diagonal entry {h.min():.3g} <= 0)"
        )
    order = np.argsort(h, kind="stable")
    return h[order].copy(), np.eye(h.shape[0])[:, order]


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


@dataclass(frozen=True)
class OLSProblem:
    """Least squares ``min_w E[(y - w^T x)^2] / 2`` given its moments (paper, Eq. 2).

    Parameters
    ----------
    H : (d, d) symmetric positive definite matrix, or (d,) diagonal of one
    u : (d,) the minimiser, ``u = H^{-1} g``
    noise : variance of ``y - x^T u`` (so ``c = u^T H u + noise``); default 0

    Example
    -------
    >>> p = OLSProblem.from_diagonal([1.0, 4.0], [1.0, 1.0])
    >>> p.kappa
    4.0
    >>> round(p.eps_opt, 12)
    0.4
    """

    H: np.ndarray
    u: np.ndarray
    noise: float = 0.0
    eigenvalues: np.ndarray = field(init=False, repr=False)
    eigenvectors: np.ndarray = field(init=False, repr=False)
    is_diagonal: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        H = as_float_array(self.H, "H")
        if H.ndim == 1:
            H = np.diag(H)
        if H.ndim != 2:
            raise BNVerifyError(f"H: expected a matrix or its diagonal, got shape {H.shape}")
        if (
            H.ndim == 2
            and H.shape[0] == H.shape[1]
            and not np.count_nonzero(H - np.diag(np.diag(H)))
        ):
            lam, V = _validate_diagonal(np.diag(H))  # exact, O(d): no dense eigensolver
        else:
            lam, V = validate_spd(H)
        u = as_float_array(self.u, "u", ndim=1)
        if u.shape[0] != H.shape[0]:
            raise BNVerifyError(f"u: length {u.shape[0]} does not match H of size {H.shape[0]}")
        noise = _to_float(self.noise, "noise")
        if not np.isfinite(noise) or noise < 0:
            raise BNVerifyError(f"noise: variance must be finite and >= 0, got {noise}")
        diagonal = bool(np.count_nonzero(H - np.diag(np.diag(H))) == 0)
        if diagonal:
            # exact eigen-decomposition of a diagonal matrix: sorted ascending, permutation vectors
            order = np.argsort(np.diag(H), kind="stable")
            lam = np.diag(H)[order].copy()
            V = np.eye(H.shape[0])[:, order]
        object.__setattr__(self, "H", 0.5 * (H + H.T))
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "eigenvectors", V)
        object.__setattr__(self, "is_diagonal", diagonal)
        for arr in (self.H, self.u, self.eigenvalues, self.eigenvectors):
            arr.setflags(write=False)

    @classmethod
    def from_diagonal(cls, h: Any, u: Any, noise: float = 0.0) -> OLSProblem:
        return cls(np.diag(as_float_array(h, "H_diag", ndim=1)), u, noise)

    # -- moments --------------------------------------------------------------------------------
    @property
    def d(self) -> int:
        return int(self.u.shape[0])

    @property
    def g(self) -> np.ndarray:
        """``g = E[x y] = H u``."""
        return self.H @ self.u

    @property
    def c(self) -> float:
        """``c = E[y^2] = u^T H u + noise``."""
        return float(self.u @ self.H @ self.u) + self.noise

    @property
    def u_norm_H(self) -> float:
        return float(np.sqrt(self.u @ self.H @ self.u))

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
        return float(np.sqrt(max(x @ self.H @ x, 0.0)))

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
        return self.u - (w @ self.g) / float(w @ self.H @ w) * w

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
        s2 = float(w @ self.H @ w)
        return eps * float(a) / np.sqrt(s2) * float(w @ self.g) / s2

    # -- basis change -------------------------------------------------------------------------------
    def to_eigenbasis(self, x: np.ndarray) -> np.ndarray:
        """Coordinates in the eigenbasis of ``H`` (``V^T x``); works on (..., d) arrays."""
        return np.asarray(x, dtype=float) @ self.eigenvectors

    def from_eigenbasis(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.eigenvectors.T

    def to_json(self) -> dict[str, Any]:
        if self.is_diagonal:
            out: dict[str, Any] = {"H_diag": np.diag(self.H).tolist()}
        else:
            out = {"H": self.H.tolist()}
        out["u"] = self.u.tolist()
        if self.noise:
            out["noise"] = self.noise
        return out
