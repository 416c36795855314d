"""The public Python API (bnverify.check / run / derive / figure): the same data as the command
line, bad input as BNVerifyError, HTML for notebooks, no torch import."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import numpy as np
import pytest

import bnverify
from bnverify import api
from bnverify.cli import main


def test_doctests():
    failed, tried = doctest.testmod(api, optionflags=doctest.ELLIPSIS)
    assert tried >= 4 and failed == 0


def test_run_matches_the_command_line(tmp_path, capsys):
    cfg = {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1, "eps_a": 1,
           "eps": 0.01, "steps": 200}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg))
    assert main(["run", "--config", str(path), "--json", "--no-sensitivity"]) == 0
    cli = json.loads(capsys.readouterr().out)
    sol = bnverify.run(cfg, sensitivity=False)
    assert sol.loss == cli["loss"] and sol.status == cli["status"] and sol.digits == cli["digits"]
    assert bnverify.run(str(path), sensitivity=False).loss == sol.loss
    p = bnverify.OLSProblem(np.array([1.0, 10.0, 100.0]), np.ones(3))
    s2 = bnverify.run({"problem": p, "w0": np.array([1.0, 0, 0]), "a0": 1, "eps_a": 1,
                       "eps": 0.01, "steps": 200}, sensitivity=False)
    assert s2.loss == sol.loss
    assert "<table>" in sol._repr_html_()


def test_bad_input_is_a_bnverify_error():
    with pytest.raises(bnverify.BNVerifyError):
        bnverify.run({"H_diag": [1, 2], "u": [1, 1], "w0": [1, 0], "a0": 1, "eps_a": 1,
                      "eps": True})
    with pytest.raises(bnverify.BNVerifyError):
        bnverify.check(["NOPE"])
    with pytest.raises(bnverify.BNVerifyError):
        bnverify.run(42)


def test_check_results_object():
    res = bnverify.check(["S2.GD-opt", "S2.GD-rate"], workers=1)
    assert res["S2.GD-opt"]["verdict"] == "verified"
    assert sum(res.summary.values()) == 2
    assert "S2.GD-rate" in res._repr_html_() and "CheckResults(2 claims" in repr(res)


def test_import_does_not_load_torch():
    code = "import bnverify, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
