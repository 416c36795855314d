"""Index-free matrix calculus for the BN least-squares objective, valid in every dimension d.

Why our own small calculus (rather than SymPy's ``MatrixSymbol`` derivatives or ``IndexedBase``
sums): every quantity in the paper (Eq. 7, 16-23, 35-40, 70, 81) is built from one symmetric
matrix ``H`` and a few vectors ``w, u`` (``g = H u``), so every vector that appears is a linear
combination of ``H^k p`` (``p`` in ``{w, u, x, ...}``), every matrix a combination of powers of
``H`` and outer products ``(H^k p)(H^l q)^T``, and every scalar a function of the *invariants*
``p^T H^k q``.  Representing objects in that basis makes results print exactly as the paper writes
them (``a/sigma^3 (w^T g) H w``), keeps simplification inside SymPy's scalar ``simplify`` (which
is reliable), and makes the whole calculus three rules:

* ``grad_w (p^T H^k q) = [p = w] H^k q + [q = w] H^k p``  (product rule on a bilinear form);
* ``grad_w f(s_1, ..., s_m) = sum_i (df/ds_i) grad_w s_i``  (chain rule on scalar invariants);
* ``D_w (c(w) H^k p) = (H^k p) (grad_w c)^T + c [p = w] H^k``  (product rule on a vector field).

``sigma = sqrt(w^T H w)`` is carried as its own positive symbol with ``grad_w sigma = H w / sigma``
(the chain rule applied to the first rule).  A coefficient-wise zero difference proves an identity
for every d; a nonzero coefficient is only *evidence* of a difference (the basis vectors can be
dependent, e.g. in d = 1), so the derivation layer confirms every disagreement on an explicit
instance (``bnverify.symbolic.explicit``) before calling it a refutation.

Example
-------
>>> from bnverify.symbolic.algebra import a, sigma, y, grad_w
>>> J = -a * y / sigma + a**2 / 2
>>> grad_w(J).latex()
'- \\\\frac{a}{\\\\sigma} g + \\\\frac{a y}{\\\\sigma^{3}} H w'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp

# ----------------------------------------------------------------------------------------------
# scalar symbols
# ----------------------------------------------------------------------------------------------

a = sp.Symbol("a", real=True)
sigma = sp.Symbol("sigma", positive=True)  # sqrt(w^T H w)
y = sp.Symbol("y", real=True)  # w^T g = w^T H u
nu = sp.Symbol("nu", positive=True)  # u^T H u = ||u||_H^2
c = sp.Symbol("c", positive=True)  # E[y^2]
eps = sp.Symbol("epsilon", positive=True)
eps_a = sp.Symbol("epsilon_a", positive=True)
lam = sp.Symbol("lambda", real=True)

VECTOR_NAMES = ("w", "u", "x", "v")  # order used for canonical keys


@dataclass(frozen=True, order=True)
class Basis:
    """The vector ``H^k p``; ``g`` is ``Basis(1, "u")``."""

    k: int
    p: str

    def latex(self) -> str:
        if self.k == 1 and self.p == "u":
            return "g"
        if self.k == 0:
            return self.p
        if self.k == 2 and self.p == "u":
            return "H g"
        return ("H" if self.k == 1 else f"H^{{{self.k}}}") + " " + self.p


def _canon(p: str, k: int, q: str) -> tuple[str, int, str]:
    if VECTOR_NAMES.index(p) > VECTOR_NAMES.index(q):
        p, q = q, p
    return p, k, q


_INV_CACHE: dict[tuple[str, int, str], sp.Symbol] = {}
_INV_OF: dict[sp.Symbol, tuple[str, int, str]] = {}
LATEX_NAMES: dict[sp.Symbol, str] = {}


def invariant(p: str, k: int, q: str) -> sp.Expr:
    """The scalar ``p^T H^k q`` as a SymPy expression in the named invariants.

    ``w^T H w = sigma^2``, ``w^T H u = y``, ``u^T H u = nu``; every other one is a symbol printed as
    ``p^T H^k q`` (``(Hw)^T g`` etc. are written through it).
    """
    p, k, q = _canon(p, k, q)
    if (p, k, q) == ("w", 1, "w"):
        return sigma**2
    if (p, k, q) == ("w", 1, "u"):
        return y
    if (p, k, q) == ("u", 1, "u"):
        return nu
    key = (p, k, q)
    if key not in _INV_CACHE:
        hk = "" if k == 0 else ("H" if k == 1 else f"H^{{{k}}}")
        name = f"inv_{p}{k}{q}"
        positive = p == q  # p^T H^k p > 0 for H positive definite and p != 0
        s = sp.Symbol(name, positive=True) if positive else sp.Symbol(name, real=True)
        _INV_CACHE[key] = s
        _INV_OF[s] = key
        LATEX_NAMES[s] = (
            f"\\left({p}^{{T}} {hk} {q}\\right)" if hk else f"\\left({p}^{{T}} {q}\\right)"
        )
    return _INV_CACHE[key]


def latex(expr: sp.Expr) -> str:
    """LaTeX of a scalar expression with the invariants printed as ``p^T H^k q``."""
    return sp.latex(sp.sympify(expr), symbol_names=LATEX_NAMES)


def invariant_key(s: sp.Symbol) -> tuple[str, int, str] | None:
    """Inverse of :func:`invariant` for the generic symbols (``None`` for other symbols)."""
    return _INV_OF.get(s)


# ----------------------------------------------------------------------------------------------
# vectors and matrices in the H-Krylov basis
# ----------------------------------------------------------------------------------------------

Scalar = sp.Expr | int | float


class Vec:
    """A vector ``sum_b coeff_b H^{k_b} p_b`` with SymPy scalar coefficients."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Basis, sp.Expr] | None = None):
        self.terms: dict[Basis, sp.Expr] = {}
        for b, v in (terms or {}).items():
            v = sp.sympify(v)
            if v != 0:
                self.terms[b] = v

    @staticmethod
    def of(p: str, k: int = 0) -> Vec:
        return Vec({Basis(k, p): sp.Integer(1)})

    def __add__(self, other: Vec) -> Vec:
        out = dict(self.terms)
        for b, v in other.terms.items():
            out[b] = out.get(b, 0) + v
        return Vec(out)

    def __neg__(self) -> Vec:
        return Vec({b: -v for b, v in self.terms.items()})

    def __sub__(self, other: Vec) -> Vec:
        return self + (-other)

    def __mul__(self, s: Scalar) -> Vec:
        return Vec({b: v * s for b, v in self.terms.items()})

    __rmul__ = __mul__

    def __truediv__(self, s: Scalar) -> Vec:
        return self * (sp.Integer(1) / sp.sympify(s))

    def H(self, power: int = 1) -> Vec:
        """``H^power`` applied to the vector."""
        return Vec({Basis(b.k + power, b.p): v for b, v in self.terms.items()})

    def dot(self, other: Vec) -> sp.Expr:
        """Euclidean inner product ``self^T other`` in terms of the invariants."""
        return sp.Add(
            *[
                v1 * v2 * invariant(b1.p, b1.k + b2.k, b2.p)
                for b1, v1 in self.terms.items()
                for b2, v2 in other.terms.items()
            ]
        )

    def hdot(self, other: Vec) -> sp.Expr:
        """``self^T H other``."""
        return self.dot(other.H())

    def map(self, fn) -> Vec:
        return Vec({b: fn(v) for b, v in self.terms.items()})

    def simplify(self) -> Vec:
        return self.map(sp.simplify)

    def is_zero(self) -> bool:
        return all(sp.simplify(v) == 0 for v in self.terms.values())

    def subs(self, *args, **kw) -> Vec:
        return self.map(lambda v: v.subs(*args, **kw))

    def sorted_items(self) -> list[tuple[Basis, sp.Expr]]:
        order = {"u": 0, "w": 1, "x": 2, "v": 3}
        return sorted(self.terms.items(), key=lambda bv: (order[bv[0].p], bv[0].k))

    def latex(self) -> str:
        return _lin_latex([(b.latex(), v) for b, v in self.sorted_items()])

    def __repr__(self) -> str:
        return f"Vec({self.latex()})"


@dataclass(frozen=True, order=True)
class MKey:
    """``H^k`` (``left is None``) or the outer product ``left right^T``."""

    k: int = 0
    left: Basis | None = None
    right: Basis | None = None

    def latex(self) -> str:
        if self.left is None:
            return "I" if self.k == 0 else ("H" if self.k == 1 else f"H^{{{self.k}}}")
        lt, rt = self.left.latex(), self.right.latex()
        lt = f"({lt})" if " " in lt else lt
        rt = f"({rt})" if " " in rt else rt
        return f"{lt} {rt}^T"


class Mat:
    """A matrix ``sum coeff * (H^k or (H^k p)(H^l q)^T)``."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[MKey, sp.Expr] | None = None):
        self.terms: dict[MKey, sp.Expr] = {}
        for key, v in (terms or {}).items():
            v = sp.sympify(v)
            if v != 0:
                self.terms[key] = v

    @staticmethod
    def H(power: int = 1) -> Mat:
        return Mat({MKey(power): sp.Integer(1)})

    @staticmethod
    def outer(p: Vec, q: Vec) -> Mat:
        out: dict[MKey, sp.Expr] = {}
        for b1, v1 in p.terms.items():
            for b2, v2 in q.terms.items():
                key = MKey(0, b1, b2)
                out[key] = out.get(key, 0) + v1 * v2
        return Mat(out)

    def __add__(self, other: Mat) -> Mat:
        out = dict(self.terms)
        for key, v in other.terms.items():
            out[key] = out.get(key, 0) + v
        return Mat(out)

    def __neg__(self) -> Mat:
        return Mat({k_: -v for k_, v in self.terms.items()})

    def __sub__(self, other: Mat) -> Mat:
        return self + (-other)

    def __mul__(self, s: Scalar) -> Mat:
        return Mat({k_: v * s for k_, v in self.terms.items()})

    __rmul__ = __mul__

    def __truediv__(self, s: Scalar) -> Mat:
        return self * (sp.Integer(1) / sp.sympify(s))

    def apply(self, x: Vec) -> Vec:
        """Matrix-vector product."""
        out = Vec()
        for key, v in self.terms.items():
            if key.left is None:
                out = out + x.H(key.k) * v
            else:
                out = out + Vec({key.left: v * Vec({key.right: 1}).dot(x)})
        return out

    def quad(self, x: Vec) -> sp.Expr:
        """``x^T M x``."""
        return x.dot(self.apply(x))

    def map(self, fn) -> Mat:
        return Mat({k_: fn(v) for k_, v in self.terms.items()})

    def simplify(self) -> Mat:
        return self.map(sp.simplify)

    def subs(self, *args, **kw) -> Mat:
        return self.map(lambda v: v.subs(*args, **kw))

    def is_zero(self) -> bool:
        return all(sp.simplify(v) == 0 for v in self.terms.values())

    def latex(self) -> str:
        return _lin_latex([(k_.latex(), v) for k_, v in sorted(self.terms.items())])

    def __repr__(self) -> str:
        return f"Mat({self.latex()})"


def _lin_latex(items: list[tuple[str, sp.Expr]]) -> str:
    if not items:
        return "0"
    parts: list[str] = []
    for name, v in items:
        v = sp.factor_terms(v)
        neg = v.could_extract_minus_sign()
        mag = -v if neg else v
        if mag == 1:
            body = name if name != "I" else "I"
        else:
            coeff = latex(mag)
            if isinstance(mag, sp.Add):
                coeff = f"\\left({coeff}\\right)"
            body = f"{coeff} {name}"
        parts.append(("- " if neg else "+ ") + body)
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else s


# ----------------------------------------------------------------------------------------------
# the three calculus rules
# ----------------------------------------------------------------------------------------------


def grad_of_symbol(s: sp.Symbol, wrt: str = "w") -> Vec:
    """``grad_wrt s`` for one scalar symbol (rule 1; ``sigma`` via the chain rule)."""
    if s == sigma:
        return Vec.of(wrt, 1) / sigma if wrt == "w" else Vec()
    if s == y:
        return Vec.of("u", 1) if wrt == "w" else Vec.of("w", 1)
    if s == nu:
        return Vec.of("u", 1) * 2 if wrt == "u" else Vec()
    key = invariant_key(s)
    if key is None:
        return Vec()
    p, k, q = key
    out = Vec()
    if p == wrt:
        out = out + Vec.of(q, k)
    if q == wrt:
        out = out + Vec.of(p, k)
    return out


def grad_w(f: sp.Expr, wrt: str = "w") -> Vec:
    """Rule 2: gradient of a scalar function of the invariants with respect to the vector ``wrt``."""
    f = sp.sympify(f)
    out = Vec()
    for s in sorted(f.free_symbols, key=lambda z: z.name):
        gs = grad_of_symbol(s, wrt)
        if gs.terms:
            out = out + gs * sp.diff(f, s)
    return out


def jacobian_w(v: Vec, wrt: str = "w") -> Mat:
    """Rule 3: ``D_wrt v`` for a vector field ``v`` (a symmetric matrix when ``v`` is a gradient)."""
    out = Mat()
    for b, coeff in v.terms.items():
        out = out + Mat.outer(Vec({b: 1}), grad_w(coeff, wrt))
        if b.p == wrt:
            out = out + Mat.H(b.k) * coeff
    return out


def substitute_vector(obj, name: str, value: Vec, extra: dict | None = None):
    """Replace the vector ``name`` by ``value`` everywhere: in basis vectors and in the invariants
    (``sigma`` becomes ``sqrt(value^T H value)`` when ``name == "w"``).  ``obj`` is a SymPy
    expression, a :class:`Vec` or a :class:`Mat`."""
    vecs = {p: Vec.of(p) for p in VECTOR_NAMES}
    vecs[name] = value

    def inv_value(p: str, k: int, q: str) -> sp.Expr:
        return vecs[p].dot(vecs[q].H(k))

    rep: dict[sp.Expr, sp.Expr] = {}
    if name == "w":
        rep[sigma] = sp.sqrt(inv_value("w", 1, "w"))
        rep[y] = inv_value("w", 1, "u")
    if name == "u":
        rep[y] = inv_value("w", 1, "u")
        rep[nu] = inv_value("u", 1, "u")
    for s, (p, k, q) in list(_INV_OF.items()):
        if name in (p, q):
            rep[s] = inv_value(p, k, q)
    if extra:
        rep.update(extra)

    def sub(e: sp.Expr) -> sp.Expr:
        return sp.sympify(e).xreplace(rep)

    if isinstance(obj, Vec):
        out = Vec()
        for b, v in obj.terms.items():
            base = vecs[b.p].H(b.k)
            out = out + base * sub(v)
        return out
    if isinstance(obj, Mat):
        out = Mat()
        for key, v in obj.terms.items():
            if key.left is None:
                out = out + Mat.H(key.k) * sub(v)
            else:
                lv = vecs[key.left.p].H(key.left.k)
                rv = vecs[key.right.p].H(key.right.k)
                out = out + Mat.outer(lv, rv) * sub(v)
        return out
    return sub(obj)


def symbols_in(objs: Iterable) -> set[sp.Symbol]:
    out: set[sp.Symbol] = set()
    for o in objs:
        if isinstance(o, (Vec, Mat)):
            for v in o.terms.values():
                out |= v.free_symbols
        else:
            out |= sp.sympify(o).free_symbols
    return out


# named vectors
w = Vec.of("w")
u = Vec.of("u")
g = Vec.of("u", 1)
Hw = Vec.of("w", 1)
x = Vec.of("x")
