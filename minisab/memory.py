"""The memory buffer (docs/model.md §2.5): preallocated states and their keys.

Row 0 is the null memory (a zero vector, "recall nothing"); row j >= 1 is the j-th written state
``h_t``, oldest first. The buffer is allocated once for the whole sequence, and each memory's key
(``m W_m`` for the mlp scorer) is computed once, when the memory is written, because it never
changes afterwards. The keys are stored step-major, (n_max, B, D), and ``K`` is a (B, n_max, D)
view of them: the scorer reads the rows in use, ``K[:, :n]``, as one contiguous block.
"""
from __future__ import annotations

from .backend import swap01, zeros


class Memory:
    """Memories ``M`` (B, n_max, H) and keys ``K`` (B, n_max, D) with ``n`` rows in use."""

    def __init__(self, n_max: int, h0, key0):
        B, H = h0.shape
        self.M = zeros((B, n_max, H), like=h0)
        self.K = swap01(zeros((n_max, B, key0.shape[1]), like=key0))   # (B, n_max, D) view
        self.M[:, 0, :] = h0          # the null memory and its key
        self.K[:, 0, :] = key0
        self.n = 1

    def write(self, h, key) -> int:
        """Append a state (B, H) and its key (B, D); return its row."""
        if self.n >= self.M.shape[1]:
            raise IndexError(f"memory is full: n_max={self.M.shape[1]} rows")
        j = self.n
        self.M[:, j, :] = h
        self.K[:, j, :] = key
        self.n += 1
        return j

    def rows(self):
        """The memories in use and their keys: (B, n, H), (B, n, D) views."""
        return self.M[:, :self.n, :], self.K[:, :self.n, :]
