"""``bnverify report [--out DIR]``: HTML + Markdown report of the verdicts (runs the checks, or
renders a saved ``bnverify check --json`` file with ``--from``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..claims import PROFILES, resolve_ids
from ..errors import BNVerifyError


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the HTML + Markdown verdict report",
        description="Run the checks (or load saved results) and write "
        "DIR/report.html, DIR/report.md, DIR/results.json and "
        "DIR/counterexamples/<ID>.json.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (default: all)")
    p.add_argument("--out", default="bnverify-report", help="output directory (bnverify-report)")
    p.add_argument(
        "--from",
        dest="source",
        metavar="JSON",
        help="render saved results of `bnverify check --json` instead of re-running",
    )
    p.add_argument("--profile", choices=PROFILES, default="quick")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--figures",
        metavar="DIR",
        help="directory of PNG figures to embed (default: docs/figures if present)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from ..report import write_report
    from .check import run_checks

    if args.source:
        src = Path(args.source)
        if not src.is_file():
            raise BNVerifyError(f"from: file not found: {src}")
        try:
            doc = json.loads(src.read_text())
        except json.JSONDecodeError as exc:
            raise BNVerifyError(f"from: {src} is not valid JSON ({exc.msg})") from None
        if not isinstance(doc, dict) or "claims" not in doc or "summary" not in doc:
            raise BNVerifyError(f"from: {src} is not a `bnverify check --json` document")
    else:
        ids = resolve_ids(args.ids)
        doc = run_checks(
            ids, args.profile, args.seed, progress=not args.no_progress and sys.stderr.isatty()
        )
    fig_dir = Path(args.figures) if args.figures else Path("docs/figures")
    if args.figures and not fig_dir.is_dir():
        raise BNVerifyError(f"figures: not a directory: {fig_dir}")
    paths = write_report(doc, Path(args.out), fig_dir)
    print(f"wrote {paths['html']}, {paths['markdown']}, {paths['json']}")
    return 0
