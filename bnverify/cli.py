"""Command line: argument parsing and exit codes only.

Each subcommand lives in ``bnverify/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int``.  Exit status: 0 when the job completed
(a refuted claim is a finding, not an error), 1 for ``--strict`` refutations and internal errors,
2 for bad input (one line ``error: ...`` on stderr, never a traceback), 130 after Ctrl-C (SIGINT)
and 143 after SIGTERM (129 after SIGHUP), with one line on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .errors import BNVerifyError, Terminated
from .safeio import ignoring_signals, install_signal_handlers, restore_signal_handlers

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


def _stop_message(text: str) -> None:
    """One line on stderr after an interrupt, on a fresh line if a progress bar was drawing."""
    from .progress import end_progress_line

    try:
        end_progress_line()
        sys.stderr.write(f"error: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or gone
        pass


def main(argv: list[str] | None = None) -> int:
    previous = install_signal_handlers()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        with ignoring_signals():
            _stop_message("interrupted")
        return 130
    except Terminated as exc:
        with ignoring_signals():
            _stop_message(str(exc))
        return exc.exit_code
    finally:
        restore_signal_handlers(previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BNVerifyError as exc:
        from .progress import end_progress_line

        end_progress_line()
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("BNVERIFY_DEBUG"):
            raise
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())
        sys.stderr.write(f"internal error: {msg} (set BNVERIFY_DEBUG=1 for a traceback)\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
