"""Running a property to a verdict: counterexample search with Hypothesis, Monte Carlo bounds.

A *property* is a predicate ``holds(x) -> bool | Outcome`` over values drawn from a strategy
(usually :func:`bnverify.strategies.configurations`).  :func:`check_property` searches for a
counterexample with :func:`hypothesis.find` (which shrinks it to a minimal one), seeded from the
check context so runs are reproducible, and returns a :class:`~bnverify.claims.MethodResult`:

* no counterexample in ``n`` examples -> ``verified`` (evidence states ``n`` and the tolerance);
* a counterexample -> ``refuted`` with the minimal example (JSON in the ``bnverify run --config``
  format when the example is a :class:`~bnverify.strategies.Configuration`, so it replays) and
  its description in human terms.

The Hypothesis example database (user cache directory, or ``$BNVERIFY_CACHE``) is keyed by claim
ID and method, so a counterexample found once is replayed first next time.

Example
-------
>>> from hypothesis import strategies as st
>>> from bnverify.claims import CheckContext
>>> r = check_property("E25", st.integers(0, 100), lambda n: n * n >= n, CheckContext(),
...                    statement="n^2 >= n", tolerance="exact integers", database=False)
>>> r.verdict
'verified'
>>> r = check_property("E25", st.integers(0, 100), lambda n: n * n <= 50, CheckContext(),
...                    statement="n^2 <= 50", tolerance="exact integers", database=False)
>>> r.verdict, r.details["counterexample_repr"]
('refuted', '8')
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import NoSuchExample, Unsatisfiable

from .claims import CheckContext, Correction, MethodResult, to_jsonable


@dataclass
class Outcome:
    """A richer predicate result: whether it holds, and the measured quantities (for reports)."""

    holds: bool
    measured: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.holds)


def cache_dir() -> Path:
    """``$BNVERIFY_CACHE`` or ``$XDG_CACHE_HOME/bnverify`` or ``~/.cache/bnverify``."""
    env = os.environ.get("BNVERIFY_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bnverify"


def example_database():
    try:
        path = cache_dir() / "hypothesis"
        path.mkdir(parents=True, exist_ok=True)
        return DirectoryBasedExampleDatabase(str(path))
    except OSError:  # read-only home: run without a database
        return None


#: examples per property at each profile
EXAMPLES = {"quick": 60, "thorough": 1000}


def find_counterexample(
    strategy,
    holds: Callable[[Any], Any],
    ctx: CheckContext,
    key: str,
    max_examples: int | None = None,
    database: Any = None,
) -> tuple[Any | None, int]:
    """Minimal ``x`` from ``strategy`` with ``not holds(x)`` (or None), and the number of examples
    tried.  Exceptions inside ``holds`` count as failures of the property (they are reported)."""
    n_tried = 0

    def fails(x) -> bool:
        nonlocal n_tried
        n_tried += 1
        return not bool(holds(x))

    n = max_examples or EXAMPLES[ctx.profile]
    db = example_database() if database is None else (database or None)
    s = settings(
        max_examples=n,
        database=db,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.reuse, Phase.generate, Phase.shrink)
        if db
        else (Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )
    try:
        x = find(
            strategy,
            fails,
            settings=s,
            random=random.Random(f"{ctx.seed}:{key}"),
            database_key=key.encode(),
        )
    except (NoSuchExample, Unsatisfiable):
        return None, n_tried
    return x, n_tried


def check_property(
    claim_id: str,
    strategy,
    holds: Callable[[Any], Any],
    ctx: CheckContext,
    *,
    statement: str,
    tolerance: str,
    method: str = "property",
    max_examples: int | None = None,
    correction: Callable[[Any], Correction] | Correction | None = None,
    database: Any = None,
    key_suffix: str = "",
) -> MethodResult:
    """Search for a counterexample to ``holds`` and turn the outcome into a verdict.

    ``statement`` names what was checked (as printed, or the reading); ``tolerance`` says which
    tolerance was used and why.  ``correction``: a checked corrected statement to attach when the
    property is refuted (or a function of the counterexample returning one).
    """
    key = f"{claim_id}:{method}:{key_suffix}"
    x, n = find_counterexample(strategy, holds, ctx, key, max_examples, database)
    details: dict[str, Any] = {
        "statement": statement,
        "tolerance": tolerance,
        "examples": n,
        "seed": ctx.seed,
        "profile": ctx.profile,
    }
    if x is None:
        return MethodResult(
            "verified",
            method,
            f"{statement}: no counterexample in {n} generated examples ({tolerance})",
            details=details,
        )
    outcome = holds(x)
    cex = describe_example(x)
    details["counterexample_repr"] = cex["repr"]
    if isinstance(outcome, Outcome):
        details["measured"] = to_jsonable(outcome.measured)
    corr = correction(x) if callable(correction) else correction
    return MethodResult(
        "refuted",
        method,
        f"{statement}: fails for {cex['repr']}",
        details=details,
        counterexample=cex.get("config") or {"value": cex["repr"]},
        correction=corr,
    )


def describe_example(x: Any) -> dict[str, Any]:
    """``{"repr": human text, "config": replayable run config or None}``."""
    from .strategies import Configuration

    if isinstance(x, Configuration):
        return {"repr": x.describe(), "config": x.to_json()}
    if hasattr(x, "describe"):
        return {"repr": x.describe(), "config": x.to_json() if hasattr(x, "to_json") else None}
    if hasattr(x, "spec") and hasattr(x, "to_json"):  # an OLSProblem from strategies.problems
        import numpy as np

        p = x
        lam = ", ".join(f"{v:.4g}" for v in p.eigenvalues)
        H = f"diag({lam})" if p.is_diagonal else f"Q diag({lam}) Q^T"
        u = ", ".join(f"{v:.4g}" for v in p.u)
        ue = ", ".join(f"{v:.4g}" for v in p.to_eigenbasis(p.u))
        return {
            "repr": f"d = {p.d}, H = {H}, u = ({u}) (eigen-coefficients ({ue}))",
            "config": {**p.to_json(), "eigenvalues": np.asarray(p.eigenvalues).tolist()},
        }
    return {"repr": repr(x), "config": None}


# ----------------------------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------------------------


def upper_bound_95(k: int, n: int) -> float:
    """One-sided 95% Clopper-Pearson upper bound on a proportion after ``k`` successes in ``n``
    trials (exact binomial; ``1 - 0.05**(1/n)`` when ``k = 0``).

    >>> round(upper_bound_95(0, 100), 4)
    0.0295
    """
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    if k == 0:
        return 1.0 - 0.05 ** (1.0 / n)

    # largest p with P[Bin(n, p) <= k] >= 0.05; the CDF is summed in log space (stable for any
    # n), and it is decreasing in p, so bisection applies
    def log_cdf(p: float) -> float:
        lp, lq = math.log(p), math.log1p(-p)
        terms = [
            math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
            for i in range(k + 1)
        ]
        m = max(terms)
        return m + math.log(sum(math.exp(t - m) for t in terms))

    lo, hi = k / n, 1.0 - 1e-16
    target = math.log(0.05)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if log_cdf(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def monte_carlo_result(
    claim_id: str,
    k: int,
    n: int,
    *,
    event: str,
    statement: str,
    method: str = "monte-carlo",
    threshold: float = 0.05,
    details: dict[str, Any] | None = None,
    counterexample: dict[str, Any] | None = None,
) -> MethodResult:
    """Verdict for a measure-zero statement checked by sampling: ``k`` of ``n`` random initial
    values showed ``event``.  ``k == 0`` -> verified with the one-sided 95% upper bound on the
    fraction; ``k > 0`` -> refuted when the lower evidence is clear (the event was observed, so a
    positive-measure set exists only if the fraction is bounded away from 0: we report it as
    refuted when ``k / n > threshold``), otherwise inconclusive."""
    ub = upper_bound_95(k, n)
    det = {"samples": n, "events": k, "upper_bound_95": ub, "statement": statement}
    det.update(details or {})
    if k == 0:
        return MethodResult(
            "verified",
            method,
            f"{statement}: 0 of {n} random initial values {event} "
            f"(one-sided 95% upper bound on the fraction: {ub:.2g})",
            details=det,
        )
    frac = k / n
    verdict = "refuted" if frac > threshold else "inconclusive"
    return MethodResult(
        verdict,
        method,
        f"{statement}: {k} of {n} random initial values {event} (fraction {frac:.3g}, "
        f"95% upper bound {ub:.2g})",
        details=det,
        counterexample=counterexample,
    )


def rel_close(x: float, y: float, rtol: float, atol: float = 0.0) -> bool:
    """``|x - y| <= atol + rtol * max(|x|, |y|)`` with NaN never close."""
    if math.isnan(x) or math.isnan(y):
        return False
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y))
