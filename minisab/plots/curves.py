"""Learning curves and the credit figures, with the one look (colours, sizes, fonts) for all of them.

Each function returns a ``matplotlib.figure.Figure`` built without pyplot's global state, so it
works under any backend (Agg on a server, inline in a notebook): save it with
``fig.savefig(path)``; nothing here ever calls ``show``. Inputs are host (NumPy) arrays or plain
Python lists: the callers (``flow``, the training loop) copy to the host with ``backend.to_host``.

Here: learning curves, and the credit figures (credit matrix, credit reach, backward work).
The look (one colour per method, ``METHOD_COLORS``; the colour maps, sizes and fonts;
``new_figure``, ``style_axes``) lives in ``style.py``, the attention figures (heat map, kept
memories, selection over training) in ``attention.py``; ``from minisab.plots import ...``
reaches every figure and the look.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .style import (CMAP_CREDIT, LABEL_SIZE, LEGEND_SIZE, METHOD_COLORS, TICK_SIZE, TITLE_SIZE, ZERO_COLOR,
                    add_legend, host_array, masked_cmap, method_color, new_figure, style_axes)
from ..credit.flow import REACH_THRESHOLD, credit_by_lag, credit_reach


def _is_method(label) -> bool:
    return method_color(label, 0) in METHOD_COLORS.values()


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
    add_legend(ax_loss)
    if has_metric:
        if chance is not None:
            axes[0, 1].axhline(float(chance), color="gray", linestyle=":", linewidth=1.1,
                               label=f"{chance_label} ({float(chance):.3g})")
        style_axes(axes[0, 1], f"held-out {metric}", xlabel, metric)
        add_legend(axes[0, 1], loc="best")
    return fig


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
    Gs = {k: host_array(G, f"mats[{k!r}]", 2) for k, G in mats.items()}
    vmax = max(G.max() for G in Gs.values())
    if not vmax > 0:
        raise ValueError("every credit matrix is zero: nothing to show")
    positive = min(G[G > 0].min() for G in Gs.values() if (G > 0).any())
    norm = LogNorm(vmin=max(positive, vmax * floor), vmax=vmax, clip=True)
    fig, axes = new_figure(1, len(Gs), size=(3.4 * len(Gs) + 1.1, 3.6))
    for ax, (label, G) in zip(axes.flat, Gs.items()):
        T = G.shape[0]
        im = ax.imshow(np.ma.masked_equal(G, 0.0), cmap=masked_cmap(CMAP_CREDIT), norm=norm,
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
        G = host_array(G, f"mats[{label!r}]", 2)
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
    add_legend(ax)
    if totals:
        ax2 = axes[0, 1]
        for i, (label, tot) in enumerate(totals.items()):
            tot = host_array(tot, f"totals[{label!r}]", 1)
            ax2.plot(np.arange(len(tot)), np.where(tot > 0, tot, np.nan),
                     color=method_color(label, i), linewidth=1.4, label=label)
        ax2.set_yscale("log")
        style_axes(ax2, "total credit per state", "state s", "||∂L/∂h_s||,  L = Σ_t L_t")
        add_legend(ax2)
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
