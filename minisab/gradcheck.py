"""Central finite differences, the tie gaps of the sparsifier, and the gradient-check report.

A student who writes a backward pass checks it the same way: perturb one entry by ±h, take
``(f(θ+h) − f(θ−h)) / 2h``, and compare with the analytic gradient, parameter by parameter.
``engine`` picks what is checked: ``"fast"`` (``minisab.fast``, what training runs; the
default) or ``"reference"`` (``minisab.sab``, the model as the equations write it).
"""
from __future__ import annotations

import itertools

import numpy as np

from .backend import to_float, to_host
from .engines import ENGINES, engine_module  # noqa: F401  (ENGINES: the choices)
from .threads import with_threads


def numerical_gradient(f, arr, h: float = 1e-6):
    """∂f/∂arr by central differences, perturbing ``arr`` in place (restored afterwards).

    ``f()`` returns a scalar (a float or a 0-d array); ``arr`` may live on any backend.
    Returns a host (NumPy) array shaped like ``arr``.
    """
    grad = np.zeros(tuple(arr.shape))
    for idx in itertools.product(*(range(s) for s in arr.shape)):
        old = to_float(arr[idx])
        arr[idx] = old + h
        f_plus = to_float(f())
        arr[idx] = old - h
        f_minus = to_float(f())
        arr[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def max_error(analytic, numeric) -> float:
    """The check used throughout the tests: max|a − n| / (max|n| + 1e-12)."""
    a, n = to_host(analytic), to_host(numeric)
    return float(np.max(np.abs(a - n), initial=0.0) / (np.max(np.abs(n), initial=0.0) + 1e-12))


def tie_gaps(scores, n_mem, k_top: int) -> dict:
    """The three gaps docs/model.md §4 asks a gradient check to keep open, minimised over steps and rows.

    scores (T, B, n_max) zero-padded raw scores, n_mem (T,) memories per step. Returns the smallest
    ``select`` gap (k-th vs (k+1)-th score), ``threshold`` gap ((k+1)-th vs (k+2)-th) and ``min``
    gap (two smallest scores when 2 <= n <= k_top); ``inf`` where a gap never applies.
    """
    scores = to_host(scores)
    gaps = {"select": np.inf, "threshold": np.inf, "min": np.inf}
    for t, n in enumerate(to_host(np.asarray(n_mem))):
        s = -np.sort(-scores[t, :, :n], axis=1)                    # (B, n) largest first
        if n > k_top:
            gaps["select"] = min(gaps["select"], float(np.min(s[:, k_top - 1] - s[:, k_top])))
            if n > k_top + 1:
                gaps["threshold"] = min(gaps["threshold"],
                                        float(np.min(s[:, k_top] - s[:, k_top + 1])))
        elif n >= 2:
            gaps["min"] = min(gaps["min"], float(np.min(s[:, -2] - s[:, -1])))
    return gaps


@with_threads
def check_model(params, x, targets, cfg, mask=None, h: float = 1e-6,
                engine: str = "fast") -> list:
    """Analytic against numerical gradient for every parameter of a model.

    Returns rows ``(name, shape, max|analytic|, max abs error, relative error)``. Float64 only:
    in float32 the central difference's rounding error (about 1e-7 / h) swamps the gradient,
    so a float32 check would fail a correct backward pass.
    """
    if cfg.dtype != "float64":
        from .config import ConfigError
        raise ConfigError(f"invalid cfg.dtype={cfg.dtype!r} for a gradient check: accepted is "
                          "'float64' (finite differences need double precision); build the "
                          "Config with dtype='float64'")
    _, grads, out = engine_module(engine).loss_and_grads(params, x, targets, cfg, mask)
    f = truncated_loss(params, x, targets, cfg, mask, out["cache"], engine)
    rows = []
    for name, arr in params.items():
        num = numerical_gradient(f, arr, h)
        ana = to_host(grads[name])
        abs_err = float(np.max(np.abs(ana - num), initial=0.0))
        rows.append((name, tuple(arr.shape), float(np.max(np.abs(ana), initial=0.0)), abs_err,
                     max_error(ana, num)))
    return rows


def truncated_loss(params, x, targets, cfg, mask=None, cache=None, engine: str = "fast"):
    """A function ``f()`` whose exact gradient is the method's gradient (docs/model.md §4).

    Under ``bptt`` it is the loss itself. Otherwise cut edges and detached scorer inputs are
    replaced by constants recorded at the base point (``cache``, or a fresh forward).
    """
    run = engine_module(engine)
    if cache is None:
        cache = run.forward(params, x, cfg)[1]
    constants = run.base_point_constants(cache)

    def f():
        y, _ = run.forward(params, x, cfg, constants=constants)
        return run.loss_forward(y, targets, cfg, mask)[0]
    return f


def passes(abs_err: float, gmax: float, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """The pass rule of the golden vectors: max|a − n| <= rtol · max|a| + atol.

    The absolute floor matters for tiny gradients, where the finite difference itself is only
    good to about 1e-10 (rounding of f divided by 2h).
    """
    return abs_err <= rtol * gmax + atol


def format_report(rows, rtol: float = 1e-6, atol: float = 1e-8) -> str:
    """A table a student reads: one parameter a line, and PASS/FAIL by ``passes``."""
    lines = [f"{'param':<6} {'shape':<12} {'max|grad|':>11} {'max abs err':>12} {'rel err':>10}",
             "-" * 56]
    ok = True
    for name, shape, gmax, abs_err, rel in rows:
        good = passes(abs_err, gmax, rtol, atol)
        ok &= good
        flag = "" if good else "  <-- FAIL"
        lines.append(f"{name:<6} {str(shape):<12} {gmax:11.3e} {abs_err:12.3e} {rel:10.2e}{flag}")
    lines.append("-" * 56)
    lines.append(f"PASS: every max abs error <= {rtol:g} * max|grad| + {atol:g}" if ok else
                 f"FAIL: some max abs error > {rtol:g} * max|grad| + {atol:g}")
    return "\n".join(lines)

