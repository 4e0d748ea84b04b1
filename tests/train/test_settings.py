"""Each experiment's settings live in one file (experiments/configs/*.toml, minisab/train/settings.py):
the file its results were made with. Each results file's recorded settings equal what its
script takes from its config file; the files are read into Config and TrainConfig; a bad file
gets a message that names the file, the table and the key."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from minisab.train import settings
from minisab.config import Config
from minisab.train.runs import PRESETS, sab_method

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "experiments" / "configs").glob("*.toml"))
# What a script records that is not a setting of the results: where they go, how many run at
# once, which file gave the settings; and options a run left at None (a default TOML omits).
BOOKKEEPING = {"out", "jobs", "smoke", "runs", "config", "plot_only", "fresh", "threads",
               "scheduler", "import_from", "order", "figure"}


def _script(rel):
    path = ROOT / rel
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"_cfg_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod


def _recorded(s):
    doc = json.loads((ROOT / s.results).read_text())
    return doc.get("settings") or {k: v for k, v in doc.items() if k not in ("runs", "machine")}


def _skip_until_a_run_finished(s):
    """A planned experiment (experiments/plan.json) has its config before its first run has
    finished; its results file appears with that run, and the checks below then apply."""
    if not (ROOT / s.results).exists():
        planned = {e["results"] for e in json.loads(
            (ROOT / "experiments" / "plan.json").read_text(encoding="utf-8"))["experiments"]}
        assert str(Path(s.results).relative_to("experiments/results")) in planned, s.results
        pytest.skip(f"{s.results}: no run of the plan has finished yet")


def _script_settings(s):
    """What the script takes from its config file: its options' values with no option given."""
    if s.script.endswith("main_job_sab.py"):        # its options are built inside main()
        return {"preset": s.grid["preset"], "seeds": s.grid["seeds"]}
    mod = _script(s.script)
    return vars(mod.parse_args(["--config", str(ROOT / s.path)]))


def test_there_is_a_config_for_every_results_file_with_settings():
    named = {settings.load(p).results for p in CONFIGS}
    for results in sorted((ROOT / "experiments" / "results").glob("*/results.json")):
        doc = json.loads(results.read_text())
        if isinstance(doc, dict) and ("settings" in doc or "preset" in doc):
            assert str(results.relative_to(ROOT)) in named, results


@pytest.mark.parametrize("path", [p for p in CONFIGS if p.stem != "main_job"],
                         ids=lambda p: p.stem)
def test_results_file_records_the_settings_of_its_config(path):
    s = settings.load(path.relative_to(ROOT))
    _skip_until_a_run_finished(s)
    recorded, given = _recorded(s), _script_settings(s)
    flat = {k: v for k, v in s.flat().items() if k != "task"}
    assert set(flat) <= set(given), sorted(set(flat) - set(given))
    for key, value in recorded.items():
        if key in BOOKKEEPING or (value is None and key not in flat):
            continue
        assert key in flat, f"{s.results} records {key}={value!r}; {path.name} does not say it"
        if key in s.grid and isinstance(s.grid[key], list):
            # a grid's selection: a file made by several calls records the last one's
            assert set(value) <= set(given[key]), (key, value, given[key])
        else:
            assert given[key] == value, (key, given[key], value)


@pytest.mark.parametrize("path", [p for p in CONFIGS if p.stem != "main_job"],
                         ids=lambda p: p.stem)
def test_every_row_belongs_to_the_grid_of_its_config(path):
    s = settings.load(path.relative_to(ROOT))
    _skip_until_a_run_finished(s)
    given = _script_settings(s)
    rows = json.loads((ROOT / s.results).read_text())["runs"]
    for key, option in (("method", "methods"), ("seed", "seeds"), ("task", "tasks")):
        if option in given and rows and key in rows[0]:
            assert {r[key] for r in rows} <= set(given[option]), key


def test_a_config_sets_the_scripts_output_folder_unless_out_is_given(tmp_path):
    dg = _script("experiments/digits.py")
    fashion = str(ROOT / "experiments" / "configs" / "fashion.toml")
    args = dg.parse_args(["--config", fashion])
    assert Path(args.out) == ROOT / "experiments" / "results" / "fashion"
    assert (args.tasks, args.eval_every, args.eval_batch) == (["fashion"], 250, 1000)
    assert dg.parse_args(["--config", fashion, "--out", str(tmp_path)]).out == str(tmp_path)
    assert dg.parse_args(["--config", fashion, "--lr", "0.1"]).lr == 0.1      # options win
    bad = tmp_path / "bad.toml"
    bad.write_text('[grid]\nwindows = 3\n')
    with pytest.raises(SystemExit):
        dg.parse_args(["--config", str(bad)])


def test_main_job_config_is_the_cpu_preset_and_its_sab():
    s = settings.load(ROOT / "experiments" / "configs" / "main_job.toml")
    preset = PRESETS["cpu"]
    assert s.task == preset["task"]
    assert s.model == preset["model"] and s.train == preset["train"]
    from minisab.train.tasks import make_task
    spec = dict(s.task)
    task = make_task(spec.pop("name"), spec.pop("T"), **spec)
    cfg = s.config(task, **sab_method())
    assert cfg.detach_scores and cfg.method == "sab" and cfg.attention == "topk"
    assert s.train_config(seed=2).seed == 2 and s.train_config().lr == preset["train"]["lr"]


def test_bad_files_are_refused_naming_file_table_and_key(tmp_path):
    cases = {
        "[model]\nhiden_size = 3\n": ("[model] hiden_size", "accepted keys are"),
        "[model]\nhidden_size = 0\n": ("[model]", "hidden_size=0"),
        "[train]\nlr = -1.0\n": ("[train]", "lr"),
        "[task]\nname = \"mnist\"\n": ("[task] name", "'digits'"),
        "[tasks]\n": ("'tasks'", "accepted are the tables"),
        "[model\n": ("not valid TOML", "bad.toml"),
    }
    for text, words in cases.items():
        f = tmp_path / "bad.toml"
        f.write_text(text)
        with pytest.raises(settings.SettingsError) as e:
            settings.load(f)
        assert all(w in str(e.value) for w in words), (text, str(e.value))
    with pytest.raises(settings.SettingsError, match="no such file"):
        settings.load(tmp_path / "missing.toml")


def test_none_and_lists_reach_the_options(tmp_path):
    import argparse
    f = tmp_path / "s.toml"
    f.write_text('[model]\nattention = "none"\nmethod = "bptt"\nk_trunc = "none"\n'
                 '[train]\nsteps = 7\n[grid]\nseeds = 3\n')
    s = settings.load(f)
    assert s.model == {"attention": None, "method": "bptt", "k_trunc": None}
    assert Config(**s.model).attention is None
    p = argparse.ArgumentParser(prog="x")
    for name, nargs in (("--attention", None), ("--method", None), ("--k-trunc", None),
                        ("--steps", None), ("--seeds", "+")):
        p.add_argument(name, nargs=nargs)
    d = settings.option_defaults(s, p)
    assert d == {"attention": "none", "method": "bptt", "k_trunc": None, "steps": 7,
                 "seeds": [3]}
    p2 = argparse.ArgumentParser(prog="y")
    p2.add_argument("--steps")
    with pytest.raises(settings.SettingsError, match="'attention' is not an option of y"):
        settings.option_defaults(s, p2)
