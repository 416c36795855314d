"""Fuzz the command line's contract (issue 12, item 7).

Hypothesis generates malformed configurations (wrong types, booleans, huge integers, NaN
strings, deep nesting, wrong shapes, missing and unknown fields, negative and huge step counts)
and flags for ``bnverify run`` and ``bnverify check``, and calls ``bnverify.cli.main``
in-process.  The contract: exit 2 with exactly one ``error:`` line on stderr and nothing on
stdout, or exit 0 with a result on stdout and nothing on stderr; never a traceback, never an
``internal error``, never a hang.

Runs stay short: a valid step count is at most 50 (the default of 1000 is never left in place)
and high precision at most 60 digits.  ``check``'s claim checks are replaced by a stub that
returns at once: what is fuzzed is the parsing, validation and output handling around them (the
checks themselves have their own tests).  Reproducible: ``derandomize=True``, no example
database, a fixed number of examples.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bnverify.catalogue import IDS
from bnverify.cli import main

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

FIELDS = ("H", "H_diag", "u", "w0", "a0", "eps_a", "eps", "noise", "steps", "seed", "method")
DEEP = "__bnverify_fuzz_deep_{}__"

# ----------------------------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------------------------

good_numbers = st.one_of(
    st.integers(-3, 3),
    st.floats(-4, 4, allow_nan=False),
    st.sampled_from(["0.5", "1/3", "-2/7", " 1 ", "1e-2", "3"]),
)
bad_scalars = st.one_of(
    st.booleans(),
    st.none(),
    st.just(math.nan),
    st.just(math.inf),
    st.integers(min_value=10**308 * 2, max_value=10**500),
    st.integers(max_value=-(10**309)),
    st.sampled_from(
        ["nan", "NaN", "inf", "-Infinity", "1/0", "abc", "", " ", "1e999999999", "0x10", "1,5",
         "1/3.5", "--1", "1e", "\x00", "9" * 20000]
    ),
    st.text(max_size=8),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
deep = st.integers(50, 200_000).map(lambda n: DEEP.format(n))
any_value = st.one_of(
    good_numbers,
    bad_scalars,
    deep,
    st.lists(good_numbers, max_size=4),
    st.lists(st.one_of(good_numbers, bad_scalars), max_size=4),
    st.lists(st.lists(good_numbers, max_size=4), max_size=4),
)
good_steps = st.integers(0, 50)
bad_steps = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=10**9 + 1),
    st.booleans(),
    st.floats(allow_nan=True),
    st.sampled_from(["10", "1e3", None]),
)


@st.composite
def configs(draw) -> dict:
    """A valid small configuration, then up to 3 mutations (many results stay valid)."""
    d = draw(st.integers(1, 3))
    diag = draw(st.lists(st.sampled_from([1, 2, 10, "5/2", 0.5]), min_size=d, max_size=d))
    cfg: dict = {
        "u": draw(st.lists(good_numbers, min_size=d, max_size=d)),
        "w0": [1] + [0] * (d - 1),
        "a0": draw(good_numbers),
        "eps_a": draw(st.sampled_from([0, 0.5, 1, "1/2"])),
        "eps": draw(st.sampled_from([0.01, 0.1, "1/100", 1e-3])),
        "steps": draw(good_steps),
    }
    if draw(st.booleans()):
        cfg["H_diag"] = diag
    else:
        cfg["H"] = [[diag[i] if i == j else 0 for j in range(d)] for i in range(d)]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["set", "delete", "unknown", "steps", "element", "length"]))
        if kind == "set":
            cfg[draw(st.sampled_from([f for f in FIELDS if f != "steps"]))] = draw(any_value)
        elif kind == "delete":
            key = draw(st.sampled_from(sorted(cfg)))
            if key != "steps":
                cfg.pop(key)
        elif kind == "unknown":
            cfg[draw(st.sampled_from(["a1", "bogus", "", "H ", "EPS"]))] = draw(any_value)
        elif kind == "steps":
            cfg["steps"] = draw(st.one_of(good_steps, bad_steps))
        elif kind == "element":
            key = draw(st.sampled_from(["u", "w0", "H_diag", "H"]))
            if isinstance(cfg.get(key), list) and cfg[key]:
                cfg[key] = list(cfg[key])
                cfg[key][draw(st.integers(0, len(cfg[key]) - 1))] = draw(any_value)
        else:
            key = draw(st.sampled_from(["u", "w0", "H_diag", "H"]))
            if isinstance(cfg.get(key), list):
                cfg[key] = cfg[key] + cfg[key][:1] if draw(st.booleans()) else cfg[key][:-1]
    if cfg.get("steps", 0) is None:
        cfg["steps"] = 0
    return cfg


def _dump(cfg) -> str:
    text = json.dumps(cfg, allow_nan=True)
    while "__bnverify_fuzz_deep_" in text:
        start = text.index('"__bnverify_fuzz_deep_')
        end = text.index('__"', start) + 3
        n = int(text[start + len('"__bnverify_fuzz_deep_'): end - 3])
        text = text[:start] + "[" * n + "]" * n + text[end:]
    return text


# ----------------------------------------------------------------------------------------------
# flags
# ----------------------------------------------------------------------------------------------


def _flag(name: str, values) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), values.map(lambda v: [name, v]))


int_texts = st.one_of(
    st.integers(-5, 60).map(str),
    st.integers(min_value=10**9, max_value=10**40).map(str),
    st.sampled_from(["", "x", "1.5", "1e3", "0x10", "9" * 5000, "-0", " 7", "٣"]),
)
run_flags = st.tuples(
    _flag("--method", st.sampled_from(["bngd", "gd", "mbngd", "adam", ""])),
    _flag("--steps", st.one_of(good_steps.map(str), int_texts.filter(
        lambda t: not (t.strip().lstrip("-").isdigit() and 50 < int(t) <= 10**9)))),
    _flag("--precision", st.sampled_from(
        ["float64", "auto", "mp:5", "mp:20", "mp:60", "mp:0", "mp:x", "mp:100001", "fp32", ""])),
    _flag("--digits", st.sampled_from(["1", "5", "15", "0", "-1", "x", "1000000", "9" * 40])),
    _flag("--history", st.one_of(st.integers(-2, 60).map(str), st.sampled_from(["x", "9" * 40]))),
    st.sampled_from([[], ["--json"]]),
)


def _contract(code, out: str, err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert err.startswith("error:") and err.count("\n") == 1, err
        assert out == "", out
    else:
        assert code == 0, (code, err)
        assert out.strip(), "exit 0 without a result"
        assert err == "", err


def _call(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit through the parser
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@FUZZ
@given(cfg=configs(), flags=run_flags)
def test_fuzz_run(cfg, flags, capsys):
    steps_flag = dict(zip(flags[1][::2], flags[1][1::2], strict=True)).get("--steps")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cfg.json"
        path.write_text(_dump(cfg))
        argv = ["run", "--config", str(path)] + [a for f in flags for a in f]
        code, out, err = _call(argv, capsys)
    event(f"exit {code}")
    _contract(code, out, err)
    if code == 0:
        if "--json" in argv:
            doc = json.loads(out)
            want = int(steps_flag) if steps_flag is not None else cfg["steps"]
            assert doc["steps"] == want
            assert doc["status"] in ("converged", "diverged", "max-steps", "running")


# ----------------------------------------------------------------------------------------------
# check
# ----------------------------------------------------------------------------------------------


def _stub_doc(ids, *args, **kwargs):
    claims = [
        {"id": cid, "verdict": "refuted", "methods": ["stub"], "evidence": "stub",
         "counterexample": {"H_diag": [1.0], "u": [1.0], "w0": [1.0], "a0": 1.0, "eps_a": 1.0,
                            "eps": 0.1},
         "correction": None, "where": "", "statement": "", "reading": "", "seconds": 0.0,
         "details": []}
        for cid in ids
    ]
    return {"bnverify": "stub", "seed": 0, "profile": "quick", "settings": {},
            "environment": {}, "elapsed_seconds": 0.0,
            "summary": {"verified": 0, "refuted": len(ids), "inconclusive": 0, "not-encoded": 0},
            "claims": claims}


PATHS = ("new.json", "existing.json", "dir", "missing/x.json", "/proc/x.json", "-", "")
check_flags = st.tuples(
    st.lists(st.one_of(st.sampled_from(IDS[:12]), st.sampled_from(["NOPE", "s2.gd-opt", "", "all"])),
             max_size=3),
    _flag("--profile", st.sampled_from(["quick", "thorough", "slow", ""])),
    _flag("--seed", int_texts),
    _flag("--jobs", int_texts),
    _flag("--json", st.sampled_from(PATHS)),
    _flag("--counterexamples", st.sampled_from(PATHS[:5] + ("newdir",))),
    st.sampled_from([[], ["--force"]]),
    st.sampled_from([[], ["--no-progress"]]),
)


@pytest.fixture
def stub_checks(monkeypatch):
    monkeypatch.setattr("bnverify.commands.check.run_checks", _stub_doc)


@FUZZ
@given(flags=check_flags)
def test_fuzz_check(flags, capsys, stub_checks):
    ids, *rest = flags
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "existing.json").write_text("keep")
        (t / "dir").mkdir()

        def where(a: str) -> str:
            return a if a in ("-", "") or a.startswith("/") else str(t / a)

        argv = ["check", *ids]
        for f in rest:
            if len(f) == 2 and f[0] in ("--json", "--counterexamples"):
                argv += [f[0], where(f[1])]
            else:
                argv += f
        code, out, err = _call(argv, capsys)
        event(f"exit {code}")
        assert "Traceback" not in err and "internal error" not in err, err
        if code == 2:
            assert err.startswith("error:") and err.count("\n") == 1, err
        else:
            assert code == 0, (code, err)
            assert err == ""
            assert out.strip()
        if "--force" not in argv:
            assert (t / "existing.json").read_text() == "keep"
        leftovers = [p.name for p in t.rglob(".*")]
        assert leftovers == [], leftovers  # no temporary or staging file left
