"""Compare two ``bnverify check --json`` files modulo timings (issue 16: behaviour unchanged).

Usage::

    python tools/compare_check_json.py BEFORE.json AFTER.json [--structural]

Timing fields (``seconds``, every key ending in ``_seconds``) and the ``environment`` block are
dropped; everything else -- verdicts, evidence classes, severities, evidence text, counterexamples,
corrections, per-method details -- must be equal.  ``--structural`` compares only what cannot
depend on the BLAS kernel of the machine (verdicts, methods, evidence classes, severities, which
claims carry counterexamples and corrections, correction statements): the mode the portable test
uses against the committed record made on another machine.  Exit 0 when equal, 1 with a diff.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

TIMING_KEYS = ("seconds", "elapsed_seconds")
#: how the work was executed, not what it found (``settings`` of the document)
EXECUTION_KEYS = ("jobs", "workers", "scheduler")


def normalise(obj, _top: bool = True):
    """The JSON tree without timings, the environment block and the execution settings (worker
    count, scheduler)."""
    if _top and isinstance(obj, dict) and isinstance(obj.get("settings"), dict):
        obj = dict(obj, settings={k: v for k, v in obj["settings"].items()
                                  if k not in EXECUTION_KEYS})
    if isinstance(obj, dict):
        return {
            k: normalise(v, False)
            for k, v in obj.items()
            if k not in TIMING_KEYS and not k.endswith("_seconds") and k != "environment"
        }
    if isinstance(obj, list):
        return [normalise(v, False) for v in obj]
    return obj


def structural(doc: dict) -> dict:
    """Per claim: the fields a BLAS kernel cannot change."""
    out = {"seed": doc.get("seed"), "profile": doc.get("profile"), "summary": doc.get("summary")}
    claims = {}
    for c in doc["claims"]:
        claims[c["id"]] = {
            "verdict": c["verdict"],
            "evidence_class": c.get("evidence_class"),
            "severity": c.get("severity"),
            "methods": c.get("methods"),
            "method_verdicts": [(d.get("method"), d.get("verdict")) for d in c.get("details", [])],
            "has_counterexample": c.get("counterexample") is not None,
            "correction": (c.get("correction") or {}).get("statement")
            if isinstance(c.get("correction"), dict) else c.get("correction"),
        }
    out["claims"] = claims
    return out


def diff(before: dict, after: dict, *, structural_only: bool = False) -> list[str]:
    """Unified-diff lines between the two (empty when equal)."""
    f = structural if structural_only else normalise
    a, b = f(before), f(after)
    if a == b:
        return []
    sa = json.dumps(a, indent=1, sort_keys=True).splitlines()
    sb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    return list(difflib.unified_diff(sa, sb, "before", "after", lineterm=""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--structural", action="store_true")
    a = p.parse_args(argv)
    lines = diff(json.loads(a.before.read_text()), json.loads(a.after.read_text()),
                 structural_only=a.structural)
    if not lines:
        print("identical modulo timings" + (" (structural)" if a.structural else ""))
        return 0
    print("\n".join(lines[:400]))
    print(f"... {len(lines)} diff lines" if len(lines) > 400 else "")
    return 1


if __name__ == "__main__":
    sys.exit(main())
