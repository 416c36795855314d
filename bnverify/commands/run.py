"""``bnverify run``: one configuration through BNGD / GD / MBNGD, with a precision you can trust.

Precision (``--precision``, see :mod:`bnverify.dynamics.solve`): ``auto`` (default) runs float64
with its measured trust estimate and escalates by itself to high precision when fewer than
``--min-digits`` digits of the loss can be trusted, saying so in one line; ``float64`` forces
float64 (an untrusted result is flagged ``untrusted: about N correct digits``); ``mp:DIGITS``
forces the high-precision engine; ``certified`` runs the ball-arithmetic engine
(:mod:`bnverify.dynamics.certified`: enclosures guaranteed to contain the exact result on the inputs
as read, the working precision raised until the loss's ball certifies ``--min-digits``, default 15,
significant digits) and ``ball:BITS`` that engine at a fixed working precision.

JSON contract (``--json``): one object with ``status`` (``converged``, ``diverged`` or
``max-steps``), ``steps``, ``method``, ``a``, ``w``, ``loss``, ``w_norm``, ``eff_step``,
``e_norm_H``, ``diverged_step`` and ``divergence_criterion`` (when diverged), ``precision``
(``"float64"`` or the decimal digits used), ``engine``, ``digits`` (estimated or stable correct
significant digits of the loss), ``digits_detail`` (loss, a, eff_step), ``trusted`` (bool),
``min_digits``, ``escalated`` and ``escalation_note``, ``float64_digits`` (when escalated),
``input_reading``, ``input_sensitivity`` and its note, ``history`` (with ``--history``),
``bnverify`` (version) and ``config`` (the input echoed; a digest -- SHA-256 and shapes -- when
it holds more than ``ECHO_LIMIT`` numbers).  High-precision numbers are decimal strings.  The
certified engine adds ``a_rad``, ``loss_rad`` and ``radii`` (radii of the balls, decimal strings
rounded up; the numbers above are the balls' midpoints, decimal strings), ``status_certified``,
``status_note`` and ``bits_lost_per_step``; ``precision`` is then the working precision in bits,
``digits`` the certified significant digits of the loss, and ``status`` may be ``undecided``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import mpmath

from .. import __version__
from ..claims import to_jsonable
from ..config import load_config
from ..dynamics.batched import DEFAULT_MIN_DIGITS, HISTORY_FIELDS, check_memory
from ..errors import BNVerifyError
from ._types import positive_int, seed_int, steps_int

#: configurations with more numbers than this are echoed as a digest
ECHO_LIMIT = 1000


def _precision(text: str):
    if text in ("float64", "auto"):
        return text
    if text.startswith("mp:"):
        digits = int(text[3:]) if text[3:].isdigit() and len(text) < 12 else -1
        if 5 <= digits <= 100000:
            return digits
    if text == "certified":
        return text
    if text.startswith("ball:"):
        from ..dynamics.certified import MAX_BITS, MIN_BITS

        bits = int(text[5:]) if text[5:].isdigit() and len(text) < 12 else -1
        if MIN_BITS <= bits <= MAX_BITS:
            return f"ball:{bits}"
        raise argparse.ArgumentTypeError(
            f"invalid precision {text[:40]!r} (ball:BITS needs bits in [{MIN_BITS}, {MAX_BITS}])"
        )
    raise argparse.ArgumentTypeError(
        f"invalid precision {text[:40]!r} (auto, float64, mp:DIGITS, certified or ball:BITS)"
    )


def _min_digits(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 1 <= v <= 1000:  # above 15: only the certified engine (solve says so)
        raise argparse.ArgumentTypeError(f"expected a number of digits in [1, 1000], got {text[:40]!r}")
    return v


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run one configuration (BNGD, GD or MBNGD)",
        description="Run one configuration file through BNGD (Eq. 9-10), GD (Eq. 3) or MBNGD "
        "(Eq. 81).  By default float64 with a measured estimate of its correct digits, "
        "escalating to high precision by itself when too few can be trusted.",
    )
    p.add_argument("--config", required=True, help="JSON configuration (see docs/guide.md)")
    p.add_argument("--method", choices=("bngd", "gd", "mbngd"), help="default: config's or bngd")
    p.add_argument("--steps", type=steps_int, help="iterations (default: config's or 1000)")
    p.add_argument(
        "--precision",
        type=_precision,
        default="auto",
        help="auto (default: float64, escalated when untrusted), float64, mp:DIGITS, certified "
        "(ball arithmetic, bits raised until --min-digits are certified) or ball:BITS",
    )
    p.add_argument(
        "--min-digits",
        type=_min_digits,
        default=None,
        help=f"correct digits of the loss required before a result is trusted "
        f"({DEFAULT_MIN_DIGITS:g}; certified: 15)",
    )
    p.add_argument(
        "--history",
        type=positive_int,
        metavar="STRIDE",
        help="record the scalars every STRIDE steps",
    )
    p.add_argument(
        "--no-sensitivity",
        action="store_true",
        help="skip the input-sensitivity measurement (a few extra runs)",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the trust estimate (0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_run)


def _echo(cfg: dict) -> dict:
    n = 0
    for v in cfg.values():
        if isinstance(v, list):
            n += sum(len(r) if isinstance(r, list) else 1 for r in v)
    if n <= ECHO_LIMIT:
        return cfg
    text = json.dumps(cfg, sort_keys=True, default=str).encode()
    shapes = {}
    for k, v in cfg.items():
        if isinstance(v, list):
            shapes[k] = [len(v), len(v[0])] if v and isinstance(v[0], list) else [len(v)]
    return {"sha256": hashlib.sha256(text).hexdigest(), "shapes": shapes, "numbers": n,
            "note": f"configuration with more than {ECHO_LIMIT} numbers: digest only"}


def cmd_run(args) -> int:
    from ..dynamics.solve import solve

    cfg = load_config(args.config)
    method = args.method or cfg.get("method", "bngd")
    steps = args.steps if args.steps is not None else cfg.get("steps", 1000)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise BNVerifyError(f"steps: must be a non-negative integer, got {steps!r}")
    from ..config import MAX_STEPS

    if steps > MAX_STEPS:
        raise BNVerifyError(f"steps: at most {MAX_STEPS}, got {steps}")
    if args.history:
        check_memory(len(HISTORY_FIELDS) * (steps // args.history + 1) * 8 * 4, "history")
    sol = solve(
        cfg,
        method=method,
        steps=steps,
        precision=args.precision,
        min_digits=args.min_digits,
        history_stride=args.history,
        sensitivity=not args.no_sensitivity,
        seed=args.seed,
    )
    if sol.engine == "mp":

        def s(x):
            return None if x is None else mpmath.nstr(x, sol.precision, strip_zeros=False)
    elif sol.engine == "certified":
        from ..dynamics.certified import ball_digits, mid_str, rad_str

        dd = sol.digits_detail or {}

        def s(x, key=None):
            ball = sol.balls.get(key) if key else None
            if ball is not None:
                return mid_str(ball, dd.get(key, ball_digits(ball)))
            return None if x is None else mpmath.nstr(x, 20, strip_zeros=False)
    else:

        def s(x):
            return x

    out = {
        "bnverify": __version__,
        "method": method,
        "steps": steps,
        "status": sol.status,
        "diverged_step": sol.diverged_step,
        "divergence_criterion": sol.divergence_criterion,
        "a": s(sol.a, "a") if sol.engine == "certified" else s(sol.a),
        "w": [s(x) for x in sol.w],
        "loss": s(sol.loss, "loss") if sol.engine == "certified" else s(sol.loss),
        "w_norm": s(sol.w_norm, "w_norm") if sol.engine == "certified" else s(sol.w_norm),
        "eff_step": s(sol.eff_step, "eff_step") if sol.engine == "certified" else s(sol.eff_step),
        "e_norm_H": s(sol.e_norm_H, "e_norm_H") if sol.engine == "certified" else s(sol.e_norm_H),
        "precision": sol.precision,
        "engine": sol.engine,
        "backend": sol.backend,
        "digits": sol.digits,
        "digits_detail": sol.digits_detail,
        "trusted": sol.trusted,
        "min_digits": sol.min_digits,
        "escalated": sol.escalated,
        "escalation_note": sol.escalation_note,
        "float64_digits": sol.float64_digits,
        "loss_floor": sol.loss_floor,
        "input_reading": sol.input_reading,
        "input_sensitivity": sol.input_sensitivity,
        "input_sensitivity_note": sol.input_sensitivity_note,
        "seed": args.seed,
        "config": _echo(cfg),
    }
    if sol.engine == "certified":
        balls = sol.balls
        out["w"] = [mid_str(x, ball_digits(x)) for x in balls["w"]]
        out["a_rad"] = rad_str(balls["a"])
        out["loss_rad"] = rad_str(balls["loss"])
        out["radii"] = {k: rad_str(v) for k, v in balls.items() if k != "w"}
        out["status_certified"] = sol.status_certified
        out["status_note"] = sol.status_note
        out["bits_lost_per_step"] = sol.bits_lost_per_step
    if args.history:
        hist = {k: [s(x) for x in v] for k, v in sol.history.items()}
        hist["step"] = list(sol.history_steps)
        out["history"] = hist
    if args.json:
        json.dump(to_jsonable(out), sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_human(out)
    return 0


def _fmt(v) -> str:
    return v if isinstance(v, str) else format(v, ".10g")


def _print_human(out: dict) -> None:
    prec = out["precision"]
    prec_s = ("float64" if prec == "float64" else f"ball arithmetic, {prec} bits"
              if out["engine"] == "certified" else f"{prec} digits")
    lines = [f"method     {out['method']}   ({out['steps']} steps, {prec_s})"]
    if out["escalated"]:
        lines.append(f"precision  {out['escalation_note']}")
    elif out["escalation_note"]:
        lines.append(f"precision  {out['escalation_note']}")
    st = out["status"]
    if st == "diverged":
        st += f" at step {out['diverged_step']} ({out['divergence_criterion']})"
    lines.append(f"status     {st}")
    radii = out.get("radii") or {}
    # a high-precision run prints the digits it measured as stable, not its working digits
    # (--json keeps every digit, beside `digits`)
    shown = None
    if out["engine"] == "mp" and out["digits"] is not None and out["status"] != "diverged":
        shown = max(1, int(out["digits"]))
    for k in ("a", "loss", "w_norm", "eff_step", "e_norm_H"):
        v = out[k]
        if v is None:
            continue
        if shown is not None and isinstance(v, str):
            with mpmath.workdps(len(v) + 5):  # parse every digit before rounding to `shown`
                v = mpmath.nstr(mpmath.mpf(v), shown, strip_zeros=False)
        lines.append(f"{k:<10} {_fmt(v)}" + (f"  +/- {radii[k]}" if radii.get(k) else ""))
    if out.get("status_note"):
        lines.append(f"status     not certified: {out['status_note']}")
    dig = out["digits"]
    floor = out.get("loss_floor")
    loss = out["loss"]
    below = (
        floor is not None and out["status"] != "diverged" and abs(float(loss)) < floor
    )
    if out["status"] == "diverged" and out["trusted"] and out["engine"] == "certified":
        lines.append("digits     the enclosure certifies divergence at this step")
    elif out["status"] == "diverged" and out["trusted"]:
        lines.append("digits     every float64 copy diverges at this step")
    elif out["trusted"]:
        how = {"float64": "estimated", "certified": "certified by the enclosure"}.get(
            out["engine"], "stable across precisions")
        if below and out["engine"] == "float64":
            lines.append(
                f"digits     loss below float64's resolution {floor:.2g}: only its smallness is "
                f"certain (absolute error about {floor * 10 ** -dig:.1g}, {how})"
            )
        elif dig is not None:
            lines.append(f"digits     {dig:g} correct digits of the loss ({how})")
    else:
        n = 0 if dig is None else dig
        lines.append(
            f"untrusted: about {n:g} correct digits of the loss (fewer than {out['min_digits']:g})"
        )
    low = [k for k, v in (out["digits_detail"] or {}).items()
           if k != "loss" and v is not None and v < out["min_digits"]]
    if low and out["engine"] == "float64":
        lines.append(
            "note       " + ", ".join(f"{k} has about {out['digits_detail'][k]:g} correct digits" for k in low)
        )
    if out["input_sensitivity"] is not None:
        lines.append(
            f"inputs     one ulp changes the loss by {out['input_sensitivity']:.2g} (relative); "
            f"{out['input_sensitivity_note']}"
        )
    lines.append(f"reading    {out['input_reading']}")
    print("\n".join(lines))
