"""Hypothesis strategies that construct the tie gaps of docs/model.md §4 instead of filtering for them.

Scores of a row are built as ``base + cumsum(steps)`` with every step >= ``gap``, then shuffled:
so every pair of scores differs by at least ``gap``, which keeps all three gaps open (the
k_top-th vs (k_top+1)-th, the (k_top+1)-th vs (k_top+2)-th, and the two smallest).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def gapped_scores(draw, B: int, n: int, gap: float = 0.05):
    rows = []
    for _ in range(B):
        steps = draw(st.lists(st.floats(gap, 1.0), min_size=n, max_size=n))
        base = draw(st.floats(-2.0, 2.0))
        values = base + np.cumsum(steps)
        order = draw(st.permutations(range(n)))
        rows.append(values[list(order)])
    return np.array(rows)                                  # (B, n), all gaps >= gap
