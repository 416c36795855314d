"""Command line: argument parsing and exit codes only.

Each subcommand lives in ``bnverify/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int``.  Exit status: 0 when the job completed
(a refuted claim is a finding, not an error), 1 for ``--strict`` refutations and internal errors,
2 for bad input (one line ``error: ...`` on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .errors import BNVerifyError

COMMANDS = ("run", "replay", "check", "derive", "figure", "nets", "report")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"error: {' '.join(message.split())} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bnverify",
        description="Check every claim of 'On the Convergence and Robustness of Batch "
        "Normalization' symbolically and numerically.",
    )
    parser.add_argument("--version", action="version", version=f"bnverify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"bnverify.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bnverify.commands.{name}":
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BNVerifyError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("BNVERIFY_DEBUG"):
            raise
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())
        sys.stderr.write(f"internal error: {msg} (set BNVERIFY_DEBUG=1 for a traceback)\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
