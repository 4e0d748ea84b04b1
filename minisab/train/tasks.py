"""The tasks, generated in code or read offline (nothing is downloaded): copy, adding,
character-level text, and pixel-by-pixel image classification (``digits``, ``pdigits``,
``fashion``: minisab/train/datasets.py).

Every task draws a batch from a host ``numpy.random.Generator`` and returns host arrays
``(x, targets, mask)``:

- ``x``       (B, T_total, I) float64 inputs (one-hot for copy and text);
- ``targets`` (B, T_total) int64 class indices (``loss="xent"``) or (B, T_total, C) float64
  values (``loss="mse"``);
- ``mask``    (B, T_total) float64 0/1: the positions the loss counts (docs/model.md §3).

The training loop moves them to the backend; a task never sees a device array. ``Task`` bundles
a generator with its sizes and its metric, so the loop, the command line and ``eval`` at another
length (transfer: ``task.at_length(T)``) treat every task the same way.

Copy task layout (as in the released code, one-hot instead of one float; docs/model.md §5), with
``n = n_digits``, vocabulary ``0`` blank, ``1..n_symbols`` digits, ``n_symbols + 1`` marker::

    step    0 .. n-1        n .. n+T-2      n+T-1     n+T .. n+T+n-1
    input   d_1 .. d_n      blank (T-1)     marker    blank (n)
    target  blank (n)       blank (T-1)     blank     d_1 .. d_n

so a sequence has ``T + 2n`` steps, the gap between a digit and its recall is ``T + n`` steps,
inputs and outputs share the ``n_symbols + 2`` classes (the marker is never a target), and the
metric is the accuracy on the last ``n`` steps (chance ``1 / n_symbols``). ``mask="all"``
(the released code) puts every step in the loss; ``mask="recall"`` only the last ``n``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from collections.abc import Callable

import numpy as np

from . import datasets
from .corpus import (MAX_TEXT_BYTES, Corpus, builtin_text, corpus_from_text,  # noqa: F401
                     load_text, stdlib_corpus)  # (re-exported: the text task's corpus)
from .datasets import DataError, TaskError  # noqa: F401

MASKS = ("all", "recall")
TASKS = ("copy", "adding", "text", "digits", "pdigits", "fashion")
IMAGE_TASKS = ("digits", "pdigits", "fashion")     # one step a pixel, fixed T (datasets.py)


def _need_int(value, name, low):
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low):
        raise TaskError(f"invalid {name}={value!r}: accepted values are integers >= {low}")


def one_hot(ids, n_classes: int) -> np.ndarray:
    """ids (B, T) ints -> (B, T, n_classes) float64."""
    return (ids[:, :, None] == np.arange(n_classes)).astype(np.float64)


# ---------------------------------------------------------------------------------- copy
def copy_batch(rng: np.random.Generator, batch: int, T: int, n_digits: int = 10,
               n_symbols: int = 8, mask: str = "all"):
    """A batch of the copy task (layout in the module docstring).

    Returns ``x`` (B, T+2n, n_symbols+2), ``targets`` (B, T+2n) int64, ``mask`` (B, T+2n).
    """
    _need_int(batch, "batch", 1)
    _check_copy(T, n_digits, n_symbols, mask)
    n = n_digits
    total = T + 2 * n
    digits = rng.integers(1, n_symbols + 1, size=(batch, n))           # (B, n)
    ids = np.zeros((batch, total), dtype=np.int64)
    ids[:, :n] = digits
    ids[:, n + T - 1] = n_symbols + 1                                   # the marker
    targets = np.zeros((batch, total), dtype=np.int64)
    targets[:, T + n:] = digits
    m = np.ones((batch, total))
    if mask == "recall":
        m[:, :T + n] = 0.0
    return one_hot(ids, n_symbols + 2), targets, m


def _check_copy(T, n_digits, n_symbols, mask):
    _need_int(T, "T", 1)
    _need_int(n_digits, "n_digits", 1)
    _need_int(n_symbols, "n_symbols", 1)
    if mask not in MASKS:
        raise TaskError(f"invalid mask={mask!r}: accepted values are {', '.join(map(repr, MASKS))}")


def recall_accuracy(logits, targets, n_digits: int) -> float:
    """Accuracy on the last ``n_digits`` steps: logits (B, T, C) host, targets (B, T)."""
    pred = np.argmax(logits[:, -n_digits:, :], axis=2)
    return float(np.mean(pred == targets[:, -n_digits:]))


# -------------------------------------------------------------------------------- adding
def adding_batch(rng: np.random.Generator, batch: int, T: int):
    """The adding task: inputs (value, marker), one marker in each half of the sequence.

    x (B, T, 2): column 0 a value drawn from U[0, 1], column 1 the marker (1 at two steps, one
    in ``[0, T//2)`` and one in ``[T//2, T)``). targets (B, T, 1): the sum of the two marked
    values at the last step (0 elsewhere); mask (B, T): 1 only at the last step.
    Predicting the mean (1.0) gives a mean squared error of 1/6.
    """
    _need_int(batch, "batch", 1)
    _need_int(T, "T", 2)
    values = rng.uniform(0.0, 1.0, size=(batch, T))
    first = rng.integers(0, T // 2, size=batch)
    second = rng.integers(T // 2, T, size=batch)
    rows = np.arange(batch)
    marks = np.zeros((batch, T))
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=2)
    targets = np.zeros((batch, T, 1))
    targets[:, T - 1, 0] = values[rows, first] + values[rows, second]
    m = np.zeros((batch, T))
    m[:, T - 1] = 1.0
    return x, targets, m


def text_batch(rng: np.random.Generator, batch: int, T: int, ids: np.ndarray, vocab_size: int):
    """Random windows of ``T + 1`` characters: input chars [0, T), targets chars [1, T+1)."""
    _need_int(batch, "batch", 1)
    _need_int(T, "T", 1)
    if len(ids) < T + 1:
        raise TaskError(f"invalid T={T}: the text split has only {len(ids)} characters; "
                        f"accepted values are T <= {len(ids) - 1}")
    start = rng.integers(0, len(ids) - T, size=batch)
    win = ids[start[:, None] + np.arange(T + 1)]                       # (B, T+1)
    return one_hot(win[:, :-1], vocab_size), win[:, 1:].copy(), np.ones((batch, T))


# ---------------------------------------------------------------------------------- Task
@dataclass(frozen=True)
class Task:
    """A task: its sizes, its batch generator and its metric.

    ``sample(rng, batch)`` -> host ``(x, targets, mask)`` for training; ``sample_eval`` the same
    from the held-out split (text) or the same generator (copy, adding);
    ``metric(logits, targets, mask, loss)`` -> float (host arrays); ``higher_is_better`` tells
    early stopping which way to compare.
    """
    name: str
    T: int
    input_size: int
    output_size: int
    loss: str
    metric_name: str
    higher_is_better: bool
    chance: float
    options: dict
    _sample: Callable
    _metric: Callable
    _sample_eval: Callable | None = None

    def sample(self, rng, batch):
        return self._sample(rng, batch, self.T)

    def sample_eval(self, rng, batch):
        return (self._sample_eval or self._sample)(rng, batch, self.T)

    def metric(self, logits, targets, mask, loss: float) -> float:
        return self._metric(logits, targets, mask, loss)

    def length(self) -> int:
        """Steps of one sequence: ``T + 2 * n_digits`` for copy, ``T`` otherwise."""
        return self.T + 2 * self.options["n_digits"] if self.name == "copy" else self.T

    def at_length(self, T: int) -> Task:
        """The same task at another sequence length (transfer)."""
        _need_int(T, "T", 2 if self.name == "adding" else 1)
        if self.name in IMAGE_TASKS and T != self.T:
            raise TaskError(f"invalid T={T!r} for task {self.name!r}: accepted values are "
                            f"{self.T} (an image has a fixed number of pixels)")
        return replace(self, T=T)

    def spec(self) -> dict:
        """What identifies the task (config.json, checkpoints)."""
        return {"name": self.name, "T": self.T, **self.options}


def make_task(name: str, T: int | None, n_digits: int | None = None,
              n_symbols: int | None = None, mask: str | None = None, text_file=None,
              corpus: Corpus | None = None, data_dir=None, image_size: int | None = None) -> Task:
    """Build a task by name: "copy", "adding", "text", "digits", "pdigits" or "fashion".

    ``n_digits`` (default 10), ``n_symbols`` (default 8) and ``mask`` (default "all") belong to
    the copy task; ``text_file`` and ``corpus`` to the text task (``text_file=None`` reads the
    default corpus, the standard library's ``pydoc_data.topics``; ``corpus`` gives one
    directly, e.g. ``corpus_from_text(builtin_text())``, the generated demo); ``data_dir`` and
    ``image_size`` to fashion. Given to another task they are refused rather than ignored.
    Image tasks (datasets.py): ``T`` is the number of pixels (``None`` takes it); fashion reads
    ``data_dir`` (default: the user cache, else Debian's folder; download.py) at ``image_size``
    14 (T=196, the default), 7 (T=49)
    or 28 (T=784).
    """
    if name not in TASKS:
        raise TaskError(f"invalid task={name!r}: accepted values are "
                        f"{', '.join(map(repr, TASKS))}")
    owners = {"n_digits": "copy", "n_symbols": "copy", "mask": "copy", "text_file": "text",
              "corpus": "text", "data_dir": "fashion", "image_size": "fashion"}
    given = {"n_digits": n_digits, "n_symbols": n_symbols, "mask": mask, "text_file": text_file,
             "corpus": corpus, "data_dir": data_dir, "image_size": image_size}
    own = [k for k, task in owners.items() if task == name]
    foreign = [k for k, v in given.items() if v is not None and k not in own]
    if foreign:
        raise TaskError(f"invalid {foreign[0]}={given[foreign[0]]!r} for task={name!r}: "
                        f"{name!r} accepts " + (", ".join(own) if own else "no options")
                        + f" ({foreign[0]} belongs to the {owners[foreign[0]]} task)")
    if name in IMAGE_TASKS:
        try:
            return _image_task(name, T, data_dir, 14 if image_size is None else image_size)
        except DataError as e:
            raise TaskError(str(e)) from None
    if name == "copy":
        n_digits = 10 if n_digits is None else n_digits
        n_symbols = 8 if n_symbols is None else n_symbols
        mask = "all" if mask is None else mask
        _check_copy(T, n_digits, n_symbols, mask)
        V = n_symbols + 2
        return Task("copy", T, V, V, "xent", "accuracy", True, 1.0 / n_symbols,
                    {"n_digits": n_digits, "n_symbols": n_symbols, "mask": mask},
                    lambda rng, B, T_: copy_batch(rng, B, T_, n_digits, n_symbols, mask),
                    lambda y, tg, m, loss: recall_accuracy(y, tg, n_digits))
    if name == "adding":
        _need_int(T, "T", 2)
        return Task("adding", T, 2, 1, "mse", "mse", False, 1.0 / 6.0, {},
                    adding_batch, lambda y, tg, m, loss: loss)
    if name == "text":
        if corpus is None:
            corpus = stdlib_corpus() if text_file is None else load_text(text_file)
        V = len(corpus.vocab)
        text_batch(np.random.default_rng(0), 1, T, corpus.valid, V)      # validates T
        return Task("text", T, V, V, "xent", "bpc", False, math.log2(V),
                    {"text_file": None if text_file is None else str(text_file),
                     "vocab": corpus.vocab},
                    lambda rng, B, T_: text_batch(rng, B, T_, corpus.train, V),
                    lambda y, tg, m, loss: loss / math.log(2.0),
                    lambda rng, B, T_: text_batch(rng, B, T_, corpus.valid, V))
    raise TaskError(f"invalid task={name!r}: accepted values are {', '.join(map(repr, TASKS))}")



# ------------------------------------------------------------------------- image tasks
def _image_task(name: str, T, data_dir, image_size: int) -> Task:
    """``digits``, ``pdigits`` or ``fashion``: one pixel a step, the class at the last step
    (the data, splits and layout: minisab/train/datasets.py)."""
    if name in ("digits", "pdigits"):
        xtr, ytr, xte, yte = datasets.digits_split()
        options, what = {}, "8×8 pixels"
    else:
        if data_dir is None:            # the user cache, else Debian's folder (download.py)
            from .download import cache_dir, find_fashion
            data_dir = find_fashion()
            if data_dir is None:
                raise TaskError(f"Fashion-MNIST not found in the user cache {cache_dir()!r} "
                                f"nor in {datasets.FASHION_DIR!r}; {datasets.INSTALL_FASHION}")
        data_dir = os.fspath(data_dir)
        xtr, ytr, xte, yte = datasets.load_fashion(data_dir, image_size)
        options = {"data_dir": data_dir, "image_size": image_size}
        what = f"{image_size}×{image_size} pixels (image_size={image_size})"
    n_pixels = xtr.shape[1] * xtr.shape[2]
    if T is not None and T != n_pixels:
        raise TaskError(f"invalid T={T!r} for task {name!r}: accepted values are {n_pixels} "
                        f"(one step a pixel, {what}) or None (leave --T out)")
    order = datasets.pixel_permutation(n_pixels) if name == "pdigits" else None
    return Task(name, n_pixels, 1, 10, "xent", "accuracy", True, 0.1, options,
                lambda rng, B, T_: datasets.image_batch(rng, B, xtr, ytr, order),
                lambda y, tg, m, loss: datasets.last_step_accuracy(y, tg),
                lambda rng, B, T_: datasets.image_batch(rng, B, xte, yte, order, replace=False))
