"""Run folders belong to one run: one writer at a time (minisab/train/runlock.py), nothing
overwritten without --overwrite (minisab/train/runfolder.py), and a refused command leaves every file
of the folder byte for byte as it was (SHA-256 of every file before and after)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from minisab.cli.commands import main
from minisab.train.runlock import LOCK, RunFolderBusy, hold_run_folder, holder
from helpers import run_cli  # noqa: E402

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--attn-size", "3", "--k-top", "2", "--k-att", "2", "--k-trunc", "2", "--batch", "2",
        "--eval-batch", "4", "--no-progress", "--steps", "4", "--eval-every", "2"]
COMPARE = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
           "--k-trunc", "2", "--steps", "4", "--eval-every", "2", "--eval-batch", "4",
           "--batch", "2", "--no-progress", "--jobs", "1"]


run = run_cli                  # tests/helpers.py


def hashes(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones too) -> SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A finished train run ("t") and a finished single-seed comparison ("c"), made once."""
    runs = tmp_path_factory.mktemp("made")
    for argv in (["train", *TINY, "--name", "t"], ["compare", *COMPARE, "--name", "c"]):
        try:
            code = main([*argv, "--runs-dir", str(runs)])
        except SystemExit as e:
            code = e.code
        assert code == 0
    return runs


@pytest.fixture
def runs(made, tmp_path):
    shutil.copytree(made, tmp_path / "runs")
    return tmp_path / "runs"


# ------------------------------------------------------------------------ refusals
def _truncate(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("argv, damage, words", [
    (["train", *TINY, "--name", "t"], None, "already holds a checkpoint: continue it with "
     "--resume"),
    (["train", *TINY, "--name", "t", "--resume", "--steps", "2"], None,
     "invalid steps=2 (--steps): the checkpoint in"),
    (["train", *TINY, "--name", "t", "--resume", "--lr", "0.5"], None,
     "resume with changed training options (lr: 0.01 in the run, 0.5 now)"),
    (["train", *TINY, "--name", "t", "--resume", "--allow-changes", "--optimizer", "sgd"], None,
     "does not fit this run: its optimiser state holds the slots ['m', 'v'], optimizer='sgd' "
     "keeps ['v']"),
    (["train", *TINY, "--name", "t", "--resume", "--hidden-size", "6"], None,
     "belongs to another model"),
    (["train", *TINY, "--name", "t", "--resume"], "t/checkpoint.npz", "is corrupt"),
    (["train", *TINY, "--name", "t", "--resume", "--allow-changes", "--lr", "0.5"],
     "t/checkpoint.npz", "is corrupt"),
    (["train", *TINY, "--name", "t", "--resume", "--T", "1000000000"], None,
     "invalid sizes: this run needs at least"),
    (["train", *TINY, "--name", "t", "--hidden-size", "100000"], None, "invalid sizes"),
    (["train", *TINY, "--name", "c"], None, "holds a comparison ('python -m minisab compare'), "
     "not a run of 'python -m minisab train': pick a free name (--name c-2), or --overwrite"),
    (["train", *TINY, "--name", "c", "--resume"], None, "holds a comparison"),
    (["compare", *COMPARE, "--name", "t"], None, "holds a run of 'python -m minisab train', "
     "not a comparison: pick a free name (--name t-2), or --overwrite"),
    (["compare", *COMPARE, "--name", "c"], None, "already holds a comparison: continue it"),
    (["compare", *COMPARE, "--name", "c", "--resume", "--lr", "0.5"], None,
     "resume with changed training options"),
    (["compare", *COMPARE, "--name", "c", "--resume", "--steps", "2"], None,
     "invalid steps=2 (--steps)"),
    (["compare", *COMPARE, "--name", "c", "--resume"], "c/sab/checkpoint.npz", "is corrupt"),
    (["compare", *COMPARE, "--name", "c", "--seeds", "1", "2"], None, "holds a comparison of "
     "seed 0, not of 1, 2; its results would be overwritten: pick a free name (--name c-2), "
     "or --overwrite"),
    (["compare", *COMPARE, "--name", "c", "--seeds", "3", "--resume"], None,
     "holds a comparison of seed 0, not of 3"),
    (["compare", *COMPARE, "--name", "c", "--resume", "--scheduler", "tcp://127.0.0.1:1"],
     None, "nothing answers at 127.0.0.1:1"),
    (["compare", *COMPARE, "--name", "c", "--resume", "--scheduler", "http://x"], None,
     "invalid scheduler='http://x'"),
    (["eval", "t", "--T", "100000000"], None, "invalid sizes"),
    (["eval", "t"], "t/checkpoint.npz", "is corrupt"),
    (["eval", "c/sab"], "c/sab/config.json", "is not valid JSON"),
])
def test_a_refused_command_leaves_every_file_as_it_was(runs, capsys, argv, damage, words):
    if damage:
        _truncate(runs / damage)
    if argv[0] == "eval":
        argv = ["eval", str(runs / argv[1]), *argv[2:]]
    else:
        argv = [*argv, "--runs-dir", str(runs)]
    before = hashes(runs)
    code, out, err = run(argv, capsys)
    assert code == 2 and "Traceback" not in err + out, err
    assert words in err, err
    assert hashes(runs) == before


def test_a_refused_resume_of_a_new_name_makes_no_folder(tmp_path, capsys):
    code, _, err = run(["train", *TINY, "--name", "new", "--resume", "--runs-dir",
                        str(tmp_path / "runs")], capsys)
    assert code == 2 and "no checkpoint at" in err
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------ --overwrite
def test_overwrite_starts_clean(runs, capsys):
    code, _, err = run(["train", *TINY, "--name", "t", "--resume", "--steps", "6",
                        "--allow-changes", "--lr", "0.002", "--runs-dir", str(runs)], capsys)
    assert code == 0 and (runs / "t" / "changes.jsonl").exists(), err
    code, _, err = run(["train", *TINY, "--name", "t", "--overwrite", "--runs-dir", str(runs)],
                       capsys)
    assert code == 0, err
    assert not (runs / "t" / "changes.jsonl").exists()
    assert [r["step"] for r in map(json.loads, (runs / "t" / "metrics.jsonl").read_text()
                                   .splitlines())] == [0, 2, 4]
    # the other kind, with --overwrite: the comparison's folder becomes a train run
    code, _, err = run(["train", *TINY, "--name", "c", "--overwrite", "--runs-dir", str(runs)],
                       capsys)
    assert code == 0, err
    assert sorted(p.name for p in (runs / "c").iterdir()) == [
        "attention.png", "checkpoint.npz", "config.json", "learning_curves.png",
        "metrics.jsonl", "summary.md"]


def test_compare_over_other_seeds_with_overwrite(runs, capsys):
    code, _, err = run(["compare", *COMPARE, "--name", "c", "--seeds", "5", "--overwrite",
                        "--steps", "2", "--runs-dir", str(runs)], capsys)
    assert code == 0, err
    assert {r["seed"] for r in json.loads((runs / "c" / "results.json").read_text())} == {5}
    code, _, err = run(["compare", *COMPARE, "--name", "c", "--seeds", "1", "2", "--resume",
                        "--runs-dir", str(runs)], capsys)
    assert code == 2 and "holds a comparison of seed 5, not of 1, 2" in err
    (runs / "t").rename(runs / "c-2")           # the free name suggested is free
    code, _, err = run(["train", *TINY, "--name", "c", "--runs-dir", str(runs)], capsys)
    assert code == 2 and "pick a free name (--name c-3)" in err


def test_a_name_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "x").write_text("")
    code, _, err = run(["train", *TINY, "--name", "x", "--runs-dir", str(tmp_path)], capsys)
    assert code == 2 and "run folder" in err and "is a file: pick another --name" in err


def test_a_folder_of_other_files_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "runs" / "mine").mkdir(parents=True)
    (tmp_path / "runs" / "mine" / "notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        code, _, err = run(["train", *TINY, "--name", "mine", "--runs-dir",
                            str(tmp_path / "runs"), *extra], capsys)
        assert code == 2 and "holds files that are not a minisab run ('notes.txt')" in err
    assert os.listdir(tmp_path / "runs" / "mine") == ["notes.txt"]


# ------------------------------------------------------------------------ the lock
HOLDER = textwrap.dedent("""
    import sys, time
    from minisab.train.runlock import hold_run_folder
    with hold_run_folder(sys.argv[1]) as hold:
        hold.commit()
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_second_writer_is_refused_naming_the_holder_and_a_dead_ones_lock_is_taken(
        runs, capsys):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(runs / "t")], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert holder(runs / "t")["pid"] == proc.pid
        before = hashes(runs)
        for argv in (["train", *TINY, "--name", "t", "--resume", "--steps", "6"],
                     ["train", *TINY, "--name", "t", "--overwrite"]):
            code, _, err = run([*argv, "--runs-dir", str(runs)], capsys)
            assert code == 2 and f"is being written by process {proc.pid} (" in err, err
        assert hashes(runs) == before
        with pytest.raises(RunFolderBusy, match=f"process {proc.pid}"):
            with hold_run_folder(runs / "t"):
                pass
        code, out, err = run(["eval", str(runs / "t")], capsys)     # a reader is welcome
        assert code == 0 and "eval.json not written" in err and "| T |" in out
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert json.loads((runs / "t" / LOCK).read_text())["pid"] == proc.pid     # left behind
    assert holder(runs / "t") is None
    code, _, err = run(["train", *TINY, "--name", "t", "--resume", "--steps", "6", "--runs-dir",
                        str(runs)], capsys)
    assert code == 0, err
    assert f"ended without letting go of it (process {proc.pid}, killed?); taken over" in err
    assert not (runs / "t" / LOCK).exists()                   # a finished run lets go


class Refused(Exception):
    """A refusal of the tests' own (not a ValueError, which a failed json.loads also is)."""


def test_a_refusal_puts_the_lock_file_back(tmp_path):
    folder = tmp_path / "a" / "b" / "run"
    with pytest.raises(Refused):
        with hold_run_folder(folder):
            raise Refused()
    assert not (tmp_path / "a").exists()                        # the folders it made: gone
    folder.mkdir(parents=True)
    stale = b'{"pid": 999999999, "host": "elsewhere", "command": "a longer name than ours"}\n'
    (folder / LOCK).write_bytes(stale)
    with pytest.raises(Refused):
        with hold_run_folder(folder) as hold:
            assert hold.taken_over["pid"] == 999999999
            assert json.loads((folder / LOCK).read_text())["pid"] == os.getpid()
            raise Refused()
    assert (folder / LOCK).read_bytes() == stale
    with hold_run_folder(folder) as outer:
        with hold_run_folder(folder) as inner:                  # the same process: shared
            assert inner is outer
            inner.commit()
        assert (folder / LOCK).exists()
    assert not (folder / LOCK).exists()


def test_an_interrupted_first_checkpoint_says_to_run_again(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINISAB_FAULT", "checkpoint-write@0:ENOSPC")
    code, _, err = run(["train", *TINY, "--name", "x", "--runs-dir", str(tmp_path)], capsys)
    assert code == 2 and "first checkpoint could not be written" in err
    assert "run the same command again, without --resume" in err and "continue with" not in err
    monkeypatch.delenv("MINISAB_FAULT")
    code, _, err = run(["train", *TINY, "--name", "x", "--runs-dir", str(tmp_path)], capsys)
    assert code == 0, err                                       # and it does work


def test_overwrite_never_deletes_a_run_another_process_writes(runs, capsys, monkeypatch):
    monkeypatch.setattr("minisab.cli.compare.SUBRUN_WAIT_S", 0.5)     # compare waits for a worker
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(runs / "c" / "sab")], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = hashes(runs)
        for argv in (["train", *TINY], ["compare", *COMPARE]):
            code, _, err = run([*argv, "--name", "c", "--overwrite", "--runs-dir", str(runs)],
                               capsys)
            assert code == 2 and f"is being written by process {proc.pid} (" in err, err
            assert "before --overwrite deletes it" in err or argv[0] == "compare"
        assert hashes(runs) == before
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_a_checkpoint_with_nan_parameters_is_refused(runs, capsys):
    from minisab.train.checkpoint import load_checkpoint, save_checkpoint
    path = runs / "t" / "checkpoint.npz"
    ck = load_checkpoint(path)
    ck["params"]["b"][0] = float("nan")
    save_checkpoint(path, ck["params"], ck["opt_state"], ck["meta"])
    before = hashes(runs)
    for argv in (["train", *TINY, "--name", "t", "--resume", "--steps", "6", "--runs-dir",
                  str(runs)], ["eval", str(runs / "t")]):
        code, _, err = run(argv, capsys)
        assert code == 2 and "params['b'] holds NaN or infinite values" in err, err
    assert hashes(runs) == before
