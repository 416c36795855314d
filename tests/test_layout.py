"""The layout of ``proofs/`` (issue 16): one leaf module per section of the paper.

* no ``proofs`` module imports another (each is a leaf; shared machinery lives in ``bnverify/``);
* the engine (``bnverify/``) reaches ``proofs`` only through :func:`bnverify.claims.load_proofs`;
* every claim is registered in exactly one module, and that module's docstring names it;
* (slow) ``bnverify check --json`` (quick, seed 0) agrees structurally with the record made
  before the re-layout (``tests/data/check_quick_seed0.structural.json``).

The import scanners are tested on synthetic sources, so that a scanner that never fires cannot
pass for a clean tree.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROOFS = ROOT / "proofs"
ENGINE = ROOT / "bnverify"
#: the one place of the engine allowed to import ``proofs`` (module path, enclosing function)
ALLOWED_ENGINE_IMPORT = ("bnverify/claims.py", "load_proofs")


def _is_proofs(name: str | None) -> bool:
    return name is not None and (name == "proofs" or name.startswith("proofs."))


def proofs_imports(source: str, in_proofs_package: bool = False) -> list[tuple[int, str | None]]:
    """Every import of the ``proofs`` package in ``source``: ``(line, enclosing function or
    None)``.  ``in_proofs_package``: the source is a module of ``proofs``, where a relative import
    (``from . import x``, ``from .x import y``) is an import of ``proofs`` too."""
    found: list[tuple[int, str | None]] = []

    def visit(node: ast.AST, func: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Import) and any(_is_proofs(a.name) for a in child.names):
                found.append((child.lineno, func))
            elif isinstance(child, ast.ImportFrom) and (
                _is_proofs(child.module) or (in_proofs_package and child.level > 0)
            ):
                found.append((child.lineno, func))
            elif isinstance(child, ast.Call) and _dynamic_proofs_import(child):
                found.append((child.lineno, func))
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def _dynamic_proofs_import(call: ast.Call) -> bool:
    """``importlib.import_module("proofs.x")`` / ``__import__("proofs.x")`` with a literal name."""
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return False
    arg = call.args[0]
    return isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _is_proofs(arg.value)


def engine_violations(files: dict[str, str]) -> list[str]:
    """``path:line`` of every import of ``proofs`` in engine sources ``{path: source}`` outside
    :data:`ALLOWED_ENGINE_IMPORT`."""
    bad = []
    for path, src in files.items():
        for line, func in proofs_imports(src):
            if (path, func) != ALLOWED_ENGINE_IMPORT:
                bad.append(f"{path}:{line}")
    return bad


# ----------------------------------------------------------------------------------------------
# the scanners can fail
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "import proofs\n",
        "import proofs.sec2_1_ols as S\n",
        "from proofs import sec3_2_convergence\n",
        "from proofs.appA1_gradients_hessian import Point\n",
        "def f():\n    from proofs.sec3_3_rates import p35_holds\n    return p35_holds\n",
        "import importlib\nM = importlib.import_module('proofs.sec3_1_scaling')\n",
        "from . import sec2_1_ols\n",
        "from .sec2_2_batch_normalization import x\n",
    ],
)
def test_scanner_catches_a_proofs_import(src):
    assert proofs_imports(src, in_proofs_package=True)


@pytest.mark.parametrize(
    "src",
    [
        "import numpy as np\nfrom bnverify.claims import check\n",
        "import proofsx\nfrom proofsy import z\n",  # a name that merely starts with 'proofs'
        "s = 'from proofs import x'\n",  # in a string, not an import
        "from .claims import load_proofs\n",  # relative, but not inside proofs/
    ],
)
def test_scanner_ignores_other_imports(src):
    assert proofs_imports(src) == []


def test_engine_rule_allows_only_load_proofs():
    ok = "def load_proofs():\n    import proofs\n    return proofs\n"
    assert engine_violations({"bnverify/claims.py": ok}) == []
    # the same import elsewhere in claims.py, or in load_proofs of another module, is caught
    assert engine_violations({"bnverify/claims.py": "import proofs\n"}) == ["bnverify/claims.py:1"]
    assert engine_violations({"bnverify/severity.py": ok}) == ["bnverify/severity.py:2"]
    replay = "def _norm(body):\n    from proofs.sec3_2_convergence import NORM_STEPS\n"
    assert engine_violations({"bnverify/commands/replay.py": replay}) == [
        "bnverify/commands/replay.py:2"
    ]


# ----------------------------------------------------------------------------------------------
# the tree obeys them
# ----------------------------------------------------------------------------------------------


def test_proofs_modules_are_leaves():
    bad = {
        p.name: lines
        for p in sorted(PROOFS.glob("*.py"))
        if (lines := proofs_imports(p.read_text(encoding="utf-8"), in_proofs_package=True))
    }
    assert bad == {}, f"proofs modules importing proofs (file: [(line, function)]): {bad}"
    assert not [p for p in PROOFS.iterdir() if p.is_dir() and p.name != "__pycache__"], (
        "proofs/ is flat: one module per section"
    )


def test_engine_imports_proofs_only_through_load_proofs():
    files = {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(ENGINE.rglob("*.py"))
    }
    assert engine_violations(files) == []
    # and load_proofs does import it (the rule is not vacuous)
    assert proofs_imports(files["bnverify/claims.py"]) != []


def _registered_modules() -> dict[str, set[str]]:
    from bnverify.claims import _REGISTRY, load_proofs
    from bnverify.symbolic.derivation import specs

    load_proofs()
    spec_module = {cid: s.module for cid, s in specs().items()}
    out: dict[str, set[str]] = {}
    for cid, checks in _REGISTRY.items():
        for c in checks:
            mod = spec_module[cid] if c.module == "bnverify.symbolic.derivation" else c.module
            out.setdefault(cid, set()).add(mod)
    return out


def test_each_claim_lives_in_one_section_module_that_names_it():
    from bnverify.catalogue import IDS

    mods = _registered_modules()
    split = {cid: sorted(m) for cid, m in mods.items() if len(m) != 1}
    assert split == {}, f"claims checked in more than one module: {split}"
    for cid, (mod,) in ((c, tuple(m)) for c, m in mods.items()):
        assert mod.startswith("proofs."), (cid, mod)
        doc = sys.modules[mod].__doc__ or ""
        assert cid in doc, f"{mod}'s docstring does not name {cid}"
    # every module holds at least one claim and opens with the section it holds
    used = {next(iter(m)) for m in mods.values()}
    for p in sorted(PROOFS.glob("*.py")):
        if p.name == "__init__.py":
            continue
        assert f"proofs.{p.stem}" in used, f"{p.name} registers no check"
        first = (ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "").splitlines()
        assert first and first[0].startswith("§"), f"{p.name}: docstring must open with '§...'"
    assert set(mods) <= set(IDS)


def test_each_claims_methods_keep_their_order():
    """The order of a claim's checks (hence of its methods in ``check --json``) is the order
    recorded before the re-layout: it is the definition order inside the claim's one module."""
    from bnverify.claims import checks_for

    record = _record()["claims"]
    got = {cid: [c.method for c in checks_for(cid)] for cid in record}
    assert got == {cid: c["methods"] for cid, c in record.items()}


def test_module_order_follows_the_paper():
    """Sorted by name, sec2_* .. sec4_* come before appA* .. appB* only alphabetically; the
    paper's order within each group is the numeric order of the names."""
    names = sorted(p.stem for p in PROOFS.glob("*.py") if p.stem != "__init__")
    main = [n for n in names if n.startswith("sec")]
    app = [n for n in names if n.startswith("app")]
    assert main + app == sorted(main) + sorted(app)
    assert len(main) + len(app) == len(names), names


# ----------------------------------------------------------------------------------------------
# behaviour unchanged by the re-layout (slow: runs the whole quick profile)
# ----------------------------------------------------------------------------------------------


def _compare_tool():
    spec = importlib.util.spec_from_file_location(
        "compare_check_json", ROOT / "tools" / "compare_check_json.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _doc_from_record(record: dict) -> dict:
    """A ``check --json`` document with exactly the fields of the structural record (the record
    holds ``structural()`` of the run it was made from), so that ``diff(..., structural_only=True)``
    compares a fresh run with it."""
    claims = []
    for cid, c in record["claims"].items():
        claims.append({
            "id": cid,
            "verdict": c["verdict"],
            "evidence_class": c["evidence_class"],
            "severity": c["severity"],
            "methods": c["methods"],
            "details": [{"method": m, "verdict": v} for m, v in c["method_verdicts"]],
            "counterexample": {} if c["has_counterexample"] else None,
            "correction": None if c["correction"] is None else {"statement": c["correction"]},
        })
    return {"seed": record["seed"], "profile": record["profile"], "summary": record["summary"],
            "claims": claims}


def _record() -> dict:
    return json.loads((ROOT / "tests/data/check_quick_seed0.structural.json").read_text())


def test_structural_compare_catches_a_change():
    tool = _compare_tool()
    record = _record()
    doc = _doc_from_record(record)
    assert json.loads(json.dumps(tool.structural(doc))) == record  # the record round-trips
    same = json.loads(json.dumps(doc))
    assert tool.diff(doc, same, structural_only=True) == []
    same["claims"][0]["details"][0]["verdict"] = "verified"
    assert tool.diff(doc, same, structural_only=True) != []
    other = json.loads(json.dumps(doc))
    other["claims"][1]["methods"] = list(reversed(other["claims"][1]["methods"])) + ["extra"]
    assert tool.diff(doc, other, structural_only=True) != []


@pytest.mark.slow
def test_check_json_matches_the_record_before_the_relayout(tmp_path):
    out = tmp_path / "check.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bnverify", "check", "--json", str(out), "--no-progress",
         "--seed", "0", "--profile", "quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert out.exists(), proc.stderr[-2000:]
    before = _doc_from_record(_record())
    lines = _compare_tool().diff(before, json.loads(out.read_text()), structural_only=True)
    assert lines == [], "\n".join(lines[:200])
