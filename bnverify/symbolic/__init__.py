"""Symbolic derivations (SymPy) of the paper's closed forms, for general dimension d.

* ``algebra`` -- the index-free matrix calculus (vectors ``H^k p``, outer products, invariants);
* ``explicit`` -- explicit d = 1..4 instances with symbolic entries (exact cross-checks);
* ``numeric`` -- 50-digit mpmath cross-checks with finite differences;
* ``objective`` -- the BN objective (Eq. 7, 16), its gradient, Hessian and the BNGD step;
* ``derivation`` -- records, comparison with the printed formulas, verdicts, registry;
* ``report`` -- the derivation report (Markdown, LaTeX, JSON).

The per-claim derivations (``@derivation``) live in the section modules of ``proofs/``, beside the
claims' other checks; shared symbolic building blocks are in ``bnverify.symbolic.claims_support``.  Public entry points:
:func:`derive` (records for some claim IDs) and :func:`render`.
"""

from __future__ import annotations

from .derivation import Record, run, specs

__all__ = ["Record", "derive", "render", "run", "specs"]


def derive(ids: list[str] | None = None, seed: int = 0, n_points: int = 2) -> list[Record]:
    """Run the derivations of ``ids`` (all, in catalogue order, when empty); unknown or
    not-derived IDs raise :class:`~bnverify.errors.BNVerifyError`."""
    from ..catalogue import IDS
    from ..claims import resolve_ids
    from ..errors import BNVerifyError

    all_specs = specs()
    if ids:
        wanted = resolve_ids(ids)
        missing = [i for i in wanted if i not in all_specs]
        if missing:
            raise BNVerifyError(
                f"derive: no symbolic derivation for {', '.join(missing)} "
                f"(derived: {', '.join(i for i in IDS if i in all_specs)})"
            )
    else:
        wanted = [i for i in IDS if i in all_specs]
    return [run(i, seed=seed, n_points=n_points) for i in wanted]


def render(records: list[Record], fmt: str = "md") -> str:
    from .report import render as _render

    return _render(records, fmt)
