"""Array backends: NumPy (default), CuPy (GPU) and a strict test backend.

The rest of minisab is written against the array API standard (``xp.tanh``, ``xp.matmul``,
``xp.sum``, basic slicing, ...), taking the namespace from the arrays it is given. What the
standard lacks lives here and only here:

- ``topk_indices``: the k largest entries of each row (the sparsifier, docs/model.md §2.3);
- ``gather_rows`` / ``scatter_add_rows``: read and accumulate memory rows chosen per batch row;
- ``zeros`` / ``empty`` / ``arange``: new arrays on the same device as an existing one;
  ``concat``;
- ``Backend.asarray`` / ``to_host``: copies between the host (NumPy) and the device;
- random numbers: drawn on the host with ``numpy.random.Generator``, then moved, so one seed gives
  the same model and the same data on every backend.

The ``strict`` backend puts ``array_api_strict`` arrays on its non-default device ``device1``:
any implicit conversion to NumPy, or any mixing of host and device arrays, raises there, exactly
where CuPy would fail on a GPU. The tests run on it to prove the code is device-clean.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

BACKENDS = ("numpy", "cupy", "strict")
ENV_VAR = "MINISAB_BACKEND"


class BackendError(RuntimeError):
    """The requested backend cannot be used here."""


@dataclass(frozen=True)
class Backend:
    name: str      # "numpy", "cupy" or "strict"
    xp: Any        # the array namespace
    device: Any    # device passed to array constructors (None: the namespace's default)

    def asarray(self, a, dtype=None):
        """Copy a host (NumPy) array or Python number to this backend."""
        a = np.asarray(a)
        if dtype is not None:
            a = a.astype(np.dtype(dtype))
        if self.name == "numpy":
            return a
        if self.name == "cupy":
            return self.xp.asarray(a)
        return self.xp.asarray(a, device=self.device)

    def dtype(self, name: str):
        """The namespace's dtype object for "float64" / "float32"."""
        return getattr(self.xp, name)


def get_backend(name: str | None = None) -> Backend:
    """Return the backend called ``name``, or the one named by $MINISAB_BACKEND (default numpy)."""
    if isinstance(name, Backend):
        return name
    name = name or os.environ.get(ENV_VAR) or "numpy"
    if name not in BACKENDS:
        raise BackendError(f"invalid backend={name!r}: accepted values are "
                           f"{', '.join(repr(b) for b in BACKENDS)} (argument or ${ENV_VAR})")
    if name == "numpy":
        return Backend("numpy", np, None)
    if name == "cupy":
        try:
            import cupy
        except ImportError as e:
            raise BackendError("backend='cupy' needs CuPy, which is not installed: "
                               "pip install 'minisab[gpu]' (or cupy-cuda12x), or use "
                               "backend='numpy'") from e
        try:
            n = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDA driver missing or broken
            raise BackendError(f"backend='cupy': CuPy is installed but sees no GPU ({e}); "
                               "use backend='numpy'") from e
        if n < 1:
            raise BackendError("backend='cupy': CuPy is installed but sees no GPU; use backend='numpy'")
        return Backend("cupy", cupy, None)
    try:
        import array_api_strict as xps
    except ImportError as e:
        raise BackendError("backend='strict' needs array-api-strict: pip install array-api-strict") from e
    return Backend("strict", xps, xps.Device("device1"))


def namespace(a):
    """The array namespace of ``a`` (numpy, cupy or array_api_strict)."""
    if isinstance(a, np.ndarray):
        return np
    if type(a).__module__.startswith("cupy"):
        import cupy
        return cupy
    return a.__array_namespace__()


def _numpy_like(xp) -> bool:
    """NumPy or CuPy: the namespaces with NumPy's extras (``out=``, ``transpose``, fancy
    indexing, a device taken from the current context) that the helpers below use."""
    return xp is np or xp.__name__ == "cupy"


def to_host(a) -> np.ndarray:
    """Copy an array from any backend to a NumPy array (explicitly: the only sanctioned way)."""
    if isinstance(a, (np.ndarray, np.generic, int, float)):
        return np.asarray(a)
    if type(a).__module__.startswith("cupy"):
        return a.get()
    xp = a.__array_namespace__()
    if xp.__name__.startswith("array_api_strict"):
        cpu = xp.asarray(a, device=xp.Device("CPU_DEVICE"), copy=True)
        return np.asarray(cpu)
    return np.asarray(a)


def to_float(a) -> float:
    """A 0-d array (a loss, a norm) as a Python float."""
    return float(to_host(a))


def zeros(shape, like):
    """Zeros of ``shape`` with the dtype and device of the array ``like``."""
    xp = namespace(like)
    if _numpy_like(xp):
        return xp.zeros(shape, dtype=like.dtype)
    return xp.zeros(shape, dtype=like.dtype, device=like.device)


def empty(shape, like):
    """An uninitialised array of ``shape`` with the dtype and device of ``like``.

    For the per-sequence arrays that every step overwrites: ``zeros`` would clear memory that
    is about to be written anyway (for a reused block of the heap, an extra pass over it).
    """
    xp = namespace(like)
    if _numpy_like(xp):
        return xp.empty(shape, dtype=like.dtype)
    return xp.empty(shape, dtype=like.dtype, device=like.device)


def swap01(a):
    """The first two axes swapped, as a view where the backend allows: (n, B, ·) <-> (B, n, ·).

    The memory keys and the scorer's scratch buffer are stored step-major, (n, B, ·), and
    handed out as (B, n, ·) views: the rows in use, ``[:n]``, are then one contiguous block,
    and ``q + K`` over them runs as one long loop instead of B·n loops of A numbers
    (benchmarks/README.md, "What changed").
    """
    xp = namespace(a)
    if _numpy_like(xp):
        return a.swapaxes(0, 1)
    return xp.permute_dims(a, (1, 0) + tuple(range(2, a.ndim)))


def permute(a, axes):
    """``a`` with its axes reordered (``permute_dims``; ``transpose`` on NumPy and CuPy, whose
    older releases lack the array API's name), as a view where the backend allows."""
    xp = namespace(a)
    if _numpy_like(xp):
        return a.transpose(axes)
    return xp.permute_dims(a, axes)


def arange(n: int, like):
    """``[0, 1, ..., n-1]`` as an integer array on the device of ``like``."""
    xp = namespace(like)
    if _numpy_like(xp):
        return xp.arange(n)
    return xp.arange(n, device=like.device)


def topk_indices(a, k: int):
    """Indices of the ``k`` largest entries of each row of ``a`` (B, n), largest first: (B, k).

    The order among exactly equal scores is unspecified (docs/model.md §4: ties are not differentiable).
    """
    xp = namespace(a)
    n = a.shape[-1]
    if _numpy_like(xp):
        # O(n) partition puts the k largest in the last k columns; then sort only those.
        part = xp.argpartition(a, n - k, axis=-1)[:, n - k:] if k < n else \
            xp.broadcast_to(xp.arange(n), a.shape)
        order = xp.argsort(take_cols(a, part), axis=-1)[:, ::-1]   # largest first
        return take_cols(part, order)
    return xp.argsort(a, axis=-1, descending=True, stable=True)[:, :k]


def take_cols(a, idx):
    """``out[b, j] = a[b, idx[b, j]]``: a (B, n), idx (B, m) -> (B, m)."""
    xp = namespace(a)
    if _numpy_like(xp):   # plain fancy indexing: no index arrays to build
        return a[xp.arange(a.shape[0])[:, None], idx]
    return xp.take_along_axis(a, idx, axis=1)


def gather_rows(M, idx):
    """``out[b, j] = M[b, idx[b, j]]``: M (B, n, D), idx (B, m) -> (B, m, D)."""
    xp = namespace(M)
    if _numpy_like(xp):
        return M[xp.arange(M.shape[0])[:, None], idx]
    return xp.take_along_axis(M, idx[:, :, None], axis=1)


def scatter_add_rows(dM, idx, v):
    """``dM[b, idx[b, j]] += v[b, j]`` in place: dM (B, n, D), idx (B, m), v (B, m, D).

    The indices of one row must be distinct (callers merge repeats first), so a plain
    fancy-index update is exact and no slow ``add.at`` is needed.
    """
    xp = namespace(dM)
    if _numpy_like(xp):
        dM[xp.arange(dM.shape[0])[:, None], idx] += v
        return dM
    # The standard has no scatter: add a one-hot (B, n, m) matrix product instead.
    onehot = xp.astype(idx[:, None, :] == arange(dM.shape[1], like=idx)[None, :, None], dM.dtype)
    dM += xp.matmul(onehot, v)
    return dM


def cumsum(a, axis: int):
    """Running sum along ``axis`` (``cumulative_sum`` in the array API, ``cumsum`` in NumPy)."""
    xp = namespace(a)
    if _numpy_like(xp):
        return xp.cumsum(a, axis=axis)
    return xp.cumulative_sum(a, axis=axis)


def concat(arrays, axis: int):
    """Join arrays along ``axis`` (``concat`` in the standard, ``concatenate`` in older CuPy)."""
    xp = namespace(arrays[0])
    join = getattr(xp, "concat", None) or xp.concatenate
    return join(arrays, axis=axis)


def astype(a, dtype):
    xp = namespace(a)
    if _numpy_like(xp):
        return a.astype(dtype)
    return xp.astype(a, dtype)


def host_rng(seed) -> np.random.Generator:
    """The one source of randomness: a host NumPy Generator (docs/model.md init, tasks, training)."""
    return np.random.default_rng(seed)
