"""The real-data and paper-scale experiment scripts, at tiny sizes (``--smoke``): each writes
results.json, table.md and its figure, and continues an interrupted grid instead of starting it
again (experiments/paper_copy.py, transfer_long.py, digits.py, text.py, adding.py)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"_exp_{name}", EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # so that worker processes can unpickle its functions
    spec.loader.exec_module(mod)
    return mod


def _rows(out):
    return json.loads((out / "results.json").read_text())["runs"]


def test_paper_copy_resumes_and_transfer_reads_its_models(tmp_path, capsys):
    pc, tl = _script("paper_copy"), _script("transfer_long")
    out = tmp_path / "pc"
    common = ["--smoke", "--out", str(out), "--methods", "sab", "tbptt", "--jobs", "2"]
    assert pc.main(common + ["--steps", "2"]) == 0
    first = {(r["method"]): r for r in _rows(out)}
    assert set(first) == {"sab", "tbptt"} and all(r["steps"] == 2 for r in first.values())
    # asking for more steps continues each run from its checkpoint: the curve keeps its start
    assert pc.main(common + ["--steps", "4"]) == 0
    for r in _rows(out):
        assert r["steps"] == 4 and [c[0] for c in r["curve"]] == [0, 2, 4]
        assert r["curve"][:2] == first[r["method"]]["curve"]
        assert {"step_0.5", "time_0.9", "step_0.99"} <= set(r)
    assert (out / "learning_curves.png").stat().st_size > 0
    assert "| 6 | sab | 0 | 4 |" in (out / "table.md").read_text()
    # other settings in the same folder are refused, not silently retrained
    with pytest.raises(SystemExit, match="other settings"):
        pc.main(common + ["--steps", "4", "--hidden-size", "6", "--jobs", "1"])

    tout = tmp_path / "tl"
    targs = ["--smoke", "--runs", str(out / "runs" / "T6"), "--out", str(tout), "--jobs", "1"]
    assert tl.main(targs) == 0
    rows = _rows(tout)
    assert sorted((r["method"], r["T"]) for r in rows) == [
        ("sab", 8), ("sab", 12), ("tbptt", 8), ("tbptt", 12)]
    assert all(r["trained_T"] == 6 and r["peak_mib_per_chunk"] > 0 for r in rows)
    assert (tout / "transfer.png").exists() and "T=12" in (tout / "table.md").read_text()
    capsys.readouterr()
    assert tl.main(targs) == 0                                   # nothing left to evaluate
    assert "eval " not in capsys.readouterr().err
    # a model trained again in its folder (other parameters, same settings and steps) is
    # evaluated again: the rows name the parameters they evaluated
    from minisab.train.checkpoint import load_checkpoint, save_checkpoint
    ckpt_path = out / "runs" / "T6" / "sab" / "seed0" / "checkpoint.npz"
    ck = load_checkpoint(ckpt_path)
    name = sorted(ck["params"])[0]
    ck["params"][name] = ck["params"][name] + 0.5
    save_checkpoint(ckpt_path, ck["params"], ck["opt_state"], ck["meta"])
    assert tl.main(targs) == 0
    err = capsys.readouterr().err
    assert "eval sab seed=0" in err and "tbptt" not in err


def test_digits_script(tmp_path):
    dg = _script("digits")
    out = tmp_path / "dg"
    assert dg.main(["--smoke", "--out", str(out), "--tasks", "pdigits", "--jobs", "1"]) == 0
    rows = _rows(out)
    assert sorted(r["method"] for r in rows) == ["bptt", "sab", "tbptt"]
    assert all(r["task"] == "pdigits" and r["metric"] == "accuracy" and r["chance"] == 0.1
               for r in rows)
    assert (out / "learning_curves.png").exists() and "pdigits" in (out / "table.md").read_text()
    doc = json.loads((out / "results.json").read_text())
    assert doc["machine"]["blas"] and doc["settings"]["config"].endswith("digits.toml")


def test_text_script_on_a_user_file(tmp_path):
    tx = _script("text")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    out = tmp_path / "tx"
    argv = ["--smoke", "--out", str(out), "--methods", "sab", "bptt", "--jobs", "1",
            "--text-file", str(corpus)]
    assert tx.main(argv) == 0
    rows = _rows(out)
    assert sorted(r["method"] for r in rows) == ["bptt", "sab"]
    for r in rows:
        bpc = [c[2] for c in r["curve"]]
        # bits per character: lower is better, so "best" is the smallest held-out value
        assert r["metric"] == "bpc" and r["best"] == min(bpc) and r["final"] == bpc[-1]
        assert "step_0.5" not in r          # the accuracy levels do not apply to bpc
    assert (out / "learning_curves.png").exists() and "final bpc" in (out / "table.md").read_text()
    # finished runs are read back, not retrained: a second call gives the same rows
    assert tx.main(argv) == 0
    again = _rows(out)
    assert [r["stopped"] for r in again] == ["done (earlier)"] * 2
    assert [r["curve"] for r in again] == [r["curve"] for r in rows]


def test_diagnose_paper_copy_measures_and_retrains_the_same_run(tmp_path, capsys):
    dg = _script("diagnose_paper_copy")
    out = tmp_path / "dg"
    argv = ["--smoke", "--seeds", "1", "--every", "2", "--out", str(out)]
    assert dg.main(argv) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    final = [r for r in rows if r["source"] == "final"]
    trained = sorted((r for r in rows if r["source"] == "train"), key=lambda r: r["step"])
    assert [r["step"] for r in trained] == [0, 2, 4] and len(final) == 1
    assert len(final[0]["digit_acc"]) == 2 and 0 <= final[0]["digit_phase_weight"] <= 1
    # retrained from its config, the run is the same run: its last measurement is the final one
    assert trained[-1]["grad_norm"] == pytest.approx(final[0]["grad_norm"], rel=1e-6)
    assert [r["differs_from_step"] for r in trained] == [None, None, None]   # the same run
    assert all(r["wall_s"] > 0 for r in rows)      # each row records the time it took
    assert (out / "diagnosis.png").stat().st_size > 0 and "| 1 | final |" in (
        out / "table.md").read_text()
    capsys.readouterr()
    assert dg.main(argv) == 0                          # resumed: no step is measured again
    assert "train step" not in capsys.readouterr().err


def test_diagnose_paper_copy_measures_with_minisabs_blas_threads(tmp_path, monkeypatch):
    """The instruments run with minisab's one BLAS thread whatever the caller's BLAS would use,
    so that a diagnosis run by hand gives the bits that the plan's gives."""
    from threadpoolctl import threadpool_info, threadpool_limits
    dg = _script("diagnose_paper_copy")
    seen, measure = [], dg.measure

    def spy(*args, **kwargs):
        seen.append({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
        return measure(*args, **kwargs)
    monkeypatch.setattr(dg, "measure", spy)
    with threadpool_limits(limits=2):
        assert dg.main(["--smoke", "--seeds", "0", "--out", str(tmp_path / "dg")]) == 0
    assert seen == [{1}]


def test_diagnose_paper_copy_until_stops_the_retraining_early(tmp_path):
    dg = _script("diagnose_paper_copy")
    out = tmp_path / "dg"
    assert dg.main(["--smoke", "--seeds", "0", "--every", "1", "--until", "2",
                    "--out", str(out)]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert sorted(r["step"] for r in rows if r["source"] == "train") == [0, 1, 2]


def test_a_run_still_training_is_neither_transferred_nor_diagnosed(tmp_path):
    pc, tl = _script("paper_copy"), _script("transfer_long")
    out = tmp_path / "pc"
    assert pc.main(["--smoke", "--out", str(out), "--methods", "sab", "--seeds", "0", "1",
                    "--steps", "2", "--jobs", "1"]) == 0
    runs = out / "runs" / "T6" / "sab"
    from minisab.train.runs import run_finished
    assert run_finished(runs / "seed0") and not run_finished(tmp_path / "nothing")
    cfg = runs / "seed1" / "config.json"          # as if seed 1 were planned for more steps
    d = json.loads(cfg.read_text())
    d["train"]["steps"] = 3
    cfg.write_text(json.dumps(d))
    assert not run_finished(runs / "seed1")
    assert [(m, s) for m, s, _ in tl.models(str(out / "runs" / "T6"))] == [("sab", 0)]


def test_first_difference_finds_where_two_runs_part(tmp_path):
    dg = _script("diagnose_paper_copy")
    for name, losses in (("a", [1.0, 0.5, 0.25]), ("b", [1.0, 0.5, 0.3]), ("c", [1.0, 0.5])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text("".join(
            json.dumps({"step": 10 * i, "loss": v, "accuracy": 0.1}) + "\n"
            for i, v in enumerate(losses)))
    assert dg.first_difference(tmp_path / "a", tmp_path / "b") == 20
    assert dg.first_difference(tmp_path / "a", tmp_path / "c") is None


def test_check_reproduced_finds_the_same_run_and_a_changed_one(tmp_path):
    pc, cr = _script("paper_copy"), _script("check_reproduced")
    out = tmp_path / "pc"
    assert pc.main(["--smoke", "--out", str(out), "--methods", "sab", "--seeds", "0", "1",
                    "--steps", "2", "--jobs", "1"]) == 0
    metrics = out / "runs" / "T6" / "sab" / "seed1" / "metrics.jsonl"
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    for r in rows:                     # as if an earlier version had rounded differently
        if r.get("step") == 2 and "loss" in r:
            r["loss"] += 1e-7
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = tmp_path / "reproduced.json"
    assert cr.main(["--runs", str(out / "runs"), "--steps", "2", "--out", str(res)]) == 0
    got = {r["seed"]: r["differs_from_step"] for r in json.loads(res.read_text())["rows"]}
    assert got == {0: None, 1: 2}


def test_check_reproduced_checks_a_run_only_with_its_own_kernel(tmp_path, capsys):
    """A run trained with another BLAS kernel would part from any retraining here: it is not
    checked (no row), and the script names the OPENBLAS_CORETYPE that checks it."""
    from minisab.train.provenance import machine, openblas_kernel
    here = openblas_kernel(machine())
    if here is None:
        pytest.skip("NumPy's BLAS here is not OpenBLAS: no kernel to tell apart")
    pc, cr = _script("paper_copy"), _script("check_reproduced")
    out = tmp_path / "pc"
    assert pc.main(["--smoke", "--out", str(out), "--methods", "sab", "--seeds", "0", "1",
                    "--steps", "2", "--jobs", "1"]) == 0
    config = out / "runs" / "T6" / "sab" / "seed1" / "config.json"
    d = json.loads(config.read_text())
    other = "Zen" if here.lower() != "zen" else "Haswell"

    def trained_with(kernel, records):
        for m in records:
            m["blas"] = [dict(p, architecture=kernel) if p["internal_api"] == "openblas" else p
                         for p in m["blas"]]
        config.write_text(json.dumps(d))
    assert [s["from_step"] for s in d["segments"]] == [0]
    trained_with(other, [d["machine"], d["segments"][0]["machine"]])
    res = tmp_path / "reproduced.json"
    capsys.readouterr()
    assert cr.main(["--runs", str(out / "runs"), "--steps", "2", "--out", str(res)]) == 1
    got = capsys.readouterr()
    assert f"seed 1: not checked: trained with the {other} BLAS kernel" in got.out
    assert f"run again with OPENBLAS_CORETYPE={other} to check them" in got.err
    assert [r["seed"] for r in json.loads(res.read_text())["rows"]] == [0]
    trained_with(here, [d["machine"]])              # resumed here: the first steps still not
    assert cr.main(["--runs", str(out / "runs"), "--steps", "2", "--out", str(res)]) == 1
    trained_with(here, [d["segments"][0]["machine"]])   # as if run again with that kernel
    assert cr.main(["--runs", str(out / "runs"), "--steps", "2", "--out", str(res)]) == 0
    assert {r["seed"]: r["differs_from_step"] for r in json.loads(res.read_text())["rows"]} \
        == {0: None, 1: None}


def test_a_finished_rerun_replaces_the_run_it_redoes(tmp_path, capsys):
    pc, cr, ad = _script("paper_copy"), _script("check_reproduced"), _script("adopt_rerun")
    grid, rerun = tmp_path / "pc", tmp_path / "rerun"
    common = ["--smoke", "--methods", "sab", "--jobs", "1"]
    assert pc.main(common + ["--out", str(grid), "--seeds", "0", "1", "--steps", "2"]) == 0
    metrics = grid / "runs" / "T6" / "sab" / "seed0" / "metrics.jsonl"
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    for r in rows:                     # seed 0 as an earlier version had trained it
        if "loss" in r:
            r["loss"] += 1e-7
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for r in (old := json.loads((grid / "results.json").read_text()))["runs"]:
        if r["seed"] == 0:
            r["final"] = 0.123                              # its number, as measured then
    (grid / "results.json").write_text(json.dumps(old))
    res = grid / "reproduced.json"
    assert cr.main(["--runs", str(grid / "runs"), "--steps", "2", "--out", str(res)]) == 0
    assert {r["seed"]: r["differs_from_step"] for r in json.loads(res.read_text())["rows"]} \
        == {0: 0, 1: None}
    # the rerun of seed 0: one of two steps so far, then finished
    assert pc.main(common + ["--out", str(rerun), "--seeds", "0", "--steps", "1"]) == 0
    cfg = rerun / "runs" / "T6" / "sab" / "seed0" / "config.json"
    cfg.write_text(cfg.read_text().replace('"steps": 1', '"steps": 2'))   # as while training
    before = (grid / "results.json").read_text()
    assert ad.main(["--rerun", str(rerun), "--into", str(grid)]) == 0
    assert "still training" in capsys.readouterr().out
    assert (grid / "results.json").read_text() == before          # nothing moved yet
    assert pc.main(common + ["--out", str(rerun), "--seeds", "0", "--steps", "2"]) == 0
    new = [r for r in _rows(rerun)][0]
    transfer = tmp_path / "transfer.json"              # transfer_long.py's rows of both models
    transfer.write_text(json.dumps({"runs": [
        {"method": "sab", "seed": s, "T": T, "trained_T": 6} for s in (0, 1) for T in (8, 12)]}))
    assert ad.main(["--rerun", str(rerun), "--into", str(grid), "--transfer", str(transfer)]) == 0
    assert [(r["seed"], r["T"]) for r in json.loads(transfer.read_text())["runs"]] == \
        [(1, 8), (1, 12)]                              # the replaced model is evaluated again
    got = {r["seed"]: r for r in _rows(grid)}
    assert got[0]["final"] == new["final"] != 0.123 and got[1]["final"] != 0.123
    assert not (rerun / "runs" / "T6" / "sab" / "seed0").exists()
    assert _rows(rerun) == [new]                                   # the record of the rerun
    assert [r["seed"] for r in json.loads(res.read_text())["rows"]] == [1]
    assert cr.main(["--runs", str(grid / "runs"), "--steps", "2", "--out", str(res)]) == 0
    assert {r["seed"]: r["differs_from_step"] for r in json.loads(res.read_text())["rows"]} \
        == {0: None, 1: None}
    assert ad.main(["--rerun", str(rerun), "--into", str(grid)]) == 0    # again: nothing to do
    assert "nothing to adopt" in capsys.readouterr().out
    # a "rerun" with other settings is refused, and nothing changes
    assert pc.main(common + ["--out", str(rerun), "--seeds", "1", "--steps", "3"]) == 0
    before = (grid / "results.json").read_text()
    with pytest.raises(SystemExit, match="not a rerun.*steps"):
        ad.main(["--rerun", str(rerun), "--into", str(grid)])
    assert (grid / "results.json").read_text() == before
    with pytest.raises(SystemExit):
        ad.main(["--rerun", str(tmp_path / "none"), "--into", str(grid)])
    assert "--rerun" in capsys.readouterr().err


def test_the_trace_is_restated_against_the_run_now_in_place(tmp_path):
    dg = _script("diagnose_paper_copy")

    def metrics(name, losses):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text("".join(
            json.dumps({"step": 10 * i, "loss": v, "accuracy": 0.1}) + "\n"
            for i, v in enumerate(losses)))
    metrics("old", [1.0, 0.6, 0.3])
    metrics("new", [1.0, 0.5, 0.25])            # the current code's run
    metrics("trace", [1.0, 0.5, 0.25])          # its retraining, measured for the trace
    doc = {"rows": [{"source": "train", "seed": 0, "step": s, "differs_from_step": None}
                    for s in (0, 10, 20)] + [{"source": "train", "seed": 1, "step": 10}]}
    dg.refresh_differs(doc, 0, tmp_path / "old", tmp_path / "trace")
    assert [r["differs_from_step"] for r in doc["rows"][:3]] == [None, 10, 10]
    dg.refresh_differs(doc, 0, tmp_path / "new", tmp_path / "trace")
    assert [r["differs_from_step"] for r in doc["rows"][:3]] == [None, None, None]
    assert "differs_from_step" not in doc["rows"][3]                # another seed: untouched
    dg.refresh_differs(doc, 0, tmp_path / "new", tmp_path / "missing")   # no trace: no change


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGTERM are POSIX")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_sigterm_to_the_group_stops_the_grid_so_that_the_same_command_continues(tmp_path,
                                                                                 jobs):
    """run_plan.py stops a command with SIGTERM to its process group. The script says so and
    exits 143, no traceback; each run folder holds a checkpoint that the same command continues.
    With one job (run_plan's commands) the trainer writes the checkpoint of its last finished
    step, not only the last evaluation's, and lets go of its folder."""
    import os
    import signal
    import subprocess
    import time
    from minisab.train.checkpoint import load_checkpoint
    out = tmp_path / "pc"
    base = [sys.executable, str(EXPERIMENTS / "paper_copy.py"), "--smoke", "--out", str(out),
            "--seeds", "0", "--steps", "1000000", "--eval-every", "1000000"]  # no checkpoint
    methods = ["sab", "tbptt"][:jobs]                                       # but the first
    proc = subprocess.Popen(base + ["--methods", *methods, "--jobs", str(jobs)],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    started = 0
    for line in proc.stderr:                # every run is training once each said "start"
        started += "start T=6" in line
        if started == jobs:
            break
    time.sleep(2.0)                         # thousands of tiny steps
    os.killpg(proc.pid, signal.SIGTERM)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 143, err
    assert "stopped (SIGTERM)" in err and "Traceback" not in err, err
    # the trainer's own stop line gives the scripts' way on, not the CLI's --resume
    assert "and --resume" not in err, err
    if jobs == 1:
        assert "checkpoint at step" in err and "no --resume" in err.split("checkpoint at step")[1]
    for method in methods:
        run_dir = out / "runs" / "T6" / method / "seed0"
        step = load_checkpoint(run_dir / "checkpoint.npz")["meta"]["step"]
        if jobs == 1:
            assert not (run_dir / ".lock").exists(), "the stopped run still holds its folder"
            assert step > 0, "only the first checkpoint was kept, not the last finished step"
        env = {**os.environ, "MINISAB_FAULT": f"step@{step + 1}:SIGTERM"}   # one step more
        again = subprocess.run(base + ["--methods", method, "--jobs", "1"], capture_output=True,
                               text=True, env=env, timeout=120)
        assert again.returncode == 143, again.stderr
        assert f"resuming {run_dir} at step {step}" in again.stderr, again.stderr
        assert load_checkpoint(run_dir / "checkpoint.npz")["meta"]["step"] == step + 1
        if jobs == 1:
            assert "taken over" not in again.stderr


def test_adding_continues_an_unfinished_run_and_refuses_other_settings(tmp_path, monkeypatch,
                                                                      ctrl_c):
    """experiments/adding.py (the adding task at the paper's sizes: hours a run): a run cut short
    continues from its checkpoint instead of starting again, a stop records no partial row, a
    later call keeps the rows of the earlier ones, and a folder that holds a run with other
    settings is refused unless --fresh."""
    ad = _script("adding")
    from minisab.train.checkpoint import load_checkpoint
    out = tmp_path / "add"
    common = ["--T", "10", "--hidden-size", "8", "--attn-size", "4", "--batch", "4",
              "--eval-batch", "16", "--eval-every", "2", "--seeds", "0", "--jobs", "1",
              "--out", str(out)]
    monkeypatch.setenv("MINISAB_FAULT", "step@3:SIGINT")          # stopped after step 3
    assert ad.main(common + ["--methods", "sab-detach", "--steps", "6"]) == 130
    run_dir = out / "runs" / "sab-detach" / "seed0"
    assert load_checkpoint(run_dir / "checkpoint.npz")["meta"]["step"] == 3
    assert not (out / "results.json").exists()              # no partial run reported as final
    monkeypatch.delenv("MINISAB_FAULT")
    assert ad.main(common + ["--methods", "sab-detach", "--steps", "6"]) == 0
    (row,) = _rows(out)
    assert row["steps"] == 6 and [c[0] for c in row["curve"]] == [0, 2, 4, 6]
    assert row["final_mse"] == row["curve"][-1][1] and row["best_mse"] <= row["final_mse"]
    # the same run from step 0 without a stop: the same bits
    fresh = tmp_path / "fresh"
    assert ad.main(common[:-1] + [str(fresh), "--methods", "sab-detach", "--steps", "6"]) == 0
    assert _rows(fresh)[0]["curve"] == row["curve"]
    # another method in the same folder: the first one's row stays
    assert ad.main(common[:-1] + [str(fresh), "--methods", "tbptt", "--steps", "6"]) == 0
    assert sorted(r["method"] for r in _rows(fresh)) == ["sab-detach", "tbptt"]
    assert "| sab-detach | 1 |" in (fresh / "table.md").read_text()
    with pytest.raises(SystemExit, match="other settings"):
        ad.main(common + ["--methods", "sab-detach", "--steps", "6", "--hidden-size", "6"])
    assert ad.main(common + ["--methods", "sab-detach", "--steps", "6", "--hidden-size", "6",
                             "--fresh"]) == 0


def test_make_sab_learn_continues_a_run_cut_short(tmp_path, monkeypatch, capsys):
    """experiments/make_sab_learn.py (the mental-updates grid): a stop records no partial row,
    and the same command continues the run from the checkpoint of its last finished step, to
    the same bits as a run never stopped."""
    ms = _script("make_sab_learn")
    from minisab.train.checkpoint import load_checkpoint
    common = ["--T", "6", "--n-digits", "2", "--hidden-size", "8", "--attn-size", "4",
              "--batch", "4", "--eval-batch", "16", "--eval-every", "2", "--seeds", "0",
              "--steps", "6", "--methods", "sab-detach", "--transfer", "2", "--jobs", "1"]
    out = tmp_path / "msl"
    monkeypatch.setenv("MINISAB_FAULT", "step@3:SIGTERM")
    assert ms.main(common + ["--out", str(out)]) == 143
    err = capsys.readouterr().err
    assert "checkpoint at step 3" in err and "and --resume" not in err, err
    run_dir = out / "runs" / "T6" / "sab-detach" / "seed0"
    assert load_checkpoint(run_dir / "checkpoint.npz")["meta"]["step"] == 3
    assert not (out / "results.json").exists() or not _rows(out)
    monkeypatch.delenv("MINISAB_FAULT")
    assert ms.main(common + ["--out", str(out)]) == 0
    assert ms.main(common + ["--out", str(tmp_path / "once")]) == 0
    (row,), (once,) = _rows(out), _rows(tmp_path / "once")
    assert row["steps"] == 6 and row["curve"] == once["curve"]


def test_reads_nothing_finds_tied_top_scores_and_a_saturated_scorer():
    """diagnose_paper_copy.reads_nothing: a model that reads a distribution, then one whose
    scores all tie (w_s = 0: the paper's sparsifier gives every memory zero weight), then one
    whose scorer's tanh units saturate (a huge W_q)."""
    import numpy as np
    from minisab.config import Config
    from minisab.params import init_params
    from minisab.sab import forward
    dg = _script("diagnose_paper_copy")
    cfg = Config(input_size=3, hidden_size=6, output_size=3, attn_size=4, k_top=2, k_att=1,
                 dtype="float32")
    x = np.random.default_rng(0).normal(size=(4, 12, 3)).astype(np.float32)
    recall = np.arange(8, 12)                   # 8 to 11 memories: more than k_top + 1

    def measured(**change):
        params = {**init_params(cfg, seed=0), **change}
        _, cache = forward(params, x, cfg, record=True)
        return dg.reads_nothing(params, cfg, cache, recall)
    base = init_params(cfg, seed=0)
    ok = measured()
    # Σα = Σã / (Σã + ε) (docs/model.md §2.3): within ε / Σã of 1, about 2e-5 here
    assert ok["attn_total"] == pytest.approx(1.0, abs=1e-4) and ok["top_tied"] == 0.0
    assert ok["scorer_saturated"] < 0.1
    tied = measured(w_s=np.zeros_like(base["w_s"]))
    assert tied["attn_total"] == 0.0 and tied["top_tied"] == 1.0
    saturated = measured(W_q=base["W_q"] * np.float32(1e4))
    assert saturated["scorer_saturated"] > 0.9


def test_paper_copy_trains_the_sab_methods_with_the_sparsifier_it_is_given():
    pc = _script("paper_copy")
    args = pc.parse_args(["--config", str(EXPERIMENTS / "configs" / "paper_copy_topk_softmax.toml"),
                          "--methods", "sab-mental", "bptt", "--seeds", "3"])
    models = {p["key"]["method"]: p["model"] for p in pc.points(args)}
    assert models["sab-mental"]["sparsifier"] == "topk_softmax"
    assert models["sab-mental"].get("detach_scores", False) is False   # mental updates
    assert "sparsifier" not in models["bptt"]                          # no attention to sparsify
    default = {p["key"]["method"]: p["model"] for p in pc.points(pc.parse_args(["--T", "100"]))}
    assert default["sab"]["sparsifier"] == "threshold"                 # docs/model.md's
    with pytest.raises(SystemExit):
        pc.parse_args(["--sparsifier", "softmax"])     # the dense attention's name: refused
