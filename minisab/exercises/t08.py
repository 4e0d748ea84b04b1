"""Checkers of tutorial 8 (backends): a prediction of what the strict backend refuses, and a
device-clean top-k read."""
from __future__ import annotations

import numpy as np

from ..backend import to_host
from ._answers import load
from ._guard import DeviceArray
from ._verdict import call, close, exercise
from .t03 import untied_scores

TOP_MEAN_CASES = ((3, 6, 4, 2), (2, 5, 3, 5), (4, 9, 2, 1))      # (B, n, H, k)


# The device errors a NumPy-only call raises on the strict backend (or on CuPy).
_DEVICE_ERRORS = (RuntimeError, TypeError, ValueError, AttributeError, IndexError)


def _backends_here():
    """NumPy, the strict backend (array_api_strict on device1), and CuPy where a GPU is."""
    from ..backend import BackendError, get_backend
    found = []
    for name in ("numpy", "strict", "cupy"):
        try:
            found.append(get_backend(name))
        except BackendError:
            pass
    return found


def _call_on_device(where, fn, *args):
    """``call``, turning a NumPy-only call on a device array into a hint."""
    try:
        return call(fn, *args)
    except _DEVICE_ERRORS as e:
        raise AssertionError(
            f"{where}: your function raised {type(e).__name__}: {e}\n-> a NumPy-only call met an "
            "array that lives on another device (what the strict backend is there to catch). "
            "Use the array's own namespace (minisab.backend.namespace), the helpers of "
            "minisab.backend, and to_host for explicit copies to the host.") from None


# Exercise 8.1: eleven lines, each run on a strict array ``a`` (B=2, 5) with ``xp = namespace(a)``.
# For each: (source, the line as a function of (a, xp), why it runs or why it is refused).
STRICT_LINES = {
    1: ("xp.tanh(a)", lambda a, xp: xp.tanh(a),
        "the array's own namespace computes on the array's device"),
    2: ("np.tanh(a)", lambda a, xp: np.tanh(a),
        "a NumPy function must first turn the device array into a NumPy one: an implicit copy "
        "to the host, which a device array refuses"),
    3: ("a * 2.0", lambda a, xp: a * 2.0,
        "a Python scalar has no device: it combines with an array on any device"),
    4: ("a + np.ones(5)", lambda a, xp: a + np.ones(5),
        "mixing a device array with a host (NumPy) array: one of them would have to cross"),
    5: ("a + xp.ones(5)", lambda a, xp: a + xp.ones(5),
        "xp.ones makes its array on the namespace's DEFAULT device, not on a's: two devices"),
    6: ("a + xp.ones(5, device=a.device)", lambda a, xp: a + xp.ones(5, device=a.device),
        "a new array made on a's own device (what minisab.backend.zeros(..., like=a) does)"),
    7: ("a[0, 1:3]", lambda a, xp: a[0, 1:3],
        "basic indexing (integers and slices) is in the standard and stays on the device"),
    8: ("a[np.arange(2)]", lambda a, xp: a[np.arange(2)],
        "an index ARRAY is data too: a host index array for a device array (use "
        "minisab.backend.gather_rows, or an index made on the device)"),
    9: ("a.sum()", lambda a, xp: a.sum(),
        "a NumPy method that is not in the array API standard: use xp.sum(a)"),
    10: ("to_host(a)", lambda a, xp: to_host(a),
         "the sanctioned, explicit copy to the host (minisab.backend.to_host)"),
    11: ("np.asarray(a)", lambda a, xp: np.asarray(a),
         "handing a device array to NumPy (or to matplotlib, json, ...) is an implicit copy to "
         "the host: make it explicit with to_host"),
}


def _refused_here():
    """Measured: the numbers of the lines the strict backend refuses."""
    from ..backend import get_backend, namespace
    strict = get_backend("strict")
    a = strict.asarray(np.arange(10.0).reshape(2, 5) / 10.0)
    refused = set()
    for k, (_, line, _) in STRICT_LINES.items():
        try:
            line(a, namespace(a))
        except _DEVICE_ERRORS:
            refused.add(k)
    return refused


@exercise("8.1", "predict: which lines the strict backend refuses",
          answers=("refused_lines",))
def check_refused_lines(refused_lines):
    """``refused_lines()`` -> the numbers of the lines of ``STRICT_LINES`` that raise on a
    strict-backend array, against running each one."""
    got = call(refused_lines)
    assert got is not None, "refused_lines() returned None: return a set of line numbers"
    try:
        got = {int(k) for k in got}
    except (TypeError, ValueError):
        raise AssertionError("return a set of line numbers, e.g. {1, 2}") from None
    unknown = sorted(got - set(STRICT_LINES))
    assert not unknown, (f"there is no line {unknown[0]}: the lines are numbered 1 to "
                         f"{len(STRICT_LINES)}")
    want = _refused_here()
    wrong = sorted(got ^ want)
    if wrong:
        why = [f"line {k} `{STRICT_LINES[k][0]}` "
               + ("is refused: " if k in want else "runs: ") + STRICT_LINES[k][2]
               for k in wrong]
        raise AssertionError(f"{len(wrong)} of the {len(STRICT_LINES)} lines predicted wrong. "
                             + "; ".join(why[:2])
                             + ("" if len(why) <= 2 else f" (and {len(why) - 2} more)"))
    return ("Refused: NumPy functions, host arrays (as operands or indices), arrays made on "
            "the default device, NumPy-only methods. Runs: the namespace's functions, Python "
            "scalars, basic slicing, new arrays made on a's device, explicit copies.")


def problems_top_mean():
    """Exercise 8.2's host arguments ``(a, M, k)``; each backend gets its own copies."""
    rng = np.random.default_rng(82)
    return [(untied_scores(rng, B, n), rng.normal(size=(B, n, H)), k)
            for B, n, H, k in TOP_MEAN_CASES]


@exercise("8.2", "a device-clean top-k read", answers=("mean_of_top_memories",), points=2,
          modules=("minisab.backend",), hands_out="it hands out minisab.backend only.")
def check_mean_of_top_memories(mean_of_top_memories):
    """``mean_of_top_memories(a, M, k)`` -> (B, H) on every backend present, the result on the
    device of the inputs."""
    backends = _backends_here()
    outs = []
    for be in backends:
        for (a, M, k), (B, n, H, _) in zip(problems_top_mean(), TOP_MEAN_CASES):
            where = f"on the {be.name} backend (B={B}, n={n}, H={H}, k={k})"
            outs.append((be, where, _call_on_device(where, mean_of_top_memories,
                                                    be.asarray(a), be.asarray(M), k)))
    want = load("t08")
    for i, (be, where, got) in enumerate(outs):
        assert got is not None, f"{where}: your function returned None"
        if be.name != "numpy":
            assert isinstance(got, DeviceArray), (
                f"{where}: you returned a host (NumPy) value. The result must stay on the "
                "device of its inputs: no to_host inside a model function")
            assert got.namespace == be.xp.__name__.split(".")[0], (
                f"{where}: the result is a {got.namespace} array, expected one of "
                f"{be.xp.__name__}")
            if be.device is not None:
                assert got.device == str(be.device), (
                    f"{where}: the result is on {got.device}, expected {be.device} (make "
                    "new arrays with minisab.backend.zeros/arange(..., like=a))")
        k = i % len(TOP_MEAN_CASES)
        close(f"{where}: the mean of the {TOP_MEAN_CASES[k][3]} best-scored memories", got,
              want[f"8.2/{k}/want"], tol=1e-12)
    names = ", ".join(be.name for be in backends)
    return f"Same result on {names}, and it stays on the device."
