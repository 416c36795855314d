"""The float64 trust estimate (issue 11): calibration against high-precision references, the
default `run` never printing a wrong number silently, and the one status vocabulary."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from bnverify.cli import main
from bnverify.dynamics import batched
from bnverify.dynamics.batched import run
from bnverify.dynamics.calibration import calibrate, calibration_set, from_config
from bnverify.dynamics.mp import run_mp
from bnverify.dynamics.solve import solve
from bnverify.model import OLSProblem

# Two configurations found by search (bnverify.dynamics.calibration, seed 7) on which float64 is
# wrong in the second significant digit after 2000 steps; 300 and 150 digits agree on the truth.
DIAG_BAD = {
    "H_diag": [1.0288279128180071, 10.271569405877012, 102.54886822691772, 1023.8231334546319,
               10221.602897434213],
    "u": [-1.8354492891909227, 1.861202786911729, -0.32025903213099666, 0.24393336794842915,
          -0.0310495089807992],
    "w0": [0.15996175700726273, 0.04968647937437248, 1.9082170392026987, -1.0389265909571472,
           -1.557462106098177],
    "a0": 3.9780761348300535, "eps_a": 0.009862929240401944, "eps": 0.19684998322236055,
    "steps": 2000,
}
ROT_BAD = {
    "H": [[91.62149650362743, 46.41434505349545, 104.69500501216815, 208.93403381768377],
          [46.41434505349545, 72.37958607832306, 16.353208474578807, 27.063983835691303],
          [104.69500501216815, 16.353208474578807, 150.94665554991232, 302.0118254540781],
          [208.93403381768377, 27.063983835691303, 302.0118254540781, 646.458833715391]],
    "u": [-0.7622552815679994, 1.7786335355666851, 0.3185114087343339, 0.004118692634058828],
    "w0": [1.0560625611935577, 2.4527411254301583, 1.2965732775797387, 0.139415254770579],
    "a0": 0.01824296213776233, "eps_a": 0.31434734320182245, "eps": 0.008125004417423327,
    "steps": 2000,
}


@pytest.fixture(scope="module")
def calib():
    configs = calibration_set(36, seed=3, steps=1500, edge_fraction=0.8)
    configs += [from_config(DIAG_BAD, "edge"), from_config(ROT_BAD, "edge")]
    return configs, calibrate(configs, ref_dps=300)


def test_calibration_zero_false_trust(calib):
    _, rows = calib
    assert len(rows) >= 30
    assert sum(r["kind"] == "edge" for r in rows) >= 20
    # the set has teeth: some configurations lost digits in float64
    assert sum(r["ref_ok"] and r["actual"] < 8 for r in rows) >= 2, rows
    bad = [r for r in rows if r["false_trust"]]
    assert not bad, bad
    # every trusted result is right to min_digits - 1 digits at least
    for r in rows:
        if r["trusted"] and r["ref_ok"] and r["status"] != "diverged":
            assert r["actual"] >= 7, r


def test_calibration_detects_an_overconfident_estimate(calib, monkeypatch):
    """A deliberately wrong estimator (safety factor 1e-9: claims ~9 digits too many) is caught."""
    configs, _ = calib
    monkeypatch.setattr(batched, "TRUST_SAFETY", 1e-9)
    rows = calibrate(configs, ref_dps=300)
    assert sum(r["false_trust"] for r in rows) >= 1


def test_main_copy_unchanged_by_trust():
    p = OLSProblem(np.array(DIAG_BAD["H_diag"]), DIAG_BAD["u"])
    kw = {k: DIAG_BAD[k] for k in ("a0", "eps_a", "eps", "w0")}
    for backend in ("numba", "numpy"):
        r0 = run(p, "bngd", steps=300, backend=backend, **kw)
        r1 = run(p, "bngd", steps=300, backend=backend, trust=True, **kw)
        assert np.array_equal(r0.w, r1.w) and np.array_equal(r0.loss, r1.loss)
        assert r1.digits is not None and r0.digits is None


@pytest.mark.parametrize("cfg", [DIAG_BAD, ROT_BAD], ids=["diagonal", "rotated"])
def test_float64_flagged_and_default_escalates(cfg, tmp_path, capsys):
    ref = run_mp(precision=150, **{k: v for k, v in cfg.items()})
    ref2 = run_mp(precision=300, **{k: v for k, v in cfg.items()})
    assert abs(ref.loss - ref2.loss) < mpmath.mpf(10) ** -15 * abs(ref2.loss)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg))
    # forced float64: wrong in the 2nd digit, and says so
    assert main(["run", "--config", str(path), "--precision", "float64", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert abs(out["loss"] - float(ref2.loss)) > 1e-3 * float(ref2.loss)  # float64 really is off
    assert out["trusted"] is False and out["digits"] < 8
    assert main(["run", "--config", str(path), "--precision", "float64"]) == 0
    assert "untrusted: about" in capsys.readouterr().out
    # default: escalates by itself and gives the true value
    assert main(["run", "--config", str(path), "--json", "--no-sensitivity"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["escalated"] is True and out["trusted"] is True and out["engine"] == "mp"
    assert abs(mpmath.mpf(out["loss"]) - ref2.loss) <= mpmath.mpf(10) ** -14 * abs(ref2.loss)
    assert main(["run", "--config", str(path), "--no-sensitivity"]) == 0
    text = capsys.readouterr().out
    assert "escalated to" in text


def test_trusted_float64_result_is_right():
    cfg = {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1, "eps_a": 1,
           "eps": 0.01, "steps": 300}
    sol = solve(cfg, precision="auto")
    assert sol.engine == "float64" and sol.trusted
    ref = run_mp(precision=60, **cfg)
    err = abs(mpmath.mpf(sol.loss) - ref.loss) / max(abs(ref.loss), mpmath.mpf(sol.loss_floor))
    assert err <= 10 * mpmath.mpf(10) ** -sol.digits


def test_json_fields_always_present(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"H_diag": [1, 2], "u": [1, 1], "w0": [1, 0], "a0": 1,
                                "eps_a": 0.5, "eps": 0.1, "steps": 20}))
    for prec in ("auto", "float64", "mp:30"):
        assert main(["run", "--config", str(path), "--precision", prec, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        for k in ("precision", "digits", "trusted", "input_sensitivity", "input_reading", "status"):
            assert k in out, (prec, k)
        assert isinstance(out["trusted"], bool)


def test_input_sensitivity_separates_problem_from_arithmetic():
    """At 300 digits the arithmetic is exact to many digits, yet DIAG_BAD moves by far more than
    one ulp under one-ulp input perturbations: the problem's own sensitivity, reported apart;
    a benign configuration does not."""
    sol = solve(DIAG_BAD, precision=300, min_digits=8)
    assert sol.trusted and sol.digits >= 15
    assert sol.input_sensitivity is not None and sol.input_sensitivity > 1e-6
    benign = {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "a0": 1, "eps_a": 1,
              "eps": 0.01, "steps": 300}
    sol = solve(benign, precision=60)
    assert sol.input_sensitivity is not None and sol.input_sensitivity < 1e-12


# ---------------------------------------------------------------------------------------------
# one status vocabulary
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        {"H_diag": [1, 10, 100], "u": [1, 1, 1], "w0": [1, 0, 0], "eps": 0.03, "method": "gd"},
        {"H_diag": [1, 10], "u": [1, 1], "w0": [1, 0], "eps": 0.1, "eps_a": 2.5, "a0": 1},
    ],
    ids=["gd-overflow", "eps_a-2.5"],
)
def test_divergence_same_step_in_every_engine(cfg):
    method = cfg.get("method", "bngd")
    kw = {k: v for k, v in cfg.items() if k not in ("method",)}
    p = OLSProblem(np.array(kw.pop("H_diag"), dtype=float), kw.pop("u"))
    r = run(p, method, steps=3000, **kw)
    m = run_mp(method=method, steps=3000, precision=30, **cfg_mp(cfg))
    assert r.status_name() == "diverged" == m.status
    assert int(r.diverged_step) == m.diverged_step
    sol = solve({**cfg, "a0": cfg.get("a0", 1), "eps_a": cfg.get("eps_a", 1)}, method=method,
                steps=3000)
    assert sol.status == "diverged" and sol.diverged_step == m.diverged_step
    assert sol.divergence_criterion and "2^1024" in sol.divergence_criterion


def cfg_mp(cfg):
    return {k: v for k, v in cfg.items() if k != "method"}


def test_max_steps_not_running():
    p = OLSProblem(np.array([1.0, 10.0]), [1.0, 1.0])
    r = run(p, "bngd", eps=0.001, w0=[1.0, 0.0], steps=5)
    m = run_mp(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps=0.001, steps=5, precision=30)
    assert r.status_name() == "max-steps" == m.status


def test_overflowing_symmetrisation_is_gone():
    """H_diag [1, 1e308, 1e308]: no overflow made by the tool (symmetrising used to give inf at
    step 1); float64 and 30 digits agree on the status and its step."""
    p = OLSProblem(np.array([1.0, 1e308, 1e308]), [1.0, 1.0, 1.0])
    assert np.isfinite(p.H).all() and p.is_diagonal
    dense = OLSProblem(np.diag([1.0, 1e308, 1e308]) + 0.0, [1.0, 1.0, 1.0])
    assert np.isfinite(dense.H).all()
    for w0, eps in (([1.0, 0.0, 0.0], 1e-3), ([1.0, 0.0, 0.0], 1e-310)):
        r = run(p, "bngd", eps=eps, w0=w0, steps=10)
        m = run_mp(H_diag=[1.0, 1e308, 1e308], u=[1, 1, 1], w0=w0, eps=eps, steps=10,
                   precision=30)
        assert r.status_name() == m.status
        assert (int(r.diverged_step) if r.status_name() == "diverged" else None) == m.diverged_step
