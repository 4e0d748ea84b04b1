"""The two pictures of the method: one SAB step, and where one backward sends credit.

``sab_step()`` draws docs/model.md §2 for one step t: the LSTM cell, the scorer over the memories
(the null memory first), the top-k sparsifier and its threshold δ, the read s_t = Σ α_j m_j,
h_t = ĥ_t + s_t, and the memory write. The sparsifier's bars are computed by
``attention.topk_forward`` on the scores shown, so the picture cannot disagree with the code.

``credit_paths()`` draws docs/model.md §4 for one loss at the last step: which states one backward
reaches under ``bptt``, ``tbptt`` and ``sab`` (with and without ``detach_scores``), which
recurrent edges are cut, and the two ways credit reaches a memory m_j: through the read
α_j m_j and through the score a_j (which also reaches the threshold memory, and is the path that
``detach_scores`` removes; docs/make_sab_learn.md).

Both return a ``matplotlib.figure.Figure`` (no pyplot state); ``save_all(folder)`` writes them as
PNG files atomically. The docs build calls it (docs/conf.py), and tutorials may import it.
"""
from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ..attention import topk_forward
from ..train.checkpoint import atomic_write
from .style import DPI, METHOD_COLORS

READ_COLOR = METHOD_COLORS["sab"]          # credit through α_j m_j
SCORE_COLOR = METHOD_COLORS["softmax"]     # credit through the score a_j
CUT_COLOR = "#D55E00"
REACHED, NOT_REACHED, INK, SOFT = "#0072B2", "white", "#222222", "#999999"
FIGURES = ("sab_step.png", "credit_paths.png")


def _box(ax, x, y, w, h, text, fc="#f2f2f2", ec=INK, size=10, **kw):
    """A rounded box with its lower-left corner at (x, y), text centred."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=fc, ec=ec, lw=1.2, **kw))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=INK)


def _arrow(ax, p, q, color=INK, style="-|>", lw=1.4, ls="-", rad=0.0, label=None, **kw):
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle=style, mutation_scale=12, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2, label=label, **kw))


def _canvas(w, h, xlim, ylim):
    fig = Figure(figsize=(w, h), dpi=DPI)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


# ------------------------------------------------------------------------------ one SAB step
def sab_step(scores=(0.4, 1.4, -0.3, 2.2, 0.9, 1.7), k_top: int = 3, eps: float = 1e-7) -> Figure:
    """One SAB step (docs/model.md §2), with the sparsifier's weights for ``scores`` (null memory
    first) computed by ``topk_forward``."""
    a = np.asarray(scores, dtype=np.float64)[None, :]
    alpha, act, _ = topk_forward(a, k_top, eps)
    n = a.shape[1]
    kept = [int(j) for j in act[0, :k_top]] if n > k_top else list(range(n))
    tau = int(act[0, k_top]) if n > k_top else None
    delta = a[0, tau] if tau is not None else a.min() - 1
    weight = dict(zip(kept, alpha[0].tolist()))

    fig, ax = _canvas(12.5, 6.6, (-0.6, 16.6), (-0.6, 8.4))
    # Memory M: the null memory m_0 and the states written so far.
    mx = [0.6 + 1.15 * j for j in range(n)]
    ax.text(mx[0] - 0.5, 7.75, "memory M (one row per written state)", fontsize=10, color=INK)
    for j, x in enumerate(mx):
        fc = "#e8f4ee" if j in kept else ("#f7e6ef" if j == tau else "white")
        _box(ax, x, 6.6, 0.95, 0.8, "0" if j == 0 else f"$m_{j}$", fc=fc, size=10)
    ax.text(mx[0] + 0.47, 6.35, "null", ha="center", fontsize=8, color=SOFT)
    # The LSTM cell.
    _box(ax, 0.3, 2.0, 2.6, 1.6, "LSTM cell\n$z = x_t W_x + h_{t-1} W_h + b$", size=9)
    _arrow(ax, (-0.5, 2.8), (0.3, 2.8))
    ax.text(-0.5, 3.0, "$h_{t-1}, c_{t-1}$", fontsize=10)
    _arrow(ax, (1.6, 0.9), (1.6, 2.0))
    ax.text(1.75, 1.0, "$x_t$", fontsize=11)
    _arrow(ax, (2.9, 2.8), (4.2, 2.8))
    ax.text(3.15, 3.0, r"$\hat h_t$", fontsize=12)
    # The scorer, reading ĥ_t and every memory's key.
    _box(ax, 4.2, 3.9, 3.3, 1.4, "scorer over all n memories\n"
         r"$a_j = w_s \cdot \tanh(\hat h_t W_q + m_j W_m)$", size=9)
    _arrow(ax, (3.6, 2.8), (4.9, 3.9), rad=-0.2)
    for x in mx:
        _arrow(ax, (x + 0.47, 6.6), (5.85, 5.3), color=SOFT, lw=0.8, style="-")
    # The sparsifier: the scores as bars, the threshold δ, the kept ones and their weights.
    sx, sy, bw = 8.6, 3.9, 0.55
    ax.text(sx, 6.0, f"top-k sparsifier ($k_{{top}}$ = {k_top})", fontsize=10)
    base = sy + 0.9
    for j in range(n):
        col = READ_COLOR if j in kept else (SCORE_COLOR if j == tau else "#cccccc")
        x = sx + j * (bw + 0.2)
        ax.add_patch(FancyBboxPatch((x, base), bw, 0.45 * a[0, j], boxstyle="square,pad=0",
                                    fc=col, ec="none"))
        ax.text(x + bw / 2, sy + 0.25, "0" if j == 0 else f"$m_{j}$", ha="center", fontsize=8)
        if j in kept:
            ax.text(x + bw / 2, base + 0.45 * max(a[0, j], 0) + 0.08, f"{weight[j]:.2f}",
                    ha="center", fontsize=7.5, color=READ_COLOR)
    ax.plot([sx - 0.1, sx + n * (bw + 0.2)], [base + 0.45 * delta] * 2, color=SCORE_COLOR,
            lw=1.2, ls="--")
    ax.text(sx + n * (bw + 0.2), base + 0.45 * delta, r" $\delta$", va="center", fontsize=10,
            color=SCORE_COLOR)
    _arrow(ax, (7.5, 4.6), (sx - 0.1, 4.6))
    ax.text(7.6, 4.75, "$a$", fontsize=11)
    ax.text(sx, 3.85, r"$\alpha_j = \max(a_j-\delta,0)\,/\,(\sum \tilde a + \varepsilon)$"
            r" (numbers: $\alpha_j$)", fontsize=8.5, va="top")
    for k, (txt, col) in enumerate([("kept", READ_COLOR), ("threshold δ", SCORE_COLOR),
                                               ("weight 0", SOFT)]):
        ax.text(sx + [0, 0.75, 2.0][k], 3.2, txt, fontsize=8, color=col, va="top")
    # The read, the sum, the state passed on, the output, the write.
    _box(ax, 9.2, 0.9, 2.6, 1.2, r"read $s_t = \sum_j \alpha_j m_j$", size=10, fc="#e8f4ee")
    _arrow(ax, (sx + 3.4, 3.0), (10.9, 2.1), color=READ_COLOR)
    ax.text(sx + 3.3, 2.35, r"$\alpha$", fontsize=11, color=READ_COLOR)
    for j in kept:
        _arrow(ax, (mx[j] + 0.47, 6.6), (9.4, 2.1), color=READ_COLOR, lw=0.9, rad=0.25)
    ax.add_patch(Circle((13.2, 2.8), 0.35, fc="white", ec=INK, lw=1.2))
    ax.text(13.2, 2.8, "+", ha="center", va="center", fontsize=14)
    _arrow(ax, (4.2, 2.8), (12.85, 2.8))
    _arrow(ax, (11.8, 1.5), (13.0, 2.5))
    ax.text(12.0, 1.25, "$s_t$", fontsize=11)
    ax.text(13.7, 3.2, r"$h_t = \hat h_t + s_t$", fontsize=11)
    _arrow(ax, (13.55, 2.8), (16.4, 2.8))
    ax.text(14.3, 2.35, "to step t+1\n(with $c_t$)", fontsize=8.5, va="top")
    _box(ax, 13.6, 0.0, 2.9, 0.8, r"$y_t = [h_t\,;\,s_t]\,W_y + b_y$", size=9)
    _arrow(ax, (13.2, 2.45), (14.4, 0.8))
    wx = mx[-1] + 1.15
    _box(ax, wx, 6.6, 0.95, 0.8, "$h_t$", fc="white", ls="--", size=10)
    ax.plot([15.9, 15.9, wx + 0.47], [2.8, 7.9, 7.9], color=INK, lw=1.4, ls="--")
    _arrow(ax, (wx + 0.47, 7.9), (wx + 0.47, 7.42), ls="--")
    ax.text(15.75, 6.9, "memory write:\nappend $h_t$ if\n(t+1) % $k_{att}$ = 0", fontsize=8.5,
            ha="right")
    return fig


# ------------------------------------------------------------------------------ credit paths
def credit_paths(T: int = 12, k_trunc: int = 4, reader: int = 9, kept=(1, 5),
                 threshold: int = 3) -> Figure:
    """Where one backward sends the credit of a loss at step T-1 (docs/model.md §4).

    One row per method: ``bptt``, ``tbptt``, the variant of ``sab`` with mental updates
    (``detach_scores=False``) and minisab's ``sab`` (``runs.sab_method()``: ``detach_scores``). A
    step's node is filled when credit reaches it. ``reader`` is a step that read the memories
    ``kept`` (states written as memories) and had ``threshold`` as its (k_top+1)-th score."""
    rows = [("bptt: nothing is cut", "bptt"),
            (f"tbptt (k_trunc = {k_trunc}): recurrent edges cut", "tbptt"),
            ("variant, sab with mental updates (docs/model.md's, detach_scores=False): "
             "the same cuts, read and score paths", "sab"),
            ("sab (minisab's, detach_scores=True: no mental updates): the same cuts, "
             "read path only", "detach")]
    gap = 3.0                                            # vertical space per row
    fig, ax = _canvas(12.5, 9.6, (-1.6, T + 1.2), (-1.4, 3 * gap + 1.6))
    cut = {t for t in range(1, T) if t % k_trunc == 0}
    for r, (title, method) in enumerate(rows):
        y = (3 - r) * gap
        ax.text(-1.5, y + 1.25, title, fontsize=10.5, color=INK, weight="bold")
        cuts = cut if method != "bptt" else set()
        # Which states the credit reaches: back along uncut edges from the loss, and from
        # every memory it reaches through a read (and the score, unless detached).
        starts = {T - 1}
        if method in ("sab", "detach"):
            starts |= set(kept) | ({threshold} if method == "sab" else set())
        reached = set()
        for t in starts:
            while True:
                reached.add(t)
                if t == 0 or t in cuts:
                    break
                t -= 1
        for t in range(T - 1):                           # the recurrent edge t -> t+1
            is_cut = (t + 1) in cuts
            _arrow(ax, (t + 1 - 0.22, y), (t + 0.22, y), style="-|>",
                   color=CUT_COLOR if is_cut else INK, ls="--" if is_cut else "-", lw=1.2)
            if is_cut:
                ax.text(t + 0.5, y - 0.05, "×", ha="center", va="center", fontsize=15,
                        color=CUT_COLOR, weight="bold")
        for t in range(T):
            ax.add_patch(Circle((t, y), 0.2, fc=REACHED if t in reached else NOT_REACHED,
                                ec=INK, lw=1.0, zorder=3))
            ax.text(t + 0.22, y - 0.22, f"$h_{{{t}}}$", ha="left", va="top", fontsize=8.5)
        ax.text(T - 1, y + 0.75, "loss", ha="center", fontsize=9)
        _arrow(ax, (T - 1, y + 0.7), (T - 1, y + 0.22))
        if method in ("sab", "detach"):
            for j, m in enumerate(kept):
                _arrow(ax, (reader, y + 0.2), (m, y + 0.2), color=READ_COLOR, lw=1.6,
                       rad=0.2 + 0.04 * j)
                if method == "sab":
                    _arrow(ax, (reader, y - 0.2), (m, y - 0.2), color=SCORE_COLOR, lw=1.4,
                           ls="--", rad=-0.18 - 0.04 * j)
            if method == "sab":
                _arrow(ax, (reader, y - 0.2), (threshold, y - 0.2), color=SCORE_COLOR,
                       lw=1.4, ls="--", rad=-0.3)
            ax.text(T - 0.6, y - 0.8, f"step {reader} reads $h_{{{kept[0]}}}$, "
                    f"$h_{{{kept[1]}}}$" + (f" (threshold $h_{{{threshold}}}$)"
                                            if method == "sab" else ""),
                    fontsize=8, color=INK, ha="right")
    handles = [Line2D([], [], color=c, ls=ls, lw=1.6, label=lab) for c, ls, lab in [
        (INK, "-", "recurrent edge: credit crosses (it flows right to left)"),
        (CUT_COLOR, "--", "cut edge (×): treated as a constant"),
        (READ_COLOR, "-", r"read path: through $\alpha_j m_j$"),
        (SCORE_COLOR, "--", "score path: through $a_j$ (kept memories and the threshold)")]]
    handles.append(Line2D([], [], ls="none", marker="o", ms=9, mfc=REACHED, mec=INK,
                          label="a state that credit reaches"))
    ax.legend(handles=handles, loc="lower center", ncol=2, fontsize=8.5, frameon=False,
              bbox_to_anchor=(0.5, 1.0))
    return fig


def save_all(folder) -> list[str]:
    """Write both figures as PNG files into ``folder`` (atomically); return their paths."""
    out = []
    for name, fig in zip(FIGURES, (sab_step(), credit_paths())):
        path = os.path.join(os.fspath(folder), name)
        atomic_write(path, lambda f, fig=fig: fig.savefig(f, format="png", bbox_inches="tight"))
        out.append(path)
    return out
