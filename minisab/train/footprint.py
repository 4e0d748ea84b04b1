"""How much memory a run needs, estimated before any work so that a run that cannot fit is
refused with a message, not ended by a ``MemoryError`` minutes (or gigabytes) later.

The estimate counts, in the model's dtype:

- **parameters** ``P`` floats (``params.param_shapes``);
- **optimiser state**: Adam keeps two moments (2P), SGD one (P);
- **gradients and update**: a step holds the gradients and makes new parameters and a new
  optimiser state beside the old ones, with temporaries: measured with tracemalloc at
  ``(3 + 2·slots)·P`` (7P for Adam);
- **activations** of one forward + backward over ``batch`` sequences of ``steps`` steps:
  measured, a plain LSTM keeps about 9 floats per step, sequence and hidden unit, SAB about 16;
  rounded up to 10 and 18, plus SAB's memories, keys and scorer buffer ``B·n·(H + 2A)``;
- **data** drawn on the host in float64: the training batch and the held-out evaluation batch
  (kept for the whole run; evaluated 256 sequences at a time).

A gradient check (``optimizer=None``) holds the parameters, the analytic and the numerical
gradient, and two forward passes' activations. The estimate is a lower bound of the peak: a
run it refuses cannot fit; a run it lets through may still need a little more.
"""
from __future__ import annotations

import math

from ..config import Config, ConfigError

OPTIMIZER_SLOTS = {"adam": 2, "sgd": 1}
EVAL_CHUNK = 256                    # train.evaluate runs the held-out batch in these chunks
GiB = 2 ** 30


def n_params(cfg: Config) -> int:
    from ..params import param_shapes
    return sum(math.prod(s) for s in param_shapes(cfg).values())


def activation_bytes(cfg: Config, steps: int, batch: int) -> int:
    """One forward + backward over ``batch`` sequences of ``steps`` steps."""
    per_unit = 18 if cfg.uses_attention else 10
    floats = steps * batch * (per_unit * cfg.hidden_size + cfg.input_size + 3 * cfg.output_size)
    if cfg.uses_attention:
        key = cfg.attn_size if cfg.scorer == "mlp" else cfg.hidden_size
        floats += batch * cfg.n_memories(steps) * (cfg.hidden_size + 2 * key)
    return floats * (4 if cfg.dtype == "float32" else 8)


def footprint(cfg: Config, steps: int, batch: int, eval_batch: int = 0,
              optimizer="adam") -> dict:
    """Bytes by part (the keys of the module's list) of a run, or of a gradient check when
    ``optimizer`` is None. ``batch=0``: evaluation only (``eval``)."""
    item = 4 if cfg.dtype == "float32" else 8
    P = n_params(cfg) * item
    data = 8 * (batch + eval_batch) * steps * (cfg.input_size + 2)
    if optimizer is None:
        return {"parameters": P, "gradients": 2 * P,
                "activations": 2 * activation_bytes(cfg, steps, batch), "data": data}
    slots = OPTIMIZER_SLOTS.get(optimizer, 2) if batch else 0
    return {"parameters": P, "optimiser state": slots * P,
            "gradients and update": (3 + 2 * slots) * P if batch else 0,
            "activations": max(activation_bytes(cfg, steps, batch),
                               activation_bytes(cfg, steps, min(eval_batch, EVAL_CHUNK))),
            "data": data}


def available_bytes():
    """``(bytes, source)``: memory a new allocation can get, and where that was read; bytes
    is None where it cannot be known. Linux: ``MemAvailable`` of ``/proc/meminfo`` (free memory
    plus the caches the kernel can drop); elsewhere the free physical pages of ``os.sysconf``
    (a smaller number than what could be freed)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "MemAvailable in /proc/meminfo"
    except OSError:
        pass
    import os
    try:
        return (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"),
                "free physical pages, os.sysconf")
    except (ValueError, OSError, AttributeError):
        return None, "unknown"


def check_memory(cfg: Config, steps: int, batch: int, eval_batch: int = 0, optimizer="adam",
                 options=("--hidden-size", "--attn-size", "--T", "--batch", "--eval-batch"),
                 copies: int = 1) -> int:
    """Refuse (``ConfigError``) a run whose ``footprint`` (times ``copies``: runs side by side
    on this machine) exceeds the available memory, naming the needed and the available memory,
    each part, and ``options``: the sizes that the command can make smaller. Returns the
    estimate in bytes."""
    parts = footprint(cfg, steps, batch, eval_batch, optimizer)
    need = sum(parts.values()) * copies
    have, source = available_bytes()
    if have is not None and need > have:
        detail = ", ".join(f"{k} {_size(v)}" for k, v in parts.items() if v >= 2 ** 20)
        what = "gradient check" if optimizer is None else "run"
        each = f"{copies} runs side by side (--jobs), each" if copies > 1 else f"this {what}"
        raise ConfigError(f"invalid sizes: {each} needs at least "
                          f"{_size(need / copies)} ({detail}; sequences of {steps} steps, "
                          f"H={cfg.hidden_size}"
                          + (f", A={cfg.attn_size}" if cfg.uses_attention
                             and cfg.scorer == "mlp" else "")
                          + f"), and {_size(have)} are available ({source}); accepted "
                          f"are sizes that fit: a smaller "
                          f"{_or(list(options) + (['--jobs'] if copies > 1 else []))}")
    return need


def _size(n: float) -> str:
    return f"{n / GiB:,.1f} GiB" if n >= GiB / 10 else f"{n / 2 ** 20:,.0f} MiB"


def _or(options) -> str:
    options = list(options)
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]

