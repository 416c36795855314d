"""Reports: Markdown and self-contained HTML from a check document; HTML renders in Chromium."""

import json
import shutil
import subprocess

import pytest

from bnverify.claims import ClaimResult, Correction, MethodResult, to_jsonable
from bnverify.cli import main
from bnverify.report import render_html, render_markdown, write_report


def _doc():
    refuted = MethodResult(
        "refuted",
        "property",
        "strict inequality fails for d = 2, H = diag(1, 1)",
        counterexample={
            "H_diag": [1, 1],
            "u": [1, 0],
            "w0": [1, 1],
            "a0": 1,
            "eps_a": 1,
            "eps": 0.1,
        },
        correction=Correction("non-strict inequality", "verified", "60 examples"),
    )
    ok = MethodResult("verified", "symbolic", "difference simplifies to 0 <script>")
    claims = [ClaimResult("C-A.5", "refuted", [refuted]), ClaimResult("E25", "verified", [ok])]
    return {
        "bnverify": "test",
        "seed": 3,
        "profile": "quick",
        "elapsed_seconds": 1.0,
        "environment": {"python": "3.x", "cpu_count": 2},
        "summary": {"verified": 1, "refuted": 1, "inconclusive": 0, "not-encoded": 0},
        "claims": [to_jsonable(c.to_json()) for c in claims],
    }


def test_markdown_and_html_contain_verdicts_and_escape(tmp_path):
    doc = _doc()
    md = render_markdown(doc)
    assert "| [C-A.5](#claim-C-A-5) | refuted |" in md
    assert "Corrected statement (verified): non-strict inequality" in md
    page = render_html(doc)
    assert "<script>" not in page.split("<body>")[1]  # evidence text is escaped
    assert "&lt;script&gt;" in page
    paths = write_report(doc, tmp_path / "rep")
    cex = json.loads((tmp_path / "rep" / "counterexamples" / "C-A.5.json").read_text())
    assert cex["H_diag"] == [1, 1]
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")


def test_counterexample_file_replays(tmp_path, capsys):
    write_report(_doc(), tmp_path / "rep")
    code = main(
        [
            "run",
            "--config",
            str(tmp_path / "rep" / "counterexamples" / "C-A.5.json"),
            "--steps",
            "5",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 5


def test_report_from_saved_results_and_bad_input(tmp_path, capsys):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(_doc()))
    assert main(["report", "--from", str(src), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "report.html").is_file()
    assert main(["report", "--from", str(tmp_path / "missing.json")]) == 2
    assert "error: from: file not found" in capsys.readouterr().err


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(tmp_path):
    paths = write_report(_doc(), tmp_path / "rep")
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        paths["html"].as_uri(),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    assert 'id="summary"' in dom and "1 verified, 1 refuted" in dom
    assert "C-A.5" in dom and "non-strict inequality" in dom


def _sev_doc():
    from bnverify.commands.check import class_summary
    from bnverify.severity import severity_counts

    ref = MethodResult("refuted", "property", "fails at a repeated eigenvalue",
                       counterexample={"H_diag": [1, 1], "u": [1, 0]},
                       correction=Correction("with simple extremes", "verified", "25 examples"))
    ref2 = MethodResult("refuted", "property", "fails for every r < 0")
    skip = MethodResult("skipped", "experiment", "torch not installed: skipped (pip install x)")
    a = ClaimResult("C-A.5", "refuted", [ref], severity="degenerate",
                    severity_reason="fails only where an extreme eigenvalue is repeated",
                    severity_details={"computed": True})
    b = ClaimResult("P3.2-2", "refuted", [ref2], severity="substantive",
                    severity_reason="fails for every r < 0", severity_details={"computed": True})
    c = ClaimResult("F2", "skipped", [skip])
    claims = [to_jsonable(x.to_json()) for x in (a, b, c)]
    return {
        "bnverify": "test", "seed": 0, "profile": "quick", "elapsed_seconds": 1.0,
        "environment": {"python": "3.x", "cpu_count": 2},
        "summary": {"verified": 0, "refuted": 2, "inconclusive": 0, "skipped": 1,
                    "not-encoded": 0},
        "summary_by_class": class_summary(claims),
        "summary_by_severity": severity_counts(claims),
        "claims": claims,
    }


def test_reports_lead_with_substantive_and_count_severities():
    from bnverify.report import render_verdicts, validate_results

    doc = _sev_doc()
    validate_results(doc)
    v = render_verdicts(doc)
    assert "**3 claims: 0 verified, 2 refuted, 0 inconclusive, 1 skipped, 0 not encoded.**" in v
    assert "Refuted by severity: 1 substantive, 1 degenerate, 0 reading, 0 threshold." in v
    assert v.index("### substantive (1)") < v.index("### degenerate (1)")
    assert v.index("**P3.2-2**") < v.index("**C-A.5**")
    assert "| C-A.5 | " in v and "| degenerate |" in v
    md = render_markdown(doc)
    assert (md.index("### refuted: substantive") < md.index("### refuted: degenerate")
            < md.index("### skipped"))
    assert "Severity (degenerate): fails only where" in md
    page = render_html(doc)
    assert 'id="by-severity"' in page and "severity: degenerate" in page


def test_validate_severity_and_old_documents():
    from bnverify.errors import BNVerifyError
    from bnverify.report import validate_results

    old = _doc()  # written before 'skipped' and severities existed
    validate_results(old)
    bad = _sev_doc()
    bad["claims"][0]["severity"] = "fatal"
    with pytest.raises(BNVerifyError, match="severity"):
        validate_results(bad)
