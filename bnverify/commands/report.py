"""``bnverify report [--out DIR]``: HTML + Markdown report of the verdicts (runs the checks, or
renders a saved ``bnverify check --json`` file with ``--from``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..claims import PROFILES, resolve_ids
from ..errors import BNVerifyError
from ..safeio import check_input_file, check_output_path, refuse_existing
from ._types import jobs_int, seed_int


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the HTML + Markdown verdict report",
        description="Run the checks (or load saved results) and write "
        "DIR/report.html, DIR/report.md, DIR/results.json and "
        "DIR/counterexamples/<ID>.json.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (default: all)")
    p.add_argument(
        "--out",
        default="bnverify-report",
        help="output directory (bnverify-report; created if missing, its parent must exist)",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite the report files of an earlier run in --out"
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="JSON",
        help="render saved results of `bnverify check --json` instead of re-running",
    )
    p.add_argument("--profile", choices=PROFILES, default="quick")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument(
        "--figures",
        metavar="DIR",
        help="directory of PNG figures to embed (default: docs/figures if present)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--workers", type=jobs_int, default=None, metavar="N",
                   help="worker processes of the local Dask cluster (default: one per core; 1: "
                   "in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the checks on the Dask cluster at ADDRESS (default: "
                   "$BNVERIFY_SCHEDULER, else a local cluster)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from ..report import REPORT_FILES, write_report
    from .check import run_checks

    # everything is checked before the checks run: inputs, figures directory, output directory
    out = check_output_path(args.out, force=args.force, is_dir=True, name="out")
    refuse_existing(out, REPORT_FILES, patterns=["counterexamples/*.json"], force=args.force)
    fig_dir = Path(args.figures) if args.figures else Path("docs/figures")
    if args.figures and not fig_dir.is_dir():
        raise BNVerifyError(f"figures: not a directory: {fig_dir}")
    if args.source:
        doc = load_results(args.source)
    else:
        from ..scheduling import check_scheduler

        ids = resolve_ids(args.ids)
        scheduler = check_scheduler(args.scheduler)  # unreachable: one line, before any work
        doc = run_checks(
            ids, args.profile, args.seed, progress=not args.no_progress and sys.stderr.isatty(),
            workers=args.workers, scheduler=scheduler,
        )
    paths = write_report(doc, out, fig_dir)
    print(f"wrote {paths['html']}, {paths['markdown']}, {paths['json']}")
    return 0


def load_results(source: str) -> dict:
    """Read a saved ``bnverify check --json`` document; one-line errors for anything else
    (missing, unreadable, binary, not JSON, nested too deeply, wrong structure)."""
    from ..report import validate_results

    src = check_input_file(source, "from")
    try:
        text = src.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise BNVerifyError(f"from: cannot read {src}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BNVerifyError(f"from: {src} is not a UTF-8 text file (binary data?)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BNVerifyError(f"from: {src} is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise BNVerifyError(f"from: {src} is nested too deeply") from None
    except ValueError as exc:  # an integer literal beyond Python's digit limit
        raise BNVerifyError(f"from: {src} is not valid JSON ({exc})") from None
    validate_results(doc, str(src))
    return doc
