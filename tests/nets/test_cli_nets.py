"""``bnverify nets ...``: the install hint without torch (exit 2), one-line errors, and a
``--quick`` figure run (shrunk further with --n-train/--seeds/--per-decade to stay fast)."""

import json
import sys

import pytest

from bnverify.cli import main


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [["nets", "figure", "3", "--quick", "--out", "OUT"],
                                  ["nets", "figure", "2", "--out", "OUT"],
                                  ["nets", "a9", "--quick", "--out", "OUT"]])
def test_without_torch_prints_install_hint(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    argv = [str(tmp_path) if a == "OUT" else a for a in argv]
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert "pip install 'bnverify[torch]'" in err and "torch==2.13.0" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_core_package_does_not_import_torch():
    import subprocess

    code = ("import sys, bnverify, bnverify.cli, bnverify.claims, bnverify.nets, "
            "bnverify.nets.data, bnverify.commands.nets; "
            "bnverify.cli.build_parser(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_data_command_works_without_torch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    code, out, _ = _run(["nets", "data", "--dataset", "mnist"], capsys)
    assert code == 0
    info = json.loads(out)
    assert info["n"] == 10000 and info["source"].startswith("embedded")


def test_bad_inputs_one_line_exit_2(tmp_path, capsys):
    code, _, err = _run(["nets", "data", "--dataset", "cifar10"], capsys)
    assert code == 2 and err.startswith("error: dataset: no embedded copy")
    code, _, err = _run(["nets", "data", "--dataset", "mnist", "--data-dir",
                         str(tmp_path / "missing")], capsys)
    assert code == 2 and "not a directory" in err
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 12)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    code, _, err = _run(["nets", "data", "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and "wrong magic number 2049" in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        main(["nets", "figure", "4", "--out", str(tmp_path)])
    assert e.value.code == 2


def test_quick_figure_run(tmp_path, capsys):
    pytest.importorskip("torch")
    argv = ["nets", "figure", "3", "--quick", "--dataset", "mnist", "--n-train", "300",
            "--seeds", "2", "--per-decade", "1", "--device", "cpu", "--out", str(tmp_path)]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"nets_fig3_quick.{ext}").stat().st_size > 0
    summary = json.loads((tmp_path / "nets_fig3_quick.json").read_text())
    panel = summary["panels"][0]
    assert panel["dataset"] == "mnist" and panel["net"] == "1fc" and panel["n_train"] == 300
    assert panel["data_source"].startswith("embedded")
    assert set(panel["methods"]) == {"gd", "bngd", "bngd_sep"}
    assert len(panel["lrs"]) == 8 and panel["seeds"] == [0, 1]
    assert summary["versions"]["torch"] and summary["command"].startswith("bnverify ")
    import numpy as np

    z = np.load(tmp_path / "nets_fig3_quick.npz")
    assert z["mnist_gd"].shape == (8, 2)
