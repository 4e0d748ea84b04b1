"""The command line: help, refused input (exit 2, no traceback), run folders, eval, compare."""
import json
import os

import numpy as np
import pytest

from minisab.cli import main

TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--attn-size", "3", "--k-top", "2", "--k-att", "2", "--k-trunc", "2", "--batch", "2",
        "--eval-batch", "4", "--no-progress"]


def run(argv, capsys):
    """main(argv) -> (exit status, stdout, stderr), whether it returns or exits."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["train", "eval", "compare", "gradcheck"])
def test_help_shows_defaults(command, capsys):
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0 and "usage: python -m minisab " + command in out
    if command != "eval":
        assert "(default:" in out


@pytest.mark.parametrize("argv, words", [
    (["train", "--lr", "-1"], "argument --lr: expected a finite number > 0"),
    (["train", "--task", "mnist"], "argument --task: invalid choice: 'mnist' (choose from"),
    (["train", "--mask", "x"], "argument --mask: invalid choice"),
    (["train", "--steps", "0"], "argument --steps: expected an integer >= 1"),
    (["train", "--attention", "none", "--method", "sab"], "invalid method='sab'"),
    (["train", "--resume", "--overwrite"], "--resume with --overwrite"),
    (["train", "--task", "text", "--text-file", "/no/such/file.txt"], "does not exist"),
    (["compare", "--preset", "gpu"], "argument --preset: invalid choice: 'gpu'"),
    (["compare", "--k-trunc", "0"], "argument --k-trunc"),
    (["eval", "/no/such/run"], "invalid run='/no/such/run': it does not exist"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_exits_2_without_traceback(argv, words, capsys, tmp_path):
    code, out, err = run(argv + ["--runs-dir", str(tmp_path)] if argv[0] in ("train", "compare")
                         else argv, capsys)
    assert code == 2
    assert words in err and "Traceback" not in err + out


@pytest.mark.parametrize("content, words", [(b"", "empty"), (b"\x00\x01\x02binary", "binary")])
def test_bad_text_file_exits_2(tmp_path, capsys, content, words):
    path = tmp_path / "data.txt"
    path.write_bytes(content)
    code, _, err = run(["train", "--task", "text", "--text-file", str(path), "--runs-dir",
                        str(tmp_path)], capsys)
    assert code == 2 and words in err and "Traceback" not in err


def test_train_writes_the_run_folder_then_eval_and_resume(tmp_path, capsys):
    base = ["train", *TINY, "--runs-dir", str(tmp_path), "--name", "r", "--eval-every", "3"]
    code, out, err = run(base + ["--steps", "6"], capsys)
    assert code == 0, err
    folder = tmp_path / "r"
    for name in ("config.json", "metrics.jsonl", "checkpoint.npz", "summary.md",
                 "learning_curves.png", "attention.png"):
        assert (folder / name).stat().st_size > 0, name
    config = json.loads((folder / "config.json").read_text())
    assert config["model"]["method"] == "sab" and config["task"]["n_digits"] == 2
    assert "accuracy" in (folder / "summary.md").read_text()
    code, _, err = run(base + ["--steps", "6"], capsys)         # refuses to overwrite
    assert code == 2 and "--resume" in err
    code, _, err = run(base + ["--steps", "9", "--resume"], capsys)
    assert code == 0, err
    assert [r["step"] for r in map(json.loads, (folder / "metrics.jsonl").read_text().split(
        "\n")[:-1])] == [0, 3, 6, 9]
    code, out, err = run(["eval", str(folder), "--T", "3", "6", "--batch", "4"], capsys)
    assert code == 0, err
    assert "| 3 (trained) |" in out and "| 6 |" in out
    rows = json.loads((folder / "eval.json").read_text())
    assert [r["T"] for r in rows] == [3, 6] and all(0 <= r["accuracy"] <= 1 for r in rows)
    code, _, err = run(base + ["--steps", "12", "--resume", "--hidden-size", "6"], capsys)
    assert code == 2 and "hidden_size: checkpoint 5 vs now 6" in err
    assert json.loads((folder / "config.json").read_text())["model"]["hidden_size"] == 5


def test_corrupt_checkpoint_exits_2(tmp_path, capsys):
    base = ["train", *TINY, "--runs-dir", str(tmp_path), "--name", "r", "--steps", "2"]
    assert run(base, capsys)[0] == 0
    (tmp_path / "r" / "checkpoint.npz").write_bytes(b"\x00" * 64)
    code, _, err = run(base + ["--resume", "--steps", "4"], capsys)
    assert code == 2 and "corrupt" in err and "Traceback" not in err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_exits_1_with_advice(tmp_path, capsys):
    code, _, err = run(["train", "--task", "adding", "--T", "6", "--attention", "none",
                        "--method", "bptt", "--hidden-size", "4", "--optimizer", "sgd",
                        "--lr", "1e8", "--clip", "none", "--steps", "40", "--eval-every", "1",
                        "--eval-batch", "4", "--batch", "2", "--no-progress", "--runs-dir",
                        str(tmp_path)], capsys)
    assert code == 1 and "smaller learning rate" in err and "Traceback" not in err
    assert (tmp_path / "adding-bptt" / "checkpoint.npz").exists()


def test_compare_tiny(tmp_path, capsys):
    code, out, err = run(["compare", "--T", "3", "--n-digits", "2", "--n-symbols", "3",
                          "--hidden-size", "5", "--k-trunc", "2", "--steps", "3",
                          "--eval-every", "3", "--eval-batch", "4", "--batch", "2",
                          "--no-progress", "--runs-dir", str(tmp_path), "--name", "c"], capsys)
    assert code == 0, err
    for label in ("lstm bptt", "lstm tbptt", "sab"):
        assert f"| {label} |" in out
        assert (tmp_path / "c" / label.replace(" ", "-") / "checkpoint.npz").exists()
    top = tmp_path / "c"
    for name in ("summary.md", "results.json", "learning_curves.png", "attention.png"):
        assert (top / name).stat().st_size > 0, name
    rows = json.loads((top / "results.json").read_text())
    assert [r["step"] for r in rows] == [3, 3, 3]
    assert all(r["peak_mib"] > 0 and np.isfinite(r["loss"]) for r in rows)
    model = json.loads((top / "sab" / "config.json").read_text())["model"]
    assert model["k_trunc"] == 2 and model["hidden_size"] == 5 and model["k_att"] == 1
    code, _, err = run(["compare", "--runs-dir", str(tmp_path), "--name", "c"], capsys)
    assert code == 2 and "--overwrite" in err                   # nothing is lost


def test_gradcheck_still_works(capsys):
    code, out, _ = run(["gradcheck", "--steps", "4"], capsys)
    assert code == 0 and "W_x" in out


def test_ctrl_c_writes_a_checkpoint_and_exits_cleanly(tmp_path):
    """A real SIGINT to a training process: exit status 130, a loadable checkpoint, no traceback."""
    import signal
    import subprocess
    import sys
    import time

    from minisab.checkpoint import load_checkpoint

    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "minisab", "train", *TINY, "--steps",
                             "1000000", "--eval-every", "50", "--runs-dir", str(tmp_path),
                             "--name", "r"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env,
                            # A shell's background jobs inherit SIGINT ignored, and Python then
                            # keeps ignoring it: give the child the default disposition, as a
                            # terminal's foreground process has.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    metrics = tmp_path / "r" / "metrics.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        time.sleep(0.05)                  # wait until training is under way (step 50 evaluated)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode() and "--resume" in err.decode()
    ck = load_checkpoint(tmp_path / "r" / "checkpoint.npz")
    assert ck["meta"]["step"] >= 50
    assert not [f for f in os.listdir(tmp_path / "r") if f.startswith(".tmp")]


def test_eval_refuses_a_changed_text_file(tmp_path, capsys):
    path = tmp_path / "book.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 20, encoding="utf-8")
    code, _, err = run(["train", "--task", "text", "--text-file", str(path), "--T", "8",
                        "--attention", "none", "--method", "tbptt", "--hidden-size", "4",
                        "--steps", "2", "--eval-batch", "2", "--batch", "2", "--no-progress",
                        "--runs-dir", str(tmp_path), "--name", "t"], capsys)
    assert code == 0, err
    code, out, err = run(["eval", str(tmp_path / "t"), "--T", "8", "16", "--batch", "4"], capsys)
    assert code == 0 and "bpc" in out, err
    path.write_text("a different text, with other characters: 0123456789! " * 20)
    code, _, err = run(["eval", str(tmp_path / "t")], capsys)
    assert code == 2 and "another task" in err and "Traceback" not in err
