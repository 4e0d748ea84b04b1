"""The character-level text task's corpus: a text as class ids, split into a training part and
a held-out tail. Read from a user's UTF-8 file (``load_text``), generated in code
(``builtin_text``, the offline demo) or taken from Python's own documentation
(``stdlib_corpus``, the default). ``tasks.text_batch`` draws the windows the model reads.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from . import datasets
from .datasets import DataError, TaskError


@dataclass(frozen=True)
class Corpus:
    """A text as class ids: ``vocab`` (sorted characters), ``train`` and ``valid`` id arrays."""
    vocab: str
    train: np.ndarray
    valid: np.ndarray
    source: str


def corpus_from_text(text: str, valid_fraction: float = 0.1, source: str = "<text>") -> Corpus:
    """Split a text into a training part and a held-out tail (the last ``valid_fraction``)."""
    if not 0.0 < valid_fraction < 1.0:
        raise TaskError(f"invalid valid_fraction={valid_fraction!r}: accepted values are in (0, 1)")
    if len(text) == 0:
        raise TaskError(f"text file {source} is empty: give a UTF-8 text of a few thousand "
                        "characters, or leave out --text-file for the default corpus")
    vocab = "".join(sorted(set(text)))
    lookup = {ch: i for i, ch in enumerate(vocab)}
    ids = np.array([lookup[ch] for ch in text], dtype=np.int64)
    n_valid = max(1, int(len(ids) * valid_fraction))
    return Corpus(vocab, ids[:-n_valid], ids[-n_valid:], source)


MAX_TEXT_BYTES = 64 * 2 ** 20     # 64 MiB: as token ids (int64) about 0.5 GiB of memory


def load_text(path) -> Corpus:
    """Read a UTF-8 text file; a missing, empty, binary or oversized file (over
    ``MAX_TEXT_BYTES``), and anything but a regular file (``/dev/zero``, a pipe), raises a
    clear ``TaskError``."""
    import stat
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise TaskError(f"text file {str(path)!r} is not a regular file (a device, a pipe or "
                            "a socket): give the path of a UTF-8 text file")
        with open(path, "rb") as f:
            raw = f.read(MAX_TEXT_BYTES + 1)
        if len(raw) > MAX_TEXT_BYTES:
            raise TaskError(f"text file {str(path)!r} is larger than {MAX_TEXT_BYTES:,} bytes "
                            f"({MAX_TEXT_BYTES / 2 ** 20:.3g} MiB): accepted are text files up "
                            "to that size (cut it, e.g. with head -c)")
    except FileNotFoundError:
        raise TaskError(f"text file {str(path)!r} does not exist: give the path of a UTF-8 "
                        "text file") from None
    except (IsADirectoryError, PermissionError) as e:
        raise TaskError(f"text file {str(path)!r} cannot be read ({e.strerror}): give the path "
                        "of a readable UTF-8 text file") from None
    if b"\x00" in raw:
        raise TaskError(f"text file {str(path)!r} looks binary (it holds NUL bytes): give a "
                        "UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TaskError(f"text file {str(path)!r} is not UTF-8 text (byte {e.start}): give a "
                        "UTF-8 text file") from None
    return corpus_from_text(text, source=repr(str(path)))


_WORDS = ("the cat sat on a mat and the dog ran to the old red barn while rain fell soft on "
          "green hills").split()


def builtin_text(n_records: int = 400, seed: int = 0) -> str:
    """A small corpus with long-range structure, generated in code (the offline demo).

    Each record opens with a name, runs a filler sentence of 8 to 24 words, and closes by
    repeating the name: ``<kumi> the cat sat ... barn </kumi>``. Predicting the closing name
    needs a memory of what was seen 40 to 150 characters earlier.
    """
    rng = np.random.default_rng(seed)
    letters = "aeikmnoprstu"
    lines = []
    for _ in range(n_records):
        name = "".join(rng.choice(list(letters), size=4))
        words = rng.choice(_WORDS, size=int(rng.integers(8, 25)))
        lines.append(f"<{name}> {' '.join(words)} </{name}>\n")
    return "".join(lines)


@functools.lru_cache(maxsize=1)
def stdlib_corpus() -> Corpus:
    """The default corpus: ``pydoc_data.topics`` (datasets.py), its last 10% held out."""
    try:
        return corpus_from_text(datasets.stdlib_text(), source="<pydoc_data.topics>")
    except DataError as e:
        raise TaskError(str(e)) from None
