"""The output layer (docs/model.md §2.6) and the losses (§3), as forward/backward pairs."""
from __future__ import annotations

from typing import NamedTuple
from collections.abc import Callable

from .backend import arange, astype, concat, namespace, to_float


def output_forward(h, s, W_y, b_y):
    """y = [h ; s] W_y + b_y.  h, s (..., H) (s is None without attention) -> y (..., C).

    The leading axes (B, T) are flattened into one, so each
    term is a single 2-D matrix product.
    """
    xp = namespace(h)
    H, lead = h.shape[-1], tuple(h.shape[:-1])
    y = xp.reshape(h, (-1, H)) @ W_y[:H, :]
    if s is not None:                              # the concatenation, without building it
        y += xp.reshape(s, (-1, H)) @ W_y[H:, :]
    y += b_y
    return xp.reshape(y, lead + (W_y.shape[1],))


def output_backward(dy, h, s, W_y):
    """Backward of ``output_forward``: returns ``(dh, ds, {"W_y", "b_y"})``; ds is None without s."""
    xp = namespace(dy)
    H, C, lead = h.shape[-1], dy.shape[-1], tuple(dy.shape[:-1])
    dy2 = xp.reshape(dy, (-1, C))
    grads = {"b_y": xp.sum(dy2, axis=0)}
    dW_h = xp.reshape(h, (-1, H)).T @ dy2
    dh = xp.reshape(dy2 @ W_y[:H, :].T, lead + (H,))
    if s is None:
        grads["W_y"] = dW_h
        return dh, None, grads
    grads["W_y"] = concat([dW_h, xp.reshape(s, (-1, H)).T @ dy2], axis=0)
    return dh, xp.reshape(dy2 @ W_y[H:, :].T, lead + (H,)), grads


def check_mask(mask, shape):
    """Validate a 0/1 mask of ``shape`` (B, T); return the number N of positions that count."""
    xp = namespace(mask)
    if tuple(mask.shape) != tuple(shape):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, expected (B, T) = {tuple(shape)}")
    if not bool(xp.all((mask == 0) | (mask == 1))):
        raise ValueError("mask must hold only 0 and 1")
    n = to_float(xp.sum(mask))
    if n == 0:
        raise ValueError("mask has no 1: there is no position to learn from "
                         "(docs/model.md §3: an all-zero mask is an error, not a zero loss)")
    return n


def check_targets(y, targets, loss: str) -> None:
    """Refuse targets a loss cannot use (a ValueError naming ``targets`` and what it accepts).

    Cross-entropy targets out of range would match no class and give a loss of 0 without a
    word; they must be integers in [0, C) shaped (B, T). Mean-squared-error targets must be
    shaped like ``y``. ``y`` must hold at least one position (B, T >= 1).
    """
    xp = namespace(y)
    if y.ndim != 3 or y.shape[0] * y.shape[1] == 0:
        raise ValueError(f"y has shape {tuple(y.shape)}: accepted are (B, T, C) with B, T >= 1")
    C = y.shape[2]
    if loss == "mse":
        if tuple(targets.shape) != tuple(y.shape):
            raise ValueError(f"invalid targets of shape {tuple(targets.shape)} for mse: accepted "
                             f"are values shaped like y, {tuple(y.shape)}")
        return
    if tuple(targets.shape) != tuple(y.shape[:2]):
        raise ValueError(f"invalid targets of shape {tuple(targets.shape)} for xent: accepted "
                         f"are class indices shaped (B, T) = {tuple(y.shape[:2])}")
    if not xp.isdtype(targets.dtype, "integral"):
        raise ValueError(f"invalid targets of dtype {targets.dtype} for xent: accepted are "
                         f"integer class indices in [0, {C})")
    lo, hi = int(to_float(xp.min(targets))), int(to_float(xp.max(targets)))
    if lo < 0 or hi >= C:
        raise ValueError(f"invalid targets: class indices from {lo} to {hi}; accepted are "
                         f"integers in [0, C) = [0, {C})")


def _weights(y, mask):
    """Per-position weights mask/N (B, T): every counted position weighs 1/N."""
    xp = namespace(y)
    B, T = y.shape[0], y.shape[1]
    if mask is None:
        return xp.ones_like(y[:, :, 0]) / (B * T)
    return astype(mask, y.dtype) / check_mask(mask, (B, T))


def xent_forward(y, targets, mask=None):
    """Masked mean cross-entropy.  y (B, T, C) logits, targets (B, T) ints, mask (B, T) 0/1.

    L = (1/N) Σ_{mask=1} −log softmax(y)[target]. Returns ``(L, cache)``.
    """
    xp = namespace(y)
    check_targets(y, targets, "xent")
    C = y.shape[-1]
    onehot = astype(targets[:, :, None] == arange(C, like=targets)[None, None, :], y.dtype)
    shifted = y - xp.max(y, axis=2, keepdims=True)
    log_z = xp.log(xp.sum(xp.exp(shifted), axis=2, keepdims=True))
    logp = shifted - log_z                                          # log softmax, (B, T, C)
    w = _weights(y, mask)                                           # (B, T)
    loss = -xp.sum(w * xp.sum(onehot * logp, axis=2))
    return loss, (logp, onehot, w)


def xent_backward(cache):
    """∂L/∂y = (softmax(y) − onehot(target)) · mask / N."""
    logp, onehot, w = cache
    return (namespace(logp).exp(logp) - onehot) * w[:, :, None]


def mse_forward(y, targets, mask=None):
    """Masked mean squared error: L = (1/N) Σ_{mask=1} mean_k (y_k − target_k)².

    y, targets (B, T, C); mask (B, T). Returns ``(L, cache)``.
    """
    xp = namespace(y)
    check_targets(y, targets, "mse")
    diff = y - targets
    w = _weights(y, mask)
    loss = xp.sum(w * xp.mean(diff * diff, axis=2))
    return loss, (diff, w)


def mse_backward(cache):
    diff, w = cache
    return 2.0 * diff * w[:, :, None] / diff.shape[2]


class Loss(NamedTuple):
    """A loss as a forward/backward pair: ``forward(y, targets, mask) -> (L, cache)`` and
    ``backward(cache) -> ∂L/∂y``."""
    forward: Callable
    backward: Callable


LOSSES = {"xent": Loss(xent_forward, xent_backward), "mse": Loss(mse_forward, mse_backward)}
