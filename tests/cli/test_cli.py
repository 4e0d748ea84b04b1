"""The command line: help, refused input (exit 2, no traceback), run folders, eval, compare."""
import json

import numpy as np
import pytest

from helpers import run_cli  # noqa: E402

TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--attn-size", "3", "--k-top", "2", "--k-att", "2", "--k-trunc", "2", "--batch", "2",
        "--eval-batch", "4", "--no-progress"]


run = run_cli                  # tests/helpers.py


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
    (["train", "--seed", "-1"], "argument --seed: expected an integer from 0 to 2**63 - 1"),
    (["compare", "--seed", "-1"], "argument --seed: expected an integer from 0"),
    (["gradcheck", "--seed", "-1"], "argument --seed: expected an integer from 0"),
    (["gradcheck", "--steps", "0"], "argument --steps: expected an integer >= 1"),
    (["gradcheck", "--steps", "-1"], "argument --steps: expected an integer >= 1"),
    (["gradcheck", "--batch", "-2"], "argument --batch: expected an integer >= 1"),
    (["gradcheck", "--batch", "0"], "argument --batch: expected an integer >= 1"),
    (["train", "--forget-bias", "nan"], "argument --forget-bias: expected a finite number"),
    (["train", "--T", "10000000"], "invalid sizes: this run needs at least"),
    (["train", "--hidden-size", "100000"], "invalid sizes: this run needs at least"),
    (["train", "--attn-size", "1000000000"], "A=1000000000), and"),
    (["compare", "--hidden-size", "100000"], "invalid sizes: "),
    (["gradcheck", "--steps", "1000000000"], "invalid sizes: this gradient check needs"),
    (["gradcheck", "--attn-size", "1000000000"], "a smaller --hidden-size, --attn-size, "
     "--steps or --batch"),
    (["train", "--attention", "topk", "--sparsifier", "softmax", "--temperature", "1e-300"],
     "invalid temperature=1e-300: accepted values are finite numbers >= 1.19e-07"),
    (["compare", "--scheduler", "tcp://localhost"], "invalid scheduler='tcp://localhost'"),
    (["compare", "--scheduler", "http://127.0.0.1:8786"], "accepted values are addresses "
     "'tcp://host:port'"),
    (["train", "--task", "adding", "--mask", "recall"], "invalid mask='recall' for task='adding'"),
    (["train", "--text-file", "x.txt"], "invalid text_file="),
    (["train", "--name", "../../x"], "invalid --name='../../x': accepted values are one folder"),
    (["compare", "--name", ".."], "invalid --name='..'"),
    (["compare", "--T", "10000000"], "sequences of 10000006 steps"),
    (["train", "--allow-changes"], "invalid --allow-changes without --resume"),
    (["compare", "--resume"], "holds no checkpoint of a comparison"),
    (["eval", "/dev/null"], "invalid run='/dev/null': it is a file"),
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


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert code == 2 and "--overwrite" in err and "--resume" in err    # nothing is lost
    same = ["compare", "--runs-dir", str(tmp_path), "--name", "c", "--T", "3", "--n-digits",
            "2", "--n-symbols", "3", "--hidden-size", "5", "--k-trunc", "2", "--steps", "3",
            "--eval-every", "3", "--eval-batch", "4", "--batch", "2", "--no-progress", "--resume"]
    code, out, err = run(same, capsys)
    assert code == 0 and [json.loads(x)["step"] for x in (top / "sab" / "metrics.jsonl")
                          .read_text().splitlines()] == [0, 3]    # a finished one: reloaded
    code, _, err = run(same + ["--lr", "0.5"], capsys)
    assert code == 2 and "changed training options (lr: 0.01 in the run, 0.5 now)" in err
    code, _, err = run(["compare", "--runs-dir", str(tmp_path), "--name", "c", "--resume"],
                       capsys)
    assert code == 2 and "belongs to another model" in err and "Traceback" not in err


def test_runs_dir_that_is_a_file_or_read_only(tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("x")
    code, _, err = run(["train", *TINY, "--runs-dir", str(tmp_path / "f")], capsys)
    assert code == 2 and "it is a file" in err and "Traceback" not in err
    (tmp_path / "ro").mkdir(mode=0o500)
    import minisab.cli.checks       # root may write anywhere: ask os.access as a user would
    monkeypatch.setattr(minisab.cli.checks.os, "access", lambda path, mode: False)
    code, _, err = run(["train", *TINY, "--runs-dir", str(tmp_path / "ro" / "runs")], capsys)
    assert code == 2 and "/ro' cannot be written" in err and "Traceback" not in err


def test_a_full_disk_exits_2_with_advice(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINISAB_FAULT", "checkpoint-write@2:ENOSPC")
    code, _, err = run(["train", *TINY, "--steps", "4", "--eval-every", "2", "--runs-dir",
                        str(tmp_path), "--name", "r"], capsys)
    assert code == 2 and "No space left on device" in err and "--resume" in err
    assert "Traceback" not in err and not list((tmp_path / "r").glob(".tmp-*"))


def test_config_json_without_a_section_is_refused_by_eval(tmp_path, capsys):
    assert run(["train", *TINY, "--steps", "2", "--runs-dir", str(tmp_path), "--name", "r"],
               capsys)[0] == 0
    path = tmp_path / "r" / "config.json"
    d = json.loads(path.read_text())
    del d["model"]
    path.write_text(json.dumps(d))
    code, _, err = run(["eval", str(tmp_path / "r")], capsys)
    assert code == 2 and "has no 'model' section" in err and "Traceback" not in err


def test_relative_text_file_and_eval_from_elsewhere(tmp_path, capsys, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "book.txt").write_text("the quick brown fox jumps. " * 40)
    monkeypatch.chdir(tmp_path / "a")
    code, _, err = run(["train", "--task", "text", "--text-file", "book.txt", "--T", "8",
                        "--attention", "none", "--method", "tbptt", "--hidden-size", "4",
                        "--steps", "2", "--eval-batch", "2", "--batch", "2", "--no-progress",
                        "--runs-dir", str(tmp_path / "runs"), "--name", "t"], capsys)
    assert code == 0, err
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["eval", str(tmp_path / "runs" / "t"), "--batch", "2"], capsys)
    assert code == 0 and "bpc" in out, err


def test_compare_paper_preset_gets_its_own_folder(tmp_path, capsys, monkeypatch):
    import minisab.cli.compare
    seen = {}
    monkeypatch.setattr(minisab.cli.compare, "run_compare",
                        lambda preset, runs_dir, name, *a, **kw: seen.update(name=name) or [])
    run(["compare", "--preset", "paper", "--runs-dir", str(tmp_path), "--no-progress"], capsys)
    assert seen["name"] == "copy-paper"


def test_after_a_nan_stop_the_heat_map_uses_the_last_good_checkpoint(tmp_path, capsys):
    from minisab.backend import get_backend, to_host
    from minisab.train.checkpoint import load_checkpoint
    from minisab.plots.reports import heatmap_model
    from minisab.train.runs import load_run
    assert run(["train", *TINY, "--steps", "2", "--runs-dir", str(tmp_path), "--name", "r"],
               capsys)[0] == 0
    cfg, task, params = load_run(tmp_path / "r")
    nan = {k: v * np.nan for k, v in params.items()}
    be = get_backend("numpy")
    for stopped, finite in (("nan", True), ("done", False)):
        drawn = heatmap_model({"stopped": stopped, "params": nan}, cfg, task, tmp_path / "r", be)
        assert all(np.isfinite(to_host(v)).all() for v in drawn[0].values()) == finite
    good = load_checkpoint(tmp_path / "r" / "checkpoint.npz")["params"]
    drawn = heatmap_model({"stopped": "nan", "params": nan}, cfg, task, tmp_path / "r", be)[0]
    assert all(np.array_equal(to_host(drawn[k]), good[k]) for k in good)
