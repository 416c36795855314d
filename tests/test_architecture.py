"""docs/architecture.md's import graph is generated from the code (tools/import_graph.py) and
current; the graph keeps the layering the docs state."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_import_graph_in_the_docs_is_the_code_s():
    ig = _tool()
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert ig.current_section(text) == ig.markdown(), (
        "docs/architecture.md is out of date: python tools/import_graph.py --write")
    # the comparison can fail: a doctored section is caught
    doctored = text.replace("bnverify_claims -.-> proofs", "bnverify_claims --> proofs")
    assert ig.current_section(doctored) != ig.markdown()


def test_layering():
    ig = _tool()
    nodes, edges = ig.graph()
    assert {"proofs", "bnverify.claims", "bnverify.scheduling", "bnverify.commands"} <= set(nodes)
    # the engine reaches proofs only through claims.load_proofs, lazily
    into_proofs = {a: top for (a, b), top in edges.items() if b == "proofs"}
    assert into_proofs == {"bnverify.claims": False}
    # nothing in the engine imports the command line
    assert not [a for (a, b) in edges if b in ("bnverify.cli", "bnverify.__main__")
                and a not in ("bnverify.__main__",)]


def test_relative_imports_are_resolved(tmp_path, monkeypatch):
    ig = _tool()
    pkg = tmp_path / "bnverify" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "bnverify" / "__init__.py").write_text("")
    (tmp_path / "bnverify" / "other.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text("from ..other import x\n\ndef f():\n    from .. import other\n")
    monkeypatch.setattr(ig, "ROOT", tmp_path)
    got = ig.imports_of(pkg / "m.py")
    assert ("bnverify.other", True) in got and ("bnverify.other", False) in got
