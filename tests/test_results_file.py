"""``results.json`` written by two experiment processes at once (``run_plan.py --jobs 2`` runs
two commands of one experiment side by side): neither drops the other's rows."""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from _grid import Results  # noqa: E402


def _keys(out):
    doc = json.loads((out / "results.json").read_text())
    return sorted((r["method"], r["seed"], r["final"]) for r in doc["runs"])


def test_two_writers_keep_each_others_rows(tmp_path):
    a = Results(str(tmp_path), {"who": "a"}, ("method", "seed"))
    b = Results(str(tmp_path), {"who": "b"}, ("method", "seed"))   # both read an empty file
    a.add({"method": "sab", "seed": 3, "final": 0.5})
    b.add({"method": "bptt", "seed": 2, "final": 0.25})
    assert _keys(tmp_path) == [("bptt", 2, 0.25), ("sab", 3, 0.5)]
    a.save()                                  # a's last write, after b's: b's row stays
    assert _keys(tmp_path) == [("bptt", 2, 0.25), ("sab", 3, 0.5)]
    assert sorted(r["method"] for r in a.rows) == ["bptt", "sab"]
    # a row added again replaces the one on disk, whoever wrote it
    a.add({"method": "bptt", "seed": 2, "final": 0.75})
    assert _keys(tmp_path) == [("bptt", 2, 0.75), ("sab", 3, 0.5)]
    assert not (tmp_path / ".lock").exists()


def test_rows_of_an_earlier_process_are_read_back(tmp_path):
    Results(str(tmp_path), {}, ("method", "seed")).add({"method": "sab", "seed": 0, "final": 1.0})
    later = Results(str(tmp_path), {}, ("method", "seed"))
    assert later.rows == [{"method": "sab", "seed": 0, "final": 1.0}]
    later.save()
    assert _keys(tmp_path) == [("sab", 0, 1.0)]


def test_paths_inside_the_clone_are_written_relative_to_it(tmp_path):
    import _grid
    inside = str(Path(_grid.ROOT) / "experiments" / "results" / "x")
    res = Results(str(tmp_path), {"out": inside, "elsewhere": str(tmp_path), "lr": 0.1},
                  ("seed",))
    res.save()
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["settings"] == {"out": "experiments/results/x".replace("/", os.sep),
                               "elsewhere": str(tmp_path), "lr": 0.1}
