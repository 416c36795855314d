"""The verdict table (rich): colours per verdict and severity on a terminal, none with NO_COLOR,
on a pipe or in ``--json -``; the same text whatever the colours."""

from __future__ import annotations

import io
import re

from bnverify.commands.check import format_table, print_table

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _doc():
    claims = [
        {"id": "P3.2-1", "verdict": "refuted", "evidence_class": "proof", "methods": ["symbolic"],
         "evidence": "[symbolic] a counterexample", "severity": "substantive",
         "severity_reason": "fails on an open set",
         "correction": {"statement": "the fixed law", "verdict": "verified"}},
        {"id": "S2.GD-step", "verdict": "verified", "evidence_class": "proof",
         "methods": ["property"], "evidence": "[property] no counterexample " + "x" * 300,
         "severity": None},
    ]
    return {"claims": claims, "profile": "quick", "seed": 0, "elapsed_seconds": 1.0,
            "summary": {"verified": 1, "refuted": 1, "inconclusive": 0, "skipped": 0,
                        "not-encoded": 0}}


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_plain_text_keeps_markup_like_evidence_and_cuts_to_width():
    t = format_table(_doc(), width=100)
    assert "[symbolic] a counterexample" in t  # not eaten as rich markup
    assert "== refuted: substantive (1)" in t and "severity: fails on an open set" in t
    rows = t.split("\n\n")[0].splitlines()  # the table, above the counts and the legend
    assert len(rows) == 6 and all(len(line) <= 100 for line in rows)
    assert "evidence shortened" in t and "P3.2-1 corrected: the fixed law [verified]" in t
    assert not ANSI.search(t)


def test_colours_on_a_terminal_only(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")
    tty = Tty()
    print_table(_doc(), stream=tty)
    out = tty.getvalue()
    assert "\x1b[1;31mrefuted" in out  # refuted: bold red
    assert "\x1b[32mverified" in out  # verified: green
    pipe = io.StringIO()
    print_table(_doc(), stream=pipe)
    assert not ANSI.search(pipe.getvalue())
    # the text is the same, colours aside
    assert ANSI.sub("", out).split("legend")[0].split() == pipe.getvalue().split("legend")[0].split()


def test_no_color_is_respected(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    print_table(_doc(), stream=tty)
    codes = set(ANSI.findall(tty.getvalue()))
    assert not any(re.search(r"\[(?:[0-9;]*;)?3[0-9]m", c) for c in codes), codes
