"""``bnverify run``: one configuration through BNGD / GD / MBNGD, float64 or high precision.

JSON contract (``--json``): one object with ``status``, ``steps``, ``method``, ``a``, ``w``,
``loss``, ``w_norm``, ``eff_step``, ``e_norm_H``, ``precision`` (``"float64"`` or the digits used),
``diverged_step``, ``history`` (when ``--history`` is given; every field a list, one entry every
STRIDE steps, with ``history["step"]``), ``bnverify`` (version) and ``config`` (the input echoed).
High-precision numbers are printed as decimal strings; non-finite floats as "nan"/"inf".
"""

from __future__ import annotations

import argparse
import json
import sys

import mpmath

from .. import __version__
from ..claims import to_jsonable
from ..config import load_config, problem_from_config
from ..errors import BNVerifyError
from ._types import nonneg_int, positive_int


def _precision(text: str):
    if text in ("float64", "auto"):
        return text
    if text.startswith("mp:"):
        try:
            digits = int(text[3:])
        except ValueError:
            digits = -1
        if 5 <= digits <= 100000:
            return digits
    raise argparse.ArgumentTypeError(f"invalid precision {text!r} (float64, mp:DIGITS or auto)")


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run one configuration (BNGD, GD or MBNGD)",
        description="Run one configuration file through BNGD (Eq. 9-10), GD (Eq. 3) or MBNGD "
        "(Eq. 81) in float64 or at high precision.",
    )
    p.add_argument("--config", required=True, help="JSON configuration (see docs/guide.md)")
    p.add_argument("--method", choices=("bngd", "gd", "mbngd"), help="default: config's or bngd")
    p.add_argument("--steps", type=nonneg_int, help="iterations (default: config's or 1000)")
    p.add_argument(
        "--precision",
        type=_precision,
        default="float64",
        help="float64 (default), mp:DIGITS, or auto",
    )
    p.add_argument(
        "--digits",
        type=positive_int,
        default=15,
        help="with --precision auto: significant digits that must be stable (15)",
    )
    p.add_argument(
        "--history",
        type=positive_int,
        metavar="STRIDE",
        help="record the scalars every STRIDE steps",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    cfg = load_config(args.config)
    method = args.method or cfg.get("method", "bngd")
    steps = args.steps if args.steps is not None else cfg.get("steps", 1000)
    if not isinstance(steps, int) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    out = {"bnverify": __version__, "method": method, "config": cfg}
    if args.precision == "float64":
        from ..dynamics.batched import run

        problem, params = problem_from_config(cfg)
        r = run(problem, method, steps=steps, history_stride=args.history, **params)
        out.update(
            status=r.status_name(()),
            steps=steps,
            diverged_step=int(r.diverged_step) if int(r.diverged_step) >= 0 else None,
            a=None if method == "gd" else float(r.a),
            w=r.w.tolist(),
            loss=float(r.loss),
            w_norm=float(r.w_norm),
            eff_step=float(r.eff_step),
            e_norm_H=float(r.e_norm_H),
            precision="float64",
            backend=r.backend,
        )
        if args.history:
            hist = {k: v.tolist() for k, v in r.history.items()}
            if method == "gd":
                hist.pop("a", None)
            hist["step"] = r.history_steps.tolist()
            out["history"] = hist
    else:
        from ..dynamics.mp import run_mp

        keys = ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise")
        r = run_mp(
            method=method,
            steps=steps,
            precision=args.precision,
            digits=args.digits,
            history_stride=args.history,
            **{k: cfg[k] for k in keys if k in cfg},
        )

        def s(x):
            return None if x is None else mpmath.nstr(x, r.dps, strip_zeros=False)

        out.update(
            status=r.status,
            steps=steps,
            diverged_step=r.diverged_step,
            a=s(r.a),
            w=[s(x) for x in r.w],
            loss=s(r.loss),
            w_norm=s(r.w_norm),
            eff_step=s(r.eff_step),
            e_norm_H=s(r.e_norm_H),
            precision=r.dps,
            backend=r.backend,
        )
        if args.precision == "auto":
            out["stable_digits"] = r.stable_digits
        if args.history:
            hist = {
                k: [s(x) for x in v] for k, v in r.history.items() if k != "a" or method != "gd"
            }
            hist["step"] = r.history_steps
            out["history"] = hist
    if args.json:
        json.dump(to_jsonable(out), sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_human(out)
    return 0


def _print_human(out: dict) -> None:
    prec = out["precision"]
    prec_s = "float64" if prec == "float64" else f"{prec} digits"
    lines = [
        f"method     {out['method']}   ({out['steps']} steps, {prec_s})",
        f"status     {out['status']}"
        + (f" (non-finite at step {out['diverged_step']})" if out["diverged_step"] else ""),
    ]
    for k in ("a", "loss", "w_norm", "eff_step", "e_norm_H"):
        v = out[k]
        if v is None:
            continue
        lines.append(f"{k:<10} {v if isinstance(v, str) else format(v, '.10g')}")
    if out.get("stable_digits") is not None or out["precision"] != "float64":
        if "stable_digits" in out:
            lines.append(f"stable     {out['stable_digits']} digits")
    print("\n".join(lines))
