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


def test_the_commands_lines_reach_the_log_whole_and_marked(rp, tmp_path):
    """Two commands side by side print parts of lines to stdout and stderr; the log gets each
    line whole, marked with its command's name, before that command's end."""
    script = tmp_path / "halves.py"
    script.write_text("import sys, time\n"
                      "for i in range(20):\n"
                      "    out = (sys.stdout, sys.stderr)[i % 2]\n"
                      "    out.write(sys.argv[1] + ' line'); out.flush(); time.sleep(0.01)\n"
                      "    out.write(f' {i}\\n'); out.flush()\n")
    log = []
    assert rp.run([(n, f"{sys.executable} {script} {n}") for n in "ab"], 2, log.append) == 0
    for n in "ab":
        lines = [line for line in log if line.startswith(f"[{n}] ")]
        assert lines == [f"[{n}] {n} line {i}" for i in range(20)], log
        end = next(i for i, line in enumerate(log) if f"] end {n} " in line)
        assert log.index(lines[-1]) < end


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


AVX2 = {"AVX2": True, "FMA3": True}


def test_the_plans_kernel_is_set_where_the_processor_runs_it(rp):
    env, note = rp.kernel_env("Haswell", {"PATH": "/bin"}, AVX2)
    assert env == {"PATH": "/bin", "OPENBLAS_CORETYPE": "Haswell"} and "the plan's" in note
    # the caller's own choice wins, and the note says what a different one does to a resumed run
    env, note = rp.kernel_env("Haswell", {"OPENBLAS_CORETYPE": "Zen"}, AVX2)
    assert env == {"OPENBLAS_CORETYPE": "Zen"} and "parts from the run it continues" in note
    env, note = rp.kernel_env("Haswell", {"OPENBLAS_CORETYPE": "haswell"}, AVX2)
    assert "parts" not in note
    # a processor without AVX2 would crash on the kernel: OpenBLAS chooses, and the note says so
    env, note = rp.kernel_env("Haswell", {}, {"AVX2": False, "FMA3": True})
    assert env == {} and "cannot run the plan's Haswell kernel (it needs AVX2 and FMA3)" in note
    env, note = rp.kernel_env("Haswell", {}, {})                # NumPy could not say
    assert env == {} and "cannot run" in note
    with pytest.raises(SystemExit, match="blas_kernel 'Zen': accepted values: Haswell"):
        rp.kernel_env("Zen", {}, AVX2)          # a kernel whose needs run_plan.py cannot check
    assert rp.kernel_env(None, {"A": "1"}, AVX2) == (
        {"A": "1"}, "BLAS kernel: the plan names none; OpenBLAS picks one for this processor")


def test_the_plans_commands_run_with_its_kernel(rp, tmp_path, monkeypatch, capsys):
    seen = tmp_path / "seen"
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    plan["blas_kernel"] = "Haswell"
    plan["experiments"][1]["command"] = (
        f'{sys.executable} -c "import os; open(r\'{seen}\', \'w\').write('
        f'os.environ.get(\'OPENBLAS_CORETYPE\', \'unset\'))"')
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setattr(rp, "cpu_features", lambda: AVX2)
    assert rp.main(["--run", "--only", "grid"]) == 0
    assert seen.read_text() == "Haswell"
    assert "OPENBLAS_CORETYPE=Haswell, the plan's" in capsys.readouterr().out
    assert rp.main([]) == 0                                   # the listing names it too
    assert "OPENBLAS_CORETYPE=Haswell" in capsys.readouterr().err
    monkeypatch.setattr(rp, "cpu_features", lambda: {})       # a processor that cannot run it
    assert rp.main(["--run", "--only", "grid"]) == 0
    assert seen.read_text() == "unset"


def test_the_kernel_is_printed_for_the_scripts_that_regenerate_the_committed_numbers(
        rp, tmp_path, monkeypatch, capsys):
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    (tmp_path / "plan.json").write_text(json.dumps({**plan, "blas_kernel": "Haswell"}), "utf-8")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setattr(rp, "cpu_features", lambda: AVX2)
    assert rp.main(["--print-kernel"]) == 0
    got = capsys.readouterr()
    assert got.out == "Haswell\n" and "the plan's" in got.err
    monkeypatch.setattr(rp, "cpu_features", lambda: {})       # a processor that cannot run it
    assert rp.main(["--print-kernel"]) == 0
    got = capsys.readouterr()
    assert got.out == "\n" and "cannot run the plan's Haswell kernel" in got.err
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")            # the caller's own wins
    assert rp.main(["--print-kernel"]) == 0
    assert capsys.readouterr().out == "Zen\n"
    pin = (ROOT / "experiments" / "_blas_kernel.sh").read_text(encoding="utf-8")
    assert "kernel=$(python experiments/run_plan.py --print-kernel)" in pin
    assert 'export OPENBLAS_CORETYPE="$kernel"' in pin
    for script in ("reproduce.sh", "mental_updates.sh", "compare_cpu.sh"):
        lines = (ROOT / "experiments" / script).read_text(encoding="utf-8").splitlines()
        runs = [i for i, line in enumerate(lines) if ("python" in line or "source" in line)
                and not line.lstrip().startswith("#")]
        assert lines[runs[0]].startswith("source experiments/_blas_kernel.sh"), script


def test_the_committed_plan_names_the_kernel_its_runs_recorded():
    """Every run folder of the plan that records its machine was trained with the plan's
    kernel, so a resumed run and check_reproduced.py's retraining use the same one."""
    import subprocess
    from minisab.train.provenance import run_kernels
    try:        # the committed folders, not runs a user made here on their own processor
        listed = subprocess.run(["git", "ls-files", "experiments/results/*/config.json"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the committed files cannot be told apart")
    doc = json.loads((ROOT / "experiments" / "plan.json").read_text(encoding="utf-8"))
    kernel = doc["blas_kernel"]
    plan_results = {e["results"].split("/")[0] for e in doc["experiments"]}
    seen = {}
    for path in listed.split():
        if path.split("/")[2] not in plan_results:
            continue
        config = json.loads((ROOT / path).read_text(encoding="utf-8"))
        for _, k in run_kernels(config):            # every start of a resumed run
            if k:
                seen.setdefault(k, []).append(path)
    assert seen and set(seen) == {kernel}, {k: v[:3] for k, v in seen.items()}
