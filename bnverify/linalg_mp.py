"""High-precision linear algebra for the numeric claim checks (mpmath, scoped precision).

What the checks of ``proofs/sec2_*.py``, ``proofs/sec3_*.py`` and
``proofs/appA1_gradients_hessian.py`` (and the shared ``bnverify.hessian_fd``, ``bnverify.hstar``,
``bnverify.trajectories``) need beyond float64:

* the BN objective ``J(a, w)`` of Eq. (7) *from its definition* as an expectation, expanded by
  linearity only (``E[y^2] = c``, ``E[x y] = g``, ``E[x x^T] = H``), at any precision;
* its gradient and Hessian by central finite differences at 50 digits (independent of the
  printed closed forms Eq. 17-21 they are compared with);
* symmetric eigenvalues at 50 digits (``mpmath.eigsy``), ``H*`` of Eq. (14, 23) in mp;
* exact conversion of float64 data (every float is a dyadic rational: no rounding on input).

Precision is explicit and scoped (``mpmath.workdps``); the global mpmath state is never left
changed.

Finite differences: with step ``h`` the central first difference has truncation error
``h^2 |f'''| / 6`` and rounding error ``10^-dps |f| / h``; the second (mixed) difference has
truncation ``O(h^2)`` and rounding ``10^-dps |f| / h^2``.  At ``dps = 50`` and ``h = 1e-12`` (times
the scale of the variable) both are below ``1e-24`` relative for the O(1)-conditioned points used,
so a comparison at relative tolerance ``1e-18`` leaves six digits of margin while any wrong
formula differs at O(1).

Example
-------
>>> import numpy as np
>>> H = np.diag([1.0, 4.0]); u = np.array([1.0, 1.0])
>>> G = fd_gradient(lambda z: bn_objective_mp(H, u, z[0], z[1:]), [1.0, 1.0, 0.0])
>>> [float(x) for x in G]  # dJ/da = a - w^T g / sigma = 1 - 1 = 0; dJ/dw = (0, -4)
[0.0, 0.0, -4.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np

DPS = 50
FD_STEP = mpmath.mpf("1e-12")
#: relative tolerance for comparing a closed form with 50-digit finite differences (see above)
FD_RTOL = 1e-18


def mpf_exact(x: Any) -> mpmath.mpf:
    """A float64 (or int / string) as an mpf; floats convert exactly (dyadic rationals)."""
    return mpmath.mpf(float(x)) if isinstance(x, (float, np.floating)) else mpmath.mpf(x)


def to_mp_vector(x: Any) -> list:
    return [mpf_exact(v) for v in np.asarray(x, dtype=float).ravel()]


def to_mp_matrix(A: Any) -> mpmath.matrix:
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        A = np.diag(A)
    M = mpmath.matrix(A.shape[0], A.shape[1])
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            M[i, j] = mpf_exact(A[i, j])
    return M


def _mv(M: mpmath.matrix, x: Sequence) -> list:
    n = M.rows
    return [mpmath.fsum(M[i, j] * x[j] for j in range(n)) for i in range(n)]


def _dot(x: Sequence, y: Sequence):
    return mpmath.fsum(a * b for a, b in zip(x, y, strict=False))


def bn_objective_mp(H: Any, u: Any, a: Any, w: Any, noise: Any = 0, dps: int = DPS):
    """``J(a, w) = 1/2 E[(y - a x^T w / sigma)^2]`` (Eq. 7) from the moments, at ``dps`` digits.

    Linearity of the expectation gives ``J = (c - 2 (a/sigma) w^T g + (a/sigma)^2 w^T H w) / 2``
    with ``g = H u``, ``c = u^T H u + noise`` (model of Sec. 2: ``y = x^T u + noise``).  ``a`` and
    ``w`` may be mpf (for finite differences).  Returns an mpf.
    """
    with mpmath.workdps(dps):
        Hm = H if isinstance(H, mpmath.matrix) else to_mp_matrix(H)
        um = list(u) if _is_mp_seq(u) else to_mp_vector(u)
        wm = list(w) if _is_mp_seq(w) else to_mp_vector(w)
        am = a if isinstance(a, mpmath.mpf) else mpf_exact(a)
        g = _mv(Hm, um)
        Hw = _mv(Hm, wm)
        s2 = _dot(wm, Hw)
        sig = mpmath.sqrt(s2)
        c = _dot(um, g) + mpf_exact(noise)
        return (c - 2 * (am / sig) * _dot(wm, g) + (am / sig) ** 2 * s2) / 2


def _is_mp_seq(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], mpmath.mpf)


def fd_gradient(f: Callable[[list], Any], z: Any, dps: int = DPS, h: Any = FD_STEP) -> list:
    """Central-difference gradient of ``f`` (a function of an mp list) at ``z``, at ``dps`` digits.
    The step is ``h * max(1, |z_i|)``."""
    with mpmath.workdps(dps):
        z0 = [mpf_exact(v) if not isinstance(v, mpmath.mpf) else v for v in z]
        out = []
        for i in range(len(z0)):
            hi = h * max(1, abs(z0[i]))
            zp, zm = list(z0), list(z0)
            zp[i] += hi
            zm[i] -= hi
            out.append((f(zp) - f(zm)) / (2 * hi))
        return out


def fd_hessian(f: Callable[[list], Any], z: Any, dps: int = DPS, h: Any = FD_STEP) -> mpmath.matrix:
    """Central-difference Hessian of ``f`` at ``z`` (symmetric by construction), ``dps`` digits.
    Diagonal: ``(f(z+h) - 2 f(z) + f(z-h)) / h^2``; off-diagonal: the four-point mixed rule."""
    with mpmath.workdps(dps):
        z0 = [mpf_exact(v) if not isinstance(v, mpmath.mpf) else v for v in z]
        n = len(z0)
        hs = [h * max(1, abs(v)) for v in z0]
        f0 = f(z0)
        M = mpmath.matrix(n, n)

        def shifted(pairs):
            zz = list(z0)
            for i, s in pairs:
                zz[i] += s * hs[i]
            return f(zz)

        for i in range(n):
            M[i, i] = (shifted([(i, 1)]) - 2 * f0 + shifted([(i, -1)])) / hs[i] ** 2
            for j in range(i + 1, n):
                v = (shifted([(i, 1), (j, 1)]) - shifted([(i, 1), (j, -1)])
                     - shifted([(i, -1), (j, 1)]) + shifted([(i, -1), (j, -1)])) / (4 * hs[i] * hs[j])
                M[i, j] = v
                M[j, i] = v
        return M


def bn_hessian_fd(H: Any, u: Any, a: Any, w: Any, dps: int = DPS) -> mpmath.matrix:
    """Hessian of ``J`` (Eq. 7) in the variables ``(a, w_1..w_d)`` by 50-digit finite differences."""
    with mpmath.workdps(dps + 10):
        Hm = to_mp_matrix(H)
        um = to_mp_vector(u)

        def f(z):
            return bn_objective_mp(Hm, um, z[0], z[1:], dps=dps + 10)

        return fd_hessian(f, [mpf_exact(a)] + to_mp_vector(w), dps=dps + 10)


def bn_gradient_fd(H: Any, u: Any, a: Any, w: Any, dps: int = DPS) -> list:
    """Gradient of ``J`` (Eq. 7) in ``(a, w)`` by 50-digit central differences."""
    with mpmath.workdps(dps + 10):
        Hm = to_mp_matrix(H)
        um = to_mp_vector(u)

        def f(z):
            return bn_objective_mp(Hm, um, z[0], z[1:], dps=dps + 10)

        return fd_gradient(f, [mpf_exact(a)] + to_mp_vector(w), dps=dps + 10)


def eigvalsh_mp(M: Any, dps: int = DPS) -> list:
    """Eigenvalues of a symmetric matrix, ascending, at ``dps`` digits (``mpmath.eigsy``)."""
    with mpmath.workdps(dps):
        Mm = M if isinstance(M, mpmath.matrix) else to_mp_matrix(M)
        E = mpmath.eigsy(Mm, eigvals_only=True)
        return sorted(E[i] for i in range(Mm.rows))


def h_star_mp(H: Any, u: Any, dps: int = DPS) -> mpmath.matrix:
    """``H* = H - H u u^T H / (u^T H u)`` (Eq. 14, 23) at ``dps`` digits from exact float data."""
    with mpmath.workdps(dps):
        Hm = H if isinstance(H, mpmath.matrix) else to_mp_matrix(H)
        um = list(u) if _is_mp_seq(u) else to_mp_vector(u)
        g = _mv(Hm, um)
        c = _dot(um, g)
        n = Hm.rows
        out = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                out[i, j] = Hm[i, j] - g[i] * g[j] / c
        return out


def h_star_eigs_mp(eigenvalues: Any, u_eig: Any, dps: int = DPS) -> list:
    """Eigenvalues of ``H*`` (ascending) at ``dps`` digits, computed in the eigenbasis of ``H``:
    ``H = diag(eigenvalues)`` and ``u`` given by its coefficients ``u^T v_i``.  The spectrum of
    ``H*`` is invariant under the orthogonal change of basis, so this decides exactly (to 50
    digits) what a dense float64 ``H`` can only approximate."""
    return eigvalsh_mp(h_star_mp(np.asarray(eigenvalues, dtype=float), u_eig, dps), dps)


def spectral_radius_mp(eps: Any, eigenvalues: Sequence) -> mpmath.mpf:
    """``max_i |1 - eps lambda_i|`` in mp (Eq. 4 / Def. A.4 with the given eigenvalues)."""
    e = eps if isinstance(eps, mpmath.mpf) else mpf_exact(eps)
    return max(abs(1 - e * lam) for lam in eigenvalues)


def norm_H_mp(H: mpmath.matrix, x: Sequence) -> mpmath.mpf:
    """``||x||_H = sqrt(x^T H x)`` in mp."""
    return mpmath.sqrt(max(_dot(x, _mv(H, x)), 0))


def mat_vec(H: mpmath.matrix, x: Sequence) -> list:
    return _mv(H, x)


def dot(x: Sequence, y: Sequence):
    return _dot(x, y)
