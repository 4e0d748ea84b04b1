"""The LSTM step (MODEL.md §2.1) as a forward/backward pair.

The four gates are packed in one ``(·, 4H)`` axis in the order i, f, g, o. The input projection
``x_t W_x + b`` does not depend on the state, so the sequence driver computes it for all steps at
once (``input_projection``) and the step only adds ``h_{t-1} W_h``. Likewise the weight gradients
``dW_x = Σ_t x_tᵀ dz_t``, ``dW_h = Σ_t h_{t-1}ᵀ dz_t`` and ``db = Σ_t dz_t`` are single matrix
products over all steps, done by the driver from the ``dz`` this step returns.
"""
from __future__ import annotations

from .backend import add_into, concat, namespace, sigmoid_inplace


def sigmoid(z):
    # σ(z) = (1 + tanh(z/2)) / 2: the same value as 1/(1+e^-z), without overflow for large |z|.
    xp = namespace(z)
    return 0.5 * (1.0 + xp.tanh(0.5 * z))


def input_projection(x, W_x, b):
    """``zx = x W_x + b`` for all steps.  x (B, T, I), W_x (I, 4H), b (4H,) -> (B, T, 4H)."""
    zx = x @ W_x
    return add_into(zx, b, out=zx)      # in place: a second (B, T, 4H) array costs page faults


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
    Returns ``(h_hat, c, cache)``: the provisional state ĥ_t (B, H), the cell c_t (B, H).
    The cache is ``(h_prev, c_prev, i, f, g, o, tanh_c, S)``; ``i, f, o`` are views of ``S``.

    Speed (benchmarks/README.md): all four gates come out of ONE sigmoid call over the packed
    (B, 4H) pre-activations, computed in place. The cell candidate uses
    ``tanh(z) = 2σ(2z) − 1``, so its block of ``z`` is doubled first and
    ``S = σ([z_i, z_f, 2 z_g, z_o])`` holds everything the backward needs.
    """
    H = h_prev.shape[1]
    z = h_prev @ W_h                                         # (B, 4H), a fresh array:
    z += zx                                                  # ... so in place from here on
    z[:, 2 * H:3 * H] *= 2.0                                 # g = 2σ(2 z_g) − 1 = tanh(z_g)
    S = sigmoid_inplace(z)                                   # (B, 4H) σ of every block
    i, f, o = S[:, :H], S[:, H:2 * H], S[:, 3 * H:]
    g = 2.0 * S[:, 2 * H:3 * H] - 1.0                        # (B, H)
    c = f * c_prev
    c += i * g                                               # c_t = f ⊙ c_{t−1} + i ⊙ g
    tanh_c = namespace(c).tanh(c)
    h_hat = o * tanh_c                                       # (B, H)
    return h_hat, c, (h_prev, c_prev, i, f, g, o, tanh_c, S)


def lstm_step_backward(dh_hat, dc, cache, W_h):
    """Backward of ``lstm_step_forward``.

    Inputs: dh_hat (B, H) = ∂L/∂ĥ_t, dc (B, H) = ∂L/∂c_t from step t+1, the step's cache, W_h.
    Returns ``(dz, dh_prev, dc_prev)``: dz (B, 4H) = ∂L/∂z (also ∂L/∂zx), and the gradients for
    h_{t-1} and c_{t-1}. The caller forms dW_h = h_prevᵀ dz (summed over steps).
    """
    h_prev, c_prev, i, f, g, o, tanh_c, S = cache
    H = i.shape[1]
    dc_total = dh_hat * o
    dc_total *= 1.0 - tanh_c * tanh_c                         # tanh'(c) = 1 − tanh²
    dc_total += dc
    # ∂L/∂(i, f, g, o), packed like S; then through the sigmoids in one product:
    # σ'(z) = σ(1 − σ), and for g = 2σ(2z) − 1: g'(z) = 4 σ(2z)(1 − σ(2z)).
    dz = concat([dc_total * g, dc_total * c_prev, dc_total * i, dh_hat * tanh_c], axis=1)
    dsig = 1.0 - S
    dsig *= S                                                # σ(1 − σ), (B, 4H)
    dz *= dsig
    dz[:, 2 * H:3 * H] *= 4.0
    dh_prev = dz @ W_h.T
    dc_prev = dc_total * f
    return dz, dh_prev, dc_prev
