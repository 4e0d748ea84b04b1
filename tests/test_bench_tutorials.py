"""benchmarks/bench_tutorials.py reads the syllabus's stated times and judges them as documented
(the script itself is run by hand: it executes every notebook); benchmarks/tutorial_times.py
makes those stated times from its results file, rounded up."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_tutorials",
                                              ROOT / "benchmarks" / "bench_tutorials.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
times = bench.tutorial_times          # benchmarks/tutorial_times.py: the stated compute times


def test_stated_times_cover_every_tutorial():
    stated = bench.stated_times(ROOT / "tutorials" / "README.md")
    names = {p.name for p in (ROOT / "tutorials").glob("0*.ipynb")}
    assert set(stated) == names
    assert all(times.parse_short(v) for v in stated.values()), stated


def test_stated_bounds_are_read_as_written():
    assert times.parse_short("< 20 s") == 20
    assert times.parse_short("< 1.5 min") == 90
    assert times.parse_short("about 3 min") is None      # an estimate is no bound: not stated
    assert times.parse_measured("9 s") == (9, 0.5)
    assert times.parse_measured("1.5 min") == (90, 3)    # 1.45-1.55 min


@given(st.floats(0, 4 * 3600), st.sampled_from([0.0, 0.5, 3.0]))
def test_a_stated_bound_is_never_below_the_measurement(seconds, half_unit):
    """Rounded *up*, from the largest time the shown figure may stand for, by at most one step."""
    bound = times.bound_seconds(seconds, half_unit)
    step = 10 if bound <= 60 else 30 if bound <= 600 else 60
    assert seconds + half_unit < bound <= seconds + half_unit + step
    assert bound % step == 0
    assert times.parse_short(times.short_phrase(bound)) == bound
    assert times.card_phrase(bound, 2).startswith("under ")


def test_the_rounding_rule_on_examples():
    assert [times.bound_seconds(*times.parse_measured(m)) for m in
            ("3 s", "9 s", "10 s", "55 s", "63 s", "82 s", "1.5 min", "9.9 min", "12.0 min")] == \
        [10, 10, 20, 60, 90, 90, 120, 600, 780]
    assert [times.short_phrase(b) for b in (10, 60, 90, 780)] == \
        ["< 10 s", "< 1 min", "< 1.5 min", "< 13 min"]
    assert times.card_phrase(60, 2) == "under 1 minute on a 2-core computer busy with other work"
    assert times.card_phrase(90, 4).startswith("under 1.5 minutes on a 4-core computer")


def _rows(results: str) -> dict:
    """name -> the row's cells by column, from a results table."""
    header, rows = None, {}
    for line in results.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "notebook":
            header = cells
        elif header and cells[0].startswith("`0"):
            rows[cells[0].strip("`")] = dict(zip(header, cells))
    return rows


def test_every_committed_run_is_under_its_stated_bound():
    results = (ROOT / times.RESULTS).read_text(encoding="utf-8")
    cores, bounds = times.measured(results)
    stated = bench.stated_times(ROOT / "tutorials" / "README.md")
    for name, row in _rows(results).items():
        runs = [times.parse_measured(c.strip())[0] for c in row["runs"].split(",")]
        assert len(runs) >= times.MIN_RUNS
        assert max(runs) < bounds[name] == times.parse_short(stated[name]), (name, runs)


def test_another_machines_times_stay_under_the_stated_bounds():
    """The times another 2-core machine measured under the same condition: each under the
    bound stated now, which is what the margin FACTOR is for."""
    other = _rows((ROOT / "benchmarks/results/bench_tutorials_elsewhere.md").read_text())
    stated = bench.stated_times(ROOT / "tutorials" / "README.md")
    assert len(other) >= 5
    for name, row in other.items():
        assert times.parse_measured(row["measured"])[0] < times.parse_short(stated[name]), name


def test_the_bound_is_the_median_times_the_factor_rounded_up():
    assert times.FACTOR >= 2
    assert times.stated_bound("8 s") == times.bound_seconds(8 * times.FACTOR, 0.5 * times.FACTOR)
    assert times.stated_bound("52 s") == 150 and times.stated_bound("2 s") == 10
    rows = [("01_a.ipynb", "< 10 s", [3.2, 2.9, 4.0], None),
            ("02_b.ipynb", "< 10 s", [30.0, 31.0, 29.0], None)]
    head = ("Measured by `x` on 2026-01-01: default sizes; median of 3 run(s) of each "
            "notebook; 2 CPU core(s).")
    text = bench.table(rows, head)
    assert times.measured(text) == (2, {"01_a.ipynb": times.stated_bound("3 s"),
                                        "02_b.ipynb": times.stated_bound("30 s")})
    got = _rows(text)
    assert got["01_a.ipynb"]["held"] == "yes" and got["02_b.ipynb"]["held"] == "**no**"
    assert got["02_b.ipynb"]["runs"] == "30 s, 31 s, 29 s" and got["02_b.ipynb"]["median"] == "30 s"
    with pytest.raises(ValueError, match="at least 3 runs"):
        times.measured(text.replace("median of 3 run", "median of 1 run"))


def test_a_smoke_table_or_a_failed_notebook_states_no_time():
    smoke = "Measured by `x --smoke`: smoke mode; 2 CPU core(s)\n"
    with pytest.raises(ValueError, match="not a default-size run"):
        times.measured(smoke)
    failed = ("Measured: default sizes; median of 3 run(s); 2 CPU core(s).\n\n| notebook | "
              "stated | runs | median | bound | held | error |\n|---|---|---|---|---|---|---|\n"
              "| `01_a.ipynb` | < 10 s | 3 s, 3 s, 3 s | 3 s | < 10 s | **no** | KeyError: x |\n")
    with pytest.raises(ValueError, match="01_a.ipynb has no usable time"):
        times.measured(failed)


def test_readme_has_the_generated_block():
    text = (ROOT / "tutorials" / "README.md").read_text(encoding="utf-8")
    assert text.count(bench.START) == 1 and text.count(bench.END) == 1
    assert text.index(bench.START) < text.index(bench.END)


def test_an_interrupt_stops_the_whole_benchmark_and_writes_nothing(tmp_path, monkeypatch,
                                                                  ctrl_c):
    """nbclient turns Ctrl-C inside a cell into that cell's error; the benchmark must stop
    anyway, stop its busy processes and write no table (it used to go on to the next one)."""
    import os
    import signal
    started = []

    def interrupted_cell(path, env, timeout):
        started.append(path.name)
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:                # what nbclient does with it
            return 1.0, "KeyboardInterrupt"
        return 1.0, None
    monkeypatch.setattr(bench, "run_notebook", interrupted_cell)
    out = tmp_path / "table.md"
    # Ctrl-C reaches the benchmark (the ctrl_c fixture); it puts back whatever handler it found
    assert bench.main(["--busy", "1", "--only", "0[12]_*.ipynb", "--out", str(out)]) == 130
    assert started == ["01_lstm_from_scratch.ipynb"] and not out.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
