"""F3.claims has one definition for every setup (bnverify.nets.f3claims), and the report puts
the paper / authors / authors-fixed numbers side by side (issue 18)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bnverify.nets.f3claims import comparison_markdown, f3_claims_parts, setup_rows


def _summary(gd_lr=1.0, bn_lr=10.0, sep_lr=1e3, w_gd=1.0, w_bn=2.0, w_sep=3.0,
             gd_unstable=True, bn_unstable=True):
    return {"gd": {"largest_stable_lr": gd_lr, "unstable_above": gd_unstable,
                   "near_optimal_width_decades": w_gd},
            "bngd": {"largest_stable_lr": bn_lr, "unstable_above": bn_unstable,
                     "near_optimal_width_decades": w_bn},
            "bngd_sep": {"largest_stable_lr": sep_lr, "unstable_above": False,
                         "near_optimal_width_decades": w_sep}}


@dataclass
class Panel:
    dataset: str
    net: str
    gain: float
    summary: dict = field(default_factory=_summary)

    def bn_gain(self):
        return self.gain


def test_parts_hold_and_each_can_fail():
    good = [Panel("mnist", "1fc-authors", 1.2), Panel("fashion", "2cnn2fc", 3.0)]
    parts = f3_claims_parts(good)
    assert len(parts) == 9 and all(parts.values())
    breaks = {
        "fashion:gd_has_max_rate": dict(gd_unstable=False),
        "fashion:bngd_has_max_rate": dict(bn_unstable=False),
        "fashion:sep_stable_much_larger": dict(sep_lr=50.0),  # 5x, not one decade
        "fashion:bn_near_optimal_wider": dict(w_bn=0.5, w_sep=1.0),
    }
    for part, kw in breaks.items():
        bad = [good[0], Panel("fashion", "2cnn2fc", 3.0, _summary(**kw))]
        got = f3_claims_parts(bad)
        assert [k for k, v in got.items() if not v] == [part]
    flat = f3_claims_parts([Panel("mnist", "1fc", 3.0), Panel("fashion", "2cnn2fc", 1.2)])
    assert flat["bn_gain_deep_gt_shallow"] is False  # the authors' "1fc-..." and paper's "1fc"


def _doc_with_paper_row():
    panel = {"dataset": "mnist", "net": "1fc", "bn_gain": 1.5,
             **{m: {"largest_stable_lr": v, "near_optimal_width_decades": 1.0}
                for m, v in (("gd", 1.0), ("bngd", 10.0), ("bngd_sep", 1e4))}}
    det = {"parts": {"mnist:gd_has_max_rate": True, "x": False}, "panels": [panel]}
    return {"profile": "quick", "seed": 0,
            "claims": [{"id": "F3.claims", "details": [
                {"method": "experiment", "verdict": "verified", "evidence": "e", "details": det}]}]}


def test_setup_rows_and_table(tmp_path):
    doc = _doc_with_paper_row()
    assert [r["setup"] for r in setup_rows(doc, tmp_path)] == ["paper"]  # no authors' files
    fc = {"parts": {"mnist:gd_has_max_rate": True},
          "panels": {"mnist": {"largest_stable_lr": {"gd": 12.7, "bngd": 554.0, "bngd_sep": 1e7},
                               "near_optimal_width_decades": {"gd": 1.6, "bngd": 3.3,
                                                              "bngd_sep": 4.1},
                               "bn_gain": 1.26}}}
    (tmp_path / "nets_fig3_authors_quick.json").write_text(
        json.dumps({"profile": "quick", "seed": 0, "f3_claims": fc}))
    (tmp_path / "nets_fig3_authors-fixed_quick.json").write_text("not json")  # left out
    rows = setup_rows(doc, tmp_path)
    assert [r["setup"] for r in rows] == ["paper", "authors"]
    md = comparison_markdown(rows)
    assert "| `paper` | 1/2 |" in md and "failing: x" in md
    assert "12.7 / 554 / 1e+07" in md and "1.6 / 4.1" in md


def test_report_shows_the_comparison(tmp_path):
    from bnverify.report import render_html, render_markdown

    doc = _doc_with_paper_row()
    fc = {"parts": {"a": True}, "panels": {}}
    (tmp_path / "nets_fig3_authors_quick.json").write_text(json.dumps({"f3_claims": fc}))
    base = {"bnverify": "0", "profile": "quick", "seed": 0, "elapsed_seconds": 1.0,
            "environment": {}, "summary": {"verified": 0, "refuted": 0, "inconclusive": 0,
                                           "skipped": 0, "not-encoded": 0},
            "summary_by_class": {}, "summary_by_severity": {}}
    claim = {"id": "F3.claims", "verdict": "verified", "evidence_class": "experiment",
             "methods": ["experiment"], "evidence": "e", "counterexample": None,
             "correction": None, "where": "§4.2", "statement": "s", "reading": "r",
             "seconds": 0.1, "severity": None, "severity_reason": None,
             "details": doc["claims"][0]["details"]}
    full = dict(base, claims=[claim])
    assert "as the authors ran it" in render_markdown(full, tmp_path)
    assert "as the authors ran it" in render_html(full, tmp_path)
    assert "as the authors ran it" not in render_markdown(full, tmp_path / "none")
