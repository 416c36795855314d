"""``bnverify derive [IDS...] [--format md|tex|json] [--out PATH]``: the derivation report.

Runs the SymPy derivations (``@derivation`` in the section modules of ``proofs/``) (general dimension d, exact d = 1..4 and
50-digit numeric cross-checks) and renders them.  Unknown claim IDs, or IDs without a symbolic
derivation, are an error (exit 2).  The output is deterministic: ``bnverify derive --format md``
regenerates the committed ``docs/derivations.md`` byte for byte.
"""

from __future__ import annotations

import argparse
import sys

from ..safeio import atomic_write_text, check_output_path
from ._types import seed_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "derive",
        help="symbolic derivations (SymPy, general d) compared with the paper's formulas",
        description="Derive the paper's closed forms with SymPy for general dimension d, "
        "cross-check them exactly (d = 1..4) and at 50 digits, and compare with the printed "
        "formulas.  Default: all derivations, Markdown, to standard output.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (default: all derived claims)")
    p.add_argument(
        "--format", choices=("md", "tex", "json"), default="md", help="output format (default: md)"
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        help="write to PATH instead of standard output (its directory must exist)",
    )
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    p.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        help="seed of the numeric cross-check points (default 0, as in docs/)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..symbolic import derive, render

    if args.out:  # checked before the (slow) derivations; written atomically at the end
        check_output_path(args.out, force=args.force, name="out")
    records = derive(args.ids or None, seed=args.seed)
    text = render(records, args.format)
    if args.out:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0
