"""experiments/run_plan.py: the pending runs of the plan as commands, run side by side; a failed
command is reported, an unknown experiment refused with the accepted names."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def rp(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("_run_plan", ROOT / "experiments" / "run_plan.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    results = tmp_path / "results" / "demo"
    results.mkdir(parents=True)
    plan = {"experiments": [
        {"name": "demo", "what": "a demo", "results": "demo/results.json", "steps": 10,
         "key": ["method", "seed"], "command": "train --methods {method} --seeds {seed}",
         "runs": [{"method": ["sab", "bptt"], "seed": [0, 1]}]},
        {"name": "grid", "what": "a grid", "results": "grid/results.json", "steps": 10,
         "key": ["seed"], "command": "bash grid.sh", "runs": [{"seed": [0, 1, 2]}]}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    rows = [{"method": "sab", "seed": 0, "steps": 10}, {"method": "sab", "seed": 1, "steps": 4},
            {"method": "bptt", "seed": 0, "steps": 10}, {"method": "bptt", "seed": 1, "steps": 10}]
    (results / "results.json").write_text(json.dumps({"runs": rows}), encoding="utf-8")
    monkeypatch.setattr(mod._generate_plan, "PLAN", tmp_path / "plan.json")
    monkeypatch.setattr(mod._generate_plan, "RESULTS", tmp_path / "results")
    return mod


def test_lists_the_pending_runs_in_the_plans_order(rp, capsys):
    assert rp.pending_commands() == [("demo", "train --methods sab --seeds 1"),
                                     ("grid", "bash grid.sh")]
    assert rp.pending_commands(["grid"]) == [("grid", "bash grid.sh")]
    assert rp.main([]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "demo: train --methods sab --seeds 1"


def test_refuses_an_unknown_experiment_and_a_bad_jobs(rp, capsys):
    with pytest.raises(SystemExit, match="accepted values: demo, grid"):
        rp.pending_commands(["nope"])
    with pytest.raises(SystemExit):
        rp.main(["--jobs", "0"])
    assert "--jobs: invalid value 0: accepted values are 1 or more" in capsys.readouterr().err


def test_runs_side_by_side_and_reports_a_failure(rp, tmp_path):
    py = sys.executable
    ok = [(f"c{i}", f'{py} -c "open(r\'{tmp_path / f"c{i}"}\', \'w\').close()"')
          for i in range(3)]
    log = []
    assert rp.run(ok, jobs=2, log=log.append) == 0
    assert all((tmp_path / f"c{i}").exists() for i in range(3))
    assert sum(line.split("] ")[1].startswith("end") for line in log) == 3
    assert rp.run([("bad", f'{py} -c "raise SystemExit(3)"')] + ok[:1], 2, log.append) == 1
    assert log[-1].startswith("failed: ") and "SystemExit(3)" in log[-1]


def _alive(pid) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_stop_reaches_the_trainer_the_shell_started(rp, tmp_path):
    """SIGTERM to run_plan stops the programs its commands started, not only their shells (a
    compound command: the shell cannot hand its process over to the program)."""
    import os
    import signal
    import threading
    import time
    pid_file = tmp_path / "pid"
    cmd = (f'{sys.executable} -c "import os, time; open(r\'{pid_file}\', \'w\').write('
           f'str(os.getpid())); time.sleep(60)"; true')

    def stop_when_started():
        for _ in range(200):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=stop_when_started, daemon=True).start()
    log = []
    assert rp.run([("sleep", cmd)], jobs=1, log=log.append) == 130
    pid = int(pid_file.read_text())
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid), "the program the command started is still running"
    assert log[-1].startswith("stopped")


def test_every_run_the_current_code_does_not_reproduce_has_a_planned_rerun():
    """The committed files: a paper-copy run that check_reproduced.py finds parting from its
    retraining is in the plan's ``paper_copy_rerun`` (or already replaced by its rerun)."""
    checked = json.loads((ROOT / "experiments" / "results" / "paper_copy" /
                          "reproduced.json").read_text(encoding="utf-8"))["rows"]
    parts = {(r["T"], r["method"], r["seed"]) for r in checked
             if r["differs_from_step"] is not None}
    plan = {e["name"]: e for e in json.loads((ROOT / "experiments" / "plan.json").read_text(
        encoding="utf-8"))["experiments"]}
    rerun = {(T, m, s) for b in plan["paper_copy_rerun"]["runs"]
             for T in b["T"] for m in b["method"] for s in b["seed"]}
    assert parts <= rerun, sorted(parts - rerun)
