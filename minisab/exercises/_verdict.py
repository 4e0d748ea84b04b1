"""How a checker answers: ``correct``, ``not done yet``, or a hint that names the missing idea.

Every checker of ``minisab.exercises`` is a function decorated with ``exercise("1.2 (...)")``.
It calls the student's function on its own small problems and compares with minisab's own
functions (or with central finite differences). The decorator turns the outcome into a printed
line and a ``Verdict``:

- the student's function still raises ``NotImplementedError`` (or the answer is ``None``):
  ``Exercise 1.2 (...): not done yet ...``, and the verdict is falsy but prints nothing more, so
  an untouched notebook runs top to bottom and shows no ``False``;
- an ``AssertionError`` from the checker's comparisons: ``not right yet``, followed by the hint.
  Known wrong answers (``known_wrong``) get a hint that names the concept they miss;
- any other exception from the student's code: ``your function raised ...`` with the traceback;
- otherwise ``correct``, and the verdict is truthy (``assert check(...)`` in the solutions).

Wrong answers do not raise: *Run All* reaches every exercise, and ``python -m minisab.exercises
grade`` reads one line per exercise from the executed notebook.
"""
from __future__ import annotations

import traceback

import numpy as np

from ..backend import to_host
from ..gradcheck import max_error

TOL = 1e-6
REGISTRY: dict[str, str] = {}        # checker name -> exercise label, for the grader


class NotDone(Exception):
    """The student's exercise is untouched (``NotImplementedError`` or ``None``)."""


class Verdict:
    """A checker's answer: ``status`` is "correct", "not done", "wrong" or "error"."""

    def __init__(self, label: str, status: str, message: str = ""):
        self.label, self.status, self.message = label, status, message

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"Verdict({self.label!r}, {self.status!r})"

    def _ipython_display_(self):
        """The verdict was printed already: a notebook shows nothing more (no bare False)."""


STATUS_TEXT = {"correct": "correct.", "not done": "not done yet -- fill in the exercise cell, "
               "run it, then run this cell again.", "wrong": "not right yet.",
               "error": "your function raised an error."}


def call(fn, *args, **kw):
    """Call the student's function; ``NotImplementedError`` or a ``None`` answer: not done."""
    if fn is None:
        raise NotDone
    try:
        return fn(*args, **kw)
    except NotImplementedError:
        raise NotDone from None


def exercise(label: str):
    """Decorator: run a checker, print its verdict line (and hint), return a ``Verdict``."""
    label = f"Exercise {label}"

    def wrap(check):
        def run(*args, quiet: bool = False, **kw):
            try:
                msg = check(*args, **kw)
                v = Verdict(label, "correct", msg or "")
            except NotDone:
                v = Verdict(label, "not done")
            except AssertionError as e:
                v = Verdict(label, "wrong", str(e))
            except Exception as e:                       # the student's code crashed
                tb = traceback.format_exc(limit=-3)
                v = Verdict(label, "error", f"{type(e).__name__}: {e}\n{tb}")
            if not quiet:
                print(f"{label}: {STATUS_TEXT[v.status]}" + (f" {v.message}" if v.message else ""))
            return v
        run.__name__, run.__doc__, run.label = check.__name__, check.__doc__, label
        run.__wrapped__ = check
        REGISTRY[check.__name__] = label
        return run
    return wrap


def as_host(x):
    return np.asarray(to_host(x), dtype=float)


def is_close(got, want, tol=TOL, atol=1e-9) -> bool:
    """max|got - want| <= tol * max|want| + atol (the gradcheck rule); False on a shape mismatch."""
    got, want = as_host(got), as_host(want)
    if got.shape != want.shape:
        return False
    return float(np.max(np.abs(got - want), initial=0.0)) <= (
        tol * float(np.max(np.abs(want), initial=0.0)) + atol)


def close(name, got, want, tol=TOL, atol=1e-9, known_wrong=()):
    """Assert ``got`` matches ``want``. If it does not but matches one of ``known_wrong``
    (pairs ``(value, hint)``: what a common mistake would give), the hint names the mistake."""
    assert got is not None, f"{name}: your function returned None"
    g, w = as_host(got), as_host(want)
    assert g.shape == w.shape, f"{name}: shape {g.shape}, expected {w.shape}"
    if is_close(g, w, tol, atol):
        return
    for value, hint in known_wrong:
        if value is not None and is_close(g, value, max(tol, 1e-6), atol):
            raise AssertionError(f"{name}: {hint}")
    abs_err = float(np.max(np.abs(g - w), initial=0.0))
    raise AssertionError(f"{name}: max|yours - expected| = {abs_err:.2e}, relative error "
                         f"{max_error(g, w):.2e}")
