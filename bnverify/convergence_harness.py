"""The convergence-decision harness of the convergence checks (T3.3, §A.3, T-B.1, E74-80).

:func:`t331_batch` draws a batch of initial values meeting Lemma A.12's hypotheses (``a0 w0^T g >
0``, ``||w0|| = 1``, ``eps/||w0||^2`` a fraction of ``eps0``); the checks run it on the engine and
decide each run's limit with :func:`bnverify.convergence.decide`.  :func:`t33_verdict` turns the
counts of decided limits into a claim's :class:`~bnverify.claims.MethodResult`: ``refuted`` on a
run decided outside the claimed limits (with that run as the counterexample), ``inconclusive``
when runs stay undecided, ``verified`` otherwise.  Used by ``proofs/sec3_2_convergence.py``,
``proofs/appA3_theorem_3_3.py``, ``proofs/appA6_effective_step.py`` and
``proofs/appB1_mbngd_proof.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bnverify.claims import MethodResult
from bnverify.convergence import (
    MINIMISER,
    SADDLE,
    UNDECIDED,
    eps0_lemma_a12,
    unit_rows,
)
from bnverify.model import OLSProblem


def t33_verdict(claim: str, counts: dict[str, int], examples: list[dict[str, Any]],
                det: dict[str, Any], statement: str, *, method: str = "decision",
                target: tuple[str, ...] = (MINIMISER, SADDLE)) -> MethodResult:
    """refuted: a run decided outside ``target`` (diverged, or a saddle where a minimiser is
    claimed); inconclusive: some runs undecided; verified: every run decided inside ``target``."""
    n = sum(counts.values())
    dec = n - counts[UNDECIDED]
    bad = sum(v for k, v in counts.items() if k not in target and k != UNDECIDED)
    txt = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    ev = f"{statement}: {txt} of {n} drawn configurations (decided {dec}/{n} = {dec / n:.0%})"
    det = {**det, "decided_fraction": dec / n, "statement": statement}
    if bad:
        bad_ex = [e for e in examples if not any(t in e["comment"] for t in target + (UNDECIDED,))]
        return MethodResult("refuted", method, ev, details=det,
                            counterexample=bad_ex[0] if bad_ex else None)
    if counts[UNDECIDED]:
        if "undecided_still_contracting" in det:
            ev += (f"; undecided: {det['undecided_still_contracting']} still contracting at the "
                   f"last chunk, {det['undecided_not_contracting_or_stalled']} stalled (update "
                   f"below float64 resolution)")
        return MethodResult("inconclusive", method, ev + "; undecided runs are not counted",
                            details={**det, "undecided_examples": examples[:3]})
    return MethodResult("verified", method, ev, details=det)


def t331_batch(rng: np.random.Generator, p: OLSProblem, n: int, *, eps_factor=(0.1, 1.0),
               sign: float = 1.0, eps_a=(0.2, 1.0)) -> dict[str, np.ndarray]:
    """Initial values with ``a0 w0^T g > 0`` (``sign=-1``: ``< 0``; 10% with ``a0 = 0``),
    ``||w0|| = 1``, ``eps / ||w0||^2`` in ``eps_factor x eps0`` (eps0 of Lemma A.12)."""
    w0 = unit_rows(rng, n, p.d)
    y0 = w0 @ p.g
    a0 = sign * np.sign(y0) * 10 ** rng.uniform(-1, 0.5, n)
    a0 = np.where(rng.random(n) < 0.1, 0.0, a0)
    ea = rng.uniform(*eps_a, n)
    eps = rng.uniform(*eps_factor, n) * eps0_lemma_a12(p, a0, ea)
    return {"a0": a0, "w0": w0, "eps_a": ea, "eps": eps}
