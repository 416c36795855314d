"""argparse value types shared by the subcommands (errors become one-line `error:` messages).

Every integer type is range-checked, so that a value no engine can use (``--steps`` with 31
digits, a seed beyond int64) is refused by the parser, before any work, instead of failing deep
inside numba or numpy.  Integers are read in base 10 only; ``_`` separators, signs on zero and
surrounding blanks are accepted as Python's ``int()`` accepts them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..config import MAX_SEED, MAX_STEPS

#: the largest integer any flag accepts unless it says otherwise (fits an int64)
MAX_INT = 2**63 - 1
#: most worker processes ``--jobs`` accepts
MAX_JOBS = 256


def _parse_int(text: str) -> int | None:
    if len(text) > 40:  # longer than any accepted value; also avoids int()'s digit-limit error
        return None
    try:
        return int(text, 10)
    except ValueError:
        return None


def int_in_range(lo: int, hi: int, what: str = "an integer") -> Callable[[str], int]:
    """An argparse type accepting base-10 integers in ``[lo, hi]``.

    >>> int_in_range(1, 5)("3")
    3
    """

    def parse(text: str) -> int:
        v = _parse_int(text)
        if v is None or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(
                f"expected {what} (from {lo} to {hi}), got {text[:50]!r}"
            )
        return v

    parse.__name__ = f"int[{lo},{hi}]"  # argparse names the type in some messages
    return parse


def nonneg_int(text: str) -> int:
    """An integer in ``[0, MAX_INT]``."""
    v = _parse_int(text)
    if v is None or v < 0 or v > MAX_INT:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer (at most {MAX_INT}), got {text[:50]!r}"
        )
    return v


def positive_int(text: str) -> int:
    """An integer in ``[1, MAX_INT]``."""
    v = _parse_int(text)
    if v is None or v < 1 or v > MAX_INT:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer (at most {MAX_INT}), got {text[:50]!r}"
        )
    return v


#: ``--steps``: an integer in ``[0, MAX_STEPS]`` (the same bound as a configuration's ``steps``)
steps_int = int_in_range(0, MAX_STEPS, "a non-negative integer number of steps")
#: ``--seed``: an integer in ``[0, MAX_SEED]``
seed_int = int_in_range(0, MAX_SEED, "a non-negative integer seed")
#: ``--jobs``: an integer in ``[1, MAX_JOBS]``
jobs_int = int_in_range(1, MAX_JOBS, "a positive integer number of worker processes")
