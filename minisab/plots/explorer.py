"""An interactive credit explorer: move ``k_trunc``, ``k_top``, ``k_att``, the method or the loss
step, and watch the credit matrix change (tutorial 4).

``CreditExplorer(params, cfg, x)`` holds one model (its parameters and ``Config``, trained or
not) and a probe batch ``x`` (B, T, I); only sequence 0 is drawn. ``figure(**settings)`` draws
the static picture for one setting: left, the credit matrix ``G[t, s]`` of sequence 0
(``flow.credit_matrix``, log colour scale, exact zeros white) with the chosen loss step's row
framed; right, that row — how much credit the loss at step t gives every state — with the
states a memory read leads to marked. The settings change only the backward (method,
``k_trunc``) or the forward's selection (``k_top``, ``k_att``), never the parameters, so a trained
model can be asked "what if". The methods:

  ``sab``       the model with cuts every ``k_trunc`` steps, credit through the memory reads;
  ``tbptt``     the same cuts and no memory paths: the model's attention switched off
                (``attention=None``: the summary term of the output layer is dropped);
  ``bptt``      the same model, nothing cut.

Shown in a notebook, the explorer is a row of ipywidgets controls above the figure (an
``ipywidgets.Image``), redrawn on every change; it sends no display messages, so a headless run
(nbclient, the docs build) never waits on it. Where widgets do not render (a static HTML page,
a notebook viewer, ipywidgets not installed) the display falls back to the static figure of the current settings: the object's
``_repr_mimebundle_`` carries both the widget view and a PNG, and each front end shows the
richest one it can.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..config import Config
from ..credit.flow import credit_matrix, reachability
from .style import CMAP_CREDIT, DPI, METHOD_COLORS, TITLE_SIZE, masked_cmap, style_axes

METHODS = ("sab", "tbptt", "bptt")


class CreditExplorer:
    """Credit matrices of one model under changed settings (module docstring)."""

    def __init__(self, params, cfg: Config, x, targets=None, mask=None, method: str = "sab",
                 k_trunc=None, k_top=None, k_att=None, loss_step=None):
        if not cfg.uses_attention:
            raise ValueError("CreditExplorer needs an attention model (cfg.attention 'topk' "
                             "or 'softmax'); got attention=None")
        self.params, self.cfg = params, cfg
        self.x, self.targets, self.mask = x[:1], _first(targets), _first(mask)   # sequence 0
        self.T = x.shape[1]
        self.settings = {"method": method, "k_trunc": k_trunc or cfg.k_trunc or 5,
                         "k_top": k_top or cfg.k_top, "k_att": k_att or cfg.k_att,
                         "loss_step": self.T - 1 if loss_step is None else loss_step}
        self.check(**self.settings)

    # ------------------------------------------------------------------------ the numbers
    def check(self, method, k_trunc, k_top, k_att, loss_step):
        """ValueError naming the argument and its accepted values, for a bad setting."""
        if method not in METHODS:
            raise ValueError(f"invalid method={method!r}: accepted values are {METHODS}")
        for name, v in (("k_trunc", k_trunc), ("k_top", k_top), ("k_att", k_att)):
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"invalid {name}={v!r}: accepted values are integers >= 1")
        if not (isinstance(loss_step, (int, np.integer)) and 0 <= loss_step < self.T):
            raise ValueError(f"invalid loss_step={loss_step!r}: accepted values are "
                             f"0..{self.T - 1}")

    def config(self, method, k_trunc, k_top, k_att, **_) -> Config:
        """The ``Config`` a setting runs: the model's, with the method's cuts and attention."""
        cut = "bptt" if method == "bptt" else ("tbptt" if method == "tbptt" else "sab")
        fields = {"method": cut, "k_trunc": None if cut == "bptt" else int(k_trunc),
                  "k_top": int(k_top), "k_att": int(k_att)}
        if method == "tbptt":
            fields.update(attention=None, detach_scores=False)     # no scores to detach
        return self.cfg.replace(**fields)

    def credit(self, **settings):
        """``(G (T, T), reached (T,) bool)`` of sequence 0: the credit matrix, and which states
        the chosen loss step's backward reaches (``flow.reachability``)."""
        s = {**self.settings, **settings}
        self.check(**s)
        cfg = self.config(**s)
        params = self.params
        if cfg.attention is None:        # the same LSTM, without the attention's parameters
            H = cfg.hidden_size
            params = {k: v for k, v in params.items() if k in ("W_x", "W_h", "b", "b_y")}
            params["W_y"] = self.params["W_y"][:H]               # y_t = h_t W_y + b_y
        G, _, cache = credit_matrix(params, self.x, cfg, self.targets, self.mask)
        t = int(s["loss_step"])
        reached = reachability(cache)[0, :, t] if cfg.uses_attention else \
            np.asarray(G[t] > 0) | (np.arange(self.T) == t)
        return np.asarray(G), np.asarray(reached)

    # ---------------------------------------------------------------------- the picture
    def figure(self, **settings) -> Figure:
        """The static picture of one setting (defaults: the current settings)."""
        s = {**self.settings, **settings}
        G, reached = self.credit(**s)
        t = int(s["loss_step"])
        T = self.T
        fig = Figure(figsize=(10.5, 4.0), dpi=DPI, layout="constrained")
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        for a in (ax, ax2):
            style_axes(a)
        vmax = G.max()
        pos = G[G > 0]
        norm = LogNorm(vmin=max(pos.min() if pos.size else 1e-12, vmax * 1e-6),
                       vmax=vmax if vmax > 0 else 1.0, clip=True)
        im = ax.imshow(np.ma.masked_equal(G, 0.0), cmap=masked_cmap(CMAP_CREDIT), norm=norm,
                       interpolation="nearest", aspect="auto",
                       extent=(-0.5, T - 0.5, T - 0.5, -0.5))
        ax.add_patch(_row_frame(t, T))
        style_axes(ax, "credit matrix, sequence 0", "state s", "loss step t", grid=False)
        cb = fig.colorbar(im, ax=ax, shrink=0.9)
        cb.set_label("||∂L_t/∂h_s|| (white: exactly 0)", fontsize=9)
        color = METHOD_COLORS.get(s["method"], "black")
        row = G[t]
        ax2.bar(np.arange(T), np.where(row > 0, row, np.nan), color=color, width=0.8)
        ax2.set_yscale("log")
        ax2.set_xlim(-0.5, T - 0.5)
        if s["method"] != "bptt" and s["k_trunc"] < T:
            for c in range(int(s["k_trunc"]), T, int(s["k_trunc"])):
                ax2.axvline(c - 0.5, color="#D55E00", linestyle="--", linewidth=0.8)
        zero = [v for v in range(t + 1) if row[v] == 0]
        if zero:
            ax2.plot(zero, [norm.vmin] * len(zero), "x", color="#999999", markersize=4)
        style_axes(ax2, f"credit from the loss at step {t} (dashed: cut edges)",
                   "state s   (×: exactly 0)", "||∂L_t/∂h_s||  (log)")
        cfg = self.config(**s)
        knobs = (f"k_trunc={s['k_trunc']}" if s["method"] != "bptt" else "nothing cut") + (
            f", k_top={s['k_top']}, k_att={s['k_att']}" if cfg.uses_attention else
            ", no memory paths")
        fig.suptitle(f"{s['method']} ({knobs}): loss step {t} reaches "
                     f"{int(reached[:t + 1].sum())} of its {t + 1} states",
                     fontsize=TITLE_SIZE, color=color)
        return fig

    def png(self, **settings) -> bytes:
        buf = io.BytesIO()
        self.figure(**settings).savefig(buf, format="png")
        return buf.getvalue()

    # ---------------------------------------------------------------------- the widgets
    def widget(self, png: bytes | None = None):
        """The ipywidgets controls and the redrawn figure (a ``VBox``: the controls, then an
        ``Image`` of the current setting's PNG, ``png`` if given), or ``None`` where ipywidgets
        is not installed."""
        try:
            import ipywidgets as w
        except ImportError:
            return None
        s = self.settings
        T = self.T
        controls = {
            "method": w.ToggleButtons(options=list(METHODS), value=s["method"],
                                      description="method"),
            "k_trunc": w.IntSlider(value=s["k_trunc"], min=1, max=T, description="k_trunc"),
            "k_top": w.IntSlider(value=s["k_top"], min=1, max=max(T, s["k_top"]),
                                 description="k_top"),
            "k_att": w.IntSlider(value=s["k_att"], min=1, max=max(T // 2, s["k_att"]),
                                 description="k_att"),
            "loss_step": w.IntSlider(value=s["loss_step"], min=0, max=T - 1,
                                     description="loss step")}
        # The figure is an Image widget whose value is the PNG: a redraw is one state update.
        # (An Output widget captures display messages, which a headless runner such as nbclient
        # must route by the widget's message id: one more way for such a run to wait.)
        image = w.Image(format="png", value=self.png() if png is None else png)

        def redraw(_=None):
            self.settings = {k: c.value for k, c in controls.items()}
            image.value = self.png()

        for c in controls.values():
            c.observe(redraw, names="value")
        box = w.VBox([w.HBox([controls["method"], controls["loss_step"]]),
                      w.HBox([controls["k_trunc"], controls["k_top"], controls["k_att"]]), image])
        box.controls = controls          # for tests and scripts: set a value, the figure follows
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Widget view where widgets render, else the PNG of the current settings."""
        png = self.png()
        data = {"text/plain": f"CreditExplorer({self.settings})",
                "image/png": base64.b64encode(png).decode("ascii")}
        box = self.widget(png)
        if box is not None:
            bundle = box._repr_mimebundle_()
            if isinstance(bundle, tuple):
                bundle = bundle[0]
            data.update({k: v for k, v in (bundle or {}).items() if k != "text/plain"})
        return data


def _first(a):
    return None if a is None else a[:1]


def _row_frame(t, T):
    from matplotlib.patches import Rectangle
    return Rectangle((-0.5, t - 0.5), T, 1.0, fill=False, edgecolor="#D55E00", linewidth=1.6)
