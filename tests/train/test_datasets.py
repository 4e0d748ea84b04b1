"""Real data (minisab/train/datasets.py): IDX files, Fashion-MNIST from a folder, the shipped digits,
the pixel-by-pixel tasks, the default text corpus, and their command-line errors.

The Fashion-MNIST tests write their own small IDX files (gzip and plain) with the writer below,
so they need no installed data.
"""
import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minisab.cli.commands import main
from minisab.train.datasets import (DIGITS_N_TEST, DataError, FASHION_FILES, digits_split, downsample,
                              image_batch, last_step_accuracy, load_digits, load_fashion,
                              pixel_permutation, read_idx, stdlib_text)
from minisab.losses import xent_forward
from minisab.train.tasks import TaskError, make_task

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
          np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def write_idx(path, array, compress=False):
    """The IDX format: 0, 0, type code, ndim, one big-endian int32 per dimension, the data."""
    array = np.asarray(array)
    if array.dtype.itemsize > 1:
        array = array.astype(array.dtype.newbyteorder(">"))
    header = bytes([0, 0, _CODES[array.dtype], array.ndim]) + struct.pack(
        f">{array.ndim}i", *array.shape)
    raw = header + array.tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_idx_round_trip(tmp_path, compress, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else \
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", a, compress)
    b = read_idx(tmp_path / "a.idx")
    assert b.shape == (2, 3, 4) and np.array_equal(b, a)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), compress=st.booleans(),
       seed=st.integers(0, 100))
def test_idx_round_trip_any_shape(tmp_path_factory, shape, compress, seed):
    a = np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.uint8)
    path = tmp_path_factory.mktemp("idx") / "a"
    write_idx(path, a, compress)
    assert np.array_equal(read_idx(path), a) and read_idx(path).shape == tuple(shape)


def test_idx_errors(tmp_path):
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "png")
    write_idx(tmp_path / "short", np.zeros((4, 3), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-2])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "header").write_bytes(b"\x00\x00\x08\x03\x00\x00")   # 3 dims, 2 bytes of them
    with pytest.raises(DataError, match="'.*header' is truncated: its header announces 3"):
        read_idx(tmp_path / "header")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" * 50)[:-12] + b"x" * 9)
    with pytest.raises(DataError, match="bad.gz' is a damaged gzip file"):
        read_idx(tmp_path / "bad.gz")
    (tmp_path / "crc.gz").write_bytes(gzip.compress(b"\x00" * 99)[:20] + b"\xff" * 30)
    with pytest.raises(DataError, match="crc.gz' is a damaged gzip file"):
        read_idx(tmp_path / "crc.gz")
    (tmp_path / "neg").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">i", -3))
    with pytest.raises(DataError, match="header announces shape \\(-3,\\)"):
        read_idx(tmp_path / "neg")


def _fashion_with(folder, images=None, labels=None):
    """The fake Fashion-MNIST of ``_fake_fashion`` with its training images or labels
    replaced."""
    _fake_fashion(folder, compress=False)
    stem_i, stem_l = FASHION_FILES["train"]
    if images is not None:
        write_idx(folder / stem_i, images)
    if labels is not None:
        write_idx(folder / stem_l, labels)
    load_fashion.cache_clear()
    return str(folder)


@pytest.mark.parametrize("images, labels, words", [
    (np.zeros((6, 28, 27), np.uint8), None, "holds an array of shape (6, 28, 27); Fashion-MNIST "
     "images are (N, 28, 28)"),
    (np.zeros((6, 14, 14), np.uint8), None, "shape (6, 14, 14)"),
    (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), "holds no images"),
    (None, np.array([0, 1, 2, 3, 4, 10], np.uint8), "labels of type uint8 from 0 to 10: "
     "accepted are integers from 0 to 9"),
    (None, np.zeros(5, np.uint8), "holds 6 images and"),
    (None, np.zeros((6, 1), np.uint8), "Fashion-MNIST labels are (N,)"),
    (np.full((6, 28, 28), np.nan, ">f4"), None, "holds NaN or infinite pixels"),
    (np.full((6, 28, 28), 300, ">i2"), None, "pixels from 300 to 300: accepted are pixels "
     "from 0 to 255"),
    (None, np.full(6, 1.5, ">f4"), "labels of type >f4"),
])
def test_damaged_fashion_files_are_named(tmp_path, images, labels, words):
    folder = _fashion_with(tmp_path / "f", images, labels)
    with pytest.raises(DataError) as e:
        load_fashion(folder, 14)
    assert words in str(e.value) and "train-" in str(e.value)


def _fake_fashion(folder, n_train=6, n_test=4, compress=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for part, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        stem_i, stem_l = FASHION_FILES[part]
        suffix = ".gz" if compress else ""
        write_idx(folder / (stem_i + suffix), images, compress)
        write_idx(folder / (stem_l + suffix), labels, compress)
        data[part] = (images, labels)
    return data


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_from_idx_files(tmp_path, compress):
    data = _fake_fashion(tmp_path / "f", compress=compress)
    xtr, ytr, xte, yte = load_fashion(str(tmp_path / "f"), 7)
    assert xtr.shape == (6, 7, 7) and xte.shape == (4, 7, 7)
    assert np.array_equal(ytr, data["train"][1]) and np.array_equal(yte, data["test"][1])
    # pixel (i, j) of the 7x7 image is the mean of the 4x4 block at (4i, 4j), scaled to [0, 1]
    block = data["train"][0][2, 8:12, 20:24].astype(np.float64)
    assert xtr[2, 2, 5] == pytest.approx(block.mean() / 255.0, rel=1e-6)
    task = make_task("fashion", None, data_dir=str(tmp_path / "f"), image_size=14)
    assert (task.T, task.input_size, task.output_size) == (196, 1, 10)
    x, targets, mask = task.sample_eval(np.random.default_rng(0), 100)
    assert x.shape == (4, 196, 1)                                   # the whole test set, once
    assert sorted(targets[:, -1]) == sorted(data["test"][1])
    assert task.spec() == {"name": "fashion", "T": 196, "data_dir": str(tmp_path / "f"),
                           "image_size": 14}


def test_fashion_missing_says_how_to_install(tmp_path):
    with pytest.raises(TaskError, match="data_dir=.*apt-get install dataset-fashion-mnist"):
        make_task("fashion", None, data_dir=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(TaskError, match="has no train-images-idx3-ubyte"):
        make_task("fashion", None, data_dir=str(tmp_path / "empty"))
    with pytest.raises(DataError, match="invalid image_size=5: accepted values are 28, 14, 7"):
        downsample(np.zeros((1, 28, 28), np.uint8), 5)


def test_digits_data_and_split():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and 0 <= images.min() and images.max() == 1.0
    assert np.array_equal(np.bincount(labels), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    xtr, ytr, xte, yte = digits_split()
    assert len(ytr) == 1797 - DIGITS_N_TEST and len(yte) == DIGITS_N_TEST
    # disjoint, and together every image once (rows compared as bytes)
    rows = {r.tobytes() for r in xtr.reshape(len(xtr), -1)} & {r.tobytes() for r in
                                                              xte.reshape(len(xte), -1)}
    all_rows = np.concatenate([xtr, xte]).reshape(1797, -1)
    assert np.array_equal(np.sort(all_rows, axis=0), np.sort(images.reshape(1797, -1), axis=0))
    assert len(rows) < 20                        # only exact duplicates may appear in both
    assert np.array_equal(digits_split()[3], yte)                 # fixed


def test_digit_tasks_last_step_only():
    task = make_task("digits", None)
    ptask = make_task("pdigits", 64)
    assert task.T == ptask.T == 64 and task.chance == 0.1 and task.metric_name == "accuracy"
    x, targets, mask = task.sample(np.random.default_rng(4), 5)
    xp, targets_p, _ = ptask.sample(np.random.default_rng(4), 5)    # same images, permuted
    assert np.array_equal(xp[:, :, 0], x[:, pixel_permutation(64), 0])
    assert np.array_equal(targets, targets_p)
    assert np.all(mask[:, -1] == 1) and np.all(mask[:, :-1] == 0)
    assert np.all(targets[:, :-1] == 0)
    # the masked loss is the cross-entropy of the last step alone
    logits = np.random.default_rng(0).normal(size=(5, 64, 10))
    loss, _ = xent_forward(logits, targets, mask)
    last = logits[:, -1] - np.log(np.exp(logits[:, -1]).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.mean(last[np.arange(5), targets[:, -1]]))
    perfect = np.eye(10)[targets] * 3.0
    assert last_step_accuracy(perfect, targets) == 1.0 == task.metric(perfect, targets, mask, 0.)
    with pytest.raises(TaskError, match="invalid T=20 for task 'digits': accepted values are 64"):
        make_task("digits", 20)
    with pytest.raises(TaskError, match="invalid T=128"):
        task.at_length(128)


def test_image_batch_held_out_draws_without_replacement():
    images = np.arange(10 * 4, dtype=np.float64).reshape(10, 2, 2)
    labels = np.arange(10)
    x, targets, _ = image_batch(np.random.default_rng(0), 6, images, labels, replace=False)
    assert len(set(targets[:, -1])) == 6
    assert np.array_equal(x[:, :, 0], images[targets[:, -1]].reshape(6, 4))


def test_default_text_corpus_is_the_standard_library():
    text = stdlib_text()
    assert len(text) > 100_000 and "the" in text
    task = make_task("text", 32)
    assert task.spec()["text_file"] is None and len(task.spec()["vocab"]) == task.input_size
    assert set(task.spec()["vocab"]) == set(text)


def test_digits_trains_from_the_command_line(tmp_path, capsys):
    rc = main(["train", "--task", "pdigits", "--steps", "2", "--batch", "4", "--eval-every", "2",
               "--eval-batch", "8", "--hidden-size", "8", "--attn-size", "4", "--method", "sab",
               "--k-trunc", "8", "--detach-scores", "--no-progress", "--runs-dir",
               str(tmp_path)])
    assert rc == 0 and "held-out accuracy" in capsys.readouterr().out
    assert (tmp_path / "pdigits-sab" / "checkpoint.npz").exists()


@pytest.mark.parametrize("argv, words", [
    (["--task", "mnist"], "--task: invalid choice: 'mnist'"),
    (["--task", "fashion", "--image-size", "9"], "--image-size: invalid choice: 9"),
    (["--task", "fashion", "--data-dir", "/nonexistent/x"], "invalid data_dir='/nonexistent/x'"),
    (["--task", "fashion", "--data-dir", "/dev/null"], "invalid data_dir='/dev/null': it is a "
     "file; accepted is the folder"),
    (["--task", "text", "--text-file", "/dev/zero"], "text file '/dev/zero' is not a regular "
     "file"),
    (["--task", "digits", "--T", "30"], "invalid T=30 for task 'digits'"),
])
def test_cli_data_errors_exit_2(tmp_path, capsys, argv, words):
    with pytest.raises(SystemExit) as e:
        main(["train", *argv, "--steps", "1", "--no-progress", "--runs-dir", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_damaged_fashion_file_exits_2_from_the_command_line(tmp_path, capsys):
    folder = _fashion_with(tmp_path / "f", labels=np.arange(6, dtype=np.uint8) + 5)
    with pytest.raises(SystemExit) as e:
        main(["train", "--task", "fashion", "--data-dir", folder, "--steps", "1",
              "--no-progress", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert "train-labels-idx1-ubyte' holds labels of type uint8 from 5 to 10" in err
    assert not (tmp_path / "runs").exists()                 # refused before any file


def test_an_oversized_text_file_is_refused(tmp_path, monkeypatch):
    import minisab.train.corpus as corpus
    import minisab.train.tasks as tasks
    monkeypatch.setattr(corpus, "MAX_TEXT_BYTES", 100)
    (tmp_path / "big.txt").write_text("a" * 101)
    with pytest.raises(TaskError, match="is larger than 100 bytes"):
        tasks.load_text(tmp_path / "big.txt")
    (tmp_path / "ok.txt").write_text("a" * 100)
    assert len(tasks.load_text(tmp_path / "ok.txt").train) == 90
