"""The command-line contract: exit codes, one-line errors (never a traceback), run --json."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bnverify import __version__
from bnverify.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1, "eps_a": 1, "eps": 0.01}


def _cfg(tmp_path, **over):
    cfg = dict(GOOD)
    cfg.update(over)
    for k in [k for k, v in over.items() if v is None]:
        cfg.pop(k)
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(cfg))
    return str(p)


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_on_every_command(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "run" in sub.choices and "check" in sub.choices
    for name in sub.choices:
        assert name in COMMANDS
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_run_json_contract_roundtrip(tmp_path, capsys):
    code, out, err = _run(["run", "--config", _cfg(tmp_path), "--json", "--history", "500"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    for key in (
        "status",
        "steps",
        "a",
        "w",
        "loss",
        "w_norm",
        "eff_step",
        "e_norm_H",
        "precision",
        "history",
        "bnverify",
    ):
        assert key in doc
    assert doc["status"] == "converged" and doc["steps"] == 1000
    assert doc["history"]["step"] == [0, 500, 1000]
    assert doc["history"]["loss"][-1] == pytest.approx(doc["loss"])
    assert doc["config"]["eps"] == 0.01


def test_run_mp_json_gives_decimal_strings(tmp_path, capsys):
    cfg = _cfg(tmp_path, eps="0.01", u=["1", "1/3", "1"])
    code, out, err = _run(
        ["run", "--config", cfg, "--precision", "mp:40", "--steps", "20", "--json"], capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["precision"] == 40 and isinstance(doc["loss"], str)
    assert len(doc["loss"].replace(".", "").lstrip("0")) >= 30
    # float64 and 40-digit runs agree to float precision on this well-conditioned case
    code, out2, _ = _run(["run", "--config", cfg, "--steps", "20", "--json"], capsys)
    assert float(doc["loss"]) == pytest.approx(json.loads(out2)["loss"], rel=1e-12)


def test_run_divergence_is_reported_with_exit_0(tmp_path, capsys):
    cfg = _cfg(tmp_path, eps=0.03, method="gd", steps=3000)
    code, out, err = _run(["run", "--config", cfg, "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "diverged" and doc["diverged_step"] > 0


@pytest.mark.parametrize(
    "over, msg",
    [
        (dict(H_diag=[1, -1, 2]), "error: H: not positive definite"),
        (dict(H_diag=None, H=[[1, 2, 0], [0, 1, 0], [0, 0, 1]]), "error: H: not symmetric"),
        (dict(H_diag=None, H=[[1, 0], [0, 1]]), "error: u: length 3"),
        (dict(u=[1, 1]), "error: u: length 2"),
        (dict(eps=0), "error: eps: step size must be > 0"),
        (dict(eps=-1), "error: eps: step size must be > 0"),
        (dict(eps="nan"), "error: eps: must be finite"),
        (dict(eps_a=-0.1), "error: eps_a: step size must be >= 0"),
        (dict(w0=[0, 0, 0]), "error: w0: must be nonzero"),
        (dict(w0=[1, 0]), "error: w0: length 2"),
        (dict(a0="abc"), "error: a0: cannot read"),
        (dict(u=None), "error: config: missing field(s) u"),
        (dict(bogus=1), "error: config: unknown field(s) bogus"),
        (dict(method="adam"), "error: method: unknown method"),
    ],
)
def test_run_validation_errors(tmp_path, capsys, over, msg):
    code, out, err = _run(["run", "--config", _cfg(tmp_path, **over)], capsys)
    assert code == 2
    assert err.startswith(msg), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_run_missing_or_bad_file(tmp_path, capsys):
    code, _, err = _run(["run", "--config", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and err.startswith("error: config: file not found")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = _run(["run", "--config", str(bad)], capsys)
    assert code == 2 and "not valid JSON" in err


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["run", "--config", "x.json", "--precision", "mp:abc"], "invalid precision"),
        (["run", "--config", "x.json", "--steps", "-3"], "non-negative integer"),
        (["run", "--config", "x.json", "--history", "0"], "positive integer"),
        (["check", "NOPE"], "unknown claim ID(s): NOPE"),
        (["check", "--profile", "slow"], "invalid choice"),
        (["--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_flags_one_line_exit_2(capsys, argv, msg):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert msg in err and err.startswith("error:") and err.count("\n") == 1


def test_check_json_contract(tmp_path, capsys):
    out = tmp_path / "r.json"
    code, stdout, err = _run(["check", "S2.GD-opt", "--json", str(out), "--no-progress"], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["bnverify"] == __version__ and doc["seed"] == 0 and doc["profile"] == "quick"
    (claim,) = doc["claims"]
    assert set(claim) >= {"id", "verdict", "methods", "evidence", "counterexample", "correction"}
    assert claim["id"] == "S2.GD-opt"
    assert claim["verdict"] in ("verified", "refuted", "inconclusive", "not-encoded")
    assert "S2.GD-opt" in stdout


def test_subprocess_has_no_traceback(tmp_path):
    cfg = _cfg(tmp_path, H_diag=[1, 0, 2])
    p = subprocess.run(
        [sys.executable, "-m", "bnverify", "run", "--config", cfg],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 2
    assert p.stderr.startswith("error: H: not positive definite") and "Traceback" not in p.stderr
