"""The parts of F3.claims (§4.2's findings on Fig. 3), evaluated once for every setup, and the
comparison of the setups (issue 18) -- numpy only, no torch.

:func:`f3_claims_parts` is the one definition of the parts, used by the F3.claims check
(``proofs/sec4_2_networks.py``, the ``paper`` setup) and by ``bnverify nets figure 3 --setup
authors|authors-fixed`` (``bnverify.nets.authors``).  :func:`setup_rows` collects the three
setups' numbers -- ``paper`` from a check document's F3.claims result, the authors' setups from
their data files -- and :func:`comparison_markdown` renders them side by side (the report and
docs/nets.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: "much larger range": at least one decade (F3.claims' reading)
MUCH_LARGER = 10.0
#: setups compared, and the data files of the authors' ones (quick size first)
SETUPS = ("paper", "authors", "authors-fixed")
AUTHORS_FILES = {s: (f"nets_fig3_{s}_quick.json", f"nets_fig3_{s}.json")
                 for s in ("authors", "authors-fixed")}


def f3_claims_parts(panels: list[Any]) -> dict[str, bool]:
    """Per panel: (a) GD and (b) shared-lr BNGD have a largest stable rate inside the grid (a
    larger grid rate is unstable); (c) separate-lr BNGD's largest stable rate >= MUCH_LARGER x
    both; (e) BN's near-optimal range (the wider of the two BN methods) is wider than GD's.
    Across panels: (d) the BN gain of the deep net > the one-layer net's (nets named ``1fc...``).
    ``panels`` have ``dataset``, ``net``, ``summary`` (per method) and ``bn_gain()``."""
    parts: dict[str, bool] = {}
    for p in panels:
        s = p.summary
        parts[f"{p.dataset}:gd_has_max_rate"] = bool(s["gd"]["unstable_above"])
        parts[f"{p.dataset}:bngd_has_max_rate"] = bool(s["bngd"]["unstable_above"])
        sep = s["bngd_sep"]["largest_stable_lr"] or 0.0
        others = max(s["gd"]["largest_stable_lr"] or 0.0, s["bngd"]["largest_stable_lr"] or 0.0)
        parts[f"{p.dataset}:sep_stable_much_larger"] = bool(
            others > 0 and sep >= MUCH_LARGER * others)
        w_bn = max(s["bngd"]["near_optimal_width_decades"],
                   s["bngd_sep"]["near_optimal_width_decades"])
        parts[f"{p.dataset}:bn_near_optimal_wider"] = bool(
            w_bn > s["gd"]["near_optimal_width_decades"])
    shallow = [p for p in panels if p.net.startswith("1fc")]
    deep = [p for p in panels if not p.net.startswith("1fc")]
    if shallow and deep:
        parts["bn_gain_deep_gt_shallow"] = bool(min(p.bn_gain() for p in deep)
                                                > max(p.bn_gain() for p in shallow))
    return parts


def _row(setup: str, source: str, parts: dict[str, bool],
         panels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"setup": setup, "source": source, "parts": parts,
            "holding": sum(parts.values()), "total": len(parts), "panels": panels}


def _paper_row(doc: dict[str, Any]) -> dict[str, Any] | None:
    claim = next((c for c in doc.get("claims", []) if c.get("id") == "F3.claims"), None)
    det = next((d.get("details") or {} for d in (claim or {}).get("details", [])
                if isinstance(d.get("details"), dict) and "parts" in d["details"]), None)
    if not det:
        return None
    panels = {}
    for p in det.get("panels", []):
        panels[p["dataset"]] = {
            "largest_stable_lr": {m: p[m]["largest_stable_lr"] for m in ("gd", "bngd", "bngd_sep")},
            "near_optimal_width_decades": {m: p[m]["near_optimal_width_decades"]
                                           for m in ("gd", "bngd", "bngd_sep")},
            "bn_gain": p["bn_gain"]}
    return _row("paper", f"this run (F3.claims, profile {doc.get('profile')}, seed "
                f"{doc.get('seed')})", det["parts"], panels)


def _authors_row(setup: str, fig_dir: Path) -> dict[str, Any] | None:
    for name in AUTHORS_FILES[setup]:
        f = fig_dir / name
        if not f.is_file():
            continue
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
            fc = d["f3_claims"]
            return _row(setup, f"{f.name} ({d.get('profile', '?')} size, seed {d.get('seed')})",
                        fc["parts"], fc["panels"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return None


def setup_rows(doc: dict[str, Any], fig_dir: Path | None) -> list[dict[str, Any]]:
    """The setups that have numbers: ``paper`` from ``doc`` (a check document with F3.claims),
    the authors' setups from their data files in ``fig_dir``.  Missing ones are left out."""
    rows = [_paper_row(doc)]
    if fig_dir is not None and fig_dir.is_dir():
        rows += [_authors_row(s, fig_dir) for s in ("authors", "authors-fixed")]
    return [r for r in rows if r is not None]


def _g(x: Any) -> str:
    return "-" if x is None else f"{x:.3g}"


def comparison_cells(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]],
                                                           list[str]]:
    """Header, body and notes of the comparison: per setup the parts holding and, per data set,
    the largest stable rate (GD / BNGD / BNGD-sep), the near-optimal width (GD / the wider BN
    method, decades) and the BN gain; the notes give each row's source and failing parts."""
    datasets = sorted({k for r in rows for k in r["panels"]})
    head = ["setup", "parts holding"]
    for ds in datasets:
        head += [f"{ds}: max stable lr GD / BNGD / sep", f"{ds}: near-optimal width GD / BN",
                 f"{ds}: BN gain"]
    body = []
    for r in rows:
        cells = [r["setup"], f"{r['holding']}/{r['total']}"]
        for ds in datasets:
            p = r["panels"].get(ds)
            if p is None:
                cells += ["-", "-", "-"]
                continue
            ls, w = p["largest_stable_lr"], p["near_optimal_width_decades"]
            cells += [" / ".join(_g(ls.get(m)) for m in ("gd", "bngd", "bngd_sep")),
                      f"{_g(w.get('gd'))} / {_g(max(w.get('bngd') or 0, w.get('bngd_sep') or 0))}",
                      _g(p.get("bn_gain"))]
        body.append(cells)
    notes = [f"{r['setup']}: {r['source']}" + (
        "; failing: " + ", ".join(k for k, v in r["parts"].items() if not v)
        if r["holding"] < r["total"] else "") for r in rows]
    return head, body, notes


def comparison_markdown(rows: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table with its notes."""
    head, body, notes = comparison_cells(rows)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join([f"`{c[0]}`", *c[1:]]) + " |" for c in body]
    out.append("")
    out += [f"- {n}" for n in notes]
    return "\n".join(out)


#: what the comparison is, for the report
COMPARISON_INTRO = (
    "The paper prints one setting for Fig. 3; the authors' scripts (Lightmann/BatchNormGD) ran "
    "another, in which the BN convolutional model builds a second convolution and never uses it, "
    "so GD and BNGD train different architectures (`bnverify nets figure 3 --setup authors`); "
    "`authors-fixed` uses it. The F3.claims parts are evaluated with the same definition for "
    "all three (`bnverify.nets.f3claims`); the authors' rows come from committed quick-size CPU "
    "runs (docs/nets.md: sizes, seeds and what they can and cannot support)."
)
