"""Severity of a refutation: how much a refuted statement is wrong.

Every refuted claim gets one of

``substantive``
    fails on an open set of valid inputs (generic inputs);
``degenerate``
    fails only on a measure-zero set or on a boundary of the stated domain (the reason says which);
``reading``
    the verdict depends on how a garbled formula or a convention of the paper is read (the reason
    gives both readings and the verdict under each);
``threshold``
    an experiment claim whose verdict depends on a threshold chosen by this toolkit (the paper
    states none); ``details["flips_at"]`` gives the value at which the verdict would change.

The severity is *computed* from the claim's own evidence wherever possible: a *probe* registered
with :func:`probe` (beside the claim's checks in its ``proofs/`` section module; shared helpers in
``bnverify.probes``) re-tests the refuting counterexample's
neighbourhood -- small generic perturbations of it, inside the stated domain -- with the claim's
own predicate (:func:`neighbourhood`): if every perturbed input still fails the statement fails
on an open set (``substantive``); if none does, the failure is confined to the special set the
counterexample sits on (``degenerate``).  Experiment claims are ``threshold`` when their evidence
names the threshold they were held to.  Where a hand-assigned reading is unavoidable, the probe
says so (``details["computed"] = False``) and gives both readings.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEVERITIES = ("substantive", "degenerate", "reading", "threshold")

#: one line each, for legends (``check`` table, reports)
MEANING = {
    "substantive": "fails on an open set of valid inputs",
    "degenerate": "fails only on a measure-zero set or a boundary of the stated domain",
    "reading": "depends on how a garbled formula or a convention is read",
    "threshold": "an experiment verdict that depends on a threshold chosen here",
}


@dataclass
class Severity:
    severity: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        self.reason = " ".join(str(self.reason).split())


#: a probe: (ClaimResult, CheckContext) -> Severity, or None to fall back to the default rule
ProbeFn = Callable[[Any, Any], "Severity | None"]
_PROBES: dict[str, ProbeFn] = {}


def probe(claim_id: str) -> Callable[[ProbeFn], ProbeFn]:
    """Decorator: register ``fn(claim_result, ctx) -> Severity`` as the severity probe of
    ``claim_id`` (run by :func:`assess` on every refutation of that claim)."""

    def deco(fn: ProbeFn) -> ProbeFn:
        _PROBES[claim_id] = fn
        return fn

    return deco


def probe_for(claim_id: str) -> ProbeFn | None:
    from .claims import load_proofs

    load_proofs()
    return _PROBES.get(claim_id)


# ----------------------------------------------------------------------------------------------
# neighbourhood re-test
# ----------------------------------------------------------------------------------------------


@dataclass
class Neighbourhood:
    """The outcome of re-testing ``n`` generic perturbations of a counterexample."""

    failing: int
    n: int
    radius: float
    errors: int = 0

    @property
    def fraction(self) -> float:
        return self.failing / self.n if self.n else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"failing": self.failing, "perturbations": self.n, "radius": self.radius,
                "errors": self.errors}


def neighbourhood(
    fails: Callable[[np.random.Generator, float], bool],
    n: int = 16,
    radius: float = 1e-3,
    seed: int = 0,
) -> Neighbourhood:
    """Re-test ``n`` perturbations: ``fails(rng, radius)`` draws one generic perturbation of the
    counterexample (relative size ``radius``, inside the stated domain) and says whether the
    statement still fails there.  A perturbation whose predicate raises decides nothing and is
    left out of ``n`` (counted in ``errors``)."""
    rng = np.random.default_rng([seed, 15])
    k = errors = 0
    for _ in range(n):
        try:
            k += bool(fails(rng, radius))
        except Exception:  # noqa: BLE001 - an input the predicate cannot handle decides nothing
            errors += 1
    return Neighbourhood(k, n - errors, radius, errors)


def classify(nb: Neighbourhood, special: str, generic: str = "") -> Severity:
    """``substantive`` when every perturbation still fails (an open set), ``degenerate`` when none
    does (the failure needs ``special``: the measure-zero set or boundary the counterexample sits
    on); a mixed outcome fails on a set of positive measure, hence ``substantive``."""
    if nb.n == 0:
        raise ValueError(f"no perturbation could be decided ({nb.errors} raised)")
    det = {"computed": True, "neighbourhood": nb.to_json()}
    tail = (f"{nb.failing} of {nb.n} generic perturbations of the counterexample (relative "
            f"{nb.radius:g}) still fail")
    if nb.failing == 0:
        return Severity("degenerate", f"fails only {special}: {tail}", det)
    what = generic or "on an open set of valid inputs"
    return Severity("substantive", f"fails {what}: {tail}", det)


# ----------------------------------------------------------------------------------------------
# thresholds of experiment claims
# ----------------------------------------------------------------------------------------------

_NEED = re.compile(r"\(need (?P<op>>=|<=|>|<) ?(?P<thr>[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"
                   r"(?P<unit>x)?\)")
_NUM = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def flips_at(evidence: str) -> list[dict[str, Any]]:
    """Thresholds named in an experiment's evidence (``... tau +0.00 (need >= 0.6)``): each with
    the measured value (the last number before ``(need ...)``), the threshold, and ``flips_at``
    -- the threshold at which the verdict would change (the measured value itself)."""
    out = []
    for m in _NEED.finditer(evidence):
        before = evidence[max(0, m.start() - 60): m.start()]
        nums = _NUM.findall(before)
        if m.group("unit"):  # a ratio threshold: the last ratio measured ("5.2x")
            nums = re.findall(r"([-+]?\d+(?:\.\d+)?)x\b", before) or nums
        if not nums:
            continue
        v = float(nums[-1])
        out.append({
            "measured": v,
            "threshold": f"{m.group('op')} {m.group('thr')}{m.group('unit') or ''}",
            "flips_at": v,
            "text": (before + m.group(0)).strip(),
        })
    return out


def threshold_severity(cr: Any) -> Severity | None:
    """``threshold`` for a claim refuted only by experiments: the thresholds its evidence names,
    with ``flips_at``; ``None`` when a refuting method is not an experiment."""
    from .claims import method_class

    refuting = [r for r in cr.results if r.verdict == "refuted"]
    if not refuting or any((r.evidence_class or method_class(r.method)) != "experiment"
                           for r in refuting):
        return None
    flips = [dict(f, method=r.method) for r in refuting for f in flips_at(r.evidence)]
    if flips:
        f = flips[0]
        reason = (f"experiment verdict against a threshold chosen here ({f['threshold']}; the "
                  f"paper states none): measured {f['flips_at']:g}, so it holds if "
                  f"{f['flips_at']:g} suffices")
    else:
        reason = ("experiment verdict against a quantified reading of a qualitative statement "
                  "(\"visibly\", \"noticeably\", \"little effect\"): the criterion is chosen here")
    return Severity("threshold", reason, {"computed": bool(flips), "flips_at": flips})


# ----------------------------------------------------------------------------------------------
# assessment
# ----------------------------------------------------------------------------------------------


def assess(cr: Any, ctx: Any = None) -> Severity:
    """The severity of a refuted :class:`~bnverify.claims.ClaimResult`: its probe when one is
    registered (a probe that raises or returns None falls back), else ``threshold`` for claims
    refuted by experiments only, else ``substantive`` marked as not computed."""
    fn = probe_for(cr.id)
    note = ""
    if fn is not None:
        try:
            sev = fn(cr, ctx)
            if sev is not None:
                return sev
        except Exception as exc:  # noqa: BLE001 - reported as data
            note = "; probe raised " + traceback.format_exception_only(type(exc), exc)[-1].strip()
    sev = threshold_severity(cr)
    if sev is not None:
        return sev
    return Severity("substantive", "no severity probe for this claim: a refutation counts as "
                    "substantive until shown otherwise" + note, {"computed": False})


def severity_counts(claims: list[dict[str, Any]]) -> dict[str, int]:
    out = {s: 0 for s in SEVERITIES}
    for c in claims:
        if c.get("verdict") == "refuted" and c.get("severity") in out:
            out[c["severity"]] += 1
    return out
