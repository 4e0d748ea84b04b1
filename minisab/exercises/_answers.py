"""The expected results of the checkers: numbers, stored, never the code that made them.

A checker builds its small problems itself (seeded NumPy draws, sometimes minisab's forward
pieces), calls the student's function on them, and only then loads what the answer should be
from ``answers/tNN.npz``. What a usual mistake would give is stored beside it, under
``.../mistake/<name>/...``, so that a checker recognises the mistake without carrying the code of
the mistake (which would be the answer with one line changed). The files are written by
``tutorials/solutions/make_answers.py`` from minisab's own functions and the course's reference
solutions (kept out of the package and of the student release); ``tests/exercises/test_exercises.py``
checks that they are up to date.

Keys are paths: ``"2.2/0/dH"`` is problem 0 of exercise 2.2, array ``dH``;
``"2.2/0/mistake/no_dc/dH"`` what the mistake ``no_dc`` gives there.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ANSWERS_DIR = Path(__file__).resolve().parent / "answers"


def load(tutorial: str) -> dict:
    """Every stored array of one tutorial (``"t02"``), as a flat dict of paths."""
    path = ANSWERS_DIR / f"{tutorial}.npz"
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def pick(data: dict, prefix: str) -> dict:
    """The entries under ``prefix/`` with the prefix removed: ``pick(d, "2.2/0")["dH"]``."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in data.items() if k.startswith(prefix + "/")}


def mistakes(data: dict, prefix: str) -> dict:
    """``{mistake name: {array name: value}}`` stored under ``prefix/mistake/``."""
    out: dict = {}
    for key, value in pick(data, f"{prefix}/mistake").items():
        name, _, field = key.partition("/")
        out.setdefault(name, {})[field] = value
    return out
