"""Exact BNGD steps on explicit configurations (SymPy rationals and radicals), for the scaling-law
derivations (Prop. 3.2, Lemma A.8, A.9; claims P3.2-1, P3.2-2, L-A.9) and their counterexamples.

The step is Eq. (9)-(10), i.e. gradient descent on J with steps (eps_a, eps) (derived in E81):
``a' = a + eps_a (w^T g/sigma - a)``, ``w' = w + eps (a/sigma)(g - (w^T g/sigma^2) H w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp


def bngd_exact(
    H: Sequence[Sequence], u: Sequence, a0, w0: Sequence, eps_a, eps, steps: int = 1
) -> tuple[sp.Expr, list[sp.Expr]]:
    """``steps`` exact BNGD steps from ``(a0, w0)``; returns ``(a_k, w_k)`` simplified."""
    Hm = sp.Matrix(H).applyfunc(sp.nsimplify)
    uv = sp.Matrix(list(u)).applyfunc(sp.nsimplify)
    g = Hm * uv
    a = sp.nsimplify(a0)
    wv = sp.Matrix(list(w0)).applyfunc(sp.nsimplify)
    ea, e = sp.nsimplify(eps_a), sp.nsimplify(eps)
    for _ in range(steps):
        s = sp.sqrt((wv.T * Hm * wv)[0])
        yv = (wv.T * g)[0]
        a, wv = (
            sp.simplify(a + ea * (yv / s - a)),
            (wv + e * (a / s) * (g - (yv / s**2) * Hm * wv)).applyfunc(sp.simplify),
        )
    return a, list(wv)
