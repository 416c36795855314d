"""The symbolic derivations (``@derivation`` in the proofs/ section modules): verdict per claim ID, the exact d = 1..4 and
50-digit numeric cross-checks, the corrections, the committed report, the CLI and the link into
``bnverify check``."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

import pytest

from bnverify.claims import CheckContext, checks_for, run_claim
from bnverify.cli import main
from bnverify.symbolic import derive, render
from bnverify.symbolic.derivation import specs

ROOT = pathlib.Path(__file__).resolve().parents[2]

EXPECTED = {
    "S2.GD-step": "verified",
    "S2.GD-rate": "verified",
    "S2.GD-opt": "verified",
    "S2.BN-objective": "verified",
    "S2.trivial-saddles": "verified",
    "S2.minimizers": "verified",
    "S2.degenerate": "verified",
    "S2.strict": "verified",
    "P3.2-1": "refuted",  # u' = sqrt(mu) Q u (or sqrt(gamma mu) Q u) is wrong; Q vs Q^T
    "P3.2-2": "refuted",  # fails for r < 0 unless a0 -> -a0
    "L-A.9": "refuted",  # same, for a general loss
    "S3.eff-step": "verified",
    "S3.recurrence": "verified",
    "S3.Hstar": "refuted",  # diag(1, H*/||w*||^2) holds only for ||u|| = 1
    "S3.Hstar-psd": "verified",
    "E16": "refuted",  # equals eq. (7) only for noise-free data
    "E17-18": "verified",
    "E19-21": "verified",
    "A1.saddle-eigs": "refuted",  # d - 1 zero eigenvalues, not d - 2
    "E22-23": "refuted",  # the Hessian part, as S3.Hstar
    "E25": "verified",
    "E26": "verified",
    "E40": "verified",
    "E70": "verified",
    "E81": "verified",
}


@pytest.fixture(scope="module")
def records():
    return {r.id: r for r in derive()}


def test_every_listed_id_has_a_derivation():
    assert set(specs()) == set(EXPECTED)


@pytest.mark.parametrize("cid", sorted(EXPECTED))
def test_verdict_and_cross_checks(records, cid):
    rec = records[cid]
    assert rec.verdict == EXPECTED[cid], rec.evidence
    kinds = {ch.kind for ch in rec.checks}
    assert kinds == {"exact", "numeric"}, cid
    # exact d = 1..4 (d = 2..4 where d = 1 has no such point) and 50-digit numeric both pass
    assert all(ch.ok for ch in rec.checks), [ch.detail for ch in rec.checks if not ch.ok]
    assert any("d = 1..4" in ch.detail for ch in rec.checks if ch.kind == "exact")
    if rec.verdict == "refuted":
        assert rec.counterexample is not None and rec.counterexample_text
        assert rec.correction and rec.correction["verdict"] == "verified"
        assert any(not c.zero for c in rec.comparisons if c.role == "printed")
    else:
        assert all(c.zero for c in rec.comparisons if c.role == "printed")


def test_minimal_counterexamples(records):
    ce = records["A1.saddle-eigs"].counterexample
    assert ce["d"] == 2 and ce["actual_zero_multiplicity"] == 1
    assert records["P3.2-1"].counterexample["d"] == 1
    assert records["S3.Hstar"].counterexample["d"] == 2
    assert records["E16"].counterexample["J_eq7"] != records["E16"].counterexample["J_eq16"]


def test_committed_report_is_current(records):
    """Regenerating the Markdown report gives exactly docs/derivations.md."""
    committed = (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8")
    assert render(list(records.values()), "md") == committed


def test_json_and_tex_render(records):
    doc = json.loads(render(list(records.values()), "json"))
    assert set(doc["disagreements"]) == {k for k, v in EXPECTED.items() if v != "verified"}
    tex = render(list(records.values()), "tex")
    assert tex.startswith("\\documentclass") and tex.rstrip().endswith("\\end{document}")
    assert all(ord(ch) < 128 for ch in tex), "the .tex must be plain ASCII"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no LaTeX compiler installed")
def test_tex_compiles(records, tmp_path):
    (tmp_path / "d.tex").write_text(render(list(records.values()), "tex"))
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_cli_derive(tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["derive", "E17-18", "--format", "json", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [r["id"] for r in doc["records"]] == ["E17-18"]
    assert main(["derive", "E25"]) == 0
    assert "## E25" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["derive", "NOPE"],
        ["derive", "T3.3"],
        ["derive", "--out", "/nonexistent/dir/x.md"],
        ["derive", "--format", "pdf"],
    ],
)
def test_cli_derive_bad_input(argv, capsys):
    with pytest.raises(SystemExit) if "--format" in argv else _nullcontext():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bnverify_check_uses_the_symbolic_records():
    ctx = CheckContext(profile="quick", seed=0)
    assert any(c.method == "symbolic" for c in checks_for("E19-21"))
    res = run_claim("A1.saddle-eigs", ctx)
    sym = [r for r in res.results if r.method == "symbolic"][0]
    assert sym.verdict == "refuted"
    assert sym.correction is not None and sym.correction.verdict == "verified"
    assert sym.details["id"] == "A1.saddle-eigs"
