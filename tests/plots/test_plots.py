"""Tests of minisab.plots: every figure draws (Agg, no pyplot), shows the data it is given, and
keeps the house look (method colours, one shared credit colour scale)."""
from __future__ import annotations

import ast
import inspect
import io

import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from minisab import Config, forward, init_params, plots, to_host
from minisab.plots import attention as attention_plots
from minisab.plots import style as figstyle
from minisab.credit.flow import credit_matrix, selection_history, selections, summarize


def render(fig) -> bytes:
    """Draw the whole figure to PNG bytes (layout, colour bars, legends all run)."""
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return data


def small_model(method="sab", attention="topk", T=10, seed=0):
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention=attention, attn_size=4,
                 k_top=2, k_att=2, method=method, k_trunc=3)
    params = init_params(cfg, seed=seed)
    x = np.random.default_rng(seed).standard_normal((2, T, 3))
    return cfg, params, x


def records(n, metric=None, every=1):
    out = []
    for s in range(n):
        r = {"step": s * 10, "loss": 2.0 / (s + 1), "time": 0.5 * s}
        if metric and s % every == 0:
            r[metric] = s / n
        out.append(r)
    return out


@pytest.mark.parametrize("module", [plots, figstyle, attention_plots],
                         ids=lambda m: m.__name__)
def test_plots_never_import_pyplot(module):
    """pyplot keeps global figures (a leak in loops) and needs an interactive-safe backend."""
    tree = ast.parse(inspect.getsource(module))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
              for a in n.names]
    assert names and not [n for n in names if "pyplot" in n]


def test_every_figure_and_the_look_are_importable_from_plots():
    """The tutorials and scripts import every figure and the look from ``minisab.plots``."""
    for name in ("attention_heatmap", "selection_plot", "selection_history_plot"):
        assert getattr(plots, name) is getattr(attention_plots, name), name
    for name in ("METHOD_COLORS", "OTHER_COLORS", "CMAP_WEIGHTS", "CMAP_CREDIT",
                 "method_color", "new_figure", "style_axes"):
        assert getattr(plots, name) is getattr(figstyle, name), name
    assert all(hasattr(plots, name) for name in plots.__all__)


def test_method_colours_are_fixed_and_distinct():
    c = plots.METHOD_COLORS
    assert len(set(c.values())) == 4
    assert plots.method_color("tbptt") == c["tbptt"] != plots.method_color("bptt") == c["bptt"]
    assert plots.method_color("sab k_trunc=5") == c["sab"]
    assert plots.method_color("softmax-bptt") == c["softmax"]
    assert plots.method_color("my run", 0) not in c.values()


def test_learning_curves_two_panels_and_partial_metrics():
    runs = {"sab": records(20, "accuracy", every=5), "bptt": records(20, "accuracy"),
            "plain": records(12)}                                  # no metric in this run
    fig = plots.learning_curves(runs)
    ax_loss, ax_metric = fig.axes
    assert [l.get_label() for l in ax_loss.get_lines()] == ["sab", "bptt", "plain"]
    assert [l.get_label() for l in ax_metric.get_lines()] == ["sab", "bptt"]
    sab_metric = ax_metric.get_lines()[0]
    np.testing.assert_array_equal(sab_metric.get_xdata(), [0, 50, 100, 150])
    assert ax_loss.get_lines()[0].get_color() == plots.METHOD_COLORS["sab"]
    assert ax_loss.get_yscale() == "log" and ax_metric.get_ylabel() == "accuracy"
    render(fig)


def test_learning_curves_without_the_metric_and_against_time():
    fig = plots.learning_curves({"sab": records(8)}, metric="bpc", x="time")
    assert len(fig.axes) == 1
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_xdata(), 0.5 * np.arange(8))
    assert fig.axes[0].get_xlabel() == "time (s)"
    render(fig)
    with pytest.raises(ValueError, match="runs is empty"):
        plots.learning_curves({})
    with pytest.raises(ValueError, match="'loss'"):
        plots.learning_curves({"a": [{"step": 0}]})
    with pytest.raises(ValueError, match="invalid x"):
        plots.learning_curves({"a": records(3)}, x="epoch")


def test_attention_heatmap_masks_unwritten_memories(backend):
    cfg, params, x = small_model(T=9)
    x = backend.asarray(x)
    params = init_params(cfg, seed=0, backend=backend)
    _, cache = forward(params, x, cfg, record=True)
    rec = cache["record"]
    fig = plots.attention_heatmap(rec["attn"], rec["n_mem"], batch_index=1, k_att=cfg.k_att)
    img = fig.axes[0].get_images()[0].get_array()
    attn = to_host(rec["attn"])[:, 1, :]                           # (T, n_max)
    missing = np.arange(attn.shape[1])[None, :] >= np.asarray(rec["n_mem"])[:, None]
    np.testing.assert_array_equal(np.ma.getmaskarray(img), missing)
    np.testing.assert_array_equal(img.data[~missing], attn[~missing])
    render(fig)
    with pytest.raises(ValueError, match="batch_index"):
        plots.attention_heatmap(rec["attn"], rec["n_mem"], batch_index=2)
    with pytest.raises(ValueError, match="n_mem"):
        plots.attention_heatmap(rec["attn"], rec["n_mem"][:-1])


def test_credit_matrices_share_one_log_scale_and_leave_zeros_white():
    mats = {}
    for label, method, att in [("bptt", "bptt", None), ("tbptt", "tbptt", None),
                               ("sab", "sab", "topk")]:
        cfg, params, x = small_model(method, att)
        mats[label] = credit_matrix(params, x, cfg)[0]
    fig = plots.credit_matrix_plot(mats, title="credit")
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 3
    norms = {(im.norm.vmin, im.norm.vmax) for im in images}
    assert len(norms) == 1 and all(isinstance(im.norm, LogNorm) for im in images)
    assert images[0].norm.vmax == max(G.max() for G in mats.values())
    for im, G in zip(images, mats.values()):
        np.testing.assert_array_equal(np.ma.getmaskarray(im.get_array()), G == 0)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["bptt", "tbptt", "sab"]
    render(fig)
    with pytest.raises(ValueError, match="zero"):
        plots.credit_matrix_plot({"a": np.zeros((3, 3))})


def test_reach_work_and_selection_figures():
    mats, totals, sums = {}, {}, {}
    for label, method, att in [("bptt", "bptt", None), ("sab", "sab", "topk")]:
        cfg, params, x = small_model(method, att)
        G, total, cache = credit_matrix(params, x, cfg)
        mats[label], totals[label], sums[label] = G, total, summarize(G, total, cache)
    fig = plots.credit_reach_plot(mats, totals, threshold=1e-3)
    ax = fig.axes[0]
    labels = [l.get_label() for l in ax.get_lines()]
    assert labels[0].startswith("bptt (reach") and labels[-1] == "threshold 0.001"
    assert len(fig.axes) == 2 and len(fig.axes[1].get_lines()) == 2
    render(fig)
    fig = plots.work_plot(sums)
    assert len(fig.axes) == 2
    render(fig)

    sel = selections(cache)
    fig = plots.selection_plot(sel, k_att=cfg.k_att, batch_index=1,
                               threshold=selections(cache, threshold=True))
    n_points = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    n_thr = (selections(cache, threshold=True)[:, 1] & ~sel[:, 1]).sum()
    assert n_points == sel[:, 1].sum() + n_thr
    render(fig)

    other = init_params(cfg, seed=5)
    hist = selection_history([(0, params), (100, other), (200, params)], x, cfg)
    fig = plots.selection_history_plot(hist)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "100", "200"]
    render(fig)


def test_method_colour_survives_punctuation():
    """A label that names its method before a comma or a parenthesis keeps the method's colour."""
    from minisab.plots import method_color
    for label in ("sab, k_top=5", "sab (detach)", "SAB: T=50"):
        assert method_color(label, 3) == method_color("sab", 0)


def test_learning_curves_draw_the_chance_line():
    fig = plots.learning_curves({"sab": records(6, "accuracy")}, chance=0.125)
    lines = {ln.get_label(): ln for ln in fig.axes[1].get_lines()}
    assert "chance (0.125)" in lines and set(lines["chance (0.125)"].get_ydata()) == {0.125}
    assert not any("chance" in ln.get_label() for ln in fig.axes[0].get_lines())
    render(fig)
