"""The fast engine: the numbers of ``minisab.sab``, rearranged for speed. A student need not read it.

``minisab.sab`` is the model as docs/model.md and docs/derivations.md write it, on (B, ·) rows.
This package computes the same loss, gradients and adjoints (tests/fast/test_fast.py proves it on
every option, to 1e-12 in float64) with every step's vectors stored as columns, the four gates
stacked, results written into preallocated arrays and a few activations recomputed instead of
kept. Training (``minisab.train.loop``), ``compare``, ``eval``, the credit instruments
(``minisab.credit.flow``), the experiments and the benchmarks run it; docs/costs.md gives the price of
reading the reference instead.

- ``engine.py``       the sequence forward and backward driver on columns
- ``lstm_cols.py``    the LSTM step's kernels on stacked gates and columns
- ``scorer.py``       the mlp scorer with a scratch buffer
- ``output_cols.py``  the output layer on columns
- ``ops.py``          arithmetic written into an existing array (``out=``)
"""
from __future__ import annotations

from ..losses import LOSSES
from ..sab import base_point_constants, loss_forward
from .engine import backward, forward

__all__ = ["forward", "backward", "loss_and_grads", "loss_only", "loss_forward",
           "base_point_constants"]


def loss_and_grads(params, x, targets, cfg, mask=None, record: bool = False):
    """``minisab.sab.loss_and_grads`` on the fast engine: ``(loss, grads, out)``, ``out`` holding
    ``logits``, ``dh`` (B, T, H) and the forward ``cache``."""
    y, cache = forward(params, x, cfg, record=record)
    loss, l_cache = loss_forward(y, targets, cfg, mask)
    grads, dh = backward(LOSSES[cfg.loss].backward(l_cache), cache, params)
    return loss, grads, {"logits": y, "dh": dh, "cache": cache}


def loss_only(params, x, targets, cfg, mask=None):
    """The loss alone (for finite differences and evaluation)."""
    y, _ = forward(params, x, cfg)
    return loss_forward(y, targets, cfg, mask)[0]
