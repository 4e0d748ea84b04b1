"""A new user's first commands: train with no options trains the course's one SAB on the cpu
preset's task; every command's help shows the defaults it will use, explains each option in
words, ends with examples and names the program as it was started; train --config takes a
settings file's values; eval and a run's summary report the same held-out number."""
import argparse
import json
import sys
from pathlib import Path

import pytest

from minisab.cli.commands import build_parser
from minisab.cli.options import config_from_args, detach_scores
from minisab.train.runs import PRESETS, sab_method
from helpers import run_cli  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["gradcheck", "train", "eval", "compare", "download"]


run = run_cli                  # tests/helpers.py


def _options(parser, command):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [a for a in sub.choices[command]._actions if a.dest != "help"]


def test_train_with_no_options_is_the_cpu_preset_and_the_one_sab():
    args = build_parser(["train"]).parse_args(["train"])
    cpu = PRESETS["cpu"]
    cfg = config_from_args(args, input_size=10, output_size=10)
    for k, v in cpu["model"].items():
        assert getattr(cfg, k) == v, k
    for k, v in sab_method().items():
        assert getattr(cfg, k) == v, k
    for k, v in cpu["train"].items():
        assert getattr(args, k) == v, k
    assert args.task == "copy" and args.seed == 0
    # a plain LSTM asked for by its method gets no detach_scores (it has no scores)
    lstm = build_parser(["train"]).parse_args(["train", "--attention", "none", "--method",
                                               "tbptt"])
    assert detach_scores(lstm) is False
    mental = build_parser(["train"]).parse_args(["train", "--no-detach-scores"])
    assert detach_scores(mental) is False


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_explained_in_words_and_the_help_ends_with_examples(command, capsys):
    for action in _options(build_parser([command]), command):
        words = (action.help or "").split()
        assert len(words) >= 3, (command, action.dest, action.help)
        assert "MODEL.md" not in action.help
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0 and out.rstrip().split("examples:")[-1].strip().startswith(
        "python -m minisab " + command)


def test_symbols_stand_in_brackets_beside_the_words(capsys):
    _, out, _ = run(["train", "--help"], capsys)
    for symbol in ("[H]", "[A]", "[k_top]", "[k_att]", "[k_trunc]", "[B]", "[T]", "[τ]"):
        assert symbol in out, symbol
    _, out, _ = run(["gradcheck", "--help"], capsys)
    assert "features per input step [I]" in " ".join(out.split())


def _default_of(out, option):
    text = " ".join(out.split())
    start = text.index(option + " ")
    return text[start:text.index(")", text.index("(default:", start))]


def test_compare_help_shows_the_chosen_presets_defaults(capsys):
    _, out, _ = run(["compare", "--help"], capsys)
    assert "(default: 3, from preset cpu" in _default_of(out, "--n-digits N_DIGITS")
    assert "(default: 0.01, from preset cpu" in _default_of(out, "--lr LR")
    _, out, _ = run(["compare", "--preset", "paper", "--help"], capsys)
    assert "(default: 10, from preset paper" in _default_of(out, "--n-digits N_DIGITS")
    assert "(default: 20000, from preset paper" in _default_of(out, "--steps STEPS")
    _, out, _ = run(["train", "--help"], capsys)
    assert "(default: 3, from the cpu preset" in _default_of(out, "--n-digits N_DIGITS")
    assert "(default: 0.01" in _default_of(out, "--lr LR")


def test_the_program_is_named_as_it_was_started(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/home/u/.local/bin/minisab", "train", "--help"])
    _, out, _ = run(["train", "--help"], capsys)
    assert out.startswith("usage: minisab train") and "\n  minisab train --config" in out
    monkeypatch.setattr(sys, "argv", [str(ROOT / "minisab" / "__main__.py")])
    _, out, _ = run(["train", "--help"], capsys)
    assert out.startswith("usage: python -m minisab train")


def test_train_config_gives_the_files_settings_and_options_win(tmp_path):
    digits = str(ROOT / "experiments" / "configs" / "digits.toml")
    args = build_parser(["train", "--config", digits]).parse_args(
        ["train", "--config", digits, "--steps", "7"])
    cfg = config_from_args(args, input_size=1, output_size=10)
    assert (args.task, args.lr, args.eval_batch, args.steps) == ("digits", 3e-3, 360, 7)
    assert (cfg.k_att, cfg.k_trunc, cfg.detach_scores) == (4, 8, True)
    text = str(ROOT / "experiments" / "configs" / "text.toml")
    args = build_parser(["train", "--config", text]).parse_args(["train", "--config", text])
    assert (args.task, args.T, args.hidden_size) == ("text", 100, 128)


def test_a_config_train_cannot_use_is_refused_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nmemory_write = "h_hat"\n')
    code, _, err = run(["train", "--config", str(bad)], capsys)
    assert code == 2 and "'memory_write' is not an option of" in err and "Traceback" not in err
    code, _, err = run(["train", "--config", str(tmp_path / "none.toml")], capsys)
    assert code == 2 and "no such file" in err


def test_eval_reports_the_number_of_the_runs_summary(tmp_path, capsys):
    base = ["train", "--T", "3", "--n-digits", "2", "--hidden-size", "5", "--attn-size", "3",
            "--steps", "3", "--eval-every", "3", "--eval-batch", "7", "--batch", "2",
            "--no-progress", "--runs-dir", str(tmp_path)]
    code, out, err = run(base, capsys)
    assert code == 0, err
    assert "SAB, the course's one" in out and "SAB, the course's one" in err
    summary = (tmp_path / "copy-sab" / "summary.md").read_text()
    last = json.loads((tmp_path / "copy-sab" / "metrics.jsonl").read_text().splitlines()[-1])
    assert f"held-out loss: {last['loss']:.4g}" in summary and "7 sequences" in summary
    code, out, _ = run(["eval", str(tmp_path / "copy-sab")], capsys)
    assert code == 0 and "the run's own" in out
    rows = json.loads((tmp_path / "copy-sab" / "eval.json").read_text())
    assert rows[0]["loss"] == last["loss"] and rows[0]["accuracy"] == last["accuracy"]
    code, out, _ = run(["eval", str(tmp_path / "copy-sab"), "--batch", "9"], capsys)
    assert "a new draw, 9 sequences" in out
