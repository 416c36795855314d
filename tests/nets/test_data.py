"""Loaders for the standard distribution files (bnverify.nets.data; numpy only, no torch):
IDX (MNIST, Fashion-MNIST) and CIFAR-10 python batches, on tiny files written here, including
each malformed case, and the embedded real subset."""

import gzip
import struct

import numpy as np
import pytest

from bnverify.errors import BNVerifyError
from bnverify.nets import data as D


def _mnist_dir(tmp_path, n=7, gz=True, n_labels=None):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=n_labels or n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    D.write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", x)
    D.write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", y)
    return x, y


@pytest.mark.parametrize("gz", [True, False])
def test_idx_roundtrip(tmp_path, gz):
    x, y = _mnist_dir(tmp_path, gz=gz)
    xi, yi = D.load_idx_pair(tmp_path)
    assert xi.shape == (7, 1, 28, 28) and xi.dtype == np.uint8
    np.testing.assert_array_equal(xi[:, 0], x)
    np.testing.assert_array_equal(yi, y)
    ds = D.load_dataset("mnist", tmp_path)
    assert len(ds) == 7 and ds.source.startswith("data-dir:")


def test_idx_wrong_magic(tmp_path):
    _mnist_dir(tmp_path, gz=False)
    p = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(p.read_bytes())
    raw[:4] = struct.pack(">i", 2049)  # a label magic in the image file
    p.write_bytes(bytes(raw))
    with pytest.raises(BNVerifyError, match="wrong magic number 2049"):
        D.load_idx_pair(tmp_path)


def test_idx_truncated(tmp_path):
    _mnist_dir(tmp_path, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(p.read_bytes())
    p.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(BNVerifyError, match="truncated IDX file"):
        D.load_idx_pair(tmp_path)


def test_idx_truncated_header_and_corrupt_gzip(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(b"\x00\x00")
    with pytest.raises(BNVerifyError, match="truncated"):
        D.read_idx(p, D.IDX_LABELS_MAGIC)
    g = tmp_path / "y.gz"
    g.write_bytes(gzip.compress(b"\x00" * 50)[:20])
    with pytest.raises(BNVerifyError, match="cannot read"):
        D.read_idx(g, D.IDX_LABELS_MAGIC)


def test_idx_count_mismatch(tmp_path):
    _mnist_dir(tmp_path, n=7, n_labels=6)
    with pytest.raises(BNVerifyError, match="count mismatch .7 images, 6 labels"):
        D.load_idx_pair(tmp_path)


def test_idx_missing_file_and_dir(tmp_path):
    with pytest.raises(BNVerifyError, match="has no train-images-idx3-ubyte"):
        D.load_idx_pair(tmp_path)
    with pytest.raises(BNVerifyError, match="not a directory"):
        D.load_idx_pair(tmp_path / "nope")


def test_idx_trailing_bytes_and_label_range(tmp_path):
    x, y = _mnist_dir(tmp_path, gz=False)
    p = tmp_path / "train-labels-idx1-ubyte"
    p.write_bytes(p.read_bytes() + b"\x01")
    with pytest.raises(BNVerifyError, match="trailing bytes"):
        D.load_idx_pair(tmp_path)
    D.write_idx(p, np.full(7, 12, dtype=np.uint8))
    with pytest.raises(BNVerifyError, match="out of range"):
        D.load_idx_pair(tmp_path)


def _cifar_dir(root, n=4):
    rng = np.random.default_rng(1)
    imgs, labs = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, size=n)
        D.write_cifar_batch(root / name, x, y)
        if name != "test_batch":
            imgs.append(x)
            labs.append(y)
    return np.concatenate(imgs), np.concatenate(labs)


def test_cifar_roundtrip_and_subfolder(tmp_path):
    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    x, y = _cifar_dir(sub)
    xs, ys = D.load_cifar10(tmp_path)
    assert xs.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)
    xt, _ = D.load_cifar10(sub, "test")
    assert xt.shape == (4, 3, 32, 32)
    assert len(D.load_dataset("cifar10", tmp_path)) == 20


def test_cifar_malformed(tmp_path):
    _cifar_dir(tmp_path)
    p = tmp_path / "data_batch_3"
    good = p.read_bytes()
    p.write_bytes(good[: len(good) // 2])  # truncated pickle
    with pytest.raises(BNVerifyError, match="data_batch_3: not a CIFAR-10 python batch"):
        D.load_cifar10(tmp_path)
    D.write_cifar_batch(p, np.zeros((4, 3, 32, 32), np.uint8), np.zeros(3, int))
    with pytest.raises(BNVerifyError, match="count mismatch .4 images, 3 labels"):
        D.load_cifar10(tmp_path)
    import pickle

    p.write_bytes(pickle.dumps({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}))
    with pytest.raises(BNVerifyError, match=r"\(N, 3072\)"):
        D.load_cifar10(tmp_path)
    (tmp_path / "data_batch_5").unlink()
    with pytest.raises(BNVerifyError, match="lacks CIFAR-10 file.s. data_batch_5"):
        D.load_cifar10(tmp_path)


def test_embedded_subset_is_real_and_balanced():
    m = D.load_embedded("mnist")
    f = D.load_embedded("fashion")
    assert m.x.shape == (10000, 1, 28, 28) and f.x.shape == (5000, 1, 28, 28)
    # real digits: mostly black background, bright strokes, all ten classes in any prefix
    assert 0.7 < (m.x[:500] == 0).mean() < 0.95
    assert np.bincount(m.y[:1000], minlength=10).min() >= 60
    assert np.bincount(f.y[:1000], minlength=10).min() >= 60
    with pytest.raises(BNVerifyError, match="no embedded copy of 'cifar10'"):
        D.load_embedded("cifar10")
    with pytest.raises(BNVerifyError, match="unknown data set"):
        D.load_dataset("svhn")


def test_embedded_fashion_is_prefix_of_debian_files():
    if not D.DEBIAN_FASHION_DIR.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist not installed")
    x, y = D.load_idx_pair(D.DEBIAN_FASHION_DIR)
    f = D.load_embedded("fashion")
    np.testing.assert_array_equal(f.x, x[: len(f)])
    np.testing.assert_array_equal(f.y, y[: len(f)])


def test_subset_and_downsample():
    m = D.load_embedded("mnist")
    s = m.subset(300)
    assert len(s) == 300 and s.info["subset"] == "first 300 of 10000"
    d = s.downsample(2)
    assert d.x.shape == (300, 1, 14, 14)
    assert d.x[0, 0, 0, 0] == round(s.x[0, 0, :2, :2].astype(float).mean())
    with pytest.raises(BNVerifyError, match="n_train"):
        m.subset(0)
