"""Arithmetic written into an existing array (``out=``): the fast engine's in-place helpers.

NumPy and CuPy can write a result into an existing array (``out=``), which saves allocating a
temporary per operation and lets the sequence driver write each step's results straight into its
per-sequence arrays: in the per-step loops that is a large share of the time. The array API has
no ``out=``; there each helper computes the plain expression and copies it into ``out``
(``out[...] = value``), so the result lands in the same place on every backend. Every helper
returns ``out``.
"""
from __future__ import annotations

import numpy as np

from ..backend import _numpy_like, namespace


def _store(out, value):
    out[...] = value
    return out


# Each helper tests ``type(out) is np.ndarray`` first: they run a few dozen times per step of
# every sequence, and that test costs less than looking up the namespace.

def add_into(a, b, out):
    """``a + b`` (broadcasting), written into ``out``."""
    if type(out) is np.ndarray:
        return np.add(a, b, out=out)
    xp = namespace(out)
    return xp.add(a, b, out=out) if _numpy_like(xp) else _store(out, a + b)


def sub_into(a, b, out):
    """``a - b`` (broadcasting; ``a`` may be a Python number), written into ``out``."""
    if type(out) is np.ndarray:
        return np.subtract(a, b, out=out)
    xp = namespace(out)
    return xp.subtract(a, b, out=out) if _numpy_like(xp) else _store(out, a - b)


def mul_into(a, b, out):
    """``a * b`` (broadcasting), written into ``out``."""
    if type(out) is np.ndarray:
        return np.multiply(a, b, out=out)
    xp = namespace(out)
    return xp.multiply(a, b, out=out) if _numpy_like(xp) else _store(out, a * b)


def matmul_into(a, b, out):
    """``a @ b``, written into ``out``."""
    if type(out) is np.ndarray:
        return np.matmul(a, b, out=out)
    xp = namespace(out)
    return xp.matmul(a, b, out=out) if _numpy_like(xp) else _store(out, a @ b)


def tanh_into(a, out):
    """``tanh(a)``, written into ``out`` (``out`` may be ``a`` itself)."""
    if type(out) is np.ndarray:
        return np.tanh(a, out=out)
    xp = namespace(out)
    return xp.tanh(a, out=out) if _numpy_like(xp) else _store(out, xp.tanh(a))


def tanh_inplace(a):
    """``tanh(a)``, overwriting ``a``."""
    return tanh_into(a, out=a)
