"""minisab.plots.explorer: the credit explorer's numbers are flow's, its settings change only what they
name, bad settings are refused by name, and its display falls back to a static PNG."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from minisab import Config, init_params
from minisab.plots.explorer import CreditExplorer
from minisab.credit.flow import credit_matrix

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane


@pytest.fixture
def explorer():
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention="topk", attn_size=4,
                 k_top=2, k_att=2, method="sab", k_trunc=3)
    x = np.random.default_rng(0).standard_normal((2, 12, 3))
    return CreditExplorer(init_params(cfg, seed=0), cfg, x)


def test_sab_credit_is_flows(explorer):
    G, reached = explorer.credit()
    G_ref, _, _ = credit_matrix(explorer.params, explorer.x, explorer.cfg)
    np.testing.assert_allclose(G, G_ref)
    assert reached[11] and reached.dtype == bool


def test_tbptt_stops_at_the_chunk_and_sab_hops_past_it(explorer):
    G_tb, _ = explorer.credit(method="tbptt", k_trunc=3, loss_step=11)
    assert np.all(G_tb[11, :9] == 0) and np.all(G_tb[11, 9:12] > 0)   # chunk [9, 12) only
    G_sab, _ = explorer.credit(method="sab", k_trunc=3, k_top=3, loss_step=11)
    assert np.any(G_sab[11, :9] > 0)                                   # a memory read reaches back
    G_b, _ = explorer.credit(method="bptt")
    assert np.all(G_b[11, :12] > 0)


def test_minisabs_sab_works_in_every_method():
    from minisab.train.runs import sab_method
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attn_size=4, k_top=2, k_att=2,
                 k_trunc=3, **sab_method())
    ex = CreditExplorer(init_params(cfg, seed=0), cfg, np.ones((1, 8, 3)))
    for method in ("sab", "tbptt", "bptt"):
        G, _ = ex.credit(method=method)
        assert G.shape == (8, 8) and G[7, 7] > 0


def test_settings_change_only_the_backward_or_the_selection(explorer):
    a, _ = explorer.credit(method="sab", k_top=1)
    b, _ = explorer.credit(method="sab", k_top=4)
    assert not np.allclose(a, b)
    assert explorer.settings["k_top"] == 2                  # credit() does not change the state


@pytest.mark.parametrize("bad, name", [({"method": "rtrl"}, "method"), ({"k_top": 0}, "k_top"),
                                       ({"loss_step": 12}, "loss_step"),
                                       ({"k_trunc": 1.5}, "k_trunc")])
def test_bad_settings_are_named(explorer, bad, name):
    with pytest.raises(ValueError, match=name):
        explorer.credit(**bad)


def test_needs_an_attention_model():
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attention=None, method="bptt")
    with pytest.raises(ValueError, match="attention"):
        CreditExplorer(init_params(cfg, seed=0), cfg, np.zeros((1, 5, 3)))


def test_widgets_follow_their_controls(explorer):
    pytest.importorskip("ipywidgets")
    import ipywidgets
    box = explorer.widget()
    image = box.children[-1]                  # the figure: an Image, no Output widget to route
    assert isinstance(image, ipywidgets.Image) and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    before = image.value
    box.controls["method"].value = "tbptt"
    box.controls["loss_step"].value = 5
    assert explorer.settings["method"] == "tbptt" and explorer.settings["loss_step"] == 5
    assert image.value != before and image.value == explorer.png()


def test_static_fallback(explorer, monkeypatch):
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle
    monkeypatch.setitem(sys.modules, "ipywidgets", None)        # not installed
    assert explorer.widget() is None
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png"}
    assert explorer.png(method="bptt")[:8] == b"\x89PNG\r\n\x1a\n"
