"""Parameter layout (docs/model.md §1), the seeded initialisation, and the checks of what a
model is given: its parameters (``check_params``), its inputs (``check_inputs``) and where a
backward pass starts (``check_t_start``).

Parameters are a plain ``dict`` from docs/model.md's names to arrays; gradients use the same keys.
Every check raises a ``ConfigError`` (a ``ValueError``) that names the argument and the values
it accepts.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import get_backend, host_rng, namespace, to_host
from .config import Config, ConfigError

_DRAW_ROWS = 1 << 16        # floats drawn in float64 at a time (see init_params)


def param_shapes(cfg: Config) -> dict:
    """Name -> shape of every parameter the model uses (docs/model.md §1)."""
    I, H, C = cfg.input_size, cfg.hidden_size, cfg.output_size
    shapes = {"W_x": (I, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,)}
    if cfg.uses_attention:
        if cfg.scorer == "mlp":
            A = cfg.attn_size
            shapes.update({"W_q": (H, A), "W_m": (H, A), "w_s": (A,)})
        else:
            shapes["w_s"] = (2 * H,)
        shapes["W_y"] = (2 * H, C)
    else:
        shapes["W_y"] = (H, C)
    shapes["b_y"] = (C,)
    return shapes


def init_params(cfg: Config, seed: int = 0, backend=None, forget_bias: float = 0.0) -> dict:
    """Seeded initialisation, drawn on the host and moved to ``backend``.

    Every weight matrix ``W`` of shape ``(fan_in, fan_out)`` is drawn from
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, as PyTorch's ``nn.LSTM`` and ``nn.Linear`` do
    (for ``W_x``, ``W_h`` and ``b`` PyTorch uses ``1/sqrt(H)``; so does minisab). ``w_s`` uses its
    own length as fan-in. The LSTM bias ``b`` is drawn the same way, plus ``forget_bias`` on
    the forget-gate block (gate order i, f, g, o); ``b_y`` starts at zero.
    The draws happen in the order of ``param_shapes``, so one seed gives the same model on
    every backend. Each array is made in ``cfg.dtype``: the uniform draws are made in float64
    (the values minisab has always drawn) a block of rows at a time and stored at once in the
    model's dtype, so a float32 model never holds a float64 copy of a whole weight matrix.

    ``seed``: an integer from 0 to 2**63 - 1; ``forget_bias``: a finite number.
    """
    if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
            and 0 <= seed < 2 ** 63):
        raise ConfigError(f"invalid seed={seed!r}: accepted values are integers from 0 to "
                          "2**63 - 1")
    if not (isinstance(forget_bias, (int, float, np.floating, np.integer))
            and not isinstance(forget_bias, bool) and math.isfinite(forget_bias)):
        raise ConfigError(f"invalid forget_bias={forget_bias!r}: accepted values are finite "
                          "numbers (added to the forget-gate bias)")
    be = get_backend(backend)
    rng = host_rng(seed)
    H = cfg.hidden_size
    params = {}
    for name, shape in param_shapes(cfg).items():
        value = np.zeros(shape, dtype=cfg.dtype)
        if name != "b_y":
            fan_in = H if name in ("W_x", "W_h", "b") else shape[0]
            bound = 1.0 / math.sqrt(fan_in)
            rows = max(1, _DRAW_ROWS // max(1, math.prod(shape[1:])))
            for i in range(0, shape[0], rows):      # the same stream as one draw of ``shape``
                block = rng.uniform(-bound, bound, size=(min(rows, shape[0] - i),) + shape[1:])
                if name == "b":                     # the forget gate's block, in float64
                    lo, hi = max(H - i, 0), min(2 * H - i, len(block))
                    if lo < hi:
                        block[lo:hi] += forget_bias
                value[i:i + len(block)] = block
        params[name] = be.asarray(value, dtype=cfg.dtype)
    return params


def check_params(params: dict, cfg: Config, finite: bool = False) -> None:
    """Raise a ``ConfigError`` naming the first parameter whose name, shape or dtype does not
    fit ``cfg``; with ``finite``, also one that holds NaN or infinity (a damaged checkpoint).
    The forward pass checks without ``finite``: a run whose parameters overflow must reach its
    non-finite loss, where the training loop stops with advice (and diagnose.py looks)."""
    if not isinstance(params, dict):
        raise ConfigError(f"invalid params of type {type(params).__name__}: accepted values are "
                          "a dict from parameter names to arrays (init_params)")
    shapes = param_shapes(cfg)
    missing = sorted(set(shapes) - set(params))
    extra = sorted(set(params) - set(shapes))
    if missing or extra:
        raise ConfigError(f"params do not fit the config: missing {missing}, unexpected "
                          f"{extra}; expected names {sorted(shapes)}")
    for name, shape in shapes.items():
        p = params[name]
        if not hasattr(p, "shape") or tuple(p.shape) != shape:
            raise ConfigError(f"params[{name!r}] has shape "
                              f"{tuple(getattr(p, 'shape', ()))}, expected {shape} for this "
                              "config")
        if _dtype_name(p) != cfg.dtype:
            raise ConfigError(f"params[{name!r}] has dtype {_dtype_name(p)}, expected "
                              f"{cfg.dtype} (the Config's dtype): convert the parameters "
                              "(params_from_host) or build the Config with "
                              f"dtype={_dtype_name(p)!r}")
        xp = namespace(p)
        if finite and not bool(xp.all(xp.isfinite(p))):
            raise ConfigError(f"params[{name!r}] holds NaN or infinite values: accepted are "
                              "finite parameters")


def check_inputs(x, cfg: Config, name: str = "x") -> None:
    """Raise a ``ConfigError`` unless ``x`` is a (B, T, input_size) array of finite real
    numbers (B, T >= 1): complex, non-numeric, NaN and infinite inputs are refused."""
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != 3 or shape[2] != cfg.input_size or 0 in shape:
        raise ConfigError(f"invalid {name} of shape {shape}: accepted are arrays of shape (B, T, "
                          f"input_size={cfg.input_size}) with B, T >= 1")
    kind = _dtype_name(x)
    if not (kind.startswith(("float", "int", "uint")) or kind == "bool"):
        raise ConfigError(f"invalid {name} of dtype {kind}: accepted are real numbers (float "
                          f"or integer arrays; the model computes in {cfg.dtype})")
    if kind.startswith("float"):
        xp = namespace(x)
        if not bool(xp.all(xp.isfinite(x))):
            raise ConfigError(f"invalid {name}: it holds NaN or infinite values; accepted are "
                              "finite inputs")


def check_t_start(t_start, T: int) -> int:
    """``t_start`` of a backward pass over T steps: None (the last step, T - 1) or an integer
    from 0 to T - 1. Returns the step the reverse walk starts at."""
    if t_start is None:
        return T - 1
    if not (isinstance(t_start, (int, np.integer)) and not isinstance(t_start, bool)
            and 0 <= t_start < T):
        raise ConfigError(f"invalid t_start={t_start!r}: accepted values are None (the last "
                          f"step) or integers from 0 to T - 1 = {T - 1}")
    return int(t_start)


def _dtype_name(a) -> str:
    """``"float32"``, ``"complex128"``, ... for a NumPy, CuPy or array-API array."""
    d = getattr(a, "dtype", None)
    name = getattr(d, "name", None) or str(d)
    return name.rsplit(".", 1)[-1]


def params_to_host(params: dict) -> dict:
    return {k: to_host(v) for k, v in params.items()}


def params_from_host(host: dict, cfg: Config, backend=None) -> dict:
    be = get_backend(backend)
    return {k: be.asarray(v, dtype=cfg.dtype) for k, v in host.items()}
