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
