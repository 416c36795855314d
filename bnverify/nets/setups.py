"""Settings of the network experiments (Fig. 2, Fig. 3): as the paper prints them (``paper``, the
toolkit's default), as the authors' public scripts ran them (``authors``), and as those scripts
with the BN model's second convolution actually used (``authors-fixed``).  Claims F2, F3,
F3.claims.  No torch here (importable by the core and the CLI).

Source of the ``authors`` column: GitHub ``Lightmann/BatchNormGD`` (TensorFlow 1 scripts, commit
``22225684cc3525073ca8ecf4712fa4226f39743c``, 2019-05-08), read with the ``fetch`` tool; file:line
below refer to that commit.  ``MAT`` = ``script/ModelAndTest.py``.

=====================================  =========================  ==============================================  ============================================
setting                                paper (§4.2, as printed)   authors' code (file:line)                       toolkit (``--setup paper`` / ``authors``)
=====================================  =========================  ==============================================  ============================================
1FC loss                               "softmax mean-square"      mean over the 10 classes:                       ``paper``: sum over classes (``softmax_mse``,
                                                                  ``tf.reduce_mean((labels-y)**2)`` MAT:479,      10x theirs); ``authors``: mean
                                                                  486, 494 (Model4_*)                             (``softmax_mse_mean``); see LOSS_READING
conv-net loss                          cross-entropy              ``-reduce_mean(sum(labels*log(y)))`` MAT:104    cross-entropy (log_softmax: no ``log(0)``)
GD conv net (Fashion, MNIST Fig. 2)    Conv-Pool-Conv-Pool-FC-FC  conv 5x5 32 SAME, pool 2, conv 5x5 64 SAME,     ``paper``: LeNet 6/16, FC 120;
                                                                  pool 2, FC 1024, FC 10 (Model_mnist_gd,         ``authors``: 32/64, FC 1024 (pad 2 = SAME)
                                                                  MAT:233-245)
BN conv net                            same net + BN on all       second conv built but unused:                   ``authors``: conv1-BN-ReLU-pool-FC1024-BN-
                                       layers                     ``layer2 = tf.nn.relu(bn1)`` MAT:269            ReLU-FC10-BN, conv2 params exist, unused
                                                                  (Model_mnist_bn), MAT:424 (Model3), MAT:621     (``NetSpec.bn_unused_convs``);
                                                                  (Model_cifar10_bn); flatten 14x14x32            ``authors-fixed``: conv2 used
                                                                                                                  (conv-BN-ReLU-pool twice)
CIFAR-10 net                           2CNN+3FC                   conv 64/64, pool 3x3 stride 2, FC 512, 128,     ``paper``: LeNet 6/16, 120/84;
                                                                  10 (Model_cifar10_gd, MAT:585-598); cannot      ``authors``: refused (one ``error:`` line):
                                                                  run: ``image_size=28`` default (MAT:55, 58)     the scripts cannot run as committed, no
                                                                  overrides the class's 32 (MAT:574): 2,352       3x3/2 pooling here, no CIFAR-10 offline
                                                                  placeholder columns (MAT:66) vs 3,072
BN eps / BN init                       1e-3 / scale 1, shift 0    tf.layers.batch_normalization defaults          1e-3 / 1, 0 (both setups)
                                                                  (MAT:262, momentum 0.9 only for test-time
                                                                  running averages)
init                                   Glorot                     tf.layers default glorot_uniform, zero bias     Glorot uniform, zero bias (both)
training images                        not printed                55,000 (``input_data.read_data_sets``, 5,000    ``paper``: profile subset; ``authors``: the
                                                                  held out): mnist_m4_*.py:4, fmnist_m1_*.py:5    55,000 after TF's split of a 60,000 file,
                                                                                                                  else all that exist (embedded MNIST: 10,000)
minibatch                              100                        ``n_batch=100`` MAT:688                         100
steps                                  "epoch 1"                  ``range(max_step+1)`` MAT:173; max_step         ``paper``: one epoch of the subset;
                                                                  6000 (mnist_m4_*.py:15-17), 1200                ``authors``: updates 0..PLOT_STEP (later
                                                                  (fmnist_m1_*.py:16-17), 1000 (cifar10_m1_*),    steps cannot change the plotted value)
                                                                  600 (mnist_sca_*.py:17-19)
logging / plotted quantity             loss after epoch 1         every 10 steps (MAT:181) the loss of the        ``paper``: mean loss over the subset after
                                                                  step's own minibatch after its update           the epoch; ``authors``: post-update loss of
                                                                  (MAT:190, feed_dict_train, BN batch stats);     the minibatch of step PLOT_STEP (CHOICE:
                                                                  which logged step was plotted: notebook         550 = end of epoch 1 of 55,000 images; the
                                                                  ``Results.ipynb`` (not in the snapshot);        whole logged curve is kept in the .npz)
                                                                  ``Test.plot_lr`` default index 10 (MAT:715)
GD lr grid                             not printed                logspace(-3,1,20) fmnist_m1_gdlr.py:16,         ``paper``: log_grid 1e-4..1e4, 2/decade;
                                                                  cifar10_m1_gdlr.py:15; logspace(-3,5,40)        ``authors``: theirs (AUTHORS_FIG3)
                                                                  mnist_m4_gdlr.py:15
BNGD (shared lr) grid                  not printed                logspace(-3,3,40) fmnist_m1_bnlr.py:16,         theirs
                                                                  cifar10_m1_bnlr.py:15; logspace(-3,5,40)
                                                                  mnist_m4_bnlr.py:15
BNGD (separate lr) grid                not printed                logspace(-3,3,40) fmnist_m1_bnsplr.py:17;       theirs
                                                                  logspace(-3,7,40) mnist_m4_bnsplr.py:17
BN-parameter lr ``lr_a``               not printed                0.001 fmnist_m1_bnsplr.py:11 (comment lists     ``paper``: 0.1; ``authors``: CHOICE 0.001
                                                                  1, 0.1, 0.01, 0.001); loop over {1, 0.1,        on every Fig. 3 panel (the value of the
                                                                  0.01, 0.001} mnist_m4_bnsplr.py:7,              single-valued scripts); ``--lr-a`` overrides
                                                                  cifar10_m1_bnsplr.py:7; 1.0 mnist_sca_bnsplr:7
repetitions / seeds                    "mean of 5 runs"           ``for i in range(5)``, unseeded, fresh          seeds seed..seed+k-1; common random numbers
                                                                  weights per learning rate (e.g.                 (the same init and data order for every lr
                                                                  fmnist_m1_gdlr.py:7)                            of a seed), recorded
Fig. 2 (scaling)                       eta in {0.01..100},        BN-sep model (one-conv) on MNIST, aug =         ``authors``: theirs; lr_a 1.0; plotted step
                                       lr/eta^2                   logspace(-2,2,9), lr = logspace(-4,4,20)        as Fig. 3
                                                                  * aug^2, lr_a 1.0, 600 steps
                                                                  (mnist_sca_bnsplr.py:7-19)
=====================================  =========================  ==============================================  ============================================

Choices where the code is ambiguous (also written into every data file, ``setup_record``):
the plotted logged step (PLOT_STEP), the BN-parameter rate ``lr_a`` (AUTHORS_LR_A), common random
numbers instead of unseeded fresh draws, and ``authors-fixed``'s second block as conv-BN-ReLU-pool
(the authors' unused ``pool1`` pools ``bn1`` without ReLU, MAT:264; the GD model pools after ReLU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BNVerifyError

SETUPS = ("paper", "authors", "authors-fixed")
AUTHORS_REPO = "github:Lightmann/BatchNormGD"
AUTHORS_COMMIT = "22225684cc3525073ca8ecf4712fa4226f39743c"

LOSS_READING = (
    "The paper calls the loss of network (1) the 'softmax mean-square loss' without saying "
    "whether the squared error is summed or averaged over the 10 classes. The 'paper' setup "
    "sums over classes (mean over the batch of sum_k (softmax(z)_k - onehot_k)^2); the authors' "
    "code averages over the classes as well (tf.reduce_mean((labels - y)**2), "
    "script/ModelAndTest.py:479 in Lightmann/BatchNormGD), so its loss is the paper setup's "
    "divided by 10, and the same dynamics need a learning rate 10x larger: the authors' "
    "learning-rate axis sits one decade higher than the 'paper' setup's."
)

#: CHOICE: the logged step whose post-update minibatch loss is plotted: the end of epoch 1 of
#: the authors' 55,000 training images (550 steps of 100); Test.plot_lr's default index 10
#: would be step 100 (MAT:715).  The .npz keeps every logged step.
PLOT_STEP = 550
LOG_EVERY = 10  # MAT:181
AUTHORS_N_TRAIN = 55000  # input_data.read_data_sets: 60,000 - 5,000 validation
TF_VALIDATION = 5000
#: CHOICE: BN-parameter learning rate of the separate-lr method in Fig. 3 (fmnist_m1_bnsplr.py:11)
AUTHORS_LR_A = 0.001
AUTHORS_LR_A_OPTIONS = (1.0, 0.1, 0.01, 0.001)


@dataclass(frozen=True)
class Grid:
    """``np.logspace(lo, hi, num)``, as in the authors' scripts."""

    lo: float
    hi: float
    num: int
    where: str  # file:line

    def values(self, stride: int = 1) -> np.ndarray:
        """The grid, every ``stride``-th point (quick runs); the last point is always kept."""
        v = np.logspace(self.lo, self.hi, self.num)
        if stride <= 1:
            return v
        idx = list(range(0, self.num, stride))
        if idx[-1] != self.num - 1:
            idx.append(self.num - 1)
        return v[idx]

    def per_decade(self, stride: int = 1) -> float:
        """Grid points per decade (for widths in decades)."""
        return (self.num - 1) / (self.hi - self.lo) / max(1, stride)


@dataclass(frozen=True)
class AuthorsPanel:
    dataset: str
    scripts: tuple[str, ...]
    net: str  # "1fc" or "cnn" (Model_mnist_*)
    loss: str
    grids: dict[str, Grid]
    max_step: int
    lr_a: float
    lr_a_where: str


AUTHORS_FIG3: dict[str, AuthorsPanel] = {
    "mnist": AuthorsPanel(
        "mnist", ("script/mnist_m4_gdlr.py", "script/mnist_m4_bnlr.py",
                  "script/mnist_m4_bnsplr.py"),
        "1fc", "softmax_mse_mean",
        {"gd": Grid(-3, 5, 40, "mnist_m4_gdlr.py:15"),
         "bngd": Grid(-3, 5, 40, "mnist_m4_bnlr.py:15"),
         "bngd_sep": Grid(-3, 7, 40, "mnist_m4_bnsplr.py:17")},
        6000, AUTHORS_LR_A, "CHOICE (script loops over 1, 0.1, 0.01, 0.001: mnist_m4_bnsplr.py:7)"),
    "fashion": AuthorsPanel(
        "fashion", ("script/fmnist_m1_gdlr.py", "script/fmnist_m1_bnlr.py",
                    "script/fmnist_m1_bnsplr.py"),
        "cnn", "cross_entropy",
        {"gd": Grid(-3, 1, 20, "fmnist_m1_gdlr.py:16"),
         "bngd": Grid(-3, 3, 40, "fmnist_m1_bnlr.py:16"),
         "bngd_sep": Grid(-3, 3, 40, "fmnist_m1_bnsplr.py:17")},
        1200, 0.001, "fmnist_m1_bnsplr.py:11"),
}
#: Fig. 2 (mnist_sca_bnsplr.py): BN-sep one-conv model on MNIST, weights x aug, lr = base * aug^2
AUTHORS_FIG2 = {
    "etas": tuple(float(v) for v in np.logspace(-2, 2, 9)),  # mnist_sca_bnsplr.py:8
    "base": Grid(-4, 4, 20, "mnist_sca_bnsplr.py:19"),
    "lr_a": 1.0,  # mnist_sca_bnsplr.py:7
    "max_step": 600,  # mnist_sca_bnsplr.py:19
    "script": "script/mnist_sca_bnsplr.py",
}
#: widths of Model_mnist_gd / Model_mnist_bn (MAT:233-245, 260-280)
CNN_CHANNELS = (32, 64)
CNN_KERNEL = 5
CNN_HIDDEN = 1024


def check_setup(setup: str) -> str:
    if setup not in SETUPS:
        raise BNVerifyError(f"setup: unknown setup {setup!r} (use {', '.join(SETUPS)})")
    return setup


def authors_panel(dataset: str) -> AuthorsPanel:
    if dataset == "cifar10":
        raise BNVerifyError(
            "setup authors: no CIFAR-10 panel: the authors' cifar10_m1_* scripts cannot run as "
            "committed (image_size=28 gives 2,352 input columns against 3,072, "
            "script/ModelAndTest.py:55,66), their 3x3/2 pooling is not implemented here, and no "
            "CIFAR-10 copy is offline (use --setup paper)")
    if dataset not in AUTHORS_FIG3:
        raise BNVerifyError(f"dataset: unknown data set {dataset!r}")
    return AUTHORS_FIG3[dataset]


def authors_train_indices(n_file: int) -> tuple[slice, str]:
    """Which training images the authors' loader used: a 60,000-image file loses its first
    5,000 to TF's validation split (``read_data_sets``); smaller sets are used whole."""
    if n_file >= AUTHORS_N_TRAIN + TF_VALIDATION:
        return slice(TF_VALIDATION, TF_VALIDATION + AUTHORS_N_TRAIN), (
            f"images {TF_VALIDATION}..{TF_VALIDATION + AUTHORS_N_TRAIN - 1} of the training "
            f"file (the authors' 55,000 after TF's 5,000-image validation split)")
    return slice(0, n_file), (
        f"all {n_file} images available (the authors used 55,000; this source has fewer)")


def setup_record(setup: str, figure: str) -> dict[str, Any]:
    """What a data file records about its setup (JSON-able)."""
    check_setup(setup)
    rec: dict[str, Any] = {"setup": setup, "loss_reading": LOSS_READING}
    if setup == "paper":
        rec["description"] = ("the paper as printed, with the toolkit's readings (LeNet widths, "
                              "sum-over-classes loss, mean loss after one epoch of the subset)")
        return rec
    rec.update(
        description=("the authors' scripts (" + AUTHORS_REPO + "@" + AUTHORS_COMMIT[:7] + ")"
                     + (", with the BN model's second convolution used"
                        if setup == "authors-fixed" else
                        ", BN conv model with its second convolution unused (MAT:269)")),
        authors_repo=AUTHORS_REPO, authors_commit=AUTHORS_COMMIT,
        plotted_quantity=("post-update loss of the minibatch of step plot_step (BN batch "
                          "statistics), mean over seeds"),
        plot_step_choice=(f"CHOICE: step {PLOT_STEP} = end of epoch 1 of 55,000 images (the "
                          "notebook that chose the plotted step is not public; Test.plot_lr "
                          "defaults to step 100)"),
        log_every=LOG_EVERY,
        seeds_choice=("CHOICE: seeded, common random numbers across learning rates (the authors: "
                      "unseeded, fresh weights per learning rate)"),
        lr_a_choice=(f"CHOICE: {AUTHORS_LR_A} on Fig. 3 (fmnist_m1_bnsplr.py:11; mnist_m4 and "
                     f"cifar10 loop over {list(AUTHORS_LR_A_OPTIONS)}); Fig. 2: 1.0 "
                     "(mnist_sca_bnsplr.py:7)"),
    )
    if setup == "authors-fixed":
        rec["fixed_block"] = "conv2 -> BN -> ReLU -> pool 2 (as the GD model, MAT:237-239)"
    return rec


#: ``--quick`` sizes of the authors' setups (CPU minutes; docs/nets.md): the first ``n_train``
#: of the authors' training images, updates 0..``plot_step``, every ``stride``-th grid point
AUTHORS_QUICK: dict[str, dict[str, Any]] = {
    "mnist": {"n_train": 2000, "plot_step": 100, "stride": 4, "seeds": 3},
    "fashion": {"n_train": 1000, "plot_step": 50, "stride": 4, "seeds": 3},
    "fig2": {"n_train": 1000, "plot_step": 50, "stride": 4, "seeds": 1,
             "etas": (0.01, 1.0, 100.0)},
}
AUTHORS_FULL: dict[str, Any] = {"n_train": None, "plot_step": PLOT_STEP, "stride": 1, "seeds": 5}
