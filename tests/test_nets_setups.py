"""``--setup paper|authors|authors-fixed`` of ``bnverify nets figure`` (bnverify/nets/setups.py,
bnverify/nets/authors.py): the authors' loss normalisation, their unused second convolution,
their grids, the setup record in the data files, and one-line errors.  CPU, a few seconds."""

import json
import os

import numpy as np
import pytest

from bnverify.cli import main
from bnverify.nets import setups as su

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- no torch needed --------------------------------------------------------------------------


def test_grids_are_the_authors_logspace_grids():
    f, m = su.AUTHORS_FIG3["fashion"].grids, su.AUTHORS_FIG3["mnist"].grids
    assert np.array_equal(f["gd"].values(), np.logspace(-3, 1, 20))  # fmnist_m1_gdlr.py:16
    assert np.array_equal(f["bngd"].values(), np.logspace(-3, 3, 40))  # fmnist_m1_bnlr.py:16
    assert np.array_equal(f["bngd_sep"].values(), np.logspace(-3, 3, 40))
    assert np.array_equal(m["gd"].values(), np.logspace(-3, 5, 40))  # mnist_m4_gdlr.py:15
    assert np.array_equal(m["bngd"].values(), np.logspace(-3, 5, 40))
    assert np.array_equal(m["bngd_sep"].values(), np.logspace(-3, 7, 40))  # mnist_m4_bnsplr:17
    assert np.array_equal(su.AUTHORS_FIG2["base"].values(), np.logspace(-4, 4, 20))
    assert np.allclose(su.AUTHORS_FIG2["etas"], np.logspace(-2, 2, 9))
    # a strided (quick) grid is a subset of the authors' grid that keeps both ends
    sub = f["bngd"].values(4)
    assert set(sub) <= set(np.logspace(-3, 3, 40)) and sub[0] == 1e-3 and sub[-1] == 1e3
    assert f["gd"].per_decade() == pytest.approx(19 / 4)


def test_authors_training_images_and_lr_a():
    sl, note = su.authors_train_indices(60000)
    assert (sl.start, sl.stop) == (5000, 60000) and "55,000" in note
    sl, note = su.authors_train_indices(10000)
    assert (sl.start, sl.stop) == (0, 10000) and "fewer" in note
    assert su.AUTHORS_FIG3["fashion"].lr_a == 0.001 and su.AUTHORS_FIG2["lr_a"] == 1.0


def test_loss_reading_constant_and_record():
    for word in ("softmax mean-square loss", "sums", "averages", "10", "decade"):
        assert word in su.LOSS_READING
    for setup in su.SETUPS:
        rec = su.setup_record(setup, "3")
        assert rec["setup"] == setup and rec["loss_reading"] == su.LOSS_READING
    assert "CHOICE" in su.setup_record("authors", "3")["plot_step_choice"]


def test_unknown_setup_one_line_exit_2(tmp_path, capsys):
    for argv in (["--setup", "bogus"], ["--setup", "authors", "--dataset", "cifar10"],
                 ["--setup", "authors", "--per-decade", "2"],
                 ["--setup", "authors", "--net", "1fc"], ["--plot-step", "3"]):
        code, out, err = _run(["nets", "figure", "3", *argv, "--out", str(tmp_path)], capsys)
        assert code == 2, argv
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err and out == ""
    code, _, err = _run(["nets", "figure", "3", "--setup", "bogus", "--out", str(tmp_path)],
                        capsys)
    assert "unknown setup 'bogus'" in err
    assert not list(tmp_path.iterdir())


def test_setups_module_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, bnverify.nets.setups as s; s.setup_record('authors', '3'); "
            "s.authors_panel('fashion'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- torch ------------------------------------------------------------------------------------


def _inputs(torch, n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10


def test_authors_loss_is_mean_over_classes_a_tenth_of_papers_sum():
    torch = pytest.importorskip("torch")
    from bnverify.nets.authors import authors_spec
    from bnverify.nets.networks import glorot_init, loss, loss_stacked, one_fc

    theirs = authors_spec("mnist", "authors", (1, 28, 28))
    ours = one_fc()
    assert theirs.loss == "softmax_mse_mean" and ours.loss == "softmax_mse"
    x, y = _inputs(torch)
    for bn in (False, True):
        p = glorot_init(ours.with_bn(bn), 3, torch.float64)
        a = loss(theirs.with_bn(bn), p, x.double(), y)
        b = loss(ours.with_bn(bn), p, x.double(), y)
        assert float(b) > 0 and float(a) == pytest.approx(float(b) / 10, rel=1e-12)
        ps = {k: v[None] for k, v in p.items()}
        s = loss_stacked(theirs.with_bn(bn), ps, x.double()[None], y[None])
        assert float(s[0]) == pytest.approx(float(a), rel=1e-12)


@pytest.mark.parametrize("stacked", [False, True])
def test_authors_bn_model_ignores_second_conv_fixed_uses_it(stacked):
    torch = pytest.importorskip("torch")
    from bnverify.nets.authors import authors_spec
    from bnverify.nets.networks import forward, forward_stacked, glorot_init

    x, _ = _inputs(torch)

    def out(spec, p):
        if stacked:
            return forward_stacked(spec, {k: v[None] for k, v in p.items()}, x[None])[0]
        return forward(spec, p, x)

    for setup, used in (("authors", False), ("authors-fixed", True)):
        spec = authors_spec("fashion", setup, (1, 28, 28), channels=(2, 4), hidden=8)
        for bn in (True, False):
            net = spec.with_bn(bn)
            p = glorot_init(net, 0)
            assert "conv2.weight" in p  # the second convolution is built in every case
            q = dict(p, **{"conv2.weight": p["conv2.weight"] * 3 + 0.5,
                           "conv2.bias": p["conv2.bias"] + 1.0})
            same = torch.equal(out(net, p), out(net, q))
            # GD (no BN) always uses both convolutions; the authors' BN net only the first
            assert same == (bn and not used), (setup, bn)
        if not used:  # its flatten is conv1's pooled output: 14 x 14 x 2 channels
            assert spec.with_bn(True).shapes()["fc1.weight"] == (8, 14 * 14 * 2)
            assert spec.with_bn(False).shapes()["fc1.weight"] == (8, 7 * 7 * 4)


def test_unused_conv_stays_at_init_and_training_logs_post_update_loss():
    torch = pytest.importorskip("torch")
    from bnverify.nets.authors import authors_spec, train_logged
    from bnverify.nets.networks import glorot_init, loss
    from bnverify.nets.train import stack

    torch.set_num_threads(1)
    x, y = _inputs(torch, n=200, seed=1)
    x = x.double()
    spec = authors_spec("fashion", "authors", (1, 28, 28), channels=(2, 4), hidden=8).with_bn(True)
    p0 = glorot_init(spec, 0, torch.float64)
    orders = np.stack([np.arange(200).reshape(2, 100)[[0, 1, 0]]] * 2)  # 3 steps, 2 models
    res = train_logged(spec, x, y, stack([p0, p0]), np.array([0.1, 0.5]), np.array([0.1, 0.5]),
                       orders, log_every=2)
    assert list(res.steps) == [0, 2] and np.isfinite(res.logs).all()
    # by hand: model 1 (lr 0.5), three SGD steps, loss of step 2's minibatch after its update
    p = {k: v.clone().requires_grad_(True) for k, v in p0.items()}
    for t in range(3):
        idx = torch.as_tensor(orders[1, t])
        names = list(p)
        g = torch.autograd.grad(loss(spec, p, x[idx], y[idx]), [p[k] for k in names],
                                allow_unused=True, materialize_grads=True)
        p = {k: (p[k] - 0.5 * gk).detach().requires_grad_(True) for k, gk in zip(names, g, strict=True)}
        if t == 0:
            first = float(loss(spec, p, x[idx], y[idx]).detach())
    assert torch.equal(p["conv2.weight"], p0["conv2.weight"])  # no gradient reaches it
    last = float(loss(spec, p, x[torch.as_tensor(orders[1, 2])], y[torch.as_tensor(orders[1, 2])]).detach())
    assert res.logs[1, 0] == pytest.approx(first, rel=1e-9)
    assert res.logs[1, 1] == pytest.approx(last, rel=1e-9)


def test_cli_authors_records_setup_loss_and_grids(tmp_path, capsys):
    pytest.importorskip("torch")
    argv = ["nets", "figure", "3", "--setup", "authors", "--quick", "--dataset", "mnist",
            "--n-train", "200", "--seeds", "1", "--plot-step", "10", "--grid-stride", "10",
            "--device", "cpu", "--out", str(tmp_path)]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "nets_fig3_authors_quick.json").read_text())
    assert d["setup"]["setup"] == "authors" and d["setup"]["loss_reading"] == su.LOSS_READING
    panel = d["panels"][0]
    assert panel["network"]["loss"] == "softmax_mse_mean" and panel["plot_step"] == 10
    assert panel["grids"]["bngd_sep"]["values"] == list(np.logspace(-3, 7, 40)[[0, 10, 20, 30, 39]])
    assert panel["lr_a"] == 0.001 and panel["seeds"] == [0] and panel["n_train"] == 200
    # the mean-over-classes loss at initialisation is about a tenth of the paper's ~0.9
    assert 0.05 < panel["loss_at_init"]["gd"] < 0.15
    assert set(d["f3_claims"]["parts"]) >= {"mnist:gd_has_max_rate", "mnist:bn_near_optimal_wider"}
    z = np.load(tmp_path / "nets_fig3_authors_quick.npz")
    assert z["mnist_gd_logs"].shape == (5, 1, 2) and list(z["mnist_log_steps"]) == [0, 10]


def test_cli_fashion_authors_and_fixed_and_fig2(tmp_path, capsys):
    pytest.importorskip("torch")
    unused = {}
    for setup in ("authors", "authors-fixed"):
        out_dir = tmp_path / setup
        out_dir.mkdir()
        argv = ["nets", "figure", "3", "--setup", setup, "--dataset", "fashion",
                "--n-train", "100", "--seeds", "1", "--plot-step", "0", "--grid-stride", "40",
                "--device", "cpu", "--out", str(out_dir)]
        code, _, err = _run(argv, capsys)
        assert code == 0, err
        d = json.loads((out_dir / f"nets_fig3_{setup}.json").read_text())
        assert d["setup"]["setup"] == setup
        panel = d["panels"][0]
        assert panel["network"]["convs"] == [[32, 5, 2], [64, 5, 2]]
        assert panel["network"]["fcs"] == [1024, 10] and panel["lr_a"] == 0.001
        unused[setup] = panel["network"]["bn_unused_convs"]
    assert unused == {"authors": [1], "authors-fixed": []}
    argv = ["nets", "figure", "2", "--setup", "authors", "--quick", "--n-train", "100",
            "--plot-step", "0", "--grid-stride", "19", "--device", "cpu", "--out", str(tmp_path)]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "nets_fig2_authors_quick.json").read_text())
    assert d["setup"]["setup"] == "authors" and d["lr_a"] == 1.0
    assert d["etas"] == [0.01, 1.0, 100.0] and d["base_lrs"] == [1e-4, 1e4]


def test_cli_paper_setup_records_setup(tmp_path, capsys):
    pytest.importorskip("torch")
    argv = ["nets", "figure", "3", "--quick", "--dataset", "mnist", "--n-train", "200",
            "--seeds", "1", "--per-decade", "1", "--device", "cpu", "--out", str(tmp_path)]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "nets_fig3_quick.json").read_text())
    assert d["setup"]["setup"] == "paper" and d["panels"][0]["lr_a"] == 0.1
