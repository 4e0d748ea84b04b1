"""The mlp scorer's forward with a scratch buffer: the fast engine's form of ``score_forward``.

The mlp scorer evaluates tanh over (B, n, A) every step, the largest array of the forward pass;
writing it into one buffer the driver allocates once (NumPy/CuPy) saves three temporaries per
step. The numbers are those of ``minisab.attention.score_forward``, whose backward the engine
uses unchanged.
"""
from __future__ import annotations

from ..attention import score_forward
from .ops import add_into, tanh_inplace


def score_forward_into(h_hat, K, params, scorer, out):
    """``score_forward(h_hat, K, params, scorer)`` with the mlp activations written into ``out``
    (B, n, A), a view of the driver's scratch buffer (None: the plain ``score_forward``)."""
    if scorer != "mlp" or out is None:
        return score_forward(h_hat, K, params, scorer)
    q = h_hat @ params["W_q"]                                       # (B, A)
    hid = tanh_inplace(add_into(q[:, None, :], K, out=out))         # (B, n, A)
    return hid @ params["w_s"], (h_hat, q)                          # (B, n): one matvec
