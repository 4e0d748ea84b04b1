"""The generated passages on real data and at the paper's sizes (docs/_generate_real.py): their
comparison words follow the numbers, in the direction of each metric (accuracy: higher is
better; bits per character: lower), with the stated tolerance for "matches"."""
import importlib.util
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture()
def gen(monkeypatch):
    monkeypatch.syspath_prepend(str(DOCS))
    spec = importlib.util.spec_from_file_location("minisab_docs_real", DOCS / "_generate_real.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("minisab_docs_real", None)


def _row(method, seed, final, **extra):
    return {"method": method, "seed": seed, "final": final, "best": final, "wall_s": 120.0,
            "chance": 6.7, "step_0.5": None, "step_0.9": None, "step_0.99": None, **extra}


def _text_doc(finals):
    settings = {"text_file": None, "T": 100, "seeds": [0, 1], "steps": 3000, "batch": 32,
                "hidden_size": 128, "k_top": 5, "k_att": 2, "k_trunc": 5, "lr": 0.002,
                "eval_batch": 256, "methods": list(finals)}
    return {"settings": settings,
            "runs": [_row(m, s, v) for m, vals in finals.items() for s, v in enumerate(vals)]}


def test_bits_per_character_lower_is_better(gen, monkeypatch):
    doc = _text_doc({"sab": [2.0, 2.1], "tbptt": [2.5, 2.6], "bptt": [1.6, 1.7]})
    monkeypatch.setattr(gen, "_json", lambda path: doc)
    text = gen.text_verdict()
    assert "| SAB (no mental updates) | 2.050 (2.000–2.100) | 2.050 | 2 min |" in text
    assert "ends better than truncated BPTT (2.550)" in text
    assert "ends worse than full BPTT (1.650)" in text


def test_within_the_tolerance_is_a_match(gen, monkeypatch):
    doc = _text_doc({"sab": [2.000, 2.010], "tbptt": [2.010, 2.012], "bptt": [2.5, 2.5]})
    monkeypatch.setattr(gen, "_json", lambda path: doc)
    text = gen.text_verdict()
    assert "matches truncated BPTT (2.011)" in text and "ends better than full BPTT" in text


def test_accuracy_words_and_grouping(gen, monkeypatch):
    settings = {"image_size": 14, "seeds": [0], "steps": 3000, "batch": 32, "hidden_size": 64,
                "k_top": 5, "k_att": 4, "k_trunc": 8, "lr": 0.003, "eval_batch": 1000,
                "methods": ["sab", "tbptt", "bptt"]}
    doc = {"settings": settings, "runs": [_row("sab", 0, 0.80, task="fashion", **{"step_0.5": 500}),
                                          _row("tbptt", 0, 0.70, task="fashion"),
                                          _row("bptt", 0, 0.75, task="fashion")]}
    monkeypatch.setattr(gen, "_json", lambda path: doc)
    text = gen.fashion_verdict()
    assert "`T = 196`" in text and "| 500 |" in text
    assert "SAB (0.800) ends above truncated BPTT (0.700) and full BPTT (0.750)" in text
