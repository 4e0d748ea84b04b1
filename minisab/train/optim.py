"""Optimisers over the parameter dict: SGD with momentum and Adam, with global-norm clipping.

Clipping lives here, in the update, and never in the loss: the gradient that ``gradcheck``
verifies is the exact (or the method's truncated) gradient of the loss, and only the step taken
with it is shortened.

An optimiser is stateless; its state is a plain dict of arrays (one slot per parameter and
moment) plus a step count, so a checkpoint stores it like the parameters. ``step`` returns new
dicts and never changes its inputs: the training loop commits a finished step in one
assignment, which is what lets Ctrl-C save a consistent state. Everything is array-API generic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..backend import namespace

OPTIMIZERS = ("adam", "sgd")


class OptimError(ValueError):
    """An optimiser hyperparameter minisab does not accept."""


def global_norm(grads: dict):
    """sqrt(Σ over every parameter of Σ g²), a 0-d array on the gradients' device."""
    xp = namespace(next(iter(grads.values())))
    return xp.sqrt(sum(xp.sum(g * g) for g in grads.values()))


def clip_by_global_norm(grads: dict, max_norm: float | None):
    """Scale every gradient by min(1, max_norm / (‖g‖ + 1e-6)), as PyTorch's clip_grad_norm_.

    Returns ``(clipped, norm before clipping)``.
    """
    norm = global_norm(grads)
    if max_norm is None:
        return grads, norm
    xp = namespace(norm)
    scale = xp.minimum(max_norm / (norm + 1e-6), 1.0)               # 0-d, stays on the device
    return {k: g * scale for k, g in grads.items()}, norm


@dataclass(frozen=True)
class Optimizer:
    """``name`` "adam" or "sgd"; ``clip`` the global-norm limit (None: no clipping).

    SGD: v ← μ v + g;  p ← p − lr v  (μ = ``momentum``; μ = 0 is plain SGD).
    Adam (Kingma & Ba): m ← β₁ m + (1−β₁) g;  v ← β₂ v + (1−β₂) g²;
    p ← p − lr m̂ / (sqrt(v̂) + ε) with the bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
    """
    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    clip: float | None = 1.0

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise OptimError(f"invalid optimizer={self.name!r}: accepted values are "
                             f"{', '.join(map(repr, OPTIMIZERS))}")
        if not (_is_num(self.lr) and self.lr > 0 and math.isfinite(self.lr)):
            raise OptimError(f"invalid lr={self.lr!r}: accepted values are finite numbers > 0")
        if not (_is_num(self.momentum) and 0 <= self.momentum < 1):
            raise OptimError(f"invalid momentum={self.momentum!r}: accepted values are in [0, 1)")
        for field in ("beta1", "beta2"):
            v = getattr(self, field)
            if not (_is_num(v) and 0 <= v < 1):
                raise OptimError(f"invalid {field}={v!r}: accepted values are in [0, 1)")
        if self.clip is not None and not (_is_num(self.clip) and self.clip > 0):
            raise OptimError(f"invalid clip={self.clip!r}: accepted values are numbers > 0 "
                             "or None (no clipping)")

    def slots(self) -> tuple:
        return ("m", "v") if self.name == "adam" else ("v",)

    def init_state(self, params: dict) -> dict:
        """Zero moments for every parameter: keys ``"<slot>/<name>"``, plus ``"t"`` (steps)."""
        xp = namespace(next(iter(params.values())))
        state = {f"{s}/{k}": xp.zeros_like(p) for s in self.slots() for k, p in params.items()}
        state["t"] = 0
        return state

    def step(self, params: dict, grads: dict, state: dict):
        """One update. Returns ``(new_params, new_state, grad_norm)``; the inputs are unchanged.

        ``grad_norm`` is the global norm before clipping (a 0-d array).
        """
        grads, norm = clip_by_global_norm(grads, self.clip)
        t = state["t"] + 1
        new_state, new_params = {"t": t}, {}
        if self.name == "sgd":
            for k, p in params.items():
                v = self.momentum * state[f"v/{k}"] + grads[k]
                new_state[f"v/{k}"] = v
                new_params[k] = p - self.lr * v
            return new_params, new_state, norm
        xp = namespace(norm)
        c1 = 1.0 - self.beta1 ** t                                  # bias corrections
        c2 = 1.0 - self.beta2 ** t
        for k, p in params.items():
            g = grads[k]
            m = self.beta1 * state[f"m/{k}"] + (1.0 - self.beta1) * g
            v = self.beta2 * state[f"v/{k}"] + (1.0 - self.beta2) * (g * g)
            new_state[f"m/{k}"], new_state[f"v/{k}"] = m, v
            new_params[k] = p - self.lr * (m / c1) / (xp.sqrt(v / c2) + self.eps)
        return new_params, new_state, norm


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
