"""The output layer (docs/model.md §2.6) on states stored as columns, as the fast engine keeps them.

The same numbers as ``minisab.losses.output_forward`` / ``output_backward``; the driver's
(T, H, B) column arrays go straight in, without building the (B, T, H) rows.
"""
from __future__ import annotations

from ..backend import concat, namespace, permute


def output_forward_cols(h_cols, s_cols, W_y, b_y):
    """``output_forward`` on states stored as columns, as the sequence driver keeps them:
    h_cols, s_cols (T, H, B) (s_cols None without attention) -> y_cols (T, C, B),
    yᵀ = W_yᵀ [h; s]ᵀ + b_y."""
    H = h_cols.shape[1]
    y_cols = W_y[:H, :].T @ h_cols                        # (C, H) times each step's (H, B)
    if s_cols is not None:
        y_cols += W_y[H:, :].T @ s_cols
    y_cols += b_y[:, None]
    return y_cols


def output_backward_cols(dy_cols, h_cols, s_cols, W_y):
    """Backward of ``output_forward_cols``: dy_cols (T, C, B) ->
    ``(dh_cols, ds_cols, {"W_y", "b_y"})``."""
    xp = namespace(dy_cols)
    H = h_cols.shape[1]
    dy_rows = permute(dy_cols, (0, 2, 1))               # (T, B, C)
    grads = {"b_y": xp.sum(dy_cols, axis=(0, 2)), "W_y": xp.sum(h_cols @ dy_rows, axis=0)}
    dh_cols = W_y[:H, :] @ dy_cols                        # (T, H, B)
    if s_cols is None:
        return dh_cols, None, grads
    grads["W_y"] = concat([grads["W_y"], xp.sum(s_cols @ dy_rows, axis=0)], axis=0)
    return dh_cols, W_y[H:, :] @ dy_cols, grads
