"""Independent runs in parallel (minisab/train/parallel.py): worker processes and a Dask cluster give
the bits of one-at-a-time runs."""
import json
import os
import sys

import numpy as np
import pytest

from minisab.train.checkpoint import load_checkpoint
from minisab.config import ConfigError
from minisab.train.parallel import check_jobs, default_jobs, run_all
from minisab.cli.compare import run_compare

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

TINY = {"task": {"T": 3, "n_digits": 2, "n_symbols": 3},
        "model": {"hidden_size": 5, "k_trunc": 2, "k_top": 2},
        "train": {"steps": 4, "eval_every": 2, "eval_batch": 4, "batch": 2}}
EXPERIMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "experiments")


def _square(x):
    return x * x


def test_run_all_yields_every_result_once():
    got = dict(run_all(_square, range(5), jobs=2, log=False))
    assert got == {i: i * i for i in range(5)}
    assert dict(run_all(_square, [3], jobs=1, log=False)) == {3: 9}


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_bad_jobs_are_named(bad):
    with pytest.raises(ConfigError, match="invalid jobs=.*integers >= 1"):
        check_jobs(bad)
    assert check_jobs(None) == default_jobs() >= 1


def _run_bits(folder):
    """Every run folder under ``folder``: parameters and metrics without the clock."""
    out = {}
    for root, _, files in os.walk(folder):
        if "checkpoint.npz" in files:
            ck = load_checkpoint(os.path.join(root, "checkpoint.npz"))
            with open(os.path.join(root, "metrics.jsonl"), encoding="utf-8") as f:
                recs = [{k: v for k, v in json.loads(line).items() if k != "time"} for line in f]
            out[os.path.relpath(root, folder)] = (ck["params"], ck["opt_state"], recs)
    return out


def assert_same_bits(folder_a, folder_b, n_runs):
    a, b = _run_bits(folder_a), _run_bits(folder_b)
    assert sorted(a) == sorted(b) and len(a) == n_runs
    for run in a:
        for part in (0, 1):
            assert a[run][part].keys() == b[run][part].keys()
            for k in a[run][part]:
                np.testing.assert_array_equal(a[run][part][k], b[run][part][k], err_msg=run)
        assert a[run][2] == b[run][2], run


def test_compare_in_parallel_is_bit_identical(tmp_path):
    rows = {}
    for jobs in (1, 2):
        rows[jobs] = run_compare("cpu", str(tmp_path / f"j{jobs}"), "c", TINY, progress=False,
                                 log=lambda m: None, seeds=[0, 1], jobs=jobs)
    assert_same_bits(tmp_path / "j1" / "c", tmp_path / "j2" / "c", n_runs=6)  # 3 methods, 2 seeds
    strip = [{k: v for k, v in r.items() if k not in ("time", "peak_mib")} for r in rows[1]]
    assert strip == [{k: v for k, v in r.items() if k not in ("time", "peak_mib")}
                     for r in rows[2]]
    assert [(r["label"], r["seed"]) for r in rows[2]] == [
        (m, s) for s in (0, 1) for m in ("lstm bptt", "lstm tbptt", "sab")]
    summary = (tmp_path / "j2" / "c" / "summary.md").read_text()
    assert "mean (range)" in summary and "2 run(s) at a time" in summary


def _grid(out, extra):
    sys.path.insert(0, EXPERIMENTS)
    try:
        import make_sab_learn
    finally:
        sys.path.remove(EXPERIMENTS)
    argv = ["--T", "4", "--methods", "bptt", "sab-detach", "--seeds", "0", "1", "--steps", "4",
            "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5", "--attn-size", "3",
            "--eval-every", "2", "--eval-batch", "4", "--batch", "2", "--transfer", "2",
            "--out", str(out), *extra]
    assert make_sab_learn.main(argv) == 0
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        rows = json.load(f)["runs"]
    clockless = [{k: v for k, v in r.items() if k not in ("wall_s", "time_90_s")} for r in rows]
    return sorted(clockless, key=lambda r: (r["method"], r["seed"]))


def test_grid_on_a_dask_cluster_equals_the_local_run(tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    local = _grid(tmp_path / "local", ["--jobs", "1"])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        remote = _grid(tmp_path / "dask", ["--scheduler", cluster.scheduler_address])
    assert len(local) == 4 and remote == local
    assert_same_bits(tmp_path / "local" / "runs", tmp_path / "dask" / "runs", n_runs=4)


@pytest.mark.parametrize("argv, words", [
    (["--seed", "1", "--seeds", "0", "1"], "--seed with --seeds"),
    (["--jobs", "0"], "argument --jobs: expected an integer >= 1"),
])
def test_compare_refuses_bad_parallel_options(argv, words, tmp_path, capsys):
    from minisab.cli.commands import main
    with pytest.raises(SystemExit) as e:
        main(["compare", *argv, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and words in err and "Traceback" not in err


def test_run_compare_refuses_repeated_seeds(tmp_path):
    from minisab.train import TrainError
    with pytest.raises(TrainError, match="invalid seeds=.*distinct integers"):
        run_compare("cpu", str(tmp_path), "c", TINY, seeds=[0, 0])
