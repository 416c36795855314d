"""``bnverify figure ID``: regenerate a least-squares figure of the paper (Fig. 1, 5, 6, 7, 8).

Writes, for each panel, a PNG, the raw data (``.npz``) and a JSON summary of the quantified
findings into ``--out``.  See ``docs/figures.md`` for the files and what each finding means.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from ..errors import BNVerifyError
from ._types import nonneg_int


def _kappa(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (v == v and v != float("inf") and v >= 1):
        raise argparse.ArgumentTypeError(f"invalid condition number {text!r} (a number >= 1)")
    return v


def register(sub) -> None:
    p = sub.add_parser(
        "figure",
        help="regenerate a least-squares figure (1, 5, 6, 7, 8 or all)",
        description="Regenerate Fig. 1 (BNGD vs GD, Sec. 4.1) or Fig. 5-8 (MBNGD, App. B.2) from "
        "scratch: PNG, raw data (.npz) and a JSON summary of the quantified findings per panel.",
    )
    p.add_argument("id", metavar="ID", help="figure: 1, 5, 6, 7, 8 or all")
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--quick", action="store_true", help="reduced grids (seconds; for tests/CI)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of every random draw (0)")
    p.add_argument(
        "--kappa",
        type=_kappa,
        nargs="+",
        metavar="K",
        help="Fig. 1 condition numbers (default: 10 100 1000 10000)",
    )
    p.add_argument(
        "--u",
        metavar="FILE",
        dest="u_file",
        help="Fig. 1: read u (100 numbers: .npy, JSON list or text) instead of drawing it",
    )
    p.add_argument(
        "--mp-samples",
        type=nonneg_int,
        metavar="N",
        help="Fig. 1: cells per panel re-run with the mpmath engine (2; quick 1)",
    )
    p.add_argument("--prefix", default="", help="prefix of every file name (e.g. ols_)")
    p.add_argument("--no-npz", action="store_true", help="do not write the .npz data files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true", help="print the summaries as one JSON object")
    p.set_defaults(func=cmd_figure)


def cmd_figure(args) -> int:
    from ..claims import to_jsonable
    from ..experiments.figures import format_summary, make_figure

    if "/" in args.prefix or "\\" in args.prefix:
        raise BNVerifyError(f"prefix: must not contain a path separator, got {args.prefix!r}")
    command = (
        "bnverify figure " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if len(sys.argv) > 2 and sys.argv[1] == "figure"
        else ""
    )
    result = make_figure(
        args.id,
        args.out,
        quick=args.quick,
        seed=args.seed,
        kappas=args.kappa,
        u_file=args.u_file,
        progress=not args.no_progress,
        write_npz=not args.no_npz,
        prefix=args.prefix,
        mp_samples=args.mp_samples,
        command=command,
    )
    if args.json:
        slim = {
            k: {kk: vv for kk, vv in v.items() if kk not in ("panels", "per_point")}
            for k, v in result.items()
        }
        json.dump(to_jsonable(slim), sys.stdout)
        sys.stdout.write("\n")
    else:
        print(format_summary(result))
    return 0
