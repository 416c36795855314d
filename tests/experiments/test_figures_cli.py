"""``bnverify figure``: errors are one line with exit 2; a quick run writes its files."""

from __future__ import annotations

import json

import pytest

from bnverify.cli import main
from bnverify.errors import BNVerifyError
from bnverify.experiments.figures import make_figure, normalise_id
from bnverify.progress import ProgressBar


def _run(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse type errors exit 2 through the CLI's parser
        return int(exc.code)


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["figure", "9", "--out", "X"], "unknown figure ID '9'"),
        (["figure", "2", "--out", "X"], "unknown figure ID '2'"),
        (["figure", "1", "--out", "X", "--kappa", "0.5"], "invalid condition number"),
        (["figure", "5", "--out", "X", "--kappa", "10"], "apply to figure 1 only"),
        (["figure", "1", "--out", "X", "--u", "nope.txt"], "u: file not found"),
        (["figure", "1", "--out", "X", "--seed", "-1"], "non-negative"),
    ],
)
def test_bad_input_exit_2(argv, msg, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = _run(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert msg in err and "Traceback" not in err
    assert err.startswith("error:") and err.count("\n") == 1


def test_out_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(BNVerifyError, match="not a directory"):
        make_figure("7", f, quick=True, progress=False)


def test_normalise_id():
    assert normalise_id("fig1") == ["1"] and normalise_id("F8") == ["8"]
    assert normalise_id("all") == ["1", "5", "6", "7", "8"]


def test_cli_quick_figure8(tmp_path, capsys):
    rc = main(
        [
            "figure",
            "8",
            "--quick",
            "--out",
            str(tmp_path),
            "--no-progress",
            "--json",
            "--prefix",
            "ols_",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["8"]["figure"] == "8"
    assert (tmp_path / "ols_fig8.png").exists() and (tmp_path / "ols_fig8.npz").exists()
    assert (tmp_path / "ols_fig8_summary.json").exists()


def test_progress_bar_pipe_and_tty(tmp_path):
    import io

    buf = io.StringIO()
    with ProgressBar(8, "sweep", stream=buf, enabled=True) as bar:
        for _ in range(8):
            bar.update()
    lines = buf.getvalue().splitlines()
    assert 2 <= len(lines) <= 6 and "8/8" in lines[-1] and "100%" in lines[-1]

    class Tty(io.StringIO):
        def isatty(self):
            return True

    t = Tty()
    with ProgressBar(3, "x", stream=t, enabled=True) as bar:
        bar.update(3)
    assert "\r" in t.getvalue() and "3/3" in t.getvalue()
    assert t.getvalue().replace("\x1b[?25h", "").endswith("\n")  # the line is ended
    silent = io.StringIO()
    with ProgressBar(3, "x", stream=silent, enabled=False) as bar:
        bar.update(3)
    assert silent.getvalue() == ""
