"""Run a student's answer so that it cannot lean on minisab: the runtime check of "write it
yourself".

A write-it-yourself exercise hands out a few pieces (2.2 the step backward, 4.4 ``key_backward``,
a ``Config``'s methods, the callables passed in as arguments) and nothing else of minisab. A
look at the answer's source cannot tell: a default argument (``_f=loss_and_grads``), a helper, a
closure or an attribute lookup (``minisab.sab.backward``) all hide the call. So the check is made
while the answer runs: ``sys.setprofile`` sees every Python frame that starts, and a frame whose
code lives in minisab's package folder, outside a handed-out piece, is a refusal. The profile
hook is chosen over ``sys.settrace`` because it reports calls and returns only (no per-line
events): the answer runs at nearly full speed. Threads the answer starts are profiled too
(``threading.setprofile``). The profile is the caller's again afterwards.

``materialize`` turns what the answer returned into plain data (NumPy arrays, numbers, tuples,
lists, dicts, ``Config``) while the profile still watches, so that nothing the student returns
can run code later, when the checker compares it with the expected results.

The grader (``judge.py``) adds an audit hook in its own process: while an answer runs it
refuses reading the stored expected results, starting another program, and switching off the
profile (``sys.setprofile``/``sys.settrace``). ``ACTIVE`` tells that hook when an answer runs.
"""
from __future__ import annotations

import os
import sys
import threading
import types

import numpy as np

MINISAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
ACTIVE = {"on": False, "violations": []}      # read by judge.py's audit hook
IGNORED: set = set()          # code the guard never counts (judge.py's audit hook)


class Refused(AssertionError):
    """The answer reached minisab code it was not given (a "not right yet" with a hint)."""


def _module_file(name: str) -> str:
    mod = sys.modules.get(name)
    return os.path.abspath(getattr(mod, "__file__", "") or "") if mod else ""


def _codes(obj) -> set:
    """The code objects of a function, a bound method, or a callable object's ``__call__``."""
    fn = getattr(obj, "__func__", obj)
    code = getattr(fn, "__code__", None)
    if code is None and not isinstance(obj, type):
        code = getattr(getattr(type(obj), "__call__", None), "__code__", None)  # noqa: B004
    return {code} if isinstance(code, types.CodeType) else set()


def _where(code) -> str:
    rel = code.co_filename[len(MINISAB_DIR):].removesuffix(".py").replace(os.sep, ".")
    return f"minisab.{rel}.{getattr(code, 'co_qualname', code.co_name)}"


class Guard:
    """``with Guard(allowed, files):`` records every minisab frame outside the allowed code
    (``allowed``: functions; ``files``: module names whose code is all allowed)."""

    def __init__(self, allowed=(), modules=()):
        self.codes = set().union(_codes(materialize), *(_codes(a) for a in allowed))
        self.files = {_module_file(m) for m in modules} - {""}
        self.inside: list = []           # frames of allowed pieces still running
        self.violations: list[str] = []
        self.hook = self._hook           # one bound method: getprofile() must return it

    def _hook(self, frame, event, arg):
        if event == "call":
            if self.inside:
                return
            code = frame.f_code
            if code is _EXIT or code in IGNORED:    # the guard itself, leaving; the audit hook
                return
            if code in self.codes or code.co_filename in self.files:
                self.inside.append(frame)
            elif code.co_name == "<module>":            # an import: calls are what count
                self.inside.append(frame)
            elif code.co_filename.startswith(MINISAB_DIR):   # reached, not handed out
                self.violations.append(_where(code))
                self.inside.append(frame)               # its own calls are its business
        elif event == "return" and self.inside and frame is self.inside[-1]:
            self.inside.pop()

    def __enter__(self):
        self._before = (sys.getprofile(), threading.getprofile())
        threading.setprofile(self.hook)
        sys.setprofile(self.hook)
        ACTIVE["on"], ACTIVE["violations"] = True, []
        return self

    def __exit__(self, *exc):
        ACTIVE["on"] = False
        still_ours = sys.getprofile() is self.hook
        sys.setprofile(self._before[0])
        threading.setprofile(self._before[1])
        if not still_ours:
            self.violations.append("sys.setprofile (your function switched off the check)")
        self.violations.extend(ACTIVE["violations"])
        return False

    def message(self, handed_out: str) -> str | None:
        if not self.violations:
            return None
        seen = list(dict.fromkeys(self.violations))
        return (f"your answer calls {', '.join(seen[:3])}"
                + (f" (and {len(seen) - 3} more)" if len(seen) > 3 else "")
                + f". This exercise is to write it yourself: {handed_out}")


def allowed_from_args(args) -> tuple[list, list]:
    """What the arguments hand out: callables passed in, and a Config's methods."""
    from ..config import Config
    fns, mods = [], []
    for a in args:
        if isinstance(a, Config):
            mods.append("minisab.config")
        elif callable(a) and not isinstance(a, type):
            fns.append(a)
    return fns, mods


# ------------------------------------------------------------------------- plain data only
class NotPlainData(TypeError):
    """The answer returned something other than plain data."""


class DeviceArray:
    """An array of another backend (strict, CuPy), as returned: its namespace, its device and a
    host copy (exercise 8.2 checks where the answer lives)."""

    def __init__(self, namespace: str, device: str, host: np.ndarray):
        self.namespace, self.device, self.host = namespace, device, host


_SCALARS = (bool, int, float, complex, str, type(None))


def materialize(x, depth: int = 0):
    """A copy of ``x`` made of plain data; ``NotPlainData`` for anything else (a student's object
    could run code when it is compared)."""
    from ..config import Config
    if depth > 20:
        raise NotPlainData("the answer is nested too deeply")
    t = type(x)
    if t in _SCALARS:
        return x
    if t in (tuple, list):
        return t(materialize(v, depth + 1) for v in x)
    if t in (set, frozenset):
        return frozenset(materialize(v, depth + 1) for v in x)
    if t is dict:
        return {materialize(k, depth + 1): materialize(v, depth + 1) for k, v in x.items()}
    if isinstance(x, np.generic) and t.__module__ == "numpy":
        return x.copy()
    if t is np.ndarray:
        if x.dtype == object:
            raise NotPlainData("return an array of numbers, not of Python objects")
        return x.copy()
    if t is Config:
        return x
    mod = t.__module__.split(".")[0]
    if mod in ("array_api_strict", "cupy") and hasattr(x, "device"):
        from ..backend import to_host
        return DeviceArray(mod, str(x.device), np.array(to_host(x)))
    raise NotPlainData(f"return arrays, numbers, tuples, lists or dicts, not a {t.__name__}")


_EXIT = Guard.__exit__.__code__


def run_guarded(fn, args, allowed=(), modules=()):
    """``materialize(fn(*args))`` watched by a ``Guard``: the callables in ``args`` and a
    ``Config``'s methods are handed out, with ``allowed`` (functions) and ``modules`` (names).
    Returns ``(value, guard)``; the answer's own exceptions propagate."""
    fns, mods = allowed_from_args(args)
    guard = Guard((*allowed, *fns), (*modules, *mods))
    with guard:
        value = materialize(fn(*args))
    return value, guard
