"""Where attention goes: the paper's attention heat map, the memories each step keeps, and how
that selection changes over training (re-exported by ``plots``, the home of every figure).

Inputs are host (NumPy) arrays: ``cache["record"]`` of ``sab.forward(..., record=True)`` and
``flow.selections`` / ``flow.selection_history``. Matrices are drawn as matrices: row = reading
step ``t`` going down, column = memory (or the step that wrote it).
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .style import (CMAP_WEIGHTS, LABEL_SIZE, MASKED_COLOR, METHOD_COLORS, PANEL_SIZE,
                       TICK_SIZE, TITLE_SIZE, add_colorbar, add_legend, host_array, masked_cmap,
                       new_figure, style_axes)


def attention_heatmap(attn, n_mem, batch_index: int = 0, title=None, k_att=None) -> Figure:
    """Attention weights per step (the paper's heat map) for one sequence of the batch.

    attn (T, B, n_max): weights ``α`` zero-padded (``cache["record"]["attn"]``), column 0 the
    null memory; n_mem (T,): |M| at each step. Row t shows what step t read; cells with
    ``j >= n_mem[t]`` (memories not written yet) are grey, weight 0 is white. With ``k_att``
    the top axis also gives the step that wrote each memory (memory j is h at j·k_att − 1).
    """
    A = host_array(attn, "attn", 3)
    T, B, n_max = A.shape
    n_mem = np.asarray(n_mem, dtype=int)
    if n_mem.shape != (T,):
        raise ValueError(f"n_mem must hold one |M| per step, {T} values; got shape {n_mem.shape}")
    if not 0 <= batch_index < B:
        raise ValueError(f"invalid batch_index={batch_index}: accepted values are 0..{B - 1}")
    W = A[:, batch_index, :]                                        # (T, n_max)
    missing = np.arange(n_max)[None, :] >= n_mem[:, None]
    fig, ax = new_figure(size=(PANEL_SIZE[0] + 0.6, PANEL_SIZE[1] + 0.4))
    im = ax.imshow(np.ma.masked_array(W, missing), aspect="auto", interpolation="nearest",
                   cmap=masked_cmap(CMAP_WEIGHTS, bad=MASKED_COLOR), norm=Normalize(0.0, 1.0),
                   extent=(-0.5, n_max - 0.5, T - 0.5, -0.5))
    style_axes(ax, title or f"attention weights (sequence {batch_index})",
               "memory j (0 = null memory)", "reading step t", grid=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))      # memories and steps are whole
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if k_att:
        _written_axis(ax, k_att)
    add_colorbar(fig, im, ax, "weight α (grey: not yet written)")
    return fig


def _written_axis(ax, k_att):
    """A top axis naming, under each memory tick j, the step that wrote it (j·k_att − 1)."""
    ticks = [j for j in ax.get_xticks() if float(j).is_integer() and 0 <= j <= ax.get_xlim()[1]]
    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks, ["null" if j == 0 else str(int(j) * k_att - 1) for j in ticks])
    top.set_xlabel("memory written at step", fontsize=LABEL_SIZE)
    top.tick_params(labelsize=TICK_SIZE)
    return top


def selection_plot(selected, k_att: int, batch_index: int = 0, threshold=None,
                   title=None) -> Figure:
    """Which memories each step kept, drawn like the credit matrix (row = reading step t,
    column = the step that wrote the memory; the null memory in its own column, left).

    selected (T, B, n_max) bool from ``flow.selections(cache)``; ``threshold`` optionally the
    same with ``threshold=True``, to mark the threshold memory (hollow).
    """
    S = np.asarray(selected, dtype=bool)
    if S.ndim != 3:
        raise ValueError(f"selected must have shape (T, B, n_max), got {S.shape}")
    T, B, n_max = S.shape
    if not 0 <= batch_index < B:
        raise ValueError(f"invalid batch_index={batch_index}: accepted values are 0..{B - 1}")
    null_x = -max(2, T // 25)                                       # a column left of s = 0
    written = np.r_[null_x, np.arange(1, n_max) * k_att - 1]        # x of memory j
    fig, ax = new_figure(size=(PANEL_SIZE[0] + 0.4, PANEL_SIZE[1] + 0.4))
    ax.plot([0, T - 1], [0, T - 1], color="#999999", linewidth=0.8, linestyle=":")
    if threshold is not None:
        thr = np.asarray(threshold, dtype=bool)[:, batch_index, :] & ~S[:, batch_index, :]
        t, j = np.nonzero(thr)
        ax.scatter(written[j], t, s=10, facecolors="none", edgecolors="#777777", linewidths=0.6,
                   label="threshold memory (sets δ)")
    t, j = np.nonzero(S[:, batch_index, :])
    null = j == 0
    ax.scatter(written[j[~null]], t[~null], s=9, color=METHOD_COLORS["sab"], label="kept memory")
    ax.scatter(written[j[null]], t[null], s=9, color="black", marker="s", label="null memory")
    ax.set_xlim(null_x - 1.5, T - 0.5)
    ax.set_ylim(T - 0.5, -0.5)
    style_axes(ax, title or f"memories kept per step (sequence {batch_index})",
               "memory written at step (left column: null)", "reading step t")
    add_legend(ax, loc="upper right", markerscale=1.6)
    return fig


def selection_history_plot(history, title=None) -> Figure:
    """How selection changes over training (``flow.selection_history``).

    Left: for each snapshot, the share of kept memories read d steps after they were written.
    Right: share of kept slots on the null memory, and share of steps whose kept set changed
    since the previous snapshot.
    """
    steps = np.asarray(history["steps"])
    lag = np.asarray(history["lag"], dtype=float)                    # (K, T)
    K, T = lag.shape
    fig, axes = new_figure(1, 2, size=(2 * PANEL_SIZE[0] + 0.8, PANEL_SIZE[1]))
    ax = axes[0, 0]
    d_max = max(int(np.nonzero(lag.any(axis=0))[0].max(initial=1)) + 1, 2)
    # A log scale: the snapshot at initialisation keeps only recent memories, and its few large
    # shares would otherwise wash out the small ones that matter (the long lags of a recall).
    vmax = max(lag.max(), 1e-12)
    pos = lag[lag > 0]
    norm = LogNorm(vmin=max(pos.min() if pos.size else vmax * 1e-3, vmax * 1e-3), vmax=vmax,
                   clip=True)
    im = ax.imshow(np.ma.masked_equal(lag[:, :d_max].T, 0.0), aspect="auto",
                   interpolation="nearest", origin="lower", cmap=masked_cmap(CMAP_WEIGHTS),
                   norm=norm, extent=(-0.5, K - 0.5, -0.5, d_max - 0.5))
    stride = max(1, -(-K // 8))                    # every stride-th snapshot: regular labels
    ticks = np.arange(0, K, stride)
    ax.set_xticks(ticks, [str(steps[k]) for k in ticks])
    style_axes(ax, "distance of the kept memories", "training step (snapshot)",
               "lag d = t − write step", grid=False)
    add_colorbar(fig, im, ax, "share of kept memories (log; white: none)")
    ax2 = axes[0, 1]
    ax2.plot(steps, history["null_share"], color="black", marker="o", markersize=3,
             linewidth=1.3, label="kept slots on the null memory")
    ax2.plot(steps, history["changed"], color=METHOD_COLORS["sab"], marker="o", markersize=3,
             linewidth=1.3, label="steps whose selection changed")
    ax2.set_ylim(-0.03, 1.03)
    style_axes(ax2, "selection over training", "training step", "share")
    add_legend(ax2)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    return fig
