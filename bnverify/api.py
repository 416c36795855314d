"""The public Python API, for notebooks and scripts: the same work as the command line, as
Python objects (the same data as each command's ``--json``).

>>> import bnverify
>>> sol = bnverify.run({"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1,
...                     "eps_a": 1, "eps": 0.01}, steps=300, sensitivity=False)
>>> sol.status, sol.engine, sol.trusted
('max-steps', 'float64', True)
>>> res = bnverify.check(["S2.GD-opt"], workers=1)
>>> res.summary["verified"]
1
>>> [r.verdict for r in bnverify.derive(["E17-18"])]
['verified']
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from .errors import BNVerifyError

__all__ = ["CheckResults", "check", "derive", "figure", "run"]


@dataclass
class CheckResults:
    """What ``bnverify check --json`` prints, as an object: ``claims`` (one dict per claim:
    ``id``, ``verdict``, ``evidence_class``, ``evidence``, ``counterexample``, ``correction``,
    ...), ``summary`` (counts per verdict) and ``document`` (the whole JSON document)."""

    document: dict[str, Any]

    @property
    def claims(self) -> list[dict[str, Any]]:
        return self.document["claims"]

    @property
    def summary(self) -> dict[str, int]:
        return self.document["summary"]

    def __getitem__(self, claim_id: str) -> dict[str, Any]:
        for c in self.claims:
            if c["id"] == claim_id:
                return c
        raise KeyError(claim_id)

    def __repr__(self) -> str:
        s = ", ".join(f"{v} {k}" for k, v in self.summary.items() if v)
        return f"CheckResults({len(self.claims)} claims: {s})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(c['id'])}</td><td>{escape(str(c['verdict']))}</td>"
            f"<td>{escape(str(c.get('evidence_class') or ''))}</td>"
            f"<td>{escape(str(c.get('evidence', ''))[:200])}</td></tr>"
            for c in self.claims
        )
        return ("<table><thead><tr><th>ID</th><th>verdict</th><th>class</th><th>evidence</th>"
                f"</tr></thead><tbody>{rows}</tbody></table>")


def check(ids: list[str] | None = None, profile: str = "quick", seed: int = 0,
          workers: int | None = None, progress: bool = False, scheduler: str | None = None,
          *, jobs: int | None = None) -> CheckResults:
    """Run the claim checks of ``ids`` (all by default); see ``bnverify check``.

    ``workers``: processes of a local Dask cluster (default: one per core; 1: in this process
    -- call it under ``if __name__ == "__main__":`` in a script, as for any process pool);
    ``scheduler``: the address of a Dask cluster instead; ``jobs``: the old name of
    ``workers``.  The verdicts are the same either way."""
    from .claims import resolve_ids
    from .commands.check import run_checks

    if profile not in ("quick", "thorough"):
        raise BNVerifyError(f"profile: expected quick or thorough, got {profile!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BNVerifyError(f"seed: must be a non-negative integer, got {seed!r}")
    from .scheduling import check_scheduler

    addr = check_scheduler(scheduler) if scheduler is not None else None
    return CheckResults(run_checks(resolve_ids(ids), profile, seed, progress=progress,
                                   workers=workers if workers is not None else jobs,
                                   scheduler=addr))


def run(config: Any, *, method: str | None = None, steps: int | None = None,
        precision: Any = "auto", min_digits: float | None = None, history_stride: int | None = None,
        sensitivity: bool = True, seed: int = 0):
    """Run one configuration: a dict (the JSON configuration format), a path to a configuration
    file, or an :class:`~bnverify.model.OLSProblem` together with ``config={"problem": p,
    "w0": ..., "a0": ..., "eps_a": ..., "eps": ...}``.  Returns a
    :class:`~bnverify.dynamics.solve.Solution` (``status``, ``loss``, ``digits``, ``trusted``,
    ...); see ``bnverify run``."""
    from .config import load_config, validate_config
    from .dynamics.solve import solve

    if isinstance(config, (str, Path)):
        cfg = load_config(config)
    elif isinstance(config, dict):
        cfg = dict(config)
        if "problem" in cfg:
            p = cfg.pop("problem")
            cfg.update(p.to_json())
        cfg = _plain(cfg)
        validate_config(cfg)
    else:
        raise BNVerifyError("config: expected a dict, a path or {'problem': OLSProblem, ...}")
    kw: dict[str, Any] = {"method": method, "steps": steps, "precision": precision,
                          "history_stride": history_stride, "sensitivity": sensitivity,
                          "seed": seed}
    if min_digits is not None:
        kw["min_digits"] = min_digits
    return solve(cfg, **kw)


def _plain(x: Any) -> Any:
    """numpy arrays/scalars to lists/floats (the configuration format)."""
    import numpy as np

    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def derive(ids: list[str] | None = None, seed: int = 0):
    """The SymPy derivations of ``ids`` (all by default): a list of records with ``verdict``,
    ``steps``, ...; see ``bnverify derive``."""
    from .symbolic import derive as _derive

    return _derive(ids, seed=seed)


def figure(fig_id: str, out: str | Path, *, quick: bool = False, seed: int = 0,
           recompute_all: bool = False, scheduler: str | None = None, **kw: Any) -> dict:
    """Make one figure (``"1"``, ``"5"`` ... ``"8"`` or ``"all"``) into the existing or new
    directory ``out``; returns the summaries; see ``bnverify figure``."""
    from .experiments.figures import make_figure

    return make_figure(fig_id, out, quick=quick, seed=seed, recompute_all=recompute_all,
                       scheduler=scheduler, progress=False, **kw)
