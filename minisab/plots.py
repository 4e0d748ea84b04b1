"""Every figure minisab draws, with one look (colours, sizes, fonts) for all of them.

Each function returns a ``matplotlib.figure.Figure`` built without pyplot's global state, so it
works under any backend (Agg on a server, inline in a notebook): save it with
``fig.savefig(path)``; nothing here ever calls ``show``. Inputs are host (NumPy) arrays or plain
Python lists: the callers (``flow``, the training loop) copy to the host with ``backend.to_host``.

The look: one colour per method everywhere (``METHOD_COLORS``: bptt, tbptt, sab, softmax), the
same sequential colour maps for the same quantities (attention weights, credit), matrices drawn
as matrices (row = loss step or reading step ``t`` going down, column = state or memory).
"""
from __future__ import annotations

import re

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .backend import to_host
from .flow import REACH_THRESHOLD, credit_by_lag, credit_reach

# ----------------------------------------------------------------------------------- the look
# Okabe-Ito colours: distinguishable with colour-blindness and in greyscale print.
METHOD_COLORS = {"bptt": "#0072B2", "tbptt": "#E69F00", "sab": "#009E73", "softmax": "#CC79A7"}
OTHER_COLORS = ("#D55E00", "#56B4E9", "#000000", "#F0E442", "#999999")
CMAP_WEIGHTS = "Blues"        # attention weights in [0, 1]; 0 is white
CMAP_CREDIT = "viridis"       # credit ||dL_t/dh_s|| on a log scale; exact zeros left white
MASKED_COLOR = "#dddddd"      # cells that do not exist (memory not yet written)
ZERO_COLOR = "white"          # cells that exist and are exactly zero (no path, cut edge)
PANEL_SIZE = (4.6, 3.6)       # inches per panel
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, LEGEND_SIZE = 11, 10, 9, 8
DPI = 110


def method_color(label: str, index: int = 0) -> str:
    """The colour of a run label: the colour of the first word that names a method ("sab",
    "sab k_trunc=5", "tbptt-20", "softmax bptt"); otherwise a fixed fallback by ``index``."""
    words = re.sub(r"[^a-z0-9]+", " ", str(label).lower()).split()   # "sab, k=5" -> sab k 5
    for w in words:
        if w in METHOD_COLORS:
            return METHOD_COLORS[w]
    return OTHER_COLORS[index % len(OTHER_COLORS)]


def _is_method(label) -> bool:
    return method_color(label, 0) in METHOD_COLORS.values()


def new_figure(nrows: int = 1, ncols: int = 1, size=None, **subplot_kw):
    """A Figure in the house style and its axes (a 2-d array when nrows*ncols > 1)."""
    w, h = size or (PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows)
    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    for ax in axes.flat:
        style_axes(ax)
    return fig, (axes[0, 0] if nrows * ncols == 1 else axes)


def style_axes(ax, title=None, xlabel=None, ylabel=None, grid=True):
    """Fonts, labels and grid of one panel (explicit, so saving later under other rcParams
    gives the same picture)."""
    ax.tick_params(labelsize=TICK_SIZE)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if grid:
        ax.grid(True, alpha=0.3, linewidth=0.6)
    else:
        ax.grid(False)
    return ax


def _legend(ax, **kw):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=LEGEND_SIZE, frameon=False, **kw)


def _colorbar(fig, im, ax, label):
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    cb.set_label(label, fontsize=LABEL_SIZE)
    cb.ax.tick_params(labelsize=TICK_SIZE)
    return cb


def _cmap(name, bad=ZERO_COLOR):
    """A named colour map whose masked cells ("bad") get the colour ``bad``."""
    return colormaps[name].with_extremes(bad=bad)


def _host(a, name, ndim):
    a = np.asarray(to_host(a), dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    return a


# ----------------------------------------------------------------------------- training
def learning_curves(runs, metric: str = "accuracy", x: str = "step",
                    log_loss: bool = True, chance=None, chance_label: str = "chance") -> Figure:
    """Loss and ``metric`` against ``x`` ("step", or "time" in seconds) for several runs.

    ``runs`` maps a label to a list of records (dicts with "step", "loss", and optionally the
    metric, e.g. "accuracy" or "bpc", and "time"). Records without the metric (a run that does
    not measure it, or steps between evaluations) are left out of the metric panel only. If no
    run has the metric, the figure has the loss panel alone. The loss axis is logarithmic when
    ``log_loss`` and every loss is positive. ``chance`` (e.g. ``Task.chance``): the metric of a
    model that guesses, drawn dotted grey on the metric panel (labelled ``chance_label``), so a
    curve is read against what costs nothing.
    """
    if not runs:
        raise ValueError("runs is empty: expected a dict label -> list of metric records")
    if x not in ("step", "time"):
        raise ValueError(f"invalid x={x!r}: accepted values are 'step', 'time'")
    for label, recs in runs.items():
        for key in (x, "loss"):
            if any(key not in r for r in recs):
                raise ValueError(f"run {label!r}: a record lacks {key!r} (records need "
                                 f"'step', 'loss' and, for x='time', 'time')")
    has_metric = any(metric in r for recs in runs.values() for r in recs)
    fig, axes = new_figure(1, 2 if has_metric else 1)
    ax_loss = axes[0, 0] if has_metric else axes
    xlabel = "training step" if x == "step" else "time (s)"
    all_loss = []
    for i, (label, recs) in enumerate(runs.items()):
        color = method_color(label, i)
        xs = [r[x] for r in recs]
        loss = [float(r["loss"]) for r in recs]
        all_loss += loss
        ax_loss.plot(xs, loss, color=color, label=label, linewidth=1.4)
        if has_metric:
            pts = [(r[x], float(r[metric])) for r in recs if metric in r]
            if pts:
                mx, my = zip(*pts)
                axes[0, 1].plot(mx, my, color=color, label=label, linewidth=1.4,
                                marker="o" if len(pts) < 30 else None, markersize=3)
    if log_loss and all_loss and min(all_loss) > 0:
        ax_loss.set_yscale("log")
    style_axes(ax_loss, "held-out loss", xlabel, "loss (held-out batch)")
    _legend(ax_loss)
    if has_metric:
        if chance is not None:
            axes[0, 1].axhline(float(chance), color="gray", linestyle=":", linewidth=1.1,
                               label=f"{chance_label} ({float(chance):.3g})")
        style_axes(axes[0, 1], f"held-out {metric}", xlabel, metric)
        _legend(axes[0, 1], loc="best")
    return fig


# ---------------------------------------------------------------------------- attention
def attention_heatmap(attn, n_mem, batch_index: int = 0, title=None, k_att=None) -> Figure:
    """Attention weights per step (the paper's heat map) for one sequence of the batch.

    attn (T, B, n_max): weights ``α`` zero-padded (``cache["record"]["attn"]``), column 0 the
    null memory; n_mem (T,): |M| at each step. Row t shows what step t read; cells with
    ``j >= n_mem[t]`` (memories not written yet) are grey, weight 0 is white. With ``k_att``
    the top axis also gives the step that wrote each memory (memory j is h at j·k_att − 1).
    """
    A = _host(attn, "attn", 3)
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
                   cmap=_cmap(CMAP_WEIGHTS, bad=MASKED_COLOR), norm=Normalize(0.0, 1.0),
                   extent=(-0.5, n_max - 0.5, T - 0.5, -0.5))
    style_axes(ax, title or f"attention weights (sequence {batch_index})",
               "memory j (0 = null memory)", "reading step t", grid=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))      # memories and steps are whole
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if k_att:
        _written_axis(ax, k_att)
    _colorbar(fig, im, ax, "weight α (grey: not yet written)")
    return fig


def _written_axis(ax, k_att):
    """A top axis naming, under each memory tick j, the step that wrote it (j·k_att − 1)."""
    ticks = [j for j in ax.get_xticks() if float(j).is_integer() and 0 <= j <= ax.get_xlim()[1]]
    top = ax.secondary_xaxis("top")
    top.set_xticks(ticks, ["null" if j == 0 else str(int(j) * k_att - 1) for j in ticks])
    top.set_xlabel("memory written at step", fontsize=LABEL_SIZE)
    top.tick_params(labelsize=TICK_SIZE)
    return top


# ------------------------------------------------------------------------------- credit
def credit_matrix_plot(mats, floor: float = 1e-6, title=None) -> Figure:
    """Credit matrices side by side on ONE log colour scale (so methods compare by colour).

    ``mats`` maps a label (a method) to ``G`` (T, T) from ``flow.credit_matrix``. The scale
    runs from ``floor`` × the largest entry of all matrices (or the smallest non-zero entry,
    if larger) to that largest entry; smaller non-zero credit gets the lowest colour, exact
    zeros (no path: above the diagonal, cut edges, unread memories) are white.
    """
    if not mats:
        raise ValueError("mats is empty: expected a dict label -> credit matrix (T, T)")
    Gs = {k: _host(G, f"mats[{k!r}]", 2) for k, G in mats.items()}
    vmax = max(G.max() for G in Gs.values())
    if not vmax > 0:
        raise ValueError("every credit matrix is zero: nothing to show")
    positive = min(G[G > 0].min() for G in Gs.values() if (G > 0).any())
    norm = LogNorm(vmin=max(positive, vmax * floor), vmax=vmax, clip=True)
    fig, axes = new_figure(1, len(Gs), size=(3.4 * len(Gs) + 1.1, 3.6))
    for ax, (label, G) in zip(axes.flat, Gs.items()):
        T = G.shape[0]
        im = ax.imshow(np.ma.masked_equal(G, 0.0), cmap=_cmap(CMAP_CREDIT), norm=norm,
                       interpolation="nearest", aspect="auto",
                       extent=(-0.5, T - 0.5, T - 0.5, -0.5))
        style_axes(ax, label, "state s", "loss step t", grid=False)
        ax.title.set_color(method_color(label, 0) if _is_method(label) else "black")
        ax.set_facecolor(ZERO_COLOR)
    cb = fig.colorbar(im, ax=list(axes.flat), shrink=0.9, fraction=0.03, pad=0.01)
    cb.set_label("credit ||∂L_t/∂h_s||  (white: exactly 0)", fontsize=LABEL_SIZE)
    cb.ax.tick_params(labelsize=TICK_SIZE)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    return fig


def credit_reach_plot(mats, totals=None, threshold=None, title=None) -> Figure:
    """How far credit reaches, one line per method (its colour).

    Left: mean relative credit ``G[t, t−d] / max_s G[t, s]`` against the lag ``d`` (log scale),
    with the reach threshold dashed; a line that stops has exactly zero credit beyond. Right
    (with ``totals``: label -> (T,) from ``flow.credit_matrix``): total credit ||∂L/∂h_s|| per
    state.
    """
    threshold = REACH_THRESHOLD if threshold is None else threshold
    fig, axes = new_figure(1, 2 if totals else 1)
    ax = axes[0, 0] if totals else axes
    for i, (label, G) in enumerate(mats.items()):
        G = _host(G, f"mats[{label!r}]", 2)
        prof = credit_by_lag(G)
        prof = np.where(prof > 0, prof, np.nan)                     # log scale: zero = no line
        reach = int(credit_reach(G, threshold).max())
        ax.plot(np.arange(len(prof)), prof, color=method_color(label, i), linewidth=1.4,
                label=f"{label} (reach {reach})")
    ax.axhline(threshold, color="black", linestyle="--", linewidth=0.9,
               label=f"threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], threshold * 1e-9))   # below: vanished, not shown
    style_axes(ax, "credit against distance", "lag d = t − s (steps)",
               "mean credit / row's largest")
    _legend(ax)
    if totals:
        ax2 = axes[0, 1]
        for i, (label, tot) in enumerate(totals.items()):
            tot = _host(tot, f"totals[{label!r}]", 1)
            ax2.plot(np.arange(len(tot)), np.where(tot > 0, tot, np.nan),
                     color=method_color(label, i), linewidth=1.4, label=label)
        ax2.set_yscale("log")
        style_axes(ax2, "total credit per state", "state s", "||∂L/∂h_s||,  L = Σ_t L_t")
        _legend(ax2)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    return fig


def work_plot(summaries, title=None) -> Figure:
    """Backward work per method (``flow.summarize``'s "work"), beside bptt's on the same model.

    Left: state-to-state edges ONE backward of L = Σ_t L_t crosses, stacked recurrent /
    memory / threshold. Right: the work if every L_t is backpropagated alone (log scale).
    Black bars mark bptt of the same forward (nothing cut).
    """
    if not summaries:
        raise ValueError("summaries is empty: expected a dict label -> flow.summarize(...)")
    labels = list(summaries)
    xs = np.arange(len(labels))
    fig, axes = new_figure(1, 2, size=(max(7.0, 1.9 * len(labels) + 3.5), 3.8))
    for i, label in enumerate(labels):
        w, wb, c = summaries[label]["work"], summaries[label]["work_bptt"], method_color(label, i)
        bottom = 0.0
        for part, alpha, hatch in (("recurrent", 1.0, None), ("memory", 0.55, None),
                                   ("threshold", 0.3, "//")):
            axes[0, 0].bar(i, w[part], bottom=bottom, color=c, alpha=alpha, hatch=hatch,
                           edgecolor="black", linewidth=0.4, width=0.6)
            bottom += w[part]
        axes[0, 1].bar(i, w["per_loss"], color=c, edgecolor="black", linewidth=0.4, width=0.6)
        for ax, key in ((axes[0, 0], "edges"), (axes[0, 1], "per_loss")):
            ax.hlines(wb[key], i - 0.38, i + 0.38, color="black", linewidth=2.2,
                      label="bptt, same model" if (i == 0 and key == "edges") else None)
    axes[0, 0].set_ylim(0, 1.35 * max(max(s["work"]["edges"], s["work_bptt"]["edges"])
                                      for s in summaries.values()))   # headroom: the legend
    axes[0, 1].set_yscale("log")
    low = min(min(s["work"]["per_loss"], s["work_bptt"]["per_loss"]) for s in summaries.values())
    axes[0, 1].set_ylim(bottom=max(low, 1) / 3)    # the smallest bar stays visibly above 0
    for ax, t in ((axes[0, 0], "edges crossed by one backward"),
                  (axes[0, 1], "edges if each L_t is backpropagated alone")):
        style_axes(ax, t, None, "state-to-state edges")
        ax.set_xticks(xs, labels)
    handles = [Patch(facecolor="#555555", alpha=a, hatch=h, edgecolor="black", linewidth=0.4,
                     label=f"{part} (method colour)" if part == "recurrent" else part)
               for part, a, h in (("recurrent", 1.0, None), ("memory", 0.55, None),
                                  ("threshold", 0.3, "//"))]
    handles += axes[0, 0].get_legend_handles_labels()[0]
    axes[0, 0].legend(handles=handles, fontsize=LEGEND_SIZE, frameon=False, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    return fig


# ----------------------------------------------------------------------------- selections
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
    _legend(ax, loc="upper right", markerscale=1.6)
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
                   interpolation="nearest", origin="lower", cmap=_cmap(CMAP_WEIGHTS),
                   norm=norm, extent=(-0.5, K - 0.5, -0.5, d_max - 0.5))
    stride = max(1, -(-K // 8))                    # every stride-th snapshot: regular labels
    ticks = np.arange(0, K, stride)
    ax.set_xticks(ticks, [str(steps[k]) for k in ticks])
    style_axes(ax, "distance of the kept memories", "training step (snapshot)",
               "lag d = t − write step", grid=False)
    _colorbar(fig, im, ax, "share of kept memories (log; white: none)")
    ax2 = axes[0, 1]
    ax2.plot(steps, history["null_share"], color="black", marker="o", markersize=3,
             linewidth=1.3, label="kept slots on the null memory")
    ax2.plot(steps, history["changed"], color=METHOD_COLORS["sab"], marker="o", markersize=3,
             linewidth=1.3, label="steps whose selection changed")
    ax2.set_ylim(-0.03, 1.03)
    style_axes(ax2, "selection over training", "training step", "share")
    _legend(ax2)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    return fig
