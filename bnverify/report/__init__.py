"""Reports: the verdicts of ``bnverify check`` as one self-contained HTML page and Markdown.

Both are rendered from the JSON document of ``bnverify check`` (``bnverify.commands.check``):
verdict summary, each claim with its evidence, counterexample, correction and per-method details
(the symbolic derivation records where present), the figures found in a figures directory, and
the environment (versions, seed, profile).  The HTML embeds its images (data URIs) and styles, so
the single file can be mailed or archived.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ..claims import EVIDENCE_CLASSES
from ..errors import BNVerifyError
from ..safeio import staged_dir
from ..severity import MEANING, SEVERITIES

VERDICT_ORDER = ("refuted", "inconclusive", "skipped", "verified", "not-encoded")
COLOURS = {
    "verified": "#1a7f37",
    "refuted": "#cf222e",
    "inconclusive": "#9a6700",
    "skipped": "#8c959f",
    "not-encoded": "#57606a",
}
#: verdicts a results document may lack in its summary (written before they existed)
OPTIONAL_SUMMARY = ("skipped",)


#: deepest nesting accepted in a saved results document (``report --from``)
MAX_DOC_DEPTH = 64
#: the files ``write_report`` writes into its output directory (and ``counterexamples/<ID>.json``)
REPORT_FILES = ("report.html", "report.md", "results.json", "verdicts.md")



def executor_text(doc: dict) -> str:
    """Where the checks ran, from the document's settings: ``"in one process"``, ``"on a local
    Dask cluster of 2 workers"``, ``"on the Dask cluster at tcp://... (8 workers)"``."""
    st = doc.get("settings") or {}
    where, n = st.get("scheduler"), st.get("workers", st.get("jobs"))
    if where is None:
        return "in one process" if n in (None, 1) else f"on {n} worker processes"
    if where == "local":
        return f"on a local Dask cluster of {n} workers"
    return f"on the Dask cluster at {where} ({n} workers)"

def _depth_exceeds(obj: Any, limit: int) -> bool:
    """Whether ``obj`` (parsed JSON) nests deeper than ``limit`` (iterative: no recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            if d > limit:
                return True
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return False


def validate_results(doc: Any, source: str = "results") -> None:
    """Check that ``doc`` has the structure of ``bnverify check --json`` that the renderers read.

    Raises :class:`BNVerifyError` (one line, prefixed ``from:``) naming what is wrong; never
    recurses (nesting deeper than :data:`MAX_DOC_DEPTH` is refused first)."""

    def bad(what: str) -> BNVerifyError:
        return BNVerifyError(f"from: {source} is not a `bnverify check --json` document ({what})")

    if not isinstance(doc, dict) or "claims" not in doc or "summary" not in doc:
        raise bad("expected an object with claims and summary")
    if _depth_exceeds(doc, MAX_DOC_DEPTH):
        raise bad(f"nested deeper than {MAX_DOC_DEPTH} levels")
    for key in ("profile", "seed", "bnverify"):
        if not isinstance(doc.get(key), (str, int)) or isinstance(doc.get(key), bool):
            raise bad(f"{key}: missing or not a string/integer")
    summary = doc["summary"]
    if not isinstance(summary, dict):
        raise bad("summary: not an object")
    for v in COLOURS:
        if v in OPTIONAL_SUMMARY and v not in summary:
            continue
        n = summary.get(v)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise bad(f"summary.{v}: missing or not a non-negative integer")
    if not isinstance(doc["claims"], list):
        raise bad("claims: not a list")
    if not isinstance(doc.get("environment", {}), dict):
        raise bad("environment: not an object")
    for i, c in enumerate(doc["claims"]):
        where = f"claims[{i}]"
        if not isinstance(c, dict):
            raise bad(f"{where}: not an object")
        for key in ("id", "verdict", "evidence"):
            if not isinstance(c.get(key), str):
                raise bad(f"{where}.{key}: missing or not a string")
        if c["verdict"] not in COLOURS:
            raise bad(f"{where}.verdict: unknown verdict {c['verdict'][:30]!r}")
        methods = c.get("methods")
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise bad(f"{where}.methods: missing or not a list of strings")
        for key in ("where", "statement", "reading"):
            if c.get(key) is not None and not isinstance(c[key], str):
                raise bad(f"{where}.{key}: not a string")
        sev = c.get("severity")
        if sev is not None and sev not in SEVERITIES:
            raise bad(f"{where}.severity: unknown severity {str(sev)[:30]!r}")
        if c.get("severity_reason") is not None and not isinstance(c["severity_reason"], str):
            raise bad(f"{where}.severity_reason: not a string")
        cls = c.get("evidence_class")
        if cls is not None and cls not in EVIDENCE_CLASSES:
            raise bad(f"{where}.evidence_class: unknown class {str(cls)[:30]!r}")
        details = c.get("details", [])
        if not isinstance(details, list):
            raise bad(f"{where}.details: not a list")
        for j, d in enumerate(details):
            if not isinstance(d, dict) or not all(
                isinstance(d.get(k), str) for k in ("method", "verdict", "evidence")
            ):
                raise bad(f"{where}.details[{j}]: needs method, verdict and evidence strings")
            sec = d.get("seconds", 0)
            if not isinstance(sec, (int, float)) or isinstance(sec, bool):
                raise bad(f"{where}.details[{j}].seconds: not a number")
        corr = c.get("correction")
        if corr:
            if not isinstance(corr, dict) or not all(
                isinstance(corr.get(k), str) for k in ("statement", "verdict", "evidence")
            ):
                raise bad(f"{where}.correction: needs statement, verdict and evidence strings")


def _figures(fig_dir: Path | None) -> list[Path]:
    if not fig_dir or not fig_dir.is_dir():
        return []
    return sorted(p for p in fig_dir.rglob("*.png") if p.is_file())


def _cls(c: dict[str, Any]) -> str:
    return c.get("evidence_class") or "-"


def _class_line(doc: dict[str, Any]) -> str:
    """Verdicts counted per evidence class (``bnverify.commands.check.summary_line``)."""
    from ..commands.check import summary_line

    return summary_line(doc)


def _counts_line(doc: dict[str, Any]) -> str:
    """``65 claims: 39 verified, 22 refuted, 4 inconclusive, 0 not encoded`` (skipped only when
    there are any)."""
    s = doc["summary"]
    skipped = f"{s['skipped']} skipped, " if s.get("skipped") else ""
    return (f"{len(doc['claims'])} claims: {s['verified']} verified, {s['refuted']} refuted, "
            f"{s['inconclusive']} inconclusive, {skipped}{s['not-encoded']} not encoded")


def _severity_line(doc: dict[str, Any]) -> str:
    from ..commands.check import severity_line

    return severity_line(doc)


def _sev(c: dict[str, Any]) -> str:
    return c.get("severity") or "-"


def _groups(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    from ..commands.check import ordered

    return ordered(doc)


SEVERITY_NOTE = (
    "Severity of a refutation: "
    + "; ".join(f"**{k}** ({v})" for k, v in MEANING.items())
    + ". It is computed from the claim's own counterexample where possible (small generic "
    "perturbations of it re-tested with the claim's predicate; `severity_details.computed`); a "
    "`reading` gives the verdict under both readings, a `threshold` the value at which the "
    "verdict would flip (`flips_at`)."
)

CLASS_NOTE = (
    "Evidence classes: **proof** (exact symbolic or rational arithmetic), **certified** (ball "
    "arithmetic, python-flint arb, decides it), **sampled** (property / Monte Carlo / sweep "
    "tests in float64 or mpmath with error bounds), **experiment** (figures, networks). A "
    "claim's class is the strongest class among the methods that decided its verdict (the "
    "refuting ones for a refutation); a float refutation replayed exactly or in balls takes the "
    "replay's class."
)


def _short(obj: Any, limit: int = 4000) -> str:
    text = json.dumps(obj, indent=1, default=str)
    return (
        text if len(text) <= limit else text[:limit] + "\n… (truncated; full data in results.json)"
    )


def render_markdown(doc: dict[str, Any], fig_dir: Path | None = None) -> str:
    env = doc.get("environment", {})
    out = [
        "# bnverify report: On the Convergence and Robustness of Batch Normalization",
        "",
        f"{_counts_line(doc)}.",
        "",
        f"Refuted by severity: {_severity_line(doc)}.",
        "",
        f"By evidence class: {_class_line(doc)}.",
        "",
        SEVERITY_NOTE,
        "",
        CLASS_NOTE,
        "",
        f"Profile `{doc['profile']}`, seed `{doc['seed']}`, bnverify {doc['bnverify']}, "
        f"Python {env.get('python', '?')}, {env.get('cpu_count', '?')} cores, "
        f"{doc.get('elapsed_seconds', '?')} s {executor_text(doc)}.",
        "",
        "## Verdicts",
        "",
        "Substantive refutations first, then the other refutations by severity, then the other "
        "verdicts.",
        "",
    ]
    for name, cs in _groups(doc):
        out += [f"### {name} ({len(cs)})", "", "| ID | verdict | severity | class | methods | "
                "evidence |", "|---|---|---|---|---|---|"]
        for c in cs:
            ev = c["evidence"].replace("|", "\\|")
            if c.get("severity_reason"):
                ev = f"**severity:** {c['severity_reason']}; ".replace("|", "\\|") + ev
            out.append(
                f"| [{c['id']}](#{_anchor(c['id'])}) | {c['verdict']} | {_sev(c)} | {_cls(c)} | "
                f"{', '.join(dict.fromkeys(c['methods'])) or '-'} | {ev} |"
            )
        out.append("")
    out += ["## Claims", ""]
    for c in [c for _, cs in _groups(doc) for c in cs]:
        sev = f", severity: **{c['severity']}**" if c.get("severity") else ""
        out += [
            f"### {c['id']}",
            "",
            f"*{c.get('where', '')}* — verdict: **{c['verdict']}** (evidence: {_cls(c)}{sev})",
            "",
            f"Statement as printed: {c.get('statement', '')}",
            "",
        ]
        if c.get("severity_reason"):
            out += [f"Severity ({c['severity']}): {c['severity_reason']}", ""]
        if c.get("reading"):
            out += [f"Reading: {c['reading']}", ""]
        for d in c.get("details", []):
            out.append(
                f"- `{d['method']}` ({d['verdict']}, {d.get('evidence_class', '-')}, "
                f"{d.get('seconds', 0):.2f} s): {d['evidence']}"
            )
        out.append("")
        if c.get("counterexample") is not None:
            out += [
                "Counterexample (replay: `bnverify run --config FILE`):",
                "",
                "```json",
                _short(c["counterexample"]),
                "```",
                "",
            ]
        if c.get("correction"):
            corr = c["correction"]
            out += [
                f"Corrected statement ({corr['verdict']}): {corr['statement']}",
                "",
                f"Evidence: {corr['evidence']}",
                "",
            ]
    from ..nets.f3claims import COMPARISON_INTRO, comparison_markdown, setup_rows

    setups = setup_rows(doc, fig_dir)
    if len(setups) > 1:
        out += ["## Fig. 3: as printed, as the authors ran it, and fixed (F3.claims)", "",
                COMPARISON_INTRO, "", comparison_markdown(setups), ""]
    figs = _figures(fig_dir)
    if figs:
        out += ["## Figures", ""]
        for f in figs:
            out += [f"![{f.stem}]({f.as_posix()})", ""]
    out += ["## Environment", "", "```json", json.dumps(env, indent=1), "```", ""]
    return "\n".join(out)


def render_verdicts(doc: dict[str, Any]) -> str:
    """docs/verdicts.md: counts per verdict, per severity and per evidence class; the refutations
    grouped by severity (substantive first), each with its severity reason; the full verdict
    table in catalogue order (with a severity column); the corrected statements by severity."""
    env = doc.get("environment", {})
    pk = env.get("packages", {})
    out = [
        "# Verdicts",
        "",
        f"Generated by `bnverify report` (profile `{doc['profile']}`, seed `{doc['seed']}`, "
        f"bnverify {doc['bnverify']}, Python {env.get('python', '?')}, "
        + ", ".join(f"{k} {v}" for k, v in pk.items() if v)
        + f"; {doc.get('elapsed_seconds', '?')} s on {env.get('cpu_count', '?')} cores, "
        f"{executor_text(doc)}).",
        "",
        f"**{_counts_line(doc)}.**",
        "",
        f"Refuted by severity: {_severity_line(doc)}.",
        "",
        f"By evidence class: {_class_line(doc)}.",
        "",
        SEVERITY_NOTE,
        "",
        CLASS_NOTE,
        "",
        "## Refutations by severity",
        "",
    ]
    for name, cs in _groups(doc):
        if not name.startswith("refuted"):
            continue
        sev = name.split(": ", 1)[-1]
        out += [f"### {sev} ({len(cs)})" + (f": {MEANING[sev]}" if sev in MEANING else ""), ""]
        for c in cs:
            out.append(f"- **{c['id']}** ({c.get('where', '')}; {_cls(c)}): "
                       f"{c.get('severity_reason') or ''}")
        out.append("")
    out += [
        "## All claims (catalogue order)",
        "",
        "| ID | where | verdict | severity | class | methods | evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in doc["claims"]:
        ev = c["evidence"].replace("|", "\\|")
        out.append(
            f"| {c['id']} | {c.get('where', '')} | {c['verdict']} | {_sev(c)} | {_cls(c)} | "
            f"{', '.join(dict.fromkeys(c['methods'])) or '-'} | {ev} |"
        )
    corr = [c for c in doc["claims"] if c.get("correction") and c["verdict"] == "refuted"]
    if corr:
        out += ["", "## Corrected statements (each checked by the toolkit)", ""]
        for sev in (*SEVERITIES, None):
            cs = [c for c in corr if c.get("severity") == sev
                  or (sev is None and c.get("severity") not in SEVERITIES)]
            if not cs:
                continue
            out += [f"### {sev or 'refuted'}", ""]
            for c in cs:
                k = c["correction"]
                out.append(f"- **{c['id']}** ({k['verdict']}): {k['statement']}")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _anchor(cid: str) -> str:
    return "claim-" + "".join(ch if ch.isalnum() else "-" for ch in cid)


def render_html(doc: dict[str, Any], fig_dir: Path | None = None) -> str:
    e = html.escape
    env = doc.get("environment", {})
    rows = []
    for name, cs in _groups(doc):
        sev = name.split(": ", 1)[1] if name.startswith("refuted: ") else None
        rows.append(f"<tr class='group'><th colspan='6'>{e(name)} ({len(cs)})"
                    + (f" — {e(MEANING[sev])}" if sev else "") + "</th></tr>")
        for c in cs:
            col = COLOURS.get(c["verdict"], "#000")
            reason = (f"<br><small><b>severity:</b> {e(c['severity_reason'])}</small>"
                      if c.get("severity_reason") else "")
            rows.append(
                f"<tr><td><a href='#{_anchor(c['id'])}'>{e(c['id'])}</a></td>"
                f"<td><span class='v' style='background:{col}'>{e(c['verdict'])}</span></td>"
                f"<td class='sev'>{e(_sev(c))}</td>"
                f"<td class='cls'>{e(_cls(c))}</td>"
                f"<td>{e(', '.join(dict.fromkeys(c['methods'])) or '-')}</td>"
                f"<td>{e(c['evidence'])}{reason}</td></tr>"
            )
    sections = []
    for c in [c for _, cs in _groups(doc) for c in cs]:
        col = COLOURS.get(c["verdict"], "#000")
        parts = [
            f"<section id='{_anchor(c['id'])}'><h3>{e(c['id'])} "
            f"<span class='v' style='background:{col}'>{e(c['verdict'])}</span> "
            f"<small class='cls'>evidence: {e(_cls(c))}</small>"
            + (f" <small class='sev'>severity: {e(c['severity'])}</small>" if c.get("severity")
               else "") + "</h3>",
            f"<p class='where'>{e(c.get('where', ''))}</p>",
            *([f"<p><b>Severity</b> ({e(c['severity'])}): {e(c['severity_reason'])}</p>"]
              if c.get("severity_reason") else []),
            f"<p><b>Statement as printed:</b> <code>{e(c.get('statement', ''))}</code></p>",
        ]
        if c.get("reading"):
            parts.append(f"<p><b>Reading:</b> {e(c['reading'])}</p>")
        if c.get("details"):
            parts.append("<ul>")
            for d in c["details"]:
                parts.append(
                    f"<li><b>{e(d['method'])}</b> ({e(d['verdict'])}, "
                    f"{e(str(d.get('evidence_class', '-')))}, {d.get('seconds', 0):.2f} s):"
                    f" {e(d['evidence'])}<details><summary>details</summary><pre>"
                    f"{e(_short(d.get('details', {})))}</pre></details></li>"
                )
            parts.append("</ul>")
        if c.get("counterexample") is not None:
            parts.append(
                "<p><b>Counterexample</b> (replay with <code>bnverify run --config "
                f"FILE</code>):</p><pre>{e(_short(c['counterexample']))}</pre>"
            )
        if c.get("correction"):
            corr = c["correction"]
            parts.append(
                f"<p><b>Corrected statement</b> ({e(corr['verdict'])}): "
                f"{e(corr['statement'])}<br><small>{e(corr['evidence'])}</small></p>"
            )
        parts.append("</section>")
        sections.append("\n".join(parts))
    figs = []
    for f in _figures(fig_dir):
        data = base64.b64encode(f.read_bytes()).decode()
        figs.append(
            f"<figure><img alt='{e(f.stem)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{e(f.name)}</figcaption></figure>"
        )
    fig_html = ("<h2>Figures</h2>" + "\n".join(figs)) if figs else ""
    from ..nets.f3claims import COMPARISON_INTRO, comparison_cells, setup_rows

    setups = setup_rows(doc, fig_dir)
    if len(setups) > 1:
        head, body, notes = comparison_cells(setups)
        fig_html = (
            "<h2>Fig. 3: as printed, as the authors ran it, and fixed (F3.claims)</h2>"
            f"<p>{e(COMPARISON_INTRO.replace('`', ''))}</p><table><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                      for row in body)
            + "</table><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>"
            + fig_html)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>bnverify report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
td, th {{ border-bottom: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }}
.v {{ color: white; border-radius: 4px; padding: 1px 6px; font-size: 0.85em; }}
pre {{ background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 0.85em; }}
section {{ border-top: 1px solid #d0d7de; margin-top: 1em; }}
.where {{ color: #57606a; font-style: italic; }}
img {{ max-width: 100%; }}
</style></head>
<body>
<h1>bnverify report</h1>
<p>On the Convergence and Robustness of Batch Normalization: {len(doc["claims"])} claims checked:
<b id="summary">{e(_counts_line(doc).split(": ", 1)[1])}</b>.</p>
<p id="by-severity">Refuted by severity: {e(_severity_line(doc))}.</p>
<p id="by-class">By evidence class: {e(_class_line(doc))}.</p>
<p><small>{e(SEVERITY_NOTE.replace("**", "").replace("`", ""))}</small></p>
<p><small>{e(CLASS_NOTE.replace("**", ""))}</small></p>
<p>Profile <code>{e(doc["profile"])}</code>, seed <code>{doc["seed"]}</code>, bnverify
{e(str(doc["bnverify"]))}, Python {e(str(env.get("python", "?")))}, {env.get("cpu_count", "?")} cores,
{doc.get("elapsed_seconds", "?")} s {e(executor_text(doc))}.</p>
<h2>Verdicts</h2>
<table><tr><th>ID</th><th>verdict</th><th>severity</th><th>class</th><th>methods</th><th>evidence</th></tr>
{"".join(rows)}
</table>
<h2>Claims</h2>
{"".join(sections)}
{fig_html}
<h2>Environment</h2><pre>{e(json.dumps(env, indent=1))}</pre>
</body></html>
"""


def write_report(doc: dict[str, Any], out: Path, fig_dir: Path | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``report.md``, ``results.json``, ``verdicts.md`` and
    ``counterexamples/<ID>.json`` into ``out`` (created if missing, with its parents).

    Everything is rendered first, then written into a temporary directory beside ``out`` and
    moved into place at the end (:func:`bnverify.safeio.staged_dir`): an error or an interrupt
    leaves ``out`` as it was, never a half-written report.  Existing files of the same names are
    replaced (the command line refuses them without ``--force`` before any work)."""
    from ..commands.check import write_counterexamples

    out = Path(out)
    texts = {
        "html": render_html(doc, fig_dir),
        "markdown": render_markdown(doc, fig_dir),
        "json": json.dumps(doc, indent=1) + "\n",
        "verdicts": render_verdicts(doc),
    }
    names = dict(zip(("html", "markdown", "json", "verdicts"), REPORT_FILES, strict=True))
    with staged_dir(out, create_parents=True) as tmp:
        for key, text in texts.items():
            (tmp / names[key]).write_text(text, encoding="utf-8")
        write_counterexamples(doc, tmp / "counterexamples")
    return {key: out / name for key, name in names.items()}
