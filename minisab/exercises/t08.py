"""Checkers of tutorial 8 (backends): comparing parameters across backends, a device-clean
top-k read."""
from __future__ import annotations

import numpy as np

from ..backend import to_host
from ..config import Config
from ..params import init_params
from ._verdict import call as _call_plain, close as _close, exercise as _verdict


def _call(label, fn, *args, **kw):
    return _call_plain(fn, *args, **kw)
from .t03 import _untied_scores


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


def _call_on_device(label, where, fn, *args):
    """``_call``, turning a NumPy-only call on a device array into a hint."""
    try:
        return _call(label, fn, *args)
    except _DEVICE_ERRORS as e:
        raise AssertionError(
            f"{where}: your function raised {type(e).__name__}: {e}\n-> a NumPy-only call met an "
            "array that lives on another device (what the strict backend is there to catch). "
            "Use the array's own namespace (minisab.backend.namespace), the helpers of "
            "minisab.backend, and to_host for explicit copies to the host.") from None


@_verdict("8.1 (compare parameters across backends)")
def check_max_param_difference(max_param_difference):
    """``max_param_difference(p, q)`` -> float: max over every parameter and entry of
    |p - q|, for p and q on every pair of the backends present (NumPy, strict, CuPy)."""
    from ..params import params_from_host, params_to_host
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=3)
    host = params_to_host(init_params(cfg, seed=8))
    bumped = {k: v.copy() for k, v in host.items()}
    bumped["W_h"][1, 2] += 0.25               # p - q has its largest |entry| in a late key,
    bumped["b_y"][0] -= 0.75                  # of one sign in one order, the other in the other
    bumped["W_x"][0, 0] += 1e-3
    backends = _backends_here()
    for be_p in backends:
        for be_q in backends:
            for first, second, want in ((host, bumped, 0.75), (bumped, host, 0.75),
                                        (host, host, 0.0)):
                p = params_from_host(first, cfg, be_p)
                q = params_from_host(second, cfg, be_q)
                where = f"p on {be_p.name}, q on {be_q.name}"
                got = _call_on_device("8.1", where, max_param_difference, p, q)
                assert got is not None, f"{where}: your function returned None"
                assert isinstance(got, (float, int, np.floating, np.integer)), (
                    f"{where}: you returned a {type(got).__module__}.{type(got).__name__}; "
                    "return a Python float (float(...) of a host value, or to_float)")
                assert abs(float(got) - want) <= 1e-12, (
                    f"{where}: you returned {float(got):.6g}, expected {want:g} (the largest "
                    "|p[k] - q[k]| over every key k and every entry: abs first, then max over "
                    "all parameters, not just the first)")
    names = ", ".join(be.name for be in backends)
    return f"Right on every pair of backends present ({names})."


def _mean_of_top_host(a, M, k):
    idx = np.argsort(-a, axis=1)[:, :k]
    return np.take_along_axis(M, idx[:, :, None], axis=1).mean(axis=1)


@_verdict("8.2 (a device-clean top-k read)")
def check_mean_of_top_memories(mean_of_top_memories):
    """``mean_of_top_memories(a, M, k)`` -> (B, H) on every backend present, the result on the
    device of the inputs."""
    from ..backend import namespace
    rng = np.random.default_rng(82)
    backends = _backends_here()
    for be in backends:
        for B, n, H, k in ((3, 6, 4, 2), (2, 5, 3, 5), (4, 9, 2, 1)):
            a = _untied_scores(rng, B, n)
            M = rng.normal(size=(B, n, H))
            where = f"on the {be.name} backend (B={B}, n={n}, H={H}, k={k})"
            got = _call_on_device("8.2", where, mean_of_top_memories, be.asarray(a),
                                  be.asarray(M), k)
            assert got is not None, f"{where}: your function returned None"
            if be.name != "numpy":
                assert not isinstance(got, (np.ndarray, np.generic, float)), (
                    f"{where}: you returned a host (NumPy) value. The result must stay on the "
                    "device of its inputs: no to_host inside a model function")
                assert namespace(got) is be.xp, (
                    f"{where}: the result is a {type(got).__module__} array, expected one of "
                    f"{be.xp.__name__}")
                if be.device is not None:
                    assert got.device == be.device, (
                        f"{where}: the result is on {got.device}, expected {be.device} (make "
                        "new arrays with minisab.backend.zeros/arange(..., like=a))")
            _close(f"{where}: the mean of the {k} best-scored memories", got,
                   _mean_of_top_host(a, M, k), tol=1e-12)
    names = ", ".join(be.name for be in backends)
    return f"Same result on {names}, and it stays on the device."
