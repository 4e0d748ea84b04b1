"""minisab.plots.diagrams: the two pictures of the method are drawn, and say what the code does."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minisab.plots import diagrams  # noqa: E402
from minisab.attention import topk_forward  # noqa: E402


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_save_all_writes_both_pngs(tmp_path):
    paths = diagrams.save_all(tmp_path / "fig")
    assert [p.rsplit("/", 1)[-1] for p in paths] == list(diagrams.FIGURES)
    for p in paths:
        data = open(p, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert not [p for p in (tmp_path / "fig").iterdir() if p.name.startswith(".tmp")]


def test_sab_step_shows_the_weights_of_topk_forward():
    scores = (0.4, 1.4, -0.3, 2.2, 0.9, 1.7)
    fig = diagrams.sab_step(scores, k_top=3)
    alpha, act, _ = topk_forward(np.asarray([scores]), 3, 1e-7)
    shown = sorted(t for t in _texts(fig) if t.startswith("0."))
    assert shown == sorted(f"{a:.2f}" for a in alpha[0])          # one label per kept memory
    text = " ".join(_texts(fig))
    for piece in ("LSTM cell", "scorer", "sparsifier", "read", "memory write", "null"):
        assert piece in text


def test_credit_paths_has_one_row_per_method_and_both_memory_paths():
    fig = diagrams.credit_paths(T=12, k_trunc=4)
    text = " ".join(_texts(fig))
    for row in ("bptt:", "tbptt (k_trunc = 4)", "sab with mental updates",
                "sab (minisab's, detach_scores=True"):
        assert row in text
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("read path" in l for l in labels) and any("score path" in l for l in labels)
    assert any("cut edge" in l for l in labels)
    # Filled nodes: bptt reaches all 12 states, tbptt the last chunk (4), sab with the score
    # path 4 + h_0..h_1 + h_0..h_3 + h_4..h_5 = 10, with detach_scores 4 + 2 + 2 = 8.
    filled = [sum(1 for p in fig.axes[0].patches if getattr(p, "get_radius", None)
                  and abs(p.get_center()[1] - y) < 1e-9 and p.get_facecolor()[:3] !=
                  (1.0, 1.0, 1.0)) for y in (9.0, 6.0, 3.0, 0.0)]
    assert filled == [12, 4, 10, 8]
