"""The wheel ships what the README promises: the example configurations (``bnverify/examples``)
and the embedded data, and an installed wheel runs an example (``bnverify run --config``).

The wheel is built offline from a copy of the sources (``pip wheel --no-deps
--no-build-isolation``: the build backend of the running environment, nothing downloaded) and
installed with ``--no-deps`` into a fresh virtual environment that sees the running environment's
packages (numpy, numba, ...) through a ``.pth`` line but not its own, possibly editable, bnverify.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "bnverify", "proofs")
MISSING_BACKEND = ("No module named 'setuptools'", "No module named 'wheel'",
                   "Cannot import 'setuptools.build_meta'", "BackendUnavailable")


def _sh(*argv, cwd, timeout=300, env=None):
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a temporary venv holding the installed wheel, the wheel's path)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        s = ROOT / name
        if s.is_dir():
            shutil.copytree(s, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(s, src / name)
    r = _sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--no-index", "-q", src, "-w", tmp / "dist", cwd=tmp)
    if r.returncode != 0:
        if any(m in r.stderr for m in MISSING_BACKEND):
            pytest.skip("cannot build a wheel offline: the build backend (setuptools, wheel) is "
                        "not installed in this environment")
        pytest.fail(f"pip wheel failed:\n{r.stderr[-3000:]}")
    (whl,) = (tmp / "dist").glob("bnverify-*.whl")
    r = _sh(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
            tmp / "venv", cwd=tmp)
    if r.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {r.stderr.strip()[-300:]}")
    py = tmp / "venv" / "bin" / "python"
    site = _sh(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp)
    # the running environment's packages (dependencies), after the venv's own site-packages; a
    # path listed in a .pth file is not itself scanned for .pth files, so an editable bnverify
    # installed there (a .pth finder) stays invisible
    paths = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site.stdout.strip(), "_running_env.pth").write_text("\n".join(paths) + "\n")
    r = _sh(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
            "-q", whl, cwd=tmp)
    assert r.returncode == 0, r.stderr[-3000:]
    return py, whl


def test_wheel_contains_every_example_and_the_data(installed):
    import zipfile

    _, whl = installed
    names = set(zipfile.ZipFile(whl).namelist())
    examples = sorted(p.name for p in (ROOT / "bnverify" / "examples").glob("*.json"))
    assert examples, "no example configurations in bnverify/examples"
    for name in examples:
        assert f"bnverify/examples/{name}" in names, name
    assert "bnverify/data/embedded.npz" in names and "bnverify/data/PROVENANCE.md" in names


def test_installed_wheel_runs_an_example(installed, tmp_path):
    py, _ = installed
    env = {**os.environ, "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}
    where = _sh(py, "-c", "import bnverify, pathlib; print(pathlib.Path(bnverify.__file__).parent)",
                cwd=tmp_path, env=env)
    pkg = Path(where.stdout.strip())
    assert pkg.is_relative_to(py.parent.parent), f"bnverify imported from {pkg}, not the wheel"
    example = pkg / "examples" / "bngd_diag.json"
    assert example.is_file()
    r = _sh(py, "-m", "bnverify", "run", "--config", example, "--json", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    # the example's own description: BNGD converges to the global minimiser
    assert doc["status"] == "converged" and doc["method"] == "bngd"
