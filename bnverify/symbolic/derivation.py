"""Derivation records, the comparison with the printed formulas, and the registry.

A derivation (one per claim ID, written in the section modules of ``proofs/``) is a function ``fn(D)`` that fills a
:class:`Derivation`: the steps SymPy took (``D.step``), the comparison of each printed formula with
the derived one (``D.compare``), the exact d = 1..4 cross-check (``D.exact``), the 50-digit numeric
cross-check (``D.numeric``), and, where the paper is wrong, a counterexample and a corrected
statement (``D.counterexample``, ``D.correct``).  The verdict is computed from these data, never
set by hand:

* ``verified``: every printed formula equals the derived one *for general d* (the SymPy difference
  simplifies to 0) and the exact and numeric cross-checks pass;
* ``refuted``: some printed formula differs from the derived one and an explicit instance confirms
  the difference exactly (the counterexample; when the derivation gives none, one is searched for
  automatically on small integer instances);
* ``inconclusive``: anything else (a difference SymPy cannot close and no counterexample found, or a
  cross-check that fails); the residual is recorded.

The printed forms go through ``D.printed(name, value)`` so that tests can substitute a mutated
formula (``overrides``) and watch the comparison fail.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..catalogue import BY_ID
from ..errors import BNVerifyError
from . import algebra as A
from . import numeric as N

DIMS = (1, 2, 3, 4)


def to_latex(obj: Any) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (A.Vec, A.Mat)):
        return obj.latex()
    if isinstance(obj, Block):
        return obj.latex()
    return A.latex(obj)


@dataclass
class Block:
    """A symmetric block matrix ``[[aa, aw^T], [aw, ww]]`` (the Hessian in ``(a, w)``)."""

    aa: sp.Expr
    aw: A.Vec
    ww: A.Mat

    def latex(self) -> str:
        return (
            "\\begin{pmatrix} "
            + A.latex(self.aa)
            + " & \\left("
            + self.aw.latex()
            + "\\right)^T \\\\ "
            + self.aw.latex()
            + " & "
            + self.ww.latex()
            + " \\end{pmatrix}"
        )


@dataclass
class Step:
    text: str
    math: str = ""


@dataclass
class Comparison:
    name: str
    printed: str
    derived: str
    difference: str
    zero: bool
    role: str = "printed"  # "printed": the paper's formula; "corrected": the toolkit's correction


@dataclass
class CrossCheck:
    kind: str  # "exact" | "numeric"
    description: str
    ok: bool
    detail: str


def _difference(printed: Any, derived: Any) -> Any:
    if isinstance(printed, A.Vec) and isinstance(derived, A.Vec):
        return (printed - derived).simplify()
    if isinstance(printed, A.Mat) and isinstance(derived, A.Mat):
        return (printed - derived).simplify()
    if isinstance(printed, Block) and isinstance(derived, Block):
        return Block(
            sp.simplify(printed.aa - derived.aa),
            (printed.aw - derived.aw).simplify(),
            (printed.ww - derived.ww).simplify(),
        )
    if isinstance(printed, sp.logic.boolalg.Boolean) or isinstance(
        derived, sp.logic.boolalg.Boolean
    ):
        return sp.Integer(0) if printed == derived else sp.Tuple(printed, derived)
    if isinstance(printed, sp.Set) or isinstance(derived, sp.Set):
        ps = {sp.simplify(e) for e in printed} if isinstance(printed, sp.FiniteSet) else printed
        ds = {sp.simplify(e) for e in derived} if isinstance(derived, sp.FiniteSet) else derived
        if ps == ds:
            return sp.Integer(0)
        if isinstance(printed, sp.FiniteSet) and isinstance(derived, sp.FiniteSet):
            return sp.Tuple(
                sp.FiniteSet(*ps) - sp.FiniteSet(*ds), sp.FiniteSet(*ds) - sp.FiniteSet(*ps)
            )
        return sp.Tuple(printed, derived)
    return sp.simplify(sp.sympify(printed) - sp.sympify(derived))


def _is_zero(diff: Any) -> bool:
    if isinstance(diff, (A.Vec, A.Mat)):
        return not diff.terms
    if isinstance(diff, Block):
        return diff.aa == 0 and not diff.aw.terms and not diff.ww.terms
    return diff == 0


class Derivation:
    """The working record of one derivation (see the module docstring)."""

    def __init__(
        self,
        claim_id: str,
        title: str,
        reading: str,
        seed: int = 0,
        n_points: int = 2,
        overrides: dict[str, Any] | None = None,
        cross_checks: bool = True,
    ):
        self.id = claim_id
        self.cross_checks = cross_checks  # False only for the tests' mutation runs
        self.title = title
        self.reading = reading
        self.seed = seed
        self.n_points = n_points
        self.overrides = dict(overrides or {})
        self.steps: list[Step] = []
        self.comparisons: list[Comparison] = []
        self.checks: list[CrossCheck] = []
        self.notes: list[str] = []
        self.remarks: list[str] = []
        self.counterexample_data: dict[str, Any] | None = None
        self.counterexample_text: str = ""
        self.correction: dict[str, str] | None = None
        self._pending: list[tuple[str, Any, Any, Callable | None]] = []

    # -- building the record -----------------------------------------------------------------------
    def step(self, text: str, obj: Any = None, lhs: str | None = None) -> None:
        """Record one step: a sentence and (optionally) the expression SymPy produced."""
        math = to_latex(obj)
        if lhs and math:
            math = f"{lhs} = {math}"
        self.steps.append(Step(text, math))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def remark(self, text: str) -> None:
        """A disagreement with the printed text that does not change the verdict (listed in the
        report's closing note)."""
        self.remarks.append(text)

    def printed(self, name: str, value: Any) -> Any:
        """The paper's formula ``name`` as read (or a test's mutated replacement)."""
        return self.overrides.get(name, value)

    def compare(
        self,
        name: str,
        printed: Any,
        derived: Any,
        role: str = "printed",
        evaluate: Callable[[Any], Any] | None = None,
    ) -> bool:
        """Compare a printed formula with the derived one for general d; record and return whether
        the difference simplifies to zero.  ``evaluate(obj) -> exact SymPy value`` (optional) lets
        the automatic counterexample search evaluate both sides on an explicit instance."""
        diff = _difference(printed, derived)
        zero = _is_zero(diff)
        self.comparisons.append(
            Comparison(name, to_latex(printed), to_latex(derived), to_latex(diff), zero, role)
        )
        if not zero and role == "printed":
            self._pending.append((name, printed, derived, evaluate))
        return zero

    def exact(
        self, description: str, fn: Callable[[int], bool], dims: Sequence[int] = DIMS
    ) -> bool:
        """Exact cross-check on explicit symbolic instances: ``fn(d)`` must return True for each d."""
        if not self.cross_checks:
            return True
        results = {d: bool(fn(d)) for d in dims}
        ok = all(results.values())
        failed = [d for d, r in results.items() if not r]
        dims_s = f"d = {min(dims)}..{max(dims)}" if len(dims) > 1 else f"d = {dims[0]}"
        detail = f"exact zero for {dims_s}" if ok else f"nonzero for d in {failed}"
        self.checks.append(CrossCheck("exact", description, ok, detail))
        return ok

    def numeric(
        self,
        description: str,
        fn: Callable[[N.Point], Any],
        dims: Sequence[int] = (2, 3, 4),
        extra: dict[str, float] | None = None,
        tol: mpmath.mpf = N.TOL,
    ) -> bool:
        """50-digit numeric cross-check: ``fn(point)`` returns the error(s) (numbers, vectors,
        matrices); passes when the largest absolute value is below ``tol`` at every point."""
        if not self.cross_checks:
            return True
        salt = int.from_bytes(self.id.encode(), "little") % (2**31)
        worst = mpmath.mpf(0)
        npts = 0
        with N.precision():
            for d in dims:
                rng = np.random.default_rng([self.seed, salt, d])
                for _ in range(self.n_points):
                    pt = N.Point(d, rng, extra)
                    worst = max(worst, N.max_abs(fn(pt)))
                    npts += 1
            ok = bool(worst < tol)
            detail = (
                f"{npts} seeded points (seed {self.seed}, d in {list(dims)}), 50 digits: "
                f"max |error| {N.magnitude(worst)} (tolerance 1e-30)"
            )
        self.checks.append(CrossCheck("numeric", description, ok, detail))
        return ok

    def counterexample(self, data: dict[str, Any], text: str, confirmed: bool) -> None:
        """A minimal explicit instance on which the printed statement fails (``confirmed``: the
        failure was established exactly)."""
        if confirmed:
            self.counterexample_data = data
            self.counterexample_text = text
        else:
            self.note(f"candidate counterexample not confirmed: {text}")

    def correct(self, statement: str, ok: bool, evidence: str) -> None:
        """The corrected statement the toolkit derived, and whether it verified."""
        self.correction = {
            "statement": statement,
            "verdict": "verified" if ok else "inconclusive",
            "evidence": evidence,
        }

    # -- the verdict ---------------------------------------------------------------------------------
    def _auto_counterexample(self) -> None:
        for name, printed, derived, evaluate in self._pending:
            found = search_counterexample(printed, derived, evaluate)
            if found is not None:
                data, text = found
                self.counterexample_data = {"quantity": name, **data}
                self.counterexample_text = f"{name}: {text}"
                return

    def finish(self) -> Record:
        printed_ok = all(c.zero for c in self.comparisons if c.role == "printed")
        checks_ok = all(ch.ok for ch in self.checks)
        if printed_ok and checks_ok and self.counterexample_data is None:
            verdict = "verified"
        else:
            if not printed_ok and self.counterexample_data is None:
                self._auto_counterexample()
            verdict = "refuted" if self.counterexample_data is not None else "inconclusive"
        return Record(
            id=self.id,
            title=self.title,
            where=BY_ID[self.id].where,
            statement=BY_ID[self.id].statement,
            reading=self.reading,
            steps=self.steps,
            comparisons=self.comparisons,
            checks=self.checks,
            notes=self.notes,
            remarks=self.remarks,
            verdict=verdict,
            counterexample=self.counterexample_data,
            counterexample_text=self.counterexample_text,
            correction=self.correction,
            seed=self.seed,
            n_points=self.n_points,
        )


@dataclass
class Record:
    """The finished derivation record (JSON-able; rendered by ``bnverify.symbolic.report``)."""

    id: str
    title: str
    where: str
    statement: str
    reading: str
    steps: list[Step]
    comparisons: list[Comparison]
    checks: list[CrossCheck]
    notes: list[str]
    remarks: list[str]
    verdict: str
    counterexample: dict[str, Any] | None
    counterexample_text: str
    correction: dict[str, str] | None
    seed: int
    n_points: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def evidence(self) -> str:
        """One line for the check table."""
        if self.verdict == "verified":
            ex = [c for c in self.checks if c.kind == "exact"]
            nu = [c for c in self.checks if c.kind == "numeric"]
            parts = ["general-d SymPy derivation equals the printed form"]
            if ex:
                parts.append("exact d=1..4 check passes")
            if nu:
                parts.append("50-digit numeric check passes")
            parts += [n for n in self.notes if n.startswith("Scope:")]
            return "; ".join(parts)
        if self.verdict == "refuted":
            bad = [c.name for c in self.comparisons if c.role == "printed" and not c.zero]
            what = ", ".join(bad) if bad else "statement"
            return f"printed {what} disagrees with the derivation; counterexample: " + (
                self.counterexample_text
            )
        bad_c = [c.name for c in self.comparisons if c.role == "printed" and not c.zero]
        bad_x = [f"{c.kind} check '{c.description}'" for c in self.checks if not c.ok]
        return "not closed: " + "; ".join(
            [f"residual in {n}" for n in bad_c] + [f"failed {b}" for b in bad_x]
        )

    def to_json(self) -> dict[str, Any]:
        from ..claims import to_jsonable

        return to_jsonable(
            {
                "id": self.id,
                "title": self.title,
                "where": self.where,
                "statement": self.statement,
                "reading": self.reading,
                "verdict": self.verdict,
                "evidence": self.evidence,
                "steps": [vars(s) for s in self.steps],
                "comparisons": [vars(c) for c in self.comparisons],
                "cross_checks": [vars(c) for c in self.checks],
                "notes": self.notes,
                "remarks": self.remarks,
                "counterexample": self.counterexample,
                "counterexample_text": self.counterexample_text,
                "correction": self.correction,
                "settings": {
                    "seed": self.seed,
                    "numeric_points_per_dim": self.n_points,
                    "dps": N.DPS,
                    "tolerance": "1e-30",
                    "exact_dims": list(DIMS),
                },
            }
        )


# ----------------------------------------------------------------------------------------------
# automatic counterexample search (exact, small integer instances)
# ----------------------------------------------------------------------------------------------


class ExactPoint:
    """An explicit instance with small integer entries, evaluated exactly by SymPy."""

    def __init__(self, d: int, rng: np.random.Generator):
        M = sp.Matrix(d, d, lambda i, j: int(rng.integers(-2, 3)))
        self.d = d
        self.H = M.T * M + sp.eye(d)
        self.vecs = {n: sp.Matrix([int(v) for v in rng.integers(-2, 3, d)]) for n in A.VECTOR_NAMES}
        for _n, v in self.vecs.items():
            if all(e == 0 for e in v):
                v[0] = 1
        self.a = sp.Integer(int(rng.integers(1, 4)))

    def data(self) -> dict[str, Any]:
        return {
            "d": self.d,
            "H": [[int(self.H[i, j]) for j in range(self.d)] for i in range(self.d)],
            **{n: [int(e) for e in v] for n, v in self.vecs.items() if n in ("w", "u")},
            "a": int(self.a),
        }

    def values(self) -> dict[sp.Symbol, sp.Expr]:
        w, u, H = self.vecs["w"], self.vecs["u"], self.H
        vals: dict[sp.Symbol, sp.Expr] = {
            A.sigma: sp.sqrt((w.T * H * w)[0]),
            A.y: (w.T * H * u)[0],
            A.nu: (u.T * H * u)[0],
            A.a: self.a,
        }
        for s, (p, k, q) in A._INV_OF.items():
            vals[s] = (self.vecs[p].T * H**k * self.vecs[q])[0]
        return vals

    def evaluate(self, obj: Any) -> Any:
        vals = self.values()
        # any other symbol (step sizes, scale factors, d, ...) gets a fixed small value
        for sym in sorted(A.symbols_in(_leaves(obj)), key=lambda z: z.name):
            if sym not in vals:
                vals[sym] = sp.Integer(3) if sym.is_integer else sp.Integer(2)
        if isinstance(obj, A.Vec):
            out = sp.zeros(self.d, 1)
            for b, v in obj.terms.items():
                out += v.xreplace(vals) * (self.H**b.k * self.vecs[b.p])
            return out
        if isinstance(obj, A.Mat):
            out = sp.zeros(self.d, self.d)
            for key, v in obj.terms.items():
                if key.left is None:
                    M = self.H**key.k
                else:
                    M = (self.H**key.left.k * self.vecs[key.left.p]) * (
                        self.H**key.right.k * self.vecs[key.right.p]
                    ).T
                out += v.xreplace(vals) * M
            return out
        if isinstance(obj, Block):
            return (self.evaluate(obj.aa), self.evaluate(obj.aw), self.evaluate(obj.ww))
        return sp.sympify(obj).xreplace(vals)


def _leaves(obj: Any) -> list:
    if isinstance(obj, Block):
        return [obj.aa, obj.aw, obj.ww]
    if isinstance(obj, sp.Set):
        return list(obj.free_symbols)
    return [obj]


def _exact_nonzero(x: Any) -> bool:
    if isinstance(x, tuple) and len(x) == 2 and x[0] == "neq":
        return bool(x[1])
    if isinstance(x, tuple):
        return any(_exact_nonzero(v) for v in x)
    if isinstance(x, sp.MatrixBase):
        return any(_exact_nonzero(v) for v in x)
    v = sp.nsimplify(sp.simplify(x)) if sp.sympify(x).free_symbols == set() else sp.simplify(x)
    return v != 0


def search_counterexample(
    printed: Any, derived: Any, evaluate: Callable[[Any], Any] | None = None, tries: int = 6
) -> tuple[dict[str, Any], str] | None:
    """Look for an explicit integer instance (smallest d first) on which ``printed`` and
    ``derived`` differ exactly.  ``evaluate`` overrides the default evaluation (for statements that
    need a constrained point, e.g. a critical point)."""
    if evaluate is not None:
        res = evaluate(printed), evaluate(derived)
        if res[0] is None:
            return None
        pv, dv = res
        if _exact_nonzero(_sub(pv, dv)):
            return ({"printed": str(pv), "derived": str(dv)}, f"printed {pv} vs derived {dv}")
        return None
    for d in (1, 2, 3):
        rng = np.random.default_rng([20190, d])
        for _ in range(tries):
            pt = ExactPoint(d, rng)
            try:
                pv, dv = pt.evaluate(printed), pt.evaluate(derived)
            except (ZeroDivisionError, ValueError, TypeError):
                continue
            if _exact_nonzero(_sub(pv, dv)):
                data = pt.data()
                return (
                    {**data, "printed": str(pv), "derived": str(dv)},
                    f"d={d}, H={data['H']}, w={data['w']}, u={data['u']}, a={data['a']}: "
                    f"printed {_short(pv)} vs derived {_short(dv)}",
                )
    return None


def _sub(p: Any, q: Any) -> Any:
    if isinstance(p, (sp.logic.boolalg.Boolean, sp.Set)) or isinstance(
        q, (sp.logic.boolalg.Boolean, sp.Set)
    ):
        if isinstance(p, sp.FiniteSet) and isinstance(q, sp.FiniteSet):
            same = {sp.simplify(e) for e in p} == {sp.simplify(e) for e in q}
        else:
            same = p == q
        return ("neq", not same)
    if isinstance(p, tuple):
        return tuple(_sub(x, y_) for x, y_ in zip(p, q, strict=False))
    return p - q


def _short(v: Any) -> str:
    s = str(sp.simplify(v) if not isinstance(v, tuple) else v)
    return s if len(s) < 120 else s[:117] + "..."


# ----------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------


@dataclass
class Spec:
    claim_id: str
    title: str
    reading: str
    fn: Callable[[Derivation], None]
    module: str


_SPECS: dict[str, Spec] = {}


def derivation(claim_id: str, title: str, reading: str) -> Callable:
    """Register ``fn(D: Derivation) -> None`` as the symbolic derivation of ``claim_id`` and as its
    ``symbolic`` check for ``bnverify check`` (cheap at import: the SymPy work runs on demand)."""
    if claim_id not in BY_ID:
        raise BNVerifyError(f"claim: unknown claim ID {claim_id!r}")

    def deco(fn: Callable[[Derivation], None]) -> Callable[[Derivation], None]:
        _SPECS[claim_id] = Spec(claim_id, title, reading, fn, fn.__module__)
        _register_check(claim_id, reading)
        return fn

    return deco


def _register_check(claim_id: str, reading: str) -> None:
    from ..claims import Correction, MethodResult, check

    def symbolic_check(ctx) -> MethodResult:
        rec = run(claim_id, seed=ctx.seed, n_points=ctx.n(2, 5))
        corr = None
        if rec.correction:
            corr = Correction(
                rec.correction["statement"], rec.correction["verdict"], rec.correction["evidence"]
            )
        return MethodResult(
            rec.verdict,
            "symbolic",
            rec.evidence,
            details=rec.to_json(),
            counterexample=rec.counterexample,
            correction=corr,
        )

    symbolic_check.__qualname__ = f"symbolic_check[{claim_id}]"
    check(claim_id, method="symbolic", reading=reading)(symbolic_check)


def load() -> None:
    """Load the ``proofs`` modules (through :func:`bnverify.claims.load_proofs`): their
    ``@derivation`` functions register the derivations, beside the claims' other checks."""
    from ..claims import load_proofs

    load_proofs()


def specs() -> dict[str, Spec]:
    load()
    return dict(_SPECS)


@functools.lru_cache(maxsize=256)
def _run_cached(claim_id: str, seed: int, n_points: int) -> Record:
    spec = specs()[claim_id]
    D = Derivation(claim_id, spec.title, spec.reading, seed=seed, n_points=n_points)
    spec.fn(D)
    return D.finish()


def run(
    claim_id: str,
    seed: int = 0,
    n_points: int = 2,
    overrides: dict[str, Any] | None = None,
    cross_checks: bool = True,
) -> Record:
    """Run (or fetch from the cache) the derivation of ``claim_id``.  With ``overrides`` (mutated
    printed formulas, for tests) the result is not cached; ``cross_checks=False`` (tests only)
    skips the exact and numeric cross-checks, which do not read the printed formulas."""
    all_specs = specs()
    if claim_id not in all_specs:
        raise BNVerifyError(f"derive: no symbolic derivation for claim {claim_id!r}")
    if overrides or not cross_checks:
        spec = all_specs[claim_id]
        D = Derivation(claim_id, spec.title, spec.reading, seed, n_points, overrides, cross_checks)
        spec.fn(D)
        return D.finish()
    return _run_cached(claim_id, seed, n_points)
