"""Evidence classes (issue 13 item 2): every verdict says how strong its evidence is, and every
numeric refutation is replayed exactly (``proof``) or in ball arithmetic (``certified``).

* the class rule (:func:`bnverify.claims.claim_class`) and the method classes;
* each certified/exact replay of ``@certify`` in the ``proofs/`` section modules on the counterexample the quick
  profile finds at seed 0 (one test each), and a doctored counterexample that does NOT violate the
  claim is shown not to certify (the replay says "not refuted" or cannot decide -- never
  "refuted");
* every refuted claim (quick, seed 0) has class proof or certified, except the justified
  allow-list below and the figure/network claims (class experiment, no numeric counterexample);
* ``check --json`` carries evidence_class for every claim and method; the table has the column.
"""

from __future__ import annotations

import copy
import json

import pytest

from bnverify.claims import (
    EVIDENCE_CLASSES,
    CheckContext,
    ClaimResult,
    MethodResult,
    apply_replay,
    claim_class,
    method_class,
    replay_for,
    run_claim,
)
from bnverify.commands.check import format_table, summary_line

#: refuted claims whose refutation stays ``sampled``, with the reason (expect at most one or two)
SAMPLED_ALLOW = {
    "C-A.16": "the counterexample is an infinite sequence (cycles j = 1, 2, ... with ||w|| = 1/j) "
    "and the refuted statement is about limits (y_k^2 q_k -> 0 and ||w_(k+1) - w_k|| -> 0 but "
    "neither y_k^2 -> 0 nor q_k -> 0): no finite prefix is a witness",
    "L-A.23": "the constants C, rho of ||e_k|| <= C rho^k are the tightest on a computed prefix of "
    "the trajectory; a finite replay cannot show they are admissible for every k (a tail bound, "
    "not a finite witness, is needed), so the violation of Eq. (72) at k = 1 stays sampled",
}

#: refuted claims decided by figures / networks (class experiment; no numeric counterexample)
EXPERIMENT = {"F5", "F6", "F8"}


def _r(verdict, method, cls=None):
    return MethodResult(verdict, method, "e", evidence_class=cls)


def test_method_classes():
    assert method_class("symbolic") == "proof"
    assert method_class("network") == "experiment"
    assert method_class("experiment:g-mean") == "experiment"
    for m in ("property", "monte-carlo", "sweep", "search", "decision", "numeric", "construction"):
        assert method_class(m) == "sampled"


def test_claim_class_rule():
    # refuted: the strongest class among the refuting methods only
    assert claim_class("refuted", [_r("refuted", "property"), _r("verified", "symbolic")]) == (
        "sampled"
    )
    assert claim_class("refuted", [_r("refuted", "network"), _r("refuted", "symbolic")]) == "proof"
    assert claim_class("refuted", [_r("refuted", "property", "certified")]) == "certified"
    # verified: the strongest among the verifying methods
    assert claim_class("verified", [_r("verified", "property"), _r("verified", "symbolic")]) == (
        "proof"
    )
    assert claim_class("inconclusive", [_r("inconclusive", "experiment"),
                                        _r("verified", "symbolic")]) == "experiment"
    assert claim_class("not-encoded", []) is None
    assert ClaimResult("E25", "verified", [_r("verified", "symbolic")]).to_json()[
        "evidence_class"] == "proof"
    with pytest.raises(ValueError):
        MethodResult("verified", "x", "e", evidence_class="float")


# ----------------------------------------------------------------------------------------------
# the refutations of the quick profile at seed 0 (counterexamples as `check --json` writes them)
# ----------------------------------------------------------------------------------------------

SQ2 = 1.4142135623730951
ISQ2 = 0.7071067811865476
ISQ2_50 = "0.70710678118654757273731092936941422522068023681641"
SQ2_50 = "1.4142135623730951454746218587388284504413604736328"
PAIR = {"H_diag": [1.0, 1.0], "u": [ISQ2, ISQ2], "eigenvalues": [1.0, 1.0]}

CASES = {
    ("P3.2-1", "property", "main"): (
        {"H_diag": [1.0], "u": [1.0], "a0": 1.0, "w0": [1.0], "eps_a": 1.0, "eps": 1.0,
         "comment": "scaling law: mu = 1, gamma = 2, r = 1, Q = [['1']]"},
        {"statement": "{mu Q^T H Q, sqrt(mu) Q u, gamma a0, gamma Q w0} ~ {H, u, a0, w0}"}),
    ("P3.2-1", "property", "appendix"): (
        {"H_diag": [1.0], "u": [1.0], "a0": 1.0, "w0": [1.0], "eps_a": 1.0, "eps": 1.0,
         "comment": "scaling law: mu = 1, gamma = 2, r = 1, Q = [['1']]"},
        {"statement": "{mu Q^T H Q, sqrt(gamma mu) Q u, ...} (Lemma A.8, gamma > 0)"}),
    ("P3.2-2", "property", ""): (
        {"H_diag": [1.0], "u": [1.0], "a0": 1.0, "w0": [1.0], "eps_a": 1.0, "eps": 1.0,
         "comment": "scaling law: mu = 1, gamma = 1, r = -1, Q = [['1']]"}, {}),
    ("S3.norm-monotone", "property-strict", ""): (
        {"H_diag": [1.0], "u": [1.0], "a0": 1.0, "w0": [1.0], "eps_a": 1.0, "eps": 1.0},
        {"measured": {"step": 0}}),
    ("S3.Hstar", "numeric", ""): (
        {"H_diag": [1.0, 1.0], "u": [SQ2, SQ2], "a0": "2.000000000000000136716173153238459361596582123216",
         "w0": [SQ2_50, SQ2_50], "eps_a": 1.0, "eps": 1.0,
         "comment": "point of J(a, w): minimizer"}, {}),
    ("E22-23", "numeric", ""): (
        {"H_diag": [1.0, 1.0], "u": [SQ2, SQ2], "a0": "2.000000000000000136716173153238459361596582123216",
         "w0": [SQ2_50, SQ2_50], "eps_a": 1.0, "eps": 1.0,
         "comment": "point of J(a, w): minimizer"}, {}),
    ("A1.saddle-eigs", "numeric", ""): (
        {"H_diag": [1.0, 1.0], "u": [ISQ2, ISQ2], "a0": "0.0", "w0": [ISQ2_50, "-" + ISQ2_50],
         "eps_a": 1.0, "eps": 1.0, "comment": "point of J(a, w): saddle"}, {}),
    ("S3.Hstar-psd", "monte-carlo", ""): (dict(PAIR), {}),
    ("S3.acceleration", "monte-carlo", ""): (dict(PAIR), {}),
    ("C-A.7", "monte-carlo", ""): (dict(PAIR), {}),
    ("C-A.5", "property", ""): (dict(PAIR), {}),
    ("C-A.7", "property", ""): (
        {"H_diag": [1.0, 1.0], "u": [ISQ2, ISQ2], "x": [0.0, 0.0], "eps": 1.0}, {}),
    ("P3.5", "sweep", ""): (
        {"H_diag": [1.0, 3.1751353067166836], "u": [-0.8923779634939555, -0.45128878810621964],
         "a0": 0.9657373813476805, "w0": [-0.9974608530210537, -0.0712168989110865],
         "eps_a": 0.8898833252175316, "eps": 45248887.0187331,
         "comment": "eps large regime; slopes 2, -1.49e-06"}, {}),
    ("S3.insensitive", "sweep", ""): (
        {"H_diag": [1.0, 26.68866774989718], "u": [-0.3457178065521651, -0.9383385307194625],
         "a0": 4.2353659183373376, "w0": [0.5556027171068676, -0.8314479062114871],
         "eps_a": 0.9460154041852359, "eps": 1.0, "steps": 0, "comment": "k = 0"}, {}),
    ("L-A.10", "property-divergence", ""): (
        {"H_diag": [1.0], "u": [1.0], "a0": 1.0, "w0": [1.0], "eps_a": 3.0, "eps": 1.0}, {}),
    ("E74-80", "property-74", ""): (
        {"H_diag": [1.0], "u": [1.0], "a0": 2.0, "w0": [1.0], "eps_a": 1.0, "eps": 0.0625},
        {"measured": {"first_lower_violation_k": 1}}),
}


def _replay(cid, method, cex, details):
    res = MethodResult("refuted", method, "float refutation", details=copy.deepcopy(details),
                       counterexample=copy.deepcopy(cex))
    return apply_replay(cid, res)


@pytest.mark.parametrize("key", list(CASES), ids=lambda k: "-".join(x for x in k if x))
def test_refutation_replays_exactly_or_in_balls(key):
    cid, method, _ = key
    assert replay_for(cid, method) is not None
    res = _replay(cid, method, *CASES[key])
    rep = res.details["replay"]
    assert rep["result"] == "refuted", rep
    assert res.verdict == "refuted"
    assert res.evidence_class in ("proof", "certified")
    assert rep["evidence_class"] == res.evidence_class
    assert rep["arithmetic"] and rep["arithmetic"] in res.evidence


# doctored counterexamples: moved to a point where the claim holds -> never certified
DOCTORED = {
    # a0 = gamma-scaled exactly: gamma = 1, mu = 1 is the identity transformation
    ("P3.2-2", "property", ""): lambda c: c.update(
        comment="scaling law: mu = 1, gamma = 1, r = 2, Q = [['1']]"),
    # d = 2, w0 not parallel to u, a0 != 0: ||w|| strictly increases at step 0 (in d = 1 every
    # w is a fixed point of the w-update, so the file's d = 1 would stay a counterexample)
    ("S3.norm-monotone", "property-strict", ""): lambda c: c.update(H_diag=[1.0, 2.0],
                                                                    u=[1.0, 1.0], w0=[1.0, 0.0]),
    # H with distinct eigenvalues: kappa* < kappa for almost all u
    ("S3.Hstar-psd", "monte-carlo", ""): lambda c: c.update(H_diag=[1.0, 2.0, 3.0],
                                                            u=[0.5, 0.5, 0.5],
                                                            eigenvalues=[1.0, 2.0, 3.0]),
    # distinct eigenvalues and u with both extreme coefficients nonzero: kappa* < kappa
    ("C-A.5", "property", ""): lambda c: c.update(H_diag=[1.0, 4.0], u=[1.0, 1.0]),
    ("C-A.7", "property", ""): lambda c: c.update(H_diag=[1.0, 4.0], u=[1.0, 1.0], eps=0.4),
    # a0 != sqrt(u^T H u): |a_k| -> infinity, the statement holds (no fixed point)
    ("L-A.10", "property-divergence", ""): lambda c: c.update(a0=0.5),
    # a0 = 1 <= w0^T g/sigma0: the printed lower bound holds
    ("E74-80", "property-74", ""): lambda c: c.update(a0=1.0),
    # a0 = 0: eps^_0 = 0 for every eps, d/d eps = 0: stationary everywhere
    ("S3.insensitive", "sweep", ""): lambda c: c.update(a0=0.0),
    # w0 = u exactly at the minimiser of a unit-norm u: the printed Hessian is right (||u|| = 1)
    ("S3.Hstar", "numeric", ""): lambda c: c.update(u=[1.0, 0.0], a0="1", w0=["1", "0"]),
}


@pytest.mark.parametrize("key", list(DOCTORED), ids=lambda k: "-".join(x for x in k if x))
def test_doctored_counterexample_does_not_certify(key):
    cex, details = copy.deepcopy(CASES[key])
    DOCTORED[key](cex)
    res = _replay(key[0], key[1], cex, details)
    rep = res.details["replay"]
    assert rep["result"] in ("not refuted", "undecided"), rep
    assert res.evidence_class in (None, "sampled") or res.evidence_class == method_class(key[1])
    if rep["result"] == "not refuted":  # the float refutation is not confirmed
        assert res.verdict == "inconclusive" and "NOT confirmed" in res.evidence


def test_doctored_replays_are_decided_not_refuted():
    """Most doctored files are decided (not merely undecided): the replay can say 'holds'."""
    decided = 0
    for key, doctor in DOCTORED.items():
        cex, details = copy.deepcopy(CASES[key])
        doctor(cex)
        decided += _replay(key[0], key[1], cex, details).details["replay"]["result"] == (
            "not refuted")
    assert decided >= 6


def test_double_is_read_exactly_not_from_its_decimal_print():
    from fractions import Fraction

    from bnverify.exact_replay import q

    assert q(0.1) == Fraction(0.1) != Fraction("0.1")
    assert q("0.1") == Fraction(1, 10)
    assert q(SQ2) ** 2 != 2


def test_ball_replay_does_not_decide_an_equality():
    """A ball replay decides strict inequalities only: at a point where eps^_k equals the printed
    lower bound exactly (a0 = w0^T g/sigma0 = 1 at k = 0 with k = 0 asked), the balls overlap and
    the replay is undecided or 'not refuted', never 'refuted'."""
    cex, details = copy.deepcopy(CASES[("E74-80", "property-74", "")])
    cex["a0"] = 1.0
    details["measured"]["first_lower_violation_k"] = 0
    rep = _replay("E74-80", "property-74", cex, details).details["replay"]
    assert rep["result"] != "refuted"


# ----------------------------------------------------------------------------------------------
# the live run: every refuted claim of the quick profile at seed 0
# ----------------------------------------------------------------------------------------------

LIVE = ["P3.2-1", "P3.2-2", "S3.norm-monotone", "S3.Hstar", "S3.Hstar-psd", "S3.acceleration",
        "P3.5", "S3.insensitive", "E16", "A1.saddle-eigs", "E22-23", "C-A.5", "C-A.7", "L-A.10",
        "C-A.16", "E74-80"]


@pytest.mark.parametrize("cid", LIVE)
def test_refuted_claims_are_proof_or_certified(cid):
    res = run_claim(cid, CheckContext("quick", 0))
    doc = res.to_json()
    assert doc["evidence_class"] in EVIDENCE_CLASSES
    for d in doc["details"]:
        assert d["evidence_class"] in EVIDENCE_CLASSES
    if res.verdict != "refuted":
        pytest.skip(f"{cid} is {res.verdict} now")
    if cid in SAMPLED_ALLOW:
        assert doc["evidence_class"] == "sampled"
        return
    assert doc["evidence_class"] in ("proof", "certified"), doc["evidence"]
    for d in doc["details"]:
        numeric = d["verdict"] == "refuted" and d["counterexample"] is not None
        if numeric and d["method"] not in ("symbolic", "network"):
            assert d["evidence_class"] in ("proof", "certified"), (d["method"], d["evidence"])
            assert d["details"]["replay"]["result"] == "refuted"


@pytest.mark.slow
def test_every_refuted_claim_quick_seed0_is_proof_or_certified():
    """The whole quick run (slow: ~1.5 min): refuted claims are proof/certified, or allow-listed
    sampled, or experiment claims without a numeric counterexample."""
    from bnverify.catalogue import IDS
    from bnverify.commands.check import run_checks

    doc = run_checks(list(IDS), "quick", 0, progress=False)
    for c in doc["claims"]:
        assert c["evidence_class"] in EVIDENCE_CLASSES
        assert all(d["evidence_class"] in EVIDENCE_CLASSES for d in c["details"])
        if c["verdict"] != "refuted":
            continue
        if c["id"] in SAMPLED_ALLOW:
            assert c["evidence_class"] == "sampled", c["id"]
        elif c["evidence_class"] == "experiment":
            assert c["counterexample"] is None or "net" in c["counterexample"], c["id"]
        else:
            assert c["evidence_class"] in ("proof", "certified"), c["id"]


# ----------------------------------------------------------------------------------------------
# check --json and the table
# ----------------------------------------------------------------------------------------------


def test_check_json_carries_evidence_class_and_table_column(tmp_path, capsys):
    from bnverify.cli import main

    out = tmp_path / "c.json"
    assert main(["check", "E74-80", "L-A.10", "--json", str(out), "--no-progress",
                 "--workers", "1"]) == 0
    table = capsys.readouterr().out
    doc = json.loads(out.read_text())
    for c in doc["claims"]:
        assert c["evidence_class"] in EVIDENCE_CLASSES
        for d in c["details"]:
            assert d["evidence_class"] in EVIDENCE_CLASSES
    assert doc["summary_by_class"]["refuted"]["certified"] + doc["summary_by_class"][
        "refuted"]["proof"] == doc["summary"]["refuted"]
    header = table.splitlines()[0].split()
    assert header[:4] == ["ID", "verdict", "class", "method"]
    assert "refuted (" in table and ("proof" in table or "certified" in table)
    assert summary_line(doc) in format_table(doc)
