"""Claims, verdicts and the registry that ``bnverify check`` runs.

A *claim* is one row of the catalogue (``bnverify.catalogue``; IDs as in CLAIMS.md).  Modules in
``proofs/`` attach *checks* to claims with the :func:`check` decorator; several methods (symbolic,
property, monte-carlo, sweep, experiment, ...) may check the same claim.  A check returns a
:class:`MethodResult`; the claim's verdict combines its methods' verdicts (:func:`combine`).

Verdicts are data: the CLI and the reports render them; nothing here prints.

Example
-------
>>> from bnverify.claims import check, MethodResult
>>> @check("E40", method="example", register=False)
... def _demo(ctx):
...     return MethodResult("verified", "example", "trivially")
>>> _demo.claim_id
'E40'
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .catalogue import BY_ID, IDS
from .errors import BNVerifyError

#: ``skipped``: the check could not run here (an optional extra is missing: the reason and the
#: install command are in the evidence); ``inconclusive`` is for checks that ran and could not
#: decide.
VERDICTS = ("verified", "refuted", "inconclusive", "skipped", "not-encoded")
PROFILES = ("quick", "thorough")

#: evidence classes, strongest first (docs/guide.md, "Evidence classes"):
#: ``proof`` -- exact symbolic or rational arithmetic decides it;
#: ``certified`` -- ball arithmetic (python-flint ``arb``) decides it (balls prove ``<``, ``>``,
#: ``!=``, never ``==``);
#: ``sampled`` -- property / Monte Carlo / sweep tests in float64 or mpmath with error bounds;
#: ``experiment`` -- figures and network training.
EVIDENCE_CLASSES = ("proof", "certified", "sampled", "experiment")


def method_class(method: str) -> str:
    """The evidence class of a method's own arithmetic, from its name: ``symbolic`` (SymPy
    derivations, exact) is ``proof``; ``network`` and ``experiment*`` (figures, trained networks)
    are ``experiment``; everything else (property, monte-carlo, sweep, search, decision, numeric,
    construction, ...) is ``sampled``.  A refutation replayed exactly or in ball arithmetic
    (:func:`certify`) takes the replay's class instead."""
    if method == "symbolic" or method.startswith("symbolic:"):
        return "proof"
    if method == "network" or method.startswith("experiment"):
        return "experiment"
    return "sampled"


def claim_class(verdict: str, results: list[MethodResult]) -> str | None:
    """A claim's evidence class: the strongest class among the methods that decided its verdict
    -- for ``refuted`` the refuting methods, for ``verified`` the verifying ones (all of them),
    for ``inconclusive`` the inconclusive ones (the evidence that left it open); ``None`` for
    ``not-encoded`` (no method)."""
    if verdict == "skipped":
        return None
    deciding = [r.evidence_class or method_class(r.method) for r in results if r.verdict == verdict]
    if not deciding:
        return None
    return min(deciding, key=EVIDENCE_CLASSES.index)


@dataclass
class Correction:
    """A corrected statement derived by the toolkit and checked with the same machinery."""

    statement: str
    verdict: str
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MethodResult:
    """The outcome of one method applied to one claim.

    ``evidence`` is one line for the table; ``details`` is any JSON-able data (sample sizes,
    tolerances, estimated constants); ``counterexample`` a JSON-able configuration (for
    configurations of the dynamics: the ``bnverify run --config`` format, so it replays).
    """

    verdict: str
    method: str
    evidence: str
    details: dict[str, Any] = field(default_factory=dict)
    counterexample: dict[str, Any] | None = None
    correction: Correction | None = None
    seconds: float = 0.0
    #: proof | certified | sampled | experiment; None: :func:`method_class` of ``method``
    evidence_class: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.evidence_class is not None and self.evidence_class not in EVIDENCE_CLASSES:
            raise ValueError(f"unknown evidence class {self.evidence_class!r}")
        self.evidence = " ".join(str(self.evidence).split())

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["details"] = to_jsonable(self.details)
        out["counterexample"] = to_jsonable(self.counterexample)
        out["correction"] = self.correction.to_json() if self.correction else None
        out["evidence_class"] = self.evidence_class or method_class(self.method)
        return out


@dataclass
class CheckContext:
    """What a check may use: the profile, a seed and a seeded generator, a time budget hint."""

    profile: str = "quick"
    seed: int = 0
    database: Any = None  # a hypothesis ExampleDatabase, or None

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise BNVerifyError(
                f"profile: unknown profile {self.profile!r} (use quick or thorough)"
            )

    @property
    def thorough(self) -> bool:
        return self.profile == "thorough"

    def rng(self, salt: str = "") -> np.random.Generator:
        """A generator seeded from ``seed`` and ``salt`` (e.g. the claim ID), so that checks draw
        independent but reproducible streams whatever order they run in."""
        salt_int = int.from_bytes(salt.encode(), "little") % (2**63) if salt else 0
        return np.random.default_rng([self.seed, salt_int])

    def n(self, quick: int, thorough: int) -> int:
        """A sample size for this profile."""
        return thorough if self.thorough else quick


CheckFn = Callable[[CheckContext], MethodResult]


@dataclass
class Check:
    claim_id: str
    method: str
    fn: CheckFn
    module: str
    reading: str = ""  # how a garbled statement was read, and why
    slow: bool = False


_REGISTRY: dict[str, list[Check]] = {}
_READINGS: dict[str, str] = {}


def check(
    claim_id: str, method: str, reading: str = "", register: bool = True, slow: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Decorator: register ``fn(ctx) -> MethodResult`` as a check of ``claim_id`` by ``method``.

    ``reading`` says how the printed (possibly garbled) statement was read and why.
    """
    if claim_id not in BY_ID:
        raise BNVerifyError(f"claim: unknown claim ID {claim_id!r}")

    def deco(fn: CheckFn) -> CheckFn:
        entry = Check(claim_id, method, fn, fn.__module__, reading, slow)
        fn.claim_id = claim_id  # type: ignore[attr-defined]
        fn.method = method  # type: ignore[attr-defined]
        if register:
            lst = _REGISTRY.setdefault(claim_id, [])
            lst[:] = [
                c for c in lst if not (c.method == method and c.fn.__qualname__ == fn.__qualname__)
            ]
            lst.append(entry)
            if reading:
                _READINGS[claim_id] = reading
        return fn

    return deco


@dataclass
class Replay:
    """The outcome of replaying a refutation's counterexample in exact or ball arithmetic.

    ``refuted``: True when the violated statement is decided false on the counterexample (an
    equality or inequality decided exactly, or a strict inequality whose balls do not overlap);
    False when the replay decides that the counterexample does NOT violate it; None when the
    replay cannot decide (balls overlap, hypotheses not met, an unsupported form): the method
    keeps its own class.  ``evidence_class``: ``proof`` (exact rationals / SymPy) or
    ``certified`` (arb balls).  ``arithmetic`` names it (e.g. ``"fmpq"``, ``"arb 320 bits"``);
    ``text`` is one line for the evidence; ``measured`` the decided quantities (decimal strings).
    """

    refuted: bool | None
    evidence_class: str
    arithmetic: str
    text: str
    measured: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "result": {True: "refuted", False: "not refuted", None: "undecided"}[self.refuted],
            "evidence_class": self.evidence_class,
            "arithmetic": self.arithmetic,
            "text": self.text,
            "measured": to_jsonable(self.measured),
        }


ReplayFn = Callable[[dict[str, Any], MethodResult], Replay]
_REPLAYS: dict[tuple[str, str], ReplayFn] = {}


def certify(claim_id: str, method: str) -> Callable[[ReplayFn], ReplayFn]:
    """Decorator: register ``fn(counterexample, result) -> Replay`` as the exact / ball-arithmetic
    replay of the refutations of ``claim_id`` by ``method`` (beside the claim's checks in its ``proofs/`` section module).
    :func:`run_claim` calls it on every refuting result of that method with a counterexample."""
    if claim_id not in BY_ID:
        raise BNVerifyError(f"claim: unknown claim ID {claim_id!r}")

    def deco(fn: ReplayFn) -> ReplayFn:
        _REPLAYS[(claim_id, method)] = fn
        return fn

    return deco


def replay_for(claim_id: str, method: str) -> ReplayFn | None:
    load_proofs()
    return _REPLAYS.get((claim_id, method))


def apply_replay(claim_id: str, res: MethodResult) -> MethodResult:
    """Replay a refuting ``res`` exactly / in balls when a replay is registered: a confirmed
    refutation takes the replay's class (``proof`` or ``certified``) and says so in its evidence;
    a replay that decides the counterexample does NOT violate the statement turns the float
    refutation into ``inconclusive`` (with the reason); an undecided replay leaves the method's own
    class and is recorded.  The replay goes into ``details["replay"]``."""
    fn = replay_for(claim_id, res.method)
    if fn is None or res.verdict != "refuted" or res.counterexample is None:
        return res
    try:
        rep = fn(res.counterexample, res)
    except Exception as exc:  # noqa: BLE001 - reported as data
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        res.details["replay"] = {"result": "undecided", "text": f"replay raised {tb}"}
        return res
    res.details["replay"] = rep.to_json()
    if rep.refuted:
        res.evidence_class = rep.evidence_class
        res.evidence = f"{res.evidence} [{rep.evidence_class}: {rep.arithmetic} replay: {rep.text}]"
    elif rep.refuted is False:
        res.verdict = "inconclusive"
        res.evidence = (
            f"float64 refutation NOT confirmed by the {rep.arithmetic} replay: {rep.text}; "
            f"was: {res.evidence}"
        )
    return res


_LOADED = False


def load_proofs() -> None:
    """Import every module of the ``proofs`` package so that their checks register.  This is the
    engine's only way into ``proofs`` (``tests/test_layout.py`` holds it to that); the modules are
    leaves, one per section of the paper, and import nothing from one another, so the order in
    which they load does not change any claim's checks or their order."""
    global _LOADED
    if _LOADED:
        return
    import proofs

    for mod in sorted(pkgutil.walk_packages(proofs.__path__, "proofs."), key=lambda m: m.name):
        importlib.import_module(mod.name)
    _LOADED = True


def proofs_module(claim_id: str) -> ModuleType:
    """The ``proofs`` module that holds the checks of ``claim_id`` (one module per section of the
    paper), loaded through :func:`load_proofs`: how the engine (e.g. ``bnverify replay``) reaches
    a claim's own predicates without importing a ``proofs`` module by name."""
    load_proofs()
    found = [c.module for c in _REGISTRY.get(claim_id, []) if c.module.startswith("proofs.")]
    if not found:
        raise BNVerifyError(f"claim: no proofs module holds a check of claim {claim_id!r}")
    return sys.modules[found[0]]


def checks_for(claim_id: str) -> list[Check]:
    load_proofs()
    return list(_REGISTRY.get(claim_id, []))


def reading_for(claim_id: str) -> str:
    load_proofs()
    return _READINGS.get(claim_id, "")


def resolve_ids(ids: list[str] | None) -> list[str]:
    """Validate claim IDs (unknown -> BNVerifyError); ``None`` or empty means all, catalogue order."""
    if not ids:
        return list(IDS)
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise BNVerifyError(
            f"unknown claim ID(s): {', '.join(unknown)} (see `bnverify check --list`)"
        )
    return list(dict.fromkeys(ids))


def combine(results: list[MethodResult]) -> str:
    """A claim's verdict from its methods: ``refuted`` if any method refutes; ``verified`` if at
    least one verifies and none is inconclusive; ``not-encoded`` if there is no method;
    ``skipped`` if every method was skipped (an optional extra missing; skipped methods are
    otherwise left out: a claim with another deciding method keeps that method's verdict);
    otherwise ``inconclusive``."""
    if not results:
        return "not-encoded"
    verdicts = [r.verdict for r in results if r.verdict != "skipped"]
    if not verdicts:
        return "skipped"
    if "refuted" in verdicts:
        return "refuted"
    if all(v == "verified" for v in verdicts):
        return "verified"
    return "inconclusive"


@dataclass
class ClaimResult:
    id: str
    verdict: str
    results: list[MethodResult]
    seconds: float = 0.0
    #: refuted claims only (``bnverify.severity``): substantive | degenerate | reading | threshold
    severity: str | None = None
    severity_reason: str | None = None
    severity_details: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.results]

    @property
    def evidence(self) -> str:
        if not self.results:
            return "no check encoded for this claim yet"
        key = {"refuted": 0, "inconclusive": 1, "verified": 2, "skipped": 3, "not-encoded": 4}
        first = sorted(
            self.results,
            key=lambda r: (
                key[r.verdict],
                EVIDENCE_CLASSES.index(r.evidence_class or method_class(r.method)),
            ),
        )[0]
        return f"[{first.method}] {first.evidence}"

    @property
    def evidence_class(self) -> str | None:
        return claim_class(self.verdict, self.results)

    @property
    def counterexample(self) -> dict[str, Any] | None:
        for r in self.results:
            if r.counterexample is not None and r.verdict == "refuted":
                return r.counterexample
        return None

    @property
    def correction(self) -> Correction | None:
        for r in self.results:
            if r.correction is not None:
                return r.correction
        return None

    def to_json(self) -> dict[str, Any]:
        entry = BY_ID[self.id]
        corr = self.correction
        return {
            "id": self.id,
            "verdict": self.verdict,
            "evidence_class": self.evidence_class,
            "methods": self.methods,
            "evidence": self.evidence,
            "counterexample": to_jsonable(self.counterexample),
            "correction": corr.to_json() if corr else None,
            "where": entry.where,
            "statement": entry.statement,
            "reading": reading_for(self.id),
            "seconds": round(self.seconds, 3),
            "severity": self.severity,
            "severity_reason": self.severity_reason,
            "severity_details": to_jsonable(self.severity_details) if self.severity else None,
            "details": [r.to_json() for r in self.results],
        }


def run_claim(claim_id: str, ctx: CheckContext, include_slow: bool = True) -> ClaimResult:
    """Run every check of one claim; an exception inside a check is reported as ``inconclusive``
    with the error, never propagated (a crashing check must not hide the other claims)."""
    t0 = time.perf_counter()
    results: list[MethodResult] = []
    for c in checks_for(claim_id):
        if c.slow and not include_slow:
            continue
        t1 = time.perf_counter()
        try:
            res = c.fn(ctx)
        except Exception as exc:  # noqa: BLE001 - reported as data
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            res = MethodResult("inconclusive", c.method, f"check raised {tb}")
        if res.method != c.method:  # the registered method names the result
            res.details.setdefault("inner_method", res.method)
            res.method = c.method
        res = apply_replay(claim_id, res)
        if res.evidence_class is None:
            res.evidence_class = method_class(res.method)
        if res.evidence_class == "experiment" and res.verdict in ("verified", "refuted",
                                                                  "inconclusive"):
            from .severity import flips_at

            # thresholds chosen here: where the verdict would change (issue 15 item 2)
            flips = flips_at(res.evidence)
            if flips:
                res.details.setdefault("flips_at", flips)
        res.seconds = time.perf_counter() - t1
        results.append(res)
    cr = ClaimResult(claim_id, combine(results), results)
    if cr.verdict == "refuted":
        from .severity import assess

        sev = assess(cr, ctx)
        cr.severity, cr.severity_reason, cr.severity_details = sev.severity, sev.reason, sev.details
    cr.seconds = time.perf_counter() - t0
    return cr


def to_jsonable(obj: Any) -> Any:
    """Convert numpy / mpmath / fractions values inside ``obj`` to JSON-compatible values.
    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"``; mp numbers become
    decimal strings (full precision)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if np.isfinite(f):
            return f
        return "nan" if np.isnan(f) else ("inf" if f > 0 else "-inf")
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()] if obj.ndim else to_jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "_mpf_") or type(obj).__name__ in ("mpf", "mpfr", "Fraction"):
        import mpmath

        return mpmath.nstr(mpmath.mpf(obj), 60) if type(obj).__name__ != "Fraction" else str(obj)
    if hasattr(obj, "to_json"):
        return obj.to_json()
    return str(obj)
