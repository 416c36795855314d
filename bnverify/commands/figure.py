"""``bnverify figure ID``: regenerate a least-squares figure of the paper (Fig. 1, 5, 6, 7, 8).

Writes, for each panel, a PNG, the raw data (``.npz``) and a JSON summary of the quantified
findings into ``--out``.  See ``docs/figures.md`` for the files and what each finding means.
"""

from __future__ import annotations

import argparse
import glob
import json
import shlex
import sys

from ..errors import BNVerifyError
from ..safeio import check_input_file, check_output_path, refuse_existing, staged_dir
from ._types import jobs_int, nonneg_int, seed_int


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
    p.add_argument(
        "--out",
        required=True,
        help="output directory (created if missing, its parent must exist)",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite this figure's files already in --out"
    )
    p.add_argument("--quick", action="store_true", help="reduced grids (seconds; for tests/CI)")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of every random draw (0)")
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
    p.add_argument(
        "--recompute-all",
        action="store_true",
        help="recompute every float64 cell the trust estimate flags at high precision (no "
        "budget; minutes) instead of a fixed number per panel, the rest hatched",
    )
    p.add_argument(
        "--workers",
        type=jobs_int,
        help="worker processes of the local Dask cluster for the high-precision recomputation "
        "(default: one per core; 1: in this process, no Dask)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the high-precision recomputation on the Dask cluster at ADDRESS (e.g. "
        "tcp://host:8786; default: $BNVERIFY_SCHEDULER, else local); results are identical",
    )
    p.add_argument("--prefix", default="", help="prefix of every file name (e.g. ols_)")
    p.add_argument("--no-npz", action="store_true", help="do not write the .npz data files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true", help="print the summaries as one JSON object")
    p.set_defaults(func=cmd_figure)


def _check_u_file(path: str, quick: bool) -> None:
    """Read and check ``--u`` before any work (the figure reads it again when it runs).

    Beyond :func:`bnverify.experiments.fig1.load_u`'s checks (size, finiteness, nonzero):
    booleans are not numbers, a JSON file nested too deeply or with integers beyond the float64
    range gives one line, binary files are refused."""
    import numpy as np

    from ..config import check_vector
    from ..experiments import fig1 as f1

    p = check_input_file(path, "u")
    if p.suffix == ".npy":
        try:
            raw = np.load(p, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise BNVerifyError(f"u: cannot read {p}: {' '.join(str(exc).split())}") from None
        if raw.dtype.kind not in "fiu":
            raise BNVerifyError(f"u: {p} holds {raw.dtype} data, expected numbers")
    else:
        try:
            text = p.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BNVerifyError(f"u: {p} is not a text file (.npy, JSON list or text)") from None
        try:
            raw = json.loads(text)
        except RecursionError:
            raise BNVerifyError(f"u: {p} is nested too deeply") from None
        except ValueError:  # not JSON: whitespace/comma separated text, read by load_u
            raw = None
        if isinstance(raw, dict):
            raw = raw.get("u", raw)
        if raw is not None and not isinstance(raw, dict):
            check_vector(raw, "u")
    d = (f1.Fig1Settings.quick() if quick else f1.Fig1Settings()).d
    try:
        f1.load_u(p, d)
    except (OverflowError, RecursionError) as exc:
        raise BNVerifyError(f"u: cannot read {p}: {type(exc).__name__}") from None


def _output_patterns(ids: list[str], prefix: str) -> list[str]:
    """Glob patterns of the files figure ``ids`` write (fig<ID>.png/.npz, fig<ID>_*.*)."""
    pre = glob.escape(prefix)
    return [pat for i in ids for pat in (f"{pre}fig{i}.*", f"{pre}fig{i}_*")]


def cmd_figure(args) -> int:
    from ..claims import to_jsonable
    from ..experiments.figures import format_summary, make_figure, normalise_id

    # every input and the output directory are checked before any work
    ids = normalise_id(args.id)
    if (args.kappa is not None or args.u_file is not None) and "1" not in ids:
        raise BNVerifyError("kappa/u: --kappa and --u apply to figure 1 only")
    if "/" in args.prefix or "\\" in args.prefix or "\0" in args.prefix:
        raise BNVerifyError(f"prefix: must not contain a path separator, got {args.prefix!r}")
    if args.u_file is not None:
        _check_u_file(args.u_file, args.quick)
    out = check_output_path(args.out, force=args.force, is_dir=True, name="out")
    refuse_existing(out, (), patterns=_output_patterns(ids, args.prefix), force=args.force)
    from ..scheduling import check_scheduler

    scheduler = check_scheduler(args.scheduler)  # an unreachable cluster: one line, no work
    command = (
        "bnverify figure " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if len(sys.argv) > 2 and sys.argv[1] == "figure"
        else ""
    )
    # the files are written into a temporary directory beside --out and moved into it at the
    # end: an error or an interrupt leaves --out as it was (no half-written file, and no empty
    # directory when --out did not exist)
    with staged_dir(out) as tmp:
        result = make_figure(
            args.id,
            tmp,
            quick=args.quick,
            seed=args.seed,
            kappas=args.kappa,
            u_file=args.u_file,
            progress=not args.no_progress,
            write_npz=not args.no_npz,
            prefix=args.prefix,
            mp_samples=args.mp_samples,
            command=command,
            recompute_all=args.recompute_all,
            jobs=args.workers,
            scheduler=scheduler,
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
