"""Tasks: layouts, masks, metrics and the text file errors (minisab/train/tasks.py)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minisab.train.tasks import (TaskError, adding_batch, builtin_text, copy_batch, corpus_from_text,
                           load_text, make_task, recall_accuracy, text_batch)


@given(T=st.integers(1, 12), n=st.integers(1, 5), S=st.integers(1, 9), B=st.integers(1, 4),
       seed=st.integers(0, 10))
def test_copy_layout(T, n, S, B, seed):
    x, targets, mask = copy_batch(np.random.default_rng(seed), B, T, n, S)
    total = T + 2 * n
    assert x.shape == (B, total, S + 2) and targets.shape == (B, total) and mask.shape == (B, total)
    ids = np.argmax(x, axis=2)
    assert np.all(x.sum(axis=2) == 1.0)                         # one-hot
    digits = ids[:, :n]
    assert np.all((digits >= 1) & (digits <= S))
    assert np.all(ids[:, n:n + T - 1] == 0)                     # T - 1 blanks
    assert np.all(ids[:, n + T - 1] == S + 1)                   # the marker
    assert np.all(ids[:, n + T:] == 0)                          # n blank recall inputs
    assert np.all(targets[:, :T + n] == 0)
    assert np.array_equal(targets[:, T + n:], digits)           # recall the digits in order
    assert np.all(mask == 1.0)


def test_copy_recall_mask_and_seed():
    x1, t1, m1 = copy_batch(np.random.default_rng(3), 4, 6, 3, 5, mask="recall")
    x2, t2, _ = copy_batch(np.random.default_rng(3), 4, 6, 3, 5, mask="recall")
    assert np.array_equal(x1, x2) and np.array_equal(t1, t2)
    assert np.all(m1[:, :9] == 0) and np.all(m1[:, 9:] == 1)


def test_copy_defaults_are_the_papers():
    x, targets, _ = copy_batch(np.random.default_rng(0), 2, 100)
    assert x.shape == (2, 120, 10)          # 10 digits of 8 symbols: blank, 8 digits, marker
    task = make_task("copy", 100)
    assert (task.input_size, task.output_size, task.chance) == (10, 10, 1 / 8)


def test_recall_accuracy():
    _, targets, _ = copy_batch(np.random.default_rng(1), 8, 5, 3, 4)
    perfect = np.eye(6)[targets] * 5.0                          # logits peaked on the target
    assert recall_accuracy(perfect, targets, 3) == 1.0
    wrong = np.eye(6)[np.zeros_like(targets)]                   # always "blank"
    assert recall_accuracy(wrong, targets, 3) == 0.0


@given(T=st.integers(2, 30), B=st.integers(1, 5), seed=st.integers(0, 20))
def test_adding_layout(T, B, seed):
    x, targets, mask = adding_batch(np.random.default_rng(seed), B, T)
    assert x.shape == (B, T, 2) and targets.shape == (B, T, 1)
    marks = x[:, :, 1]
    assert np.all(marks[:, :T // 2].sum(axis=1) == 1) and np.all(marks[:, T // 2:].sum(axis=1) == 1)
    assert np.allclose(targets[:, -1, 0], (x[:, :, 0] * marks).sum(axis=1))
    assert np.all(targets[:, :-1, :] == 0)
    assert np.all(mask[:, -1] == 1) and np.all(mask[:, :-1] == 0)
    assert np.all((x[:, :, 0] >= 0) & (x[:, :, 0] <= 1))


def test_text_batch_is_shifted_windows():
    corpus = corpus_from_text("abcdefghij" * 30)
    x, targets, mask = text_batch(np.random.default_rng(0), 3, 7, corpus.train, len(corpus.vocab))
    ids = np.argmax(x, axis=2)
    assert np.array_equal(ids[:, 1:], targets[:, :-1])          # target = next character
    assert mask.shape == (3, 7) and np.all(mask == 1)
    assert len(corpus.train) + len(corpus.valid) == 300 and len(corpus.valid) == 30


def test_builtin_text_has_long_range_structure():
    text = builtin_text(n_records=50, seed=1)
    lines = text.strip().split("\n")
    assert len(lines) == 50
    for line in lines:
        opening = line[1:line.index(">")]
        assert line.endswith(f"</{opening}>") and len(line) > 40   # the name comes back far later
    task = make_task("text", 32)
    assert task.metric_name == "bpc" and task.chance == pytest.approx(math.log2(task.input_size))
    # uniform logits give log2(V) bits per character
    assert task.metric(None, None, None, math.log(task.input_size)) == pytest.approx(task.chance)


def test_text_file_round_trip(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("héllo wörld, " * 40, encoding="utf-8")
    task = make_task("text", 16, text_file=str(path))
    assert set(task.spec()["vocab"]) == set("héllo wörld, ")
    x, targets, mask = task.sample_eval(np.random.default_rng(0), 2)
    assert x.shape == (2, 16, task.input_size)


@pytest.mark.parametrize("content, words", [
    (None, "does not exist"),
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"caf\xe9 latin-1", "not UTF-8"),
])
def test_bad_text_files(tmp_path, content, words):
    path = tmp_path / "f.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TaskError, match=words):
        load_text(str(path))


def test_text_too_short_for_T(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("abcdefghijklmnopqrstuvwxyz" * 4)
    with pytest.raises(TaskError, match="invalid T"):
        make_task("text", 50, text_file=str(path))


@pytest.mark.parametrize("kw, field", [
    ({"name": "mnist", "T": 5}, "task"),
    ({"name": "copy", "T": 0}, "T"),
    ({"name": "copy", "T": 5, "n_digits": 0}, "n_digits"),
    ({"name": "copy", "T": 5, "mask": "some"}, "mask"),
    ({"name": "adding", "T": 1}, "T"),
])
def test_invalid_task_arguments(kw, field):
    with pytest.raises(TaskError, match=f"invalid {field}=.*accepted values"):
        make_task(**kw)


def test_at_length_transfer():
    task = make_task("copy", 10, n_digits=2, n_symbols=3)
    longer = task.at_length(40)
    x, targets, mask = longer.sample(np.random.default_rng(0), 2)
    assert x.shape == (2, 44, 5) and longer.spec()["T"] == 40 and task.T == 10
    with pytest.raises(TaskError):
        task.at_length(0)


@pytest.mark.parametrize("name, kw, words", [
    ("adding", {"mask": "all"}, "invalid mask='all' for task='adding'"),
    ("adding", {"n_digits": 3}, "invalid n_digits=3 for task='adding'"),
    ("copy", {"text_file": "book.txt"}, "invalid text_file='book.txt' for task='copy'"),
    ("text", {"n_symbols": 4}, "invalid n_symbols=4 for task='text'"),
    ("mnist", {}, "invalid task='mnist': accepted values are 'copy', 'adding', 'text'"),
])
def test_options_of_another_task_are_refused_not_ignored(name, kw, words):
    with pytest.raises(TaskError, match=words):
        make_task(name, 5, **kw)


def test_task_length():
    assert make_task("copy", 5, n_digits=3).length() == 11
    assert make_task("adding", 5).length() == 5
