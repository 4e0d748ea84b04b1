"""How a checker answers: ``correct``, ``not done yet``, or a hint that names the mistake.

Every checker of ``minisab.exercises`` is a function decorated with ``exercise(...)``, which also
registers what the grader needs (``REGISTRY``): the label, the names of the student's answers in
the notebook, the points, and the pieces of minisab the exercise hands out. The checker calls the
student's function on its own small problems (``call``), first, and only then compares what came
back with the stored expected results (``_answers``). The decorator turns the outcome into a
printed line and a ``Verdict``:

- the student's function still raises ``NotImplementedError`` (or the answer is ``None``):
  ``Exercise 1.2 (...): not done yet ...``; the verdict is falsy but prints nothing more, so an
  untouched notebook runs top to bottom and shows no ``False``;
- an ``AssertionError`` from the comparisons, or an answer that reached minisab code it was not
  handed (``_guard``): ``not right yet``, followed by the hint;
- any other exception from the student's code: ``your function raised ...`` with the traceback;
- otherwise ``correct``, and the verdict is truthy (``assert check(...)`` in the solutions).

Wrong answers do not raise: *Run All* reaches every exercise. The grade does not come from
these printed lines: ``python -m minisab.exercises grade`` calls every registered checker itself,
in a process of its own (``grade.py``).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import numpy as np

from ._guard import Guard, NotPlainData, Refused, allowed_from_args, materialize

TOL = 1e-6


@dataclass(frozen=True)
class Exercise:
    """What the grader knows of one exercise (``REGISTRY[label]``)."""
    label: str                      # "2.2"
    title: str                      # "the reverse loop of BPTT"
    tutorial: str                   # "t02"
    check: str                      # the checker's name in its module
    answers: tuple = ()             # expressions evaluated in the notebook, passed in order
    points: int = 1
    allowed: tuple = field(default=(), compare=False)    # functions handed out
    modules: tuple = ()             # modules whose code is handed out whole
    hands_out: str = "NumPy only, no minisab inside."

    @property
    def name(self) -> str:
        return f"Exercise {self.label} ({self.title})"


REGISTRY: dict[str, Exercise] = {}   # label -> Exercise, in the order the modules define them


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


class Guarded:
    """The student's function, run under ``_guard.Guard`` with what the exercise hands out."""

    def __init__(self, fn, ex: Exercise):
        self.fn, self.ex = fn, ex

    def __call__(self, *args):
        fns, mods = allowed_from_args(args)
        guard = Guard((*self.ex.allowed, *fns), (*self.ex.modules, *mods))
        try:
            with guard:
                value = materialize(self.fn(*args))
        except BaseException as e:
            if guard.violations:                 # a refusal says more than what followed it
                raise Refused(guard.message(self.ex.hands_out)) from None
            if isinstance(e, NotImplementedError):
                raise NotDone from None
            if isinstance(e, NotPlainData):
                raise AssertionError(str(e)) from None
            raise
        if guard.violations:
            raise Refused(guard.message(self.ex.hands_out))
        return value


def call(fn, *args):
    """Call the student's function (under the guard when the checker wrapped it). Plain data
    back; ``NotImplementedError`` or a ``None`` function: not done."""
    if fn is None:
        raise NotDone
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotDone from None


def exercise(label: str, title: str, answers=(), points: int = 1, allowed=(), modules=(),
             hands_out: str | None = None):
    """Decorator: register the checker, run it, print its verdict line, return a ``Verdict``.
    Callable arguments of the checker (the student's functions) are wrapped in ``Guarded``."""

    def wrap(check):
        ex = Exercise(label, title, check.__module__.rsplit(".", 1)[-1][:3], check.__name__,
                      tuple(answers), points, tuple(allowed), tuple(modules),
                      hands_out or Exercise.hands_out)

        def run(*args, quiet: bool = False):
            args = [Guarded(a, ex) if callable(a) and not isinstance(a, type) else a
                    for a in args]
            try:
                msg = check(*args)
                v = Verdict(ex.name, "correct", msg or "")
            except NotDone:
                v = Verdict(ex.name, "not done")
            except AssertionError as e:
                v = Verdict(ex.name, "wrong", str(e))
            except Exception as e:                       # the student's code crashed
                tb = traceback.format_exc(limit=-3)
                v = Verdict(ex.name, "error", f"{type(e).__name__}: {e}\n{tb}")
            if not quiet:
                print(f"{ex.name}: {STATUS_TEXT[v.status]}" + (f" {v.message}" if v.message
                                                              else ""))
            return v
        run.__name__, run.__doc__, run.exercise = check.__name__, check.__doc__, ex
        run.__wrapped__ = check
        REGISTRY[label] = ex
        return run
    return wrap


# ------------------------------------------------------------------------- comparisons
def as_host(x):
    from ._guard import DeviceArray
    return np.asarray(x.host if isinstance(x, DeviceArray) else x, dtype=float)


def is_close(got, want, tol=TOL, atol=1e-9) -> bool:
    """max|got - want| <= tol * max|want| + atol (the gradcheck rule); False on a shape mismatch."""
    try:
        got, want = as_host(got), as_host(want)
    except (TypeError, ValueError):
        return False
    if got.shape != want.shape:
        return False
    return float(np.max(np.abs(got - want), initial=0.0)) <= (
        tol * float(np.max(np.abs(want), initial=0.0)) + atol)


def generic_mistake(name, got, want, tol=TOL, atol=1e-9) -> str | None:
    """The mistakes every numeric exercise can make: float32 arrays, a flipped sign."""
    dtype = getattr(got, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating) and np.dtype(dtype).itemsize < 8:
        return (f"{name}: your array is {np.dtype(dtype).name}. Keep float64: the tolerance is "
                "1e-9, and float32 rounds at about 1e-7 (np.zeros makes float64; astype or a "
                "float32 input does not).")
    if float(np.max(np.abs(as_host(want)), initial=0.0)) > atol and is_close(-as_host(got),
                                                                             want, tol, atol):
        return (f"{name}: the sign is flipped (yours is minus the expected). Check the sign of "
                "a subtraction, or a gradient that should be added, not subtracted.")
    return None


def close(name, got, want, tol=TOL, atol=1e-9, known_wrong=()):
    """Assert ``got`` matches ``want``. If it does not but matches one of ``known_wrong``
    (pairs ``(value, hint)``: what a common mistake gives), the hint names the mistake."""
    assert got is not None, f"{name}: your function returned None"
    try:
        g = as_host(got)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: return an array of numbers") from None
    w = as_host(want)
    assert g.shape == w.shape, f"{name}: shape {g.shape}, expected {w.shape}"
    low = generic_mistake(name, got, w, tol, atol)
    assert not (low and "float64" in low), low          # float32 is refused even when close
    if is_close(g, w, tol, atol):
        return
    for value, hint in known_wrong:
        if value is not None and is_close(g, value, max(tol, 1e-6), atol):
            raise AssertionError(f"{name}: {hint}")
    hint = generic_mistake(name, got, w, tol, atol)
    if hint:
        raise AssertionError(hint)
    abs_err = float(np.max(np.abs(g - w), initial=0.0))
    rel = abs_err / max(float(np.max(np.abs(w), initial=0.0)), 1e-300)
    raise AssertionError(f"{name}: max|yours - expected| = {abs_err:.2e}, relative error "
                         f"{rel:.2e}")


def which_mistake(outs, found: dict, fields, tol=1e-8) -> str | None:
    """The stored mistake (``_answers.mistakes``) whose every field matches ``outs``, if any."""
    for name, value in found.items():
        if all(f in value and is_close(o, value[f], tol) for o, f in zip(outs, fields)):
            return name
    return None
