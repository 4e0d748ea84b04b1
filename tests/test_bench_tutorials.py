"""benchmarks/bench_tutorials.py reads the syllabus's stated times and judges them as documented
(the script itself is run by hand: it executes every notebook)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_tutorials",
                                              ROOT / "benchmarks" / "bench_tutorials.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_stated_times_cover_every_tutorial():
    stated = bench.stated_times(ROOT / "tutorials" / "README.md")
    names = {p.name for p in (ROOT / "tutorials").glob("0*.ipynb")}
    assert set(stated) == names
    assert all(bench.bound_seconds(v) for v in stated.values()), stated


def test_bounds():
    assert bench.bound_seconds("< 20 s") == 20
    assert bench.bound_seconds("about 3 min") == 225
    assert bench.bound_seconds("< 1 min") == 60
    assert bench.bound_seconds("seconds") is None


def test_readme_has_the_generated_block():
    text = (ROOT / "tutorials" / "README.md").read_text(encoding="utf-8")
    assert text.count(bench.START) == 1 and text.count(bench.END) == 1
    assert text.index(bench.START) < text.index(bench.END)
