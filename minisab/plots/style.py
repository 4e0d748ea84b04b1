"""The look every figure of minisab shares: colours, colour maps, sizes and fonts, and the
helpers that build a figure in that style (``plots``, ``attention_plots``, ``diagrams`` and
``explorer`` draw with them; ``plots`` re-exports them, as the tutorials import them from there).

A figure is a ``matplotlib.figure.Figure`` built without pyplot's global state, so it works under
any backend (Agg on a server, inline in a notebook). One colour per method everywhere
(``METHOD_COLORS``: bptt, tbptt, sab, softmax); the same sequential colour maps for the same
quantities (attention weights, credit).
"""
from __future__ import annotations

import re

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ..backend import to_host

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


def add_legend(ax, **kw):
    """A legend in the house style, only if the panel has labelled artists."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=LEGEND_SIZE, frameon=False, **kw)


def add_colorbar(fig, im, ax, label):
    """A labelled colour bar for the image ``im`` beside ``ax``."""
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    cb.set_label(label, fontsize=LABEL_SIZE)
    cb.ax.tick_params(labelsize=TICK_SIZE)
    return cb


def masked_cmap(name, bad=ZERO_COLOR):
    """A named colour map whose masked cells ("bad") get the colour ``bad``."""
    return colormaps[name].with_extremes(bad=bad)


def host_array(a, name, ndim):
    """``a`` as a float host array with ``ndim`` dimensions (a clear error naming ``name``)."""
    a = np.asarray(to_host(a), dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    return a
