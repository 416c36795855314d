"""Bad input is refused before any work, with one `error:` line and exit status 2 (issue 12,
items 2 and 3): configuration values, flags, output paths; atomic writes; signal handling.

Every refusal is paired with a case that must be accepted, so that a check refusing everything
would fail too.  Where "before any work" matters, the work itself is replaced by a function that
fails the test if it is reached.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from bnverify.cli import main
from bnverify.commands import _types
from bnverify.config import MAX_STEPS, load_config, validate_config
from bnverify.errors import BNVerifyError, Terminated
from bnverify.safeio import (
    atomic_output,
    atomic_write_bytes,
    atomic_write_text,
    check_output_path,
    install_signal_handlers,
    refuse_existing,
    restore_signal_handlers,
    staged_dir,
)

GOOD = {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1, "eps_a": 1, "eps": 0.01}


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str, *fragments: str) -> None:
    assert err.startswith("error:"), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err
    for f in fragments:
        assert f in err, (f, err)


def _write_cfg(tmp_path: Path, text: str) -> str:
    p = tmp_path / "cfg.json"
    p.write_text(text)
    return str(p)


def _cfg(tmp_path: Path, **over) -> str:
    cfg = dict(GOOD)
    cfg.update(over)
    for k in [k for k, v in over.items() if v is None]:
        cfg.pop(k)
    return _write_cfg(tmp_path, json.dumps(cfg))


# ----------------------------------------------------------------------------------------------
# configuration values
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "over, fragment",
    [
        (dict(eps=True), "eps: expected a number, got a boolean"),
        (dict(eps_a=False), "eps_a: expected a number, got a boolean"),
        (dict(a0=True), "a0: expected a number, got a boolean"),
        (dict(steps=True), "steps: expected an integer"),
        (dict(seed=False), "seed: expected an integer"),
        (dict(noise=True), "noise: expected a number, got a boolean"),
        (dict(u=[1, True, 1]), "u: expected a number, got a boolean"),
        (dict(w0=[1, 0, False]), "w0: expected a number, got a boolean"),
        (dict(H_diag=[True, 10, 100]), "H_diag: expected a number, got a boolean"),
        (dict(H_diag=None, H=[[1, 0, 0], [0, True, 0], [0, 0, 1]]), "H: expected a number"),
    ],
)
def test_booleans_are_not_numbers(tmp_path, capsys, over, fragment):
    code, out, err = _run(["run", "--config", _cfg(tmp_path, **over), "--steps", "1"], capsys)
    assert code == 2 and out == ""
    _one_error_line(err, fragment)


def test_numbers_and_numeric_strings_are_accepted(tmp_path, capsys):
    """The counterpart: numbers, decimal and rational strings, ints as floats pass."""
    ok = dict(eps="0.01", eps_a="1/2", a0=1.0, u=["1", "1/3", 1], steps=3, seed=0, noise=0)
    validate_config({**GOOD, **ok})
    code, out, err = _run(["run", "--config", _cfg(tmp_path, **ok), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["steps"] == 3


def test_huge_integer_is_one_line(tmp_path, capsys):
    text = json.dumps(GOOD).replace('"a0": 1', '"a0": ' + "9" * 401)
    code, _, err = _run(["run", "--config", _write_cfg(tmp_path, text)], capsys)
    assert code == 2
    _one_error_line(err, "a0:", "401 digits", "out of range")
    # beyond Python's int-parsing limit (4300 digits): still one line
    text = json.dumps(GOOD).replace('"eps": 0.01', '"eps": ' + "1" * 5000)
    code, _, err = _run(["run", "--config", _write_cfg(tmp_path, text)], capsys)
    assert code == 2
    _one_error_line(err, "config:")
    # the largest float64 is accepted as a value (a0 may be any finite number)
    validate_config({**GOOD, "a0": "1.7976931348623157e308"})
    validate_config({**GOOD, "a0": 10**308})


@pytest.mark.parametrize("value", ["1e999999999", "-2e308", 2 * 10**308, 1e308 * 10])
def test_out_of_float64_range_is_refused(value):
    with pytest.raises(BNVerifyError, match="a0: .*(out of range|must be finite)"):
        validate_config({**GOOD, "a0": value})


def test_deep_nesting_is_one_line(tmp_path, capsys):
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps({**GOOD, "H_diag": None}).replace('"H_diag": null', f'"H": {deep}')
    code, _, err = _run(["run", "--config", _write_cfg(tmp_path, text)], capsys)
    assert code == 2
    _one_error_line(err, "nested too deeply")
    # in-memory configurations: a nested list where a number belongs, no recursion
    nested: list = [1.0]
    for _ in range(100_000):
        nested = [nested]
    cfg = {k: v for k, v in GOOD.items() if k != "H_diag"}
    cfg["H"] = [[nested, 0, 0], [0, 1, 0], [0, 0, 1]]
    with pytest.raises(BNVerifyError, match="H: expected a number, got a nested list"):
        validate_config(cfg)


@pytest.mark.parametrize(
    "over, fragment",
    [
        (dict(eps="nan"), "eps: must be finite"),
        (dict(eps="Infinity"), "eps: must be finite"),
        (dict(u=[1, "nan", 1]), "u: contains NaN or infinite values"),
        (dict(eps="1/0"), "eps: zero denominator"),
        (dict(eps="0x10"), "eps: cannot read"),
        (dict(eps="1/3.5"), "eps: cannot read"),
        (dict(eps=[0.1]), "eps: expected a number, got list"),
        (dict(u=[1, 1]), "u: length 2 does not match"),
        (dict(u=[[1], [1], [1]]), "u: expected a number, got a nested list"),
        (dict(u=[]), "u: must have at least one entry"),
        (dict(u=1), "u: expected a list of numbers"),
        (dict(H_diag=None, H=[[1, 0], [0, 1, 2]]), "H: must be a square matrix"),
        (dict(H_diag=None, H=[1, 2, 3]), "H: must be a square nested list"),
        (dict(H_diag=None, H=[]), "H: must be a non-empty square matrix"),
        (dict(H=[[1]]), "exactly one of H"),
        (dict(steps=-1), "steps: must be an integer in [0, 1000000000]"),
        (dict(steps=MAX_STEPS + 1), "steps: must be an integer in [0, 1000000000]"),
        (dict(steps=10**30), "steps: must be an integer"),
        (dict(steps=5.0), "steps: expected an integer"),
        (dict(seed=-3), "seed: must be an integer"),
        (dict(noise=-1), "noise: must be >= 0"),
        (dict(eps="-1/3"), "eps: step size must be > 0"),
        (dict(method=1), "method: unknown method"),
        (dict(comment={"a": 1}), "comment: expected a string"),
        (dict(eps=None), "missing field(s) eps"),
        (dict(bogus=1), "unknown field(s) bogus"),
    ],
)
def test_config_refusals(over, fragment, tmp_path, capsys):
    cfg = {**GOOD, **over}
    for k in [k for k, v in over.items() if v is None]:
        cfg.pop(k)
    with pytest.raises(BNVerifyError) as info:
        validate_config(cfg)
    assert fragment in str(info.value)
    # and through the command line: one line, exit 2
    code, _, err = _run(["run", "--config", _write_cfg(tmp_path, json.dumps(cfg))], capsys)
    assert code == 2
    _one_error_line(err, fragment)


def test_steps_bound_itself_is_accepted():
    validate_config({**GOOD, "steps": MAX_STEPS})
    validate_config({**GOOD, "steps": 0, "seed": 2**63 - 1})


def test_binary_and_unreadable_config_files(tmp_path, capsys):
    p = tmp_path / "bin.json"
    p.write_bytes(bytes(range(256)))
    with pytest.raises(BNVerifyError, match="not a UTF-8 text file"):
        load_config(p)
    with pytest.raises(BNVerifyError, match="is a directory"):
        load_config(tmp_path)  # a directory
    good = tmp_path / "good.json"
    good.write_text("\ufeff" + json.dumps(GOOD))  # a BOM is fine
    assert load_config(good)["eps"] == 0.01


# ----------------------------------------------------------------------------------------------
# flags
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "--config", "x.json", "--steps", "1" + "0" * 30], "non-negative integer"),
        (["run", "--config", "x.json", "--history", "9" * 5000], "positive integer"),
        (["check", "--seed", "-1"], "non-negative integer seed"),
        (["check", "--seed", "1" + "0" * 30], "non-negative integer seed"),
        (["check", "--workers", "0"], "worker processes"),
        (["check", "--workers", "100000"], "worker processes"),
        (["check", "--jobs", "0"], "worker processes"),  # the option's old name
        (["figure", "1", "--out", "X", "--seed", "1e3"], "non-negative integer seed"),
        (["derive", "--seed", "-2"], "non-negative integer seed"),
        (["report", "--seed", "x"], "non-negative integer seed"),
    ],
)
def test_integer_flags_are_range_checked(argv, fragment, capsys):
    code, _, err = _run(argv, capsys)
    assert code == 2
    _one_error_line(err, fragment)


def test_integer_types():
    assert _types.steps_int(str(MAX_STEPS)) == MAX_STEPS and _types.steps_int("0") == 0
    for bad in (str(MAX_STEPS + 1), "-1", "1e3", "", "True", "9" * 100):
        with pytest.raises(Exception, match="number of steps"):
            _types.steps_int(bad)
    assert _types.nonneg_int(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(Exception, match="non-negative"):
        _types.nonneg_int(str(2**63))
    assert _types.positive_int("1") == 1 and _types.seed_int("7") == 7


# ----------------------------------------------------------------------------------------------
# output paths: checked before the work (the work is replaced by a tripwire)
# ----------------------------------------------------------------------------------------------


def _tiny_doc(ids=("S2.GD-opt",), refuted=False):
    claims = []
    for cid in ids:
        claims.append(
            {
                "id": cid,
                "verdict": "refuted" if refuted else "verified",
                "methods": ["exact"],
                "evidence": "tiny",
                "counterexample": dict(GOOD) if refuted else None,
                "correction": None,
                "where": "",
                "statement": "",
                "reading": "",
                "seconds": 0.0,
                "details": [],
            }
        )
    summary = {"verified": 0, "refuted": 0, "inconclusive": 0, "not-encoded": 0}
    summary["refuted" if refuted else "verified"] = len(claims)
    return {
        "bnverify": "0",
        "seed": 0,
        "profile": "quick",
        "settings": {},
        "environment": {},
        "elapsed_seconds": 0.0,
        "summary": summary,
        "claims": claims,
    }


@pytest.fixture
def tripwire(monkeypatch):
    """The checks fail the test if they start."""

    def boom(*a, **k):
        raise AssertionError("the work started before the outputs were checked")

    monkeypatch.setattr("bnverify.commands.check.run_checks", boom)
    return boom


@pytest.fixture
def fake_checks(monkeypatch):
    """The checks return at once (the contract of the outputs is what is tested)."""
    monkeypatch.setattr(
        "bnverify.commands.check.run_checks", lambda ids, *a, **k: _tiny_doc(ids, refuted=True)
    )


def test_check_json_refusals(tmp_path, capsys, tripwire):
    existing = tmp_path / "r.json"
    existing.write_text("keep")
    cases = [
        (existing, [], "exists (use --force"),
        (tmp_path, [], "is a directory"),
        (tmp_path / "missing" / "r.json", [], "does not exist"),
        (Path("/proc/version"), ["--force"], "under /proc"),
        (Path("/proc/self/r.json"), [], "under /proc"),
    ]
    ro = tmp_path / "ro.json"
    ro.write_text("keep")
    ro.chmod(0o444)
    cases.append((ro, ["--force"], "read-only"))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases.append((fifo, ["--force"], "not a regular file"))
    for path, extra, fragment in cases:
        code, _, err = _run(["check", "S2.GD-opt", "--json", str(path), *extra], capsys)
        assert code == 2, (path, err)
        _one_error_line(err, "json:", fragment)
    assert existing.read_text() == "keep" and ro.read_text() == "keep"
    assert not (tmp_path / "missing").exists()  # a missing directory is not created


def test_check_json_accepted_and_forced(tmp_path, capsys, fake_checks):
    out = tmp_path / "r.json"
    code, _, err = _run(["check", "S2.GD-opt", "--json", str(out)], capsys)
    assert code == 0, err
    assert json.loads(out.read_text())["claims"][0]["id"] == "S2.GD-opt"
    code, _, err = _run(["check", "S2.GD-opt", "--json", str(out)], capsys)
    assert code == 2
    _one_error_line(err, "exists")
    out.write_text("old")
    code, _, err = _run(["check", "S2.GD-opt", "--json", str(out), "--force"], capsys)
    assert code == 0, err
    assert json.loads(out.read_text())["summary"]["refuted"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temporary left


def test_check_counterexamples_dir(tmp_path, capsys, tripwire, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = _run(["check", "S2.GD-opt", "--counterexamples", str(afile)], capsys)
    assert code == 2
    _one_error_line(err, "counterexamples:", "not a directory")
    d = tmp_path / "cex"
    d.mkdir()
    (d / "S2.GD-opt.json").write_text("{}")
    code, _, err = _run(["check", "S2.GD-opt", "--counterexamples", str(d)], capsys)
    assert code == 2
    _one_error_line(err, "already holds S2.GD-opt.json", "--force")
    code, _, err = _run(["check", "S2.GD-opt", "--counterexamples", str(tmp_path / "a" / "b")],
                        capsys)
    assert code == 2
    _one_error_line(err, "does not exist")
    # accepted: a new directory (created), then an existing one with --force
    monkeypatch.setattr(
        "bnverify.commands.check.run_checks", lambda ids, *a, **k: _tiny_doc(ids, refuted=True)
    )
    new = tmp_path / "new"
    code, _, err = _run(["check", "S2.GD-opt", "--counterexamples", str(new)], capsys)
    assert code == 0, err
    assert json.loads((new / "S2.GD-opt.json").read_text())["eps"] == 0.01
    code, _, err = _run(["check", "S2.GD-opt", "--counterexamples", str(d), "--force"], capsys)
    assert code == 0, err
    assert json.loads((d / "S2.GD-opt.json").read_text())["H_diag"] == [1, 10, 100]


def test_report_out_and_from(tmp_path, capsys, tripwire):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = _run(["report", "--out", str(afile)], capsys)
    assert code == 2
    _one_error_line(err, "out:", "not a directory")
    binary = tmp_path / "results.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = _run(["report", "--from", str(binary), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    _one_error_line(err, "from:", "not a UTF-8 text file")
    deep = tmp_path / "deep.json"
    deep.write_text('{"claims": ' + "[" * 100_000 + "]" * 100_000 + ', "summary": {}}')
    code, _, err = _run(["report", "--from", str(deep), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    _one_error_line(err, "from:", "nested too deeply")
    bad = _tiny_doc()
    bad["claims"][0]["verdict"] = "maybe"
    badf = tmp_path / "bad.json"
    badf.write_text(json.dumps(bad))
    code, _, err = _run(["report", "--from", str(badf), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    _one_error_line(err, "unknown verdict 'maybe'")
    assert not (tmp_path / "o").exists()
    # accepted, then refused on the second run, then forced
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_tiny_doc(refuted=True)))
    code, out, err = _run(["report", "--from", str(good), "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert (tmp_path / "o" / "report.html").is_file()
    assert (tmp_path / "o" / "counterexamples" / "S2.GD-opt.json").is_file()
    code, _, err = _run(["report", "--from", str(good), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    _one_error_line(err, "already holds report.html")
    code, _, err = _run(["report", "--from", str(good), "--out", str(tmp_path / "o"), "--force"],
                        capsys)
    assert code == 0, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_derive_out(tmp_path, capsys, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("derivations started before the output was checked")

    monkeypatch.setattr("bnverify.symbolic.derive", boom)
    existing = tmp_path / "d.md"
    existing.write_text("keep")
    for path, fragment in [(existing, "exists"), (tmp_path, "is a directory"),
                           (tmp_path / "no" / "d.md", "does not exist")]:
        code, _, err = _run(["derive", "E25", "--out", str(path)], capsys)
        assert code == 2
        _one_error_line(err, "out:", fragment)
    assert existing.read_text() == "keep"


def test_figure_failure_leaves_no_directory(tmp_path, capsys):
    u = tmp_path / "u.json"
    u.write_text(json.dumps([True] * 100))
    out = tmp_path / "figs"
    code, _, err = _run(["figure", "1", "--quick", "--u", str(u), "--out", str(out)], capsys)
    assert code == 2
    _one_error_line(err, "u: expected a number, got a boolean")
    u.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = _run(["figure", "1", "--quick", "--u", str(u), "--out", str(out)], capsys)
    assert code == 2
    _one_error_line(err, "u:", "nested too deeply")
    u.write_bytes(b"\x93NUMPY\xff\xfe" * 10)
    code, _, err = _run(["figure", "1", "--quick", "--u", str(u), "--out", str(out)], capsys)
    assert code == 2
    _one_error_line(err, "u:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.json"]  # nothing created


def test_figure_existing_outputs(tmp_path, capsys, monkeypatch):
    (tmp_path / "fig8.png").write_text("old")
    (tmp_path / "fig5.png").write_text("other figure")
    code, _, err = _run(["figure", "8", "--quick", "--out", str(tmp_path), "--no-progress"],
                        capsys)
    assert code == 2
    _one_error_line(err, "already holds fig8.png", "--force")
    assert (tmp_path / "fig8.png").read_text() == "old"

    def fake(fig_id, out, **k):  # the figure machinery is tested elsewhere
        (Path(out) / "fig8.png").write_text("new")
        return {}

    monkeypatch.setattr("bnverify.experiments.figures.make_figure", fake)
    monkeypatch.setattr("bnverify.experiments.figures.format_summary", lambda r: "done")
    code, out, err = _run(["figure", "8", "--quick", "--out", str(tmp_path), "--force"], capsys)
    assert code == 0, err
    assert (tmp_path / "fig8.png").read_text() == "new"
    assert (tmp_path / "fig5.png").read_text() == "other figure"  # other files are kept
    # a prefix makes them different files: accepted without --force
    code, out, err = _run(["figure", "8", "--out", str(tmp_path), "--prefix", "x_"], capsys)
    assert code == 0, err


# ----------------------------------------------------------------------------------------------
# safeio helpers
# ----------------------------------------------------------------------------------------------


def test_check_output_path_rules(tmp_path):
    f = tmp_path / "f.txt"
    assert check_output_path(f, force=False) == f  # new file in an existing directory
    f.write_text("x")
    with pytest.raises(BNVerifyError, match="exists"):
        check_output_path(f, force=False)
    assert check_output_path(f, force=True) == f
    with pytest.raises(BNVerifyError, match="does not exist"):
        check_output_path(tmp_path / "a" / "b.txt", force=False)
    check_output_path(tmp_path / "a" / "b.txt", force=False, create_parents=True)
    with pytest.raises(BNVerifyError, match="not a directory"):
        check_output_path(f / "b.txt", force=False, create_parents=True)
    with pytest.raises(BNVerifyError, match="exists and is not a directory"):
        check_output_path(f, force=True, is_dir=True)
    check_output_path(tmp_path, force=False, is_dir=True)
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(BNVerifyError, match="dangling"):
        check_output_path(link, force=True)
    with pytest.raises(BNVerifyError, match="empty path"):
        check_output_path("", force=True)
    with pytest.raises(BNVerifyError, match="under /sys"):
        check_output_path("/sys/kernel/x", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "f.txt"]  # probes removed


def test_refuse_existing(tmp_path):
    refuse_existing(tmp_path, ["a.json"], force=False)
    (tmp_path / "a.json").write_text("")
    with pytest.raises(BNVerifyError, match="already holds a.json"):
        refuse_existing(tmp_path, ["a.json"], force=False)
    refuse_existing(tmp_path, ["a.json"], force=True)
    with pytest.raises(BNVerifyError, match="a.json"):
        refuse_existing(tmp_path, [], patterns=["a.*"], force=False)


def test_atomic_output_untouched_on_error_and_interrupt(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt(), Terminated(signal.SIGTERM)):
        with pytest.raises(type(exc)):
            with atomic_output(target) as fh:
                fh.write("half")
                raise exc
        assert target.read_text() == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert oct((tmp_path / "b.bin").stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's mode
    # a symbolic link is followed: its target is updated, the link stays
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_text(link, "via link")
    assert link.is_symlink() and target.read_text() == "via link"


def test_staged_dir(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with staged_dir(out) as tmp:
            (tmp / "a.txt").write_text("half")
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no out, no staging
    with staged_dir(out) as tmp:
        (tmp / "a.txt").write_text("1")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("2")
    assert (out / "a.txt").read_text() == "1" and (out / "sub" / "b.txt").read_text() == "2"
    (out / "keep.txt").write_text("k")
    with staged_dir(out) as tmp:
        (tmp / "a.txt").write_text("3")
    assert (out / "a.txt").read_text() == "3" and (out / "keep.txt").read_text() == "k"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ----------------------------------------------------------------------------------------------
# signals in process
# ----------------------------------------------------------------------------------------------


def test_sigterm_raises_terminated():
    prev = install_signal_handlers()
    try:
        with pytest.raises(Terminated) as info:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)  # the handler runs at the next bytecode
        assert info.value.exit_code == 143
    finally:
        restore_signal_handlers(prev)
    assert signal.getsignal(signal.SIGTERM) == prev.get(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize(
    "sig, code, message",
    [(signal.SIGTERM, 143, "error: terminated by SIGTERM\n"),
     (signal.SIGINT, 130, "error: interrupted\n")],
)
def test_main_exit_codes_on_signals(tmp_path, capsys, monkeypatch, sig, code, message):
    def work(*a, **k):
        os.kill(os.getpid(), sig)
        time.sleep(2)
        raise AssertionError("the signal did not stop the work")

    monkeypatch.setattr("bnverify.commands.check.run_checks", work)
    out = tmp_path / "r.json"
    rc, _, err = _run(["check", "S2.GD-opt", "--json", str(out)], capsys)
    assert rc == code
    assert err == message
    assert not out.exists()


def test_interrupt_message_starts_on_a_fresh_line():
    """A progress bar drawn with \\r is ended before `error: interrupted` (and only then)."""
    import io

    from bnverify.progress import ProgressBar, end_progress_line

    class Tty(io.StringIO):
        def isatty(self):
            return True

    s = Tty()
    bar = ProgressBar(4, "x", stream=s)
    bar.update()
    assert "\n" not in s.getvalue()  # a live bar redraws its one line
    end_progress_line()
    # rich ends the line (and shows the cursor again: ESC[?25h)
    assert s.getvalue().replace("\x1b[?25h", "").endswith("\n") and s.getvalue().count("\n") == 1
    end_progress_line()  # nothing more to end
    assert s.getvalue().count("\n") == 1
    bar.close()
    n = s.getvalue().count("\n")
    end_progress_line()
    assert s.getvalue().count("\n") == n  # a closed bar ended its own line
