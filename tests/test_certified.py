"""The certified engine (issue 13 item 1): ball-arithmetic enclosures that contain the exact
result, honest statuses, and the ``run --precision certified`` / ``ball:BITS`` surface."""

from __future__ import annotations

import json

import pytest

flint = pytest.importorskip("flint")

from bnverify.cli import main  # noqa: E402
from bnverify.dynamics import certified  # noqa: E402
from bnverify.dynamics.batched import run  # noqa: E402
from bnverify.dynamics.calibration import calibration_set  # noqa: E402
from bnverify.dynamics.certified import run_certified  # noqa: E402
from bnverify.dynamics.mp import run_mp  # noqa: E402
from bnverify.dynamics.solve import solve  # noqa: E402
from bnverify.errors import BNVerifyError  # noqa: E402

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "bnverify" / "examples"
STEPS = 300
REF_DPS = 300
#: containment is checked up to the reference's own rounding: 10^-200 of the scale
REF_TOL = "1e-200"


def _ball(x):
    """An mpmath number as an (exact, wide-precision) ball."""
    with certified._prec(4096):
        return certified._read(x, "ref", [])


def _contained(r, ref) -> list[str]:
    """Which of the enclosures of ``r`` miss the 300-digit reference ``ref`` (empty: all hold).

    The reference is itself rounded (300 digits, less what the dynamics amplify), while an
    adaptive ball can be far tighter than that: each ball is widened by ``REF_TOL`` times the
    problem's scale before the test, i.e. containment is checked to 200 digits."""
    bad = []
    if r.status_certified and r.status != ref.status:
        bad.append(f"status {r.status} != {ref.status}")
    scale = 1 + abs(ref.a or 0) + ref.w_norm + ref.e_norm_H
    pairs = [("loss", r.loss, ref.loss, scale**2), ("w_norm", r.w_norm, ref.w_norm, scale)]
    if r.a is not None:
        pairs.append(("a", r.a, ref.a, scale))
    pairs += [(f"w[{i}]", x, y, scale) for i, (x, y) in enumerate(zip(r.w, ref.w, strict=True))]
    for name, ball, val, sc in pairs:
        with certified._prec(4096):
            tol = flint.arb(0, flint.arb(REF_TOL) * flint.arb(str(sc)))
            if not (ball + tol).contains(_ball(val)):
                bad.append(name)
    return bad


@pytest.fixture(scope="module")
def configs():
    cs = calibration_set(54, seed=11, steps=STEPS, edge_fraction=0.5)
    cs += calibration_set(6, seed=12, steps=STEPS, edge_fraction=0.5, method="mbngd")
    return cs


@pytest.fixture(scope="module")
def references(configs):
    return [run_mp(precision=REF_DPS, **c.mp_kwargs()) for c in configs]


def test_balls_contain_300_digit_results(configs, references):
    assert len(configs) >= 50
    assert sum(c.kind == "edge" for c in configs) >= 15
    misses = []
    for c, ref in zip(configs, references, strict=True):
        r = run_certified(precision="auto", **c.mp_kwargs())
        assert r.status_certified, (c, r.status_note)
        assert r.loss_digits is None or r.loss_digits >= 15, (c, r.attempts)
        bad = _contained(r, ref)
        if bad:
            misses.append((c, bad))
    assert not misses, misses


def test_fixed_precision_balls_contain_too(configs, references):
    """At a fixed, too-low precision the balls are wide (or whole-line), never wrong."""
    for c, ref in list(zip(configs, references, strict=True))[:12]:
        r = run_certified(precision=96, **c.mp_kwargs())
        assert not _contained(r, ref), c


def test_broken_enclosure_fails_containment(configs, references, monkeypatch):
    """The same containment test with the rounding radius dropped every step (balls collapsed
    to their midpoints: a plain 100-bit floating-point run that claims to be exact)."""
    monkeypatch.setattr(certified, "DROP_RADIUS", True)
    failed = 0
    for c, ref in list(zip(configs, references, strict=True))[:20]:
        r = run_certified(precision="auto", **c.mp_kwargs())
        failed += bool(_contained(r, ref))
    assert failed >= 15, failed


def test_status_vocabulary_agrees_with_other_engines():
    from bnverify.config import load_config, problem_from_config

    for name, want, step in (("gd_diverges.json", "diverged", 509),
                             ("bngd_diag.json", "converged", None)):
        cfg = load_config(EXAMPLES / name)
        sol = solve(cfg, precision="certified")
        assert sol.engine == "certified" and sol.status_certified
        assert sol.status == want and sol.diverged_step == step and sol.trusted
        kw = {k: cfg[k] for k in ("H_diag", "u", "w0", "a0", "eps_a", "eps")}
        m = cfg.get("method", "bngd")
        assert run_mp(method=m, steps=cfg["steps"], precision=40, **kw).status == want
        p, q = problem_from_config(cfg)
        assert run(p, m, steps=cfg["steps"], **q).status_name(()) == want
    # MBNGD and GD converge on the diagonal example too
    for m in ("gd", "mbngd"):
        cfg = load_config(EXAMPLES / "bngd_diag.json")
        assert solve(cfg, method=m, precision="certified").status == "converged"


def test_undecided_is_reported_not_guessed():
    cfg = json.loads((EXAMPLES / "bngd_diag.json").read_text())
    sol = solve(cfg, precision="ball:96")
    assert sol.status == "undecided" and sol.status_certified is False
    assert "lost every digit" in sol.status_note and not sol.trusted


def test_inputs_read_exactly_or_as_balls():
    r = run_certified(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps="0.1", eps_a="1/2", a0=1,
                      steps=5, precision=128)
    assert r.inexact_inputs == ["eps"]  # 1/2 is dyadic: exact
    assert "read as balls: eps" in r.input_reading
    r = run_certified(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps=0.1, steps=5, precision=128)
    assert r.inexact_inputs == [] and "every input here was read exactly" in r.input_reading
    # the double 0.1 and the decimal "0.1" are different problems: the balls say so
    r1 = run_certified(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps=0.1, steps=50)
    r2 = run_certified(H_diag=[1, 10], u=[1, 1], w0=[1, 0], eps="0.1", steps=50)
    assert not r1.loss.overlaps(r2.loss)
    with pytest.raises(BNVerifyError, match="not positive definite"):
        run_certified(H_diag=[1, -1], u=[1, 1], w0=[1, 0], eps=0.1, steps=5)
    with pytest.raises(BNVerifyError, match="not symmetric"):
        run_certified(H=[[2, 1], [0.5, 2]], u=[1, 1], w0=[1, 0], eps=0.1, steps=5)


def test_dense_matches_diagonal():
    kw = dict(u=[1, "1/3"], w0=[1, 2], eps="0.05", eps_a="0.5", a0=2, steps=200)
    rd = run_certified(H_diag=[1, 10], **kw)
    rh = run_certified(H=[[1, 0], [0, 10]], **kw)
    assert rd.loss.overlaps(rh.loss) and rd.a.overlaps(rh.a)
    assert rd.loss_digits >= 15 and rh.loss_digits >= 15


def test_cli_certified_json(capsys):
    rc = main(["run", "--config", str(EXAMPLES / "bngd_diag.json"), "--precision", "certified",
               "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"] == "certified" and doc["status"] == "converged"
    assert doc["status_certified"] is True and doc["trusted"] is True
    assert isinstance(doc["a"], str) and isinstance(doc["loss"], str)
    assert isinstance(doc["a_rad"], str) and isinstance(doc["loss_rad"], str)
    assert float(doc["loss_rad"]) <= 1e-15 * float(doc["loss"])
    assert doc["digits"] >= 15 and isinstance(doc["precision"], int)
    assert "exactly" in doc["input_reading"]
    rc = main(["run", "--config", str(EXAMPLES / "bngd_diag.json"), "--precision", "ball:512",
               "--steps", "50", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["precision"] == 512 and doc["status"] == "max-steps"


@pytest.mark.parametrize("flag", ["ball:0", "ball:abc", "ball:", "ball:63", "ball:10000000"])
def test_cli_bad_ball_flags(flag, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--config", str(EXAMPLES / "bngd_diag.json"), "--precision", flag])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "precision" in err[0]
