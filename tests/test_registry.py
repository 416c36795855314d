"""The registry covers the catalogue: every ID has at least one check; check metadata is sane."""

from bnverify.catalogue import IDS
from bnverify.claims import MethodResult, checks_for, combine, load_proofs


def test_every_catalogue_id_has_a_check():
    load_proofs()
    missing = [cid for cid in IDS if not checks_for(cid)]
    assert missing == [], f"claims with no check: {missing}"


def test_checks_are_named():
    for cid in IDS:
        for c in checks_for(cid):
            assert c.method and callable(c.fn)


def test_combine_rule():
    v = MethodResult("verified", "a", "x")
    r = MethodResult("refuted", "b", "y")
    i = MethodResult("inconclusive", "c", "z")
    assert combine([]) == "not-encoded"
    assert combine([v, v]) == "verified"
    assert combine([v, i]) == "inconclusive"
    assert combine([v, i, r]) == "refuted"


def test_combine_skipped():
    """``skipped`` only when every method was skipped; skipped methods never decide otherwise."""
    s = MethodResult("skipped", "network", "torch not installed: skipped (pip install ...)")
    v = MethodResult("verified", "a", "x")
    r = MethodResult("refuted", "b", "y")
    assert combine([s]) == "skipped"
    assert combine([s, s]) == "skipped"
    assert combine([s, v]) == "verified"
    assert combine([s, r]) == "refuted"
