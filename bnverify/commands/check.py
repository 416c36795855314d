"""``bnverify check``: run the claim checks and print verdicts.

JSON contract (``--json PATH`` or ``--json -``)::

    {"bnverify": VERSION, "seed": N, "profile": P, "settings": {...}, "environment": {...},
     "elapsed_seconds": T, "summary": {"verified": n, ...},
     "summary_by_class": {"verified": {"proof": n, "certified": n, "sampled": n,
                                       "experiment": n}, ...},
     "claims": [{"id", "verdict", "evidence_class", "methods", "evidence", "counterexample",
                 "correction", "where", "statement", "reading", "seconds",
                 "details": [per-method results, each with "evidence_class"]}]}

``verdict`` is one of verified, refuted, inconclusive, skipped (an optional extra is missing: the
check could not run; the reason and the install command are in the evidence), not-encoded;
every refuted claim has ``severity`` (substantive, degenerate, reading, threshold;
``bnverify.severity``), a one-line ``severity_reason`` and ``severity_details`` (``computed``:
whether a probe decided it from the claim's own counterexample; ``neighbourhood``, ``readings``,
``flips_at`` where they apply); other claims have ``null`` there; ``summary_by_severity`` counts
the refuted claims per severity.  ``evidence_class`` is one of
proof, certified, sampled, experiment (``null`` for not-encoded): the strongest class among the
methods that decided the verdict (``bnverify.claims.claim_class``); a refuting method whose
counterexample was replayed exactly or in ball arithmetic carries the replay in
``details.replay`` (``{"result", "evidence_class", "arithmetic", "text", "measured"}``).
``correction``, when present, is ``{"statement", "verdict", "evidence"}``.  Exit status 0 when the run completed (a refutation
is a finding), 1 with ``--strict`` when any claim is refuted (``--fail-on substantive``: when a
claim is refuted with severity substantive), 2 for bad input.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from ..catalogue import BY_ID, IDS
from ..claims import (
    EVIDENCE_CLASSES,
    PROFILES,
    VERDICTS,
    CheckContext,
    ClaimResult,
    resolve_ids,
    run_claim,
    to_jsonable,
)
from ..config import REQUIRED
from ..environment import environment
from ..errors import BNVerifyError
from ..progress import ProgressBar
from ..safeio import (
    atomic_write_text,
    check_output_path,
    refuse_existing,
    staged_dir,
)
from ..severity import MEANING, SEVERITIES, severity_counts
from ._types import jobs_int, seed_int


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="check the paper's claims and print verdicts",
        description="Check claims of the catalogue (all by default) and print a verdict table.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (default: all)")
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="quick",
        help="quick (default; all claims in under a minute on 2 idle cores) or thorough",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="seed for every random choice (0)")
    p.add_argument(
        "--json",
        metavar="PATH",
        help="write the JSON results to PATH (- for stdout); its directory must exist",
    )
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any claim is refuted (see --fail-on)")
    p.add_argument(
        "--fail-on",
        choices=("substantive", "any"),
        default="any",
        help="with --strict: exit 1 on any refutation (default) or only on a substantive one",
    )
    p.add_argument("--list", action="store_true", help="list the claim IDs and exit")
    p.add_argument(
        "--counterexamples",
        metavar="DIR",
        help="write each counterexample as DIR/<ID>.json (replay: bnverify run --config); "
        "DIR is created if missing, its parent must exist",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing output files (--json PATH, DIR/<ID>.json)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--workers",
        "--jobs",  # the option's name before the Dask scheduling layer
        dest="workers",
        type=jobs_int,
        default=None,
        metavar="N",
        help="worker processes of the local Dask cluster (default: one per core); 1: in this "
        "process, no Dask",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the claims on the Dask cluster at ADDRESS (default: $BNVERIFY_SCHEDULER, "
        "else a local cluster); verdicts are identical (docs/cluster.md)",
    )
    p.set_defaults(func=cmd_check)


def _run_one(cid: str, profile: str, seed: int) -> ClaimResult:
    """One claim, as a work unit (in this process or on a Dask worker)."""
    import warnings

    # on a Dask worker, the worker's own event-loop thread draws from the global ``random``
    # while Hypothesis generates an example; Hypothesis sees the global state change and blames
    # the strategy.  Ours do not use ``random`` (their draws are Hypothesis's own, seeded from
    # the claim ID), so the warning is not about them.
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
    try:
        import numba

        numba.set_num_threads(1)  # the worker processes already use the cores
    except Exception:  # pragma: no cover - numba missing or no threading layer
        pass
    return run_claim(cid, CheckContext(profile=profile, seed=seed))


def run_checks(
    ids: list[str], profile: str, seed: int, progress: bool = True, workers: int | None = None,
    scheduler: str | None = None, *, jobs: int | None = None,
) -> dict[str, Any]:
    """Run the checks of ``ids``; return the JSON document of the contract.

    ``workers == 1``: in this process; ``workers > 1`` (default: one per core): the claims are
    units on a local Dask cluster of that many processes; ``scheduler``: on the Dask cluster at
    that address.  Each check seeds its own random streams from the seed and the claim ID, so
    the results do not depend on the order, the worker or retries; the document lists them in
    catalogue order and records the scheduler and the worker count.  ``jobs`` is the old name
    of ``workers``."""
    from ..scheduling import Cluster, default_workers, run_units

    workers = workers if workers is not None else jobs
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BNVerifyError(f"workers: must be a positive integer, got {workers!r}")
    t0 = time.perf_counter()
    by_id: dict[str, ClaimResult] = {}
    with ProgressBar(len(ids), "checking", enabled=progress) as bar:
        if scheduler is None and (workers == 1 or len(ids) == 1):
            where, used = None, 1
            for cid in ids:
                by_id[cid] = _run_one(cid, profile, seed)
                bar.update(item=cid)
        else:
            used = min(workers, len(ids)) if scheduler is None else None
            with Cluster(scheduler, used) as cluster:
                where = cluster.kind
                used = cluster.n_workers()
                keys = [f"bnverify-check-{cid}-{profile}-{seed}-{i}" for i, cid in enumerate(ids)]
                res = run_units(cluster, _run_one, [(cid, profile, seed) for cid in ids], keys,
                                on_done=lambda i, r: bar.update(item=ids[i]))
            by_id.update(zip(ids, res, strict=True))
    results = [by_id[cid] for cid in ids]
    elapsed = time.perf_counter() - t0
    summary = {v: 0 for v in VERDICTS}
    for r in results:
        summary[r.verdict] += 1
    claims_json = [r.to_json() for r in results]
    by_class = class_summary(claims_json)
    return {
        "bnverify": environment()["bnverify"],
        "seed": seed,
        "profile": profile,
        "settings": {"ids": ids, "profile": profile, "seed": seed, "workers": used,
                     "scheduler": where},
        "environment": environment(),
        "elapsed_seconds": round(elapsed, 2),
        "summary": summary,
        "summary_by_class": by_class,
        "summary_by_severity": severity_counts(claims_json),
        "claims": [to_jsonable(c) for c in claims_json],
    }


def class_summary(claims: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``{verdict: {evidence class: count}}`` over the claims (not-encoded claims have none)."""
    out = {v: {k: 0 for k in EVIDENCE_CLASSES} for v in VERDICTS
           if v not in ("not-encoded", "skipped")}
    for c in claims:
        k = c.get("evidence_class")
        if c["verdict"] in out and k in EVIDENCE_CLASSES:
            out[c["verdict"]][k] += 1
    return out


def summary_line(doc: dict[str, Any]) -> str:
    """``"39 verified (12 proof, 20 sampled, 7 experiment), 21 refuted (...), ..."`` -- verdicts
    counted per evidence class (classes with no claim are left out)."""
    s = doc["summary"]
    by = class_summary(doc["claims"])
    parts = []
    for v in ("verified", "refuted", "inconclusive"):
        inner = ", ".join(f"{n} {k}" for k, n in by.get(v, {}).items() if n)
        parts.append(f"{s[v]} {v}" + (f" ({inner})" if inner else ""))
    if s.get("skipped"):
        parts.append(f"{s['skipped']} skipped")
    parts.append(f"{s['not-encoded']} not encoded")
    return ", ".join(parts)


def severity_line(doc: dict[str, Any]) -> str:
    """``"6 substantive, 5 degenerate, 7 reading, 4 threshold"`` over the refuted claims."""
    by = severity_counts(doc["claims"])
    return ", ".join(f"{n} {k}" for k, n in by.items())


LEGEND = (
    "verdicts: verified (holds on every check), refuted (a counterexample; shown first, by severity), "
    "inconclusive (the checks ran and could not decide), skipped (an optional extra is missing), "
    "not-encoded (no check yet). class: proof (exact arithmetic), certified (ball arithmetic), "
    "sampled (float/mpmath tests), experiment (figures, networks). severity of a refutation: "
    + "; ".join(f"{k} ({v})" for k, v in MEANING.items()) + "."
)


def ordered(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The claims grouped as the table and the reports show them: refuted by severity
    (substantive first), then inconclusive, skipped, not-encoded, verified; catalogue order
    inside a group.  Empty groups are left out."""
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for sev in SEVERITIES:
        groups.append((f"refuted: {sev}", [c for c in doc["claims"] if c["verdict"] == "refuted"
                                           and c.get("severity") == sev]))
    groups.append(("refuted", [c for c in doc["claims"] if c["verdict"] == "refuted"
                               and c.get("severity") not in SEVERITIES]))
    for v in ("inconclusive", "skipped", "not-encoded", "verified"):
        groups.append((v, [c for c in doc["claims"] if c["verdict"] == v]))
    return [(name, cs) for name, cs in groups if cs]


def write_counterexamples(doc: dict[str, Any], out: Path) -> list[Path]:
    """Write every refuted claim's counterexample that is a run configuration as ``<ID>.json``.

    ``out`` is created if missing (not its parents); each file is written atomically."""
    out.mkdir(exist_ok=True)
    paths = []
    for c in doc["claims"]:
        cex = c.get("counterexample")
        # only run configurations replay through `bnverify run --config`; other counterexamples
        # (sequences, matrices) stay in the JSON document and the report
        if c["verdict"] == "refuted" and isinstance(cex, dict) and all(k in cex for k in REQUIRED):
            path = out / f"{c['id']}.json"
            body = dict(cex)
            atomic_write_text(path, json.dumps(body, indent=2) + "\n")
            paths.append(path)
    return paths


#: colours of the verdict table (rich styles; none when NO_COLOR is set or stdout is not a
#: terminal)
VERDICT_STYLE = {"verified": "green", "refuted": "bold red", "inconclusive": "yellow",
                 "skipped": "dim", "not-encoded": "dim"}
SEVERITY_STYLE = {"substantive": "bold red", "degenerate": "magenta", "reading": "yellow",
                  "threshold": "cyan"}


def _table_renderables(doc: dict[str, Any], width: int) -> tuple[list[Any], bool]:
    """The verdict table as rich renderables (one table per group, same column widths), and
    whether evidence was shortened."""
    from rich.table import Table
    from rich.text import Text

    groups = ordered(doc)
    cells = [
        (c["id"], c["verdict"], c.get("evidence_class") or "-",
         ",".join(dict.fromkeys(c["methods"])) or "-", c["evidence"])
        for _, cs in groups for c in cs
    ]
    head = ("ID", "verdict", "class", "method", "evidence")
    allrows = [head, *cells]
    w = [max(len(r[i]) for r in allrows) for i in range(3)]
    w.append(min(max(len(r[3]) for r in allrows), 28))
    room = max(width - sum(w) - 8, 30)
    cut = False
    out: list[Any] = []

    def table(show_header: bool) -> Table:
        t = Table(box=None, show_header=show_header, show_edge=False, pad_edge=False,
                  padding=(0, 2, 0, 0), header_style="bold underline", expand=False)
        for k, label in enumerate(head):
            wk = w[k] if k < 4 else room
            t.add_column(label, width=wk, min_width=wk, max_width=wk, no_wrap=True,
                         overflow="ellipsis")
        return t

    out.append(table(True))  # the header row alone: the groups' tables share its widths
    i = 0
    for name, cs in groups:
        sev = name.split(": ", 1)[1] if name.startswith("refuted: ") else None
        verdict = name.split(":", 1)[0]
        title = Text("== ", style="bold")
        title.append(f"{name} ({len(cs)})", style=SEVERITY_STYLE.get(sev or "")
                     or VERDICT_STYLE.get(verdict, ""))
        if sev:
            title.append(f" -- {MEANING[sev]}")
        t = table(False)
        for c in cs:
            cid, verdict_c, klass, meth, ev = cells[i]
            i += 1
            lines = [ev]
            if c.get("severity_reason"):
                lines.append(f"severity: {c['severity_reason']}")
            if any(len(x) > room for x in lines):
                cut = True
            # Text, not str: evidence such as "[property] ..." is not rich markup
            t.add_row(Text(cid), Text(verdict_c, style=VERDICT_STYLE.get(verdict_c, "")),
                      Text(klass), Text(meth), Text("\n".join(lines)))
        out += [title, t]
    return out, cut


def _table_text_tail(doc: dict[str, Any], cut: bool) -> list[str]:
    """The lines below the table: counts, legend, corrected statements."""
    s = doc["summary"]
    lines = [""]
    lines.append(
        f"{len(doc['claims'])} claims: {summary_line(doc)} "
        f"(profile {doc['profile']}, seed {doc['seed']}, {doc['elapsed_seconds']:.1f} s)"
    )
    if s.get("refuted"):
        lines.append(f"refuted by severity: {severity_line(doc)}")
    if s["not-encoded"]:
        lines.append(
            "not encoded yet: "
            + " ".join(c["id"] for c in doc["claims"] if c["verdict"] == "not-encoded")
        )
    lines.append("legend: " + LEGEND)
    if cut:
        lines.append("(evidence shortened to the terminal width: the full text is in "
                     "`bnverify check --json -` and `bnverify report`)")
    for sev in (*SEVERITIES, None):
        refuted = [c for c in doc["claims"] if c["verdict"] == "refuted" and c.get("correction")
                   and (c.get("severity") == sev or (sev is None
                                                     and c.get("severity") not in SEVERITIES))]
        if not refuted:
            continue
        lines.append(f"corrected statements ({sev or 'refuted'}):")
        for c in refuted:
            corr = c["correction"]
            lines.append(f"  {c['id']} corrected: {corr['statement']} [{corr['verdict']}]")
    return lines


def render_table(doc: dict[str, Any], console) -> None:
    """Print the verdict table on a rich ``console`` (colours as the console allows)."""
    from rich.text import Text

    parts, cut = _table_renderables(doc, console.width)
    for part in parts:
        console.print(part)
    for line in _table_text_tail(doc, cut):
        console.print(Text(line), soft_wrap=not line.startswith("legend:"))


def format_table(doc: dict[str, Any], width: int | None = None) -> str:
    """The verdict table as plain text, grouped (:func:`ordered`): refutations by severity
    (substantive first, each with its severity reason), then the other verdicts; a legend; the
    corrected statements grouped by severity.  Evidence is cut to ``width`` (default: the
    terminal's); the full text is in ``--json`` and ``bnverify report``."""
    import io

    from rich.console import Console

    width = width or shutil.get_terminal_size((120, 24)).columns
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    render_table(doc, console)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def print_table(doc: dict[str, Any], stream=None) -> None:
    """Print the verdict table on stdout: coloured on a terminal unless ``NO_COLOR`` is set,
    plain text on a pipe or a file."""
    from rich.console import Console

    stream = stream or sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    # on a pipe or a file: the terminal's width if known ($COLUMNS), else 120, as format_table
    width = None if tty else shutil.get_terminal_size((120, 24)).columns
    console = Console(file=stream, width=width, highlight=False, emoji=False)
    render_table(doc, console)


def strict_failure(doc: dict[str, Any], fail_on: str = "any") -> bool:
    """Whether ``--strict`` fails: any refutation, or (``substantive``) a substantive one."""
    if fail_on == "substantive":
        return any(c["verdict"] == "refuted" and c.get("severity") == "substantive"
                   for c in doc["claims"])
    return bool(doc["summary"]["refuted"])


def cmd_check(args) -> int:
    if args.list:
        for cid in IDS:
            e = BY_ID[cid]
            print(f"{cid:<18} {e.where}")
        return 0
    ids = resolve_ids(args.ids)
    if args.seed < 0:
        raise BNVerifyError(f"seed: must be >= 0, got {args.seed}")
    # every output target is checked before the (long) work starts
    if args.json and args.json != "-":
        check_output_path(args.json, force=args.force, name="json")
    cex_dir = None
    if args.counterexamples:
        cex_dir = check_output_path(args.counterexamples, force=args.force, is_dir=True,
                                    name="counterexamples")
        refuse_existing(cex_dir, [f"{cid}.json" for cid in ids], force=args.force,
                        name="counterexamples")
    from ..scheduling import check_scheduler

    scheduler = check_scheduler(args.scheduler)  # unreachable: one line, before any work
    progress = not args.no_progress and sys.stderr.isatty()
    doc = run_checks(ids, args.profile, args.seed, progress=progress, workers=args.workers,
                     scheduler=scheduler)
    if cex_dir is not None:
        with staged_dir(cex_dir) as tmp:
            write_counterexamples(doc, tmp)
    if args.json:
        text = json.dumps(doc, indent=1)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            atomic_write_text(args.json, text + "\n")
    if args.json != "-":
        print_table(doc)
    if args.strict and strict_failure(doc, getattr(args, "fail_on", "any")):
        return 1
    return 0
