"""The LSTM step (docs/model.md §2.1) as a forward/backward pair (docs/derivations.md §3-4).

The four gates are packed in one ``(B, 4H)`` axis in the order i, f, g, o. The input
projection ``x_t W_x + b`` does not depend on the state, so the sequence (``sab.py``) computes it
for all steps at once (``input_projection``) and the step only adds ``h_{t-1} W_h``. Likewise
the weight gradients ``dW_x = Σ_t x_tᵀ dz_t``, ``db = Σ_t dz_t`` (``input_projection_backward``)
and ``dW_h = Σ_t h_{t-1}ᵀ dz_t`` are sums over steps of the ``dz`` this step returns.

This is the model as the equations write it. ``minisab/fast/`` computes the same numbers with
the gates stacked on columns, for speed.
"""
from __future__ import annotations

from .backend import concat, namespace


def sigmoid(z):
    # σ(z) = (1 + tanh(z/2)) / 2: the same value as 1/(1+e^-z), without overflow for large |z|.
    xp = namespace(z)
    return 0.5 * (1.0 + xp.tanh(0.5 * z))


def input_projection(x, W_x, b):
    """``zx = x W_x + b`` for all steps.  x (B, T, I), W_x (I, 4H), b (4H,) -> (B, T, 4H)."""
    return x @ W_x + b


def input_projection_backward(dz, x):
    """Gradients of ``input_projection``: dz (B, T, 4H), x (B, T, I) -> (dW_x (I, 4H), db (4H,))."""
    xp = namespace(dz)
    B, T, G = dz.shape
    dz2 = xp.reshape(dz, (B * T, G))
    x2 = xp.reshape(x, (B * T, x.shape[-1]))
    return x2.T @ dz2, xp.sum(dz2, axis=0)


def lstm_step_forward(zx, h_prev, c_prev, W_h):
    """One LSTM step from a precomputed input projection.

    Inputs:
      zx:     (B, 4H)  x_t W_x + b
      h_prev: (B, H)   h_{t-1} (with attention, the state after the memory read)
      c_prev: (B, H)   c_{t-1}
      W_h:    (H, 4H)
    Returns ``(h_hat, c, cache)``: the provisional state ĥ_t (B, H), the cell c_t (B, H), and
    the cache ``(h_prev, c_prev, i, f, g, o, tanh_c)``, every array (B, H).
    """
    xp = namespace(zx)
    H = h_prev.shape[1]
    z = zx + h_prev @ W_h                                    # (B, 4H)
    i = sigmoid(z[:, :H])                                    # input gate
    f = sigmoid(z[:, H:2 * H])                               # forget gate
    g = xp.tanh(z[:, 2 * H:3 * H])                           # cell candidate
    o = sigmoid(z[:, 3 * H:])                                # output gate
    c = f * c_prev + i * g                                   # c_t = f ⊙ c_{t−1} + i ⊙ g
    tanh_c = xp.tanh(c)
    h_hat = o * tanh_c                                       # ĥ_t = o ⊙ tanh(c_t)
    return h_hat, c, (h_prev, c_prev, i, f, g, o, tanh_c)


def lstm_step_backward(dh_hat, dc_next, cache, W_h):
    """Backward of ``lstm_step_forward`` (docs/derivations.md §3).

    Inputs: dh_hat (B, H) = ∂L/∂ĥ_t, dc_next (B, H) = ∂L/∂c_t from step t+1 (0 at the last
    step or after a cut), the step's cache, W_h (H, 4H).
    Returns ``(dz, dh_prev, dc_prev)``: dz (B, 4H) = ∂L/∂z (also ∂L/∂zx), and the gradients
    (B, H) for h_{t-1} and c_{t-1}. The caller forms dW_h = Σ_t h_prevᵀ dz.
    """
    h_prev, c_prev, i, f, g, o, tanh_c = cache
    do = dh_hat * tanh_c                                     # ĥ = o ⊙ tanh c
    dc = dc_next + dh_hat * o * (1.0 - tanh_c * tanh_c)      # c feeds ĥ_t and c_{t+1}
    di = dc * g                                              # c = f ⊙ c_prev + i ⊙ g
    df = dc * c_prev
    dg = dc * i
    dz = concat([di * i * (1.0 - i),                         # σ'(z) = σ(1 − σ)
                 df * f * (1.0 - f),
                 dg * (1.0 - g * g),                         # tanh'(z) = 1 − tanh²
                 do * o * (1.0 - o)], axis=1)                # (B, 4H)
    dh_prev = dz @ W_h.T
    dc_prev = dc * f
    return dz, dh_prev, dc_prev
