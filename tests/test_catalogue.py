"""The embedded catalogue equals shared/paper/CLAIMS.md (when present), and every ID is known."""

import re
from pathlib import Path

import pytest

from bnverify.catalogue import BY_ID, CATALOGUE, IDS

CLAIMS = Path(__file__).resolve().parents[1].parent / "shared" / "paper" / "CLAIMS.md"


def parse_claims_md(text: str):
    rows, section = [], None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"^\| ([A-Za-z0-9.()-]+) \| (.*?) \| (.*) \|\s*$", line)
        if m and m.group(1) != "ID":
            rows.append((m.group(1), section, m.group(2).strip(), m.group(3).strip()))
    return rows


def test_embedded_catalogue_shape():
    assert len(IDS) == 65 and len(set(IDS)) == 65
    assert BY_ID["E25"].where == "eq. 25"


@pytest.mark.skipif(not CLAIMS.is_file(), reason="shared/paper/CLAIMS.md not beside the checkout")
def test_embedded_catalogue_matches_claims_md():
    rows = parse_claims_md(CLAIMS.read_text())
    assert [tuple(e) for e in CATALOGUE] == rows
