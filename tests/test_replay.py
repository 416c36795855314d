"""``bnverify replay``: every counterexample file that ``check --counterexamples`` writes replays
(the claim's own check, re-evaluated on exactly that file, still refutes it), a file that does not
refute is reported as such, and anything else is one ``error:`` line with exit status 2."""

import json
from pathlib import Path

import pytest

from bnverify.cli import main
from bnverify.commands.replay import REPLAYERS
from bnverify.config import REQUIRED

# claims whose checks write a counterexample file at the quick profile, seed 0, and run in a few
# seconds; together they cover every file format (run configurations, with the P3.2 scaling in
# the comment, points of J at 50 digits, the exact symbolic scaling counterexample of L-A.9
# without torch); P3.5 and S3.insensitive (sweeps, ~7 s each) are in the slow test below
FAST = ["P3.2-1", "P3.2-2", "S3.norm-monotone", "A1.saddle-eigs", "E22-23", "S3.Hstar", "L-A.10",
        "L-A.23", "E74-80"]


def _check(ids, out: Path, capsys, *, torch: bool = True, monkeypatch=None) -> dict:
    if not torch:
        import bnverify.nets

        monkeypatch.setattr(bnverify.nets, "torch_available", lambda: False)
    doc_path = out.parent / f"{out.name}.json"
    argv = ["check", *ids, "--counterexamples", str(out), "--json", str(doc_path),
            "--no-progress", "--workers", "1"]
    assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    return json.loads(doc_path.read_text())


def _expected_files(doc: dict) -> set[str]:
    """The claims whose counterexample is a run configuration (what check writes as a file)."""
    return {c["id"] for c in doc["claims"] if c["verdict"] == "refuted"
            and isinstance(c["counterexample"], dict)
            and all(k in c["counterexample"] for k in REQUIRED)}


def _replay(argv, capsys):
    code = main(["replay", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _replay_all(out: Path, doc: dict, capsys) -> set[str]:
    files = sorted(out.glob("*.json"))
    names = {f.name.removesuffix(".json") for f in files}
    assert names == _expected_files(doc) and names  # every file written, and at least one
    for f in files:
        code, text, err = _replay([str(f), "--json"], capsys)
        assert code == 0, (f.name, err)
        rep = json.loads(text)
        assert rep["claim"] == f.name.removesuffix(".json")
        assert rep["refuted"], (f.name, rep["readings"])
        assert any(r["result"] == "fails" for r in rep["readings"])
    return names


def test_every_counterexample_file_of_check_replays(tmp_path, capsys, monkeypatch):
    doc = _check(FAST, tmp_path / "cex", capsys)
    assert _replay_all(tmp_path / "cex", doc, capsys) == set(FAST)
    # a default install (no torch): L-A.9 is refuted by its symbolic check, whose exact
    # counterexample (fields r, a1, ...) is not a run configuration but replays here
    doc = _check(["L-A.9"], tmp_path / "cex-no-torch", capsys, torch=False,
                 monkeypatch=monkeypatch)
    assert _replay_all(tmp_path / "cex-no-torch", doc, capsys) == {"L-A.9"}
    code, text, _ = _replay([str(tmp_path / "cex-no-torch" / "L-A.9.json")], capsys)
    assert code == 0 and "refuted: the counterexample still refutes L-A.9 as printed" in text


@pytest.mark.slow
def test_every_counterexample_file_of_a_full_check_replays(tmp_path, capsys, monkeypatch):
    """All claims, with and without torch: every file written replays, and every claim that
    writes one has a replayer."""
    doc = _check([], tmp_path / "cex", capsys)
    names = _replay_all(tmp_path / "cex", doc, capsys)
    doc = _check([], tmp_path / "cex-no-torch", capsys, torch=False, monkeypatch=monkeypatch)
    names |= _replay_all(tmp_path / "cex-no-torch", doc, capsys)
    assert names <= set(REPLAYERS)


def _write(tmp_path, name, body) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(body))
    return str(p)


CFG = {"H_diag": [1.0, 2.0], "u": [1.0, 1.0], "a0": 1.0, "w0": [1.0, 0.0], "eps_a": 1.0,
       "eps": 0.1}


@pytest.mark.parametrize("name, body, why", [
    # ||w_k|| strictly increases from a generic start: neither reading fails
    ("S3.norm-monotone.json", CFG, None),
    # r = 2 > 0: the scaled configuration is equivalent, one exact step agrees
    ("L-A.9.json", {"H": [[1]], "u": [1], "a0": 1, "w0": [1], "eps_a": 1, "eps": 1, "r": 2},
     None),
    # a0 = 2: the divergence statement's hypothesis a0 = 1 fails, the bound's eps_a < 2 too
    ("L-A.10.json", {**CFG, "u": [1.0, 1.0], "w0": [1.0, 1.0], "a0": 2.0, "eps_a": 3.0},
     "a0 != 1"),
    # a = 1/2: not a saddle, the statement about saddles does not apply
    ("A1.saddle-eigs.json", {**CFG, "H_diag": [1.0, 1.0], "a0": "0.5", "w0": ["1", "-1"]},
     "not a saddle"),
])
def test_a_file_that_does_not_refute_is_reported(tmp_path, capsys, name, body, why):
    code, text, err = _replay([_write(tmp_path, name, body), "--json"], capsys)
    assert code == 0, err
    rep = json.loads(text)
    assert not rep["refuted"]
    results = {r["result"] for r in rep["readings"]}
    assert "fails" not in results and results
    if why:
        assert any(why in r["note"] for r in rep["readings"] if r["result"] == "not-applicable")
    code, text, _ = _replay([_write(tmp_path, name, body)], capsys)
    assert code == 0 and "result     not refuted" in text


def test_a_refuting_file_written_by_hand_is_replayed(tmp_path, capsys):
    """L-A.10's divergence example as printed: eps_a = 3, a0 = 1, w0 = u = (0.6, 0.4), H =
    diag(1, 4): u^T H u = 1, so a_k stays at 1 (no divergence)."""
    body = {"H_diag": [1, 4], "u": ["0.6", "0.4"], "w0": ["0.6", "0.4"], "a0": 1, "eps_a": 3,
            "eps": 1}
    code, text, err = _replay([_write(tmp_path, "cex.json", body), "--claim", "L-A.10"], capsys)
    assert code == 0, err
    assert "[fails] eps_a > 2, a0 = 1, w0 = u" in text and "still refutes L-A.10" in text


@pytest.mark.parametrize("name, content, extra, msg", [
    ("missing.json", None, [], "not found"),
    ("L-A.10.json", "{", [], "not valid JSON"),
    ("L-A.10.json", "[1, 2]", [], "expected a JSON object"),
    ("cex.json", json.dumps(CFG), [], "no claim 'cex'"),
    ("cex.json", json.dumps(CFG), ["--claim", "S2.GD-step"], "has no counterexample file"),
    ("L-A.10.json", json.dumps({"r": -1, "a1": "1"}), [], "as a counterexample of L-A.10"),
    ("S3.insensitive.json", json.dumps(CFG), [], "'steps'"),
    ("P3.2-1.json", json.dumps(CFG), [], "does not give the scaling"),
    ("P3.2-1.json", json.dumps({**CFG, "comment": "scaling law: mu = 2, gamma = 1, r = 1, Q = "
                                "[['1', '0'], ['0', '1']]"}), [], "square of a positive"),
])
def test_bad_files_are_one_error_line(tmp_path, capsys, name, content, extra, msg):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, out, err = _replay([str(path), *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: replay") and err.count("\n") == 1 and msg in err, err


def test_binary_file_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "L-A.10.json"
    path.write_bytes(b"\x00\xff\xfe")
    code, _, err = _replay([str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a UTF-8 text file" in err


def test_theorem_a21_boundary_counterexample_replays_exactly(tmp_path, capsys):
    """T3.3-2's boundary counterexample (eps = 0) replays in exact rationals; moving w0 onto the
    line of u (where the limit is a minimiser) makes it not refute."""
    body = {"kind": "boundary", "theorem": "A.21", "method": "bngd", "H_diag": ["1", "2"],
            "u": ["1", "1"], "a0": "0", "w0": ["1", "0"], "eps": 0, "eps_a": 1}
    f = tmp_path / "T3.3-2.json"
    f.write_text(json.dumps(body))
    code, text, err = _replay([str(f), "--json"], capsys)
    assert code == 0, err
    rep = json.loads(text)
    assert rep["refuted"] and rep["readings"][0]["measured"]["J_limit"] == "1"
    f.write_text(json.dumps({**body, "w0": ["1", "1"]}))
    code, text, err = _replay([str(f), "--json"], capsys)
    assert code == 0 and not json.loads(text)["refuted"]
