"""`bnverify run --config` reads regular files, pipes and standard input (`-`); directories and
missing files are one error line."""

from __future__ import annotations

import json
import subprocess
import sys

CFG = {"H_diag": [1, 10], "u": [1, 1], "w0": [1, 0], "a0": 1, "eps_a": 1, "eps": 0.05,
       "steps": 50}


def _run(args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bnverify", "run", *args, "--json",
                           "--no-sensitivity"], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_config_from_stdin_and_pipe(tmp_path):
    text = json.dumps(CFG)
    a = _run(["--config", "-"], stdin=text)
    assert a.returncode == 0, a.stderr
    f = tmp_path / "c.json"
    f.write_text(text)
    b = _run(["--config", str(f)])
    assert b.returncode == 0
    assert json.loads(a.stdout)["loss"] == json.loads(b.stdout)["loss"]  # same code path
    c = subprocess.run(f"{sys.executable} -m bnverify run --json --no-sensitivity --config "
                       f"<(cat {f})", shell=True, executable="/bin/bash", capture_output=True,
                       text=True, timeout=120)
    assert c.returncode == 0, c.stderr
    assert json.loads(c.stdout)["loss"] == json.loads(b.stdout)["loss"]


def test_directory_and_missing_are_one_line(tmp_path):
    for path, frag in ((tmp_path, "is a directory"), (tmp_path / "nope.json", "not found")):
        r = _run(["--config", str(path)])
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and frag in lines[0]
