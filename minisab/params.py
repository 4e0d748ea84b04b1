"""Parameter layout (docs/model.md §1) and the seeded initialisation.

Parameters are a plain ``dict`` from docs/model.md's names to arrays; gradients use the same keys.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import get_backend, host_rng, to_host
from .config import Config


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
    every backend.
    """
    be = get_backend(backend)
    rng = host_rng(seed)
    H = cfg.hidden_size
    params = {}
    for name, shape in param_shapes(cfg).items():
        if name == "b_y":
            value = np.zeros(shape)
        else:
            fan_in = H if name in ("W_x", "W_h", "b") else shape[0]
            bound = 1.0 / math.sqrt(fan_in)
            value = rng.uniform(-bound, bound, size=shape)
            if name == "b":
                value[H:2 * H] += forget_bias
        params[name] = be.asarray(value, dtype=cfg.dtype)
    return params


def check_params(params: dict, cfg: Config) -> None:
    """Raise a ValueError naming the first parameter whose name or shape does not fit ``cfg``."""
    shapes = param_shapes(cfg)
    missing = sorted(set(shapes) - set(params))
    extra = sorted(set(params) - set(shapes))
    if missing or extra:
        raise ValueError(f"params do not fit the config: missing {missing}, unexpected {extra}; "
                         f"expected names {sorted(shapes)}")
    for name, shape in shapes.items():
        if tuple(params[name].shape) != shape:
            raise ValueError(f"params[{name!r}] has shape {tuple(params[name].shape)}, "
                             f"expected {shape} for this config")


def params_to_host(params: dict) -> dict:
    return {k: to_host(v) for k, v in params.items()}


def params_from_host(host: dict, cfg: Config, backend=None) -> dict:
    be = get_backend(backend)
    return {k: be.asarray(v, dtype=cfg.dtype) for k, v in host.items()}
