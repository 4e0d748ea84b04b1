"""Fault injection: a real training process is stopped or its files damaged, then ``--resume``.

Every scenario trains a tiny model for 12 steps (an evaluation and a checkpoint every 4) in a
child process. A fault is delivered at a named point of the training loop through
``MINISAB_FAULT`` (``minisab/train/faults.py``: a real SIGINT, SIGTERM or SIGKILL, or a simulated full
disk), or a file of the run folder is damaged afterwards. Then the same command with
``--resume`` runs, and the scenario passes if

- it either continues to a run **bit-identical** to an uninterrupted one (parameters, optimiser
  state, data-generator state, every metrics row but its wall time), or **refuses** with exit
  status 2 and a message (no traceback);
- no file of the run folder is half-written, after the fault and after the resume, and no
  temporary file is left after a resume that continued;
- a refused resume leaves every file of the folder byte for byte as it was.

Two kinds of scenario act while the first command is still running (``during``): ``kill``
stops ``compare --jobs 2`` with SIGKILL while its workers wait inside a step (the ``PAUSE``
fault), resumes at once and checks that the workers were gone within seconds; ``second``
starts a second writer beside a run that waits inside a step, which must be refused.

Run it::

    python -m pytest tests/train/test_faults.py               # the scenarios marked for CI (~1 min)
    MINISAB_FAULTS=all python -m pytest tests/train/test_faults.py    # every scenario
    python tests/train/test_faults.py --write                 # every scenario; rewrites the results
                                                        # file and the table of the docs page

The results file ``docs/reliability_results.json`` holds one row per scenario; the table of
``docs/reliability.md`` is made from it (``test_docs_table_matches_the_results``), and each
scenario run by pytest must give its committed row again.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

from minisab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from minisab.cli.commands import main  # noqa: E402

pytestmark = pytest.mark.slow          # over ten seconds: left out of the quick lane

RESULTS = ROOT / "docs" / "reliability_results.json"
PAGE = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- reliability-table: made by tests/train/test_faults.py --write -->", \
    "<!-- end of reliability-table -->"
TINY = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
        "--attn-size", "3", "--k-top", "2", "--k-att", "2", "--k-trunc", "2", "--batch", "2",
        "--eval-batch", "4", "--no-progress", "--steps", "12", "--eval-every", "4"]
COMPARE = ["--T", "3", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "5",
           "--k-trunc", "2", "--steps", "6", "--eval-every", "3", "--eval-batch", "4",
           "--batch", "2", "--no-progress", "--jobs", "1"]   # its runs one after another
ARGS = {"train": TINY, "compare": COMPARE}


# ----------------------------------------------------------------------------- damage
def tear_metrics(run: Path):
    """What a crash in the middle of an append leaves: half a line at the end."""
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write('{"step": 8, "loss": 1.0')


def truncate_checkpoint(run: Path):
    data = (run / "checkpoint.npz").read_bytes()
    (run / "checkpoint.npz").write_bytes(data[:len(data) // 2])


def foreign_checkpoint(run: Path):
    (run / "checkpoint.npz").write_bytes(b"PK\x03\x04 this is not a checkpoint")


def misshapen_moment(run: Path):
    path = run / "checkpoint.npz"
    ck = load_checkpoint(path)
    ck["opt_state"]["m/W_y"] = ck["opt_state"]["m/W_y"][:1]          # would broadcast
    save_checkpoint(path, ck["params"], ck["opt_state"], ck["meta"])


def config_without_train(run: Path):
    d = json.loads((run / "config.json").read_text())
    del d["train"]
    (run / "config.json").write_text(json.dumps(d))


def config_truncated(run: Path):
    text = (run / "config.json").read_text()
    (run / "config.json").write_text(text[:len(text) // 2])


def delete_checkpoint(run: Path):
    (run / "checkpoint.npz").unlink()


def remove_lock(run: Path):
    """A run folder made before run folders had a lock (or whose lock file was deleted)."""
    for p in run.rglob(".lock"):
        p.unlink()


@dataclass(frozen=True)
class Scenario:
    id: str
    tried: str                          # what a reader sees in the table
    fault: str | None = None         # MINISAB_FAULT of the first run
    damage: Callable | None = None   # applied to the run folder after the first run
    resume: tuple = ()                  # extra options of the resuming command
    ci: bool = False                    # run by plain pytest (the rest: MINISAB_FAULTS=all)
    command: str = "train"              # or "compare" (its three runs, 6 steps each)
    extra: tuple = ()                   # options of both commands (e.g. --jobs 2)
    during: str | None = None        # "kill" or "second": act while the first one runs


SCENARIOS = [
    Scenario("sigint-step", "SIGINT (Ctrl-C) after step 6", "step@6:SIGINT"),
    Scenario("sigterm-step", "SIGTERM (a job scheduler) after step 6", "step@6:SIGTERM"),
    Scenario("sigkill-step", "SIGKILL (`kill -9`) after step 6", "step@6:SIGKILL"),
    Scenario("sigint-eval", "SIGINT inside the evaluation of step 8", "eval@8:SIGINT"),
    Scenario("sigterm-eval", "SIGTERM inside the evaluation of step 8", "eval@8:SIGTERM",
             ci=True),
    Scenario("sigkill-eval", "SIGKILL inside the evaluation of step 8", "eval@8:SIGKILL"),
    Scenario("sigkill-metrics", "SIGKILL after the metrics row of step 8, before its "
             "checkpoint", "metrics-append@8:SIGKILL"),
    Scenario("sigint-write", "SIGINT inside the checkpoint write of step 8",
             "checkpoint-write@8:SIGINT", ci=True),
    Scenario("sigterm-write", "SIGTERM inside the checkpoint write of step 8",
             "checkpoint-write@8:SIGTERM"),
    Scenario("sigkill-write", "SIGKILL inside the checkpoint write of step 8",
             "checkpoint-write@8:SIGKILL", ci=True),
    Scenario("sigint-interrupt-write", "SIGINT after step 6, and again inside the checkpoint "
             "that the first one writes", "step@6:SIGINT,interrupt-write@6:SIGINT"),
    Scenario("sigkill-interrupt-write", "SIGINT after step 6, then SIGKILL inside the "
             "checkpoint that it writes", "step@6:SIGINT,interrupt-write@6:SIGKILL"),
    Scenario("sigkill-first-write", "SIGKILL inside the first checkpoint write (step 0)",
             "checkpoint-write@0:SIGKILL"),
    Scenario("enospc-write", "disk full (ENOSPC) inside the checkpoint write of step 8",
             "checkpoint-write@8:ENOSPC", ci=True),
    Scenario("enospc-first-write", "disk full (ENOSPC) inside the first checkpoint write",
             "checkpoint-write@0:ENOSPC"),
    Scenario("torn-metrics", "SIGKILL after step 6, then a torn last line in metrics.jsonl",
             "step@6:SIGKILL", tear_metrics, ci=True),
    Scenario("truncated-checkpoint", "Ctrl-C, then checkpoint.npz cut to half its size",
             "step@6:SIGINT", truncate_checkpoint, ci=True),
    Scenario("foreign-checkpoint", "Ctrl-C, then checkpoint.npz replaced by another file",
             "step@6:SIGINT", foreign_checkpoint),
    Scenario("deleted-checkpoint", "Ctrl-C, then checkpoint.npz deleted", "step@6:SIGINT",
             delete_checkpoint),
    Scenario("misshapen-moment", "Ctrl-C, then an Adam moment of the wrong shape in the "
             "checkpoint", "step@6:SIGINT", misshapen_moment),
    Scenario("config-no-train", "Ctrl-C, then config.json without its `train` section",
             "step@6:SIGINT", config_without_train, ci=True),
    Scenario("config-truncated", "Ctrl-C, then config.json cut in half", "step@6:SIGINT",
             config_truncated),
    Scenario("changed-lr", "Ctrl-C, then `--resume` with another `--lr`", "step@6:SIGINT",
             resume=("--lr", "0.02"), ci=True),
    Scenario("changed-lr-allowed", "Ctrl-C, then `--resume --allow-changes` with another "
             "`--lr`", "step@6:SIGINT", resume=("--lr", "0.02", "--allow-changes")),
    Scenario("compare-sigint", "`compare`: SIGINT after step 4 of its first run",
             "step@4:SIGINT", command="compare", ci=True),
    Scenario("compare-sigkill", "`compare`: SIGKILL after step 4 of its first run",
             "step@4:SIGKILL", command="compare"),
    Scenario("compare-sigterm", "`compare`: SIGTERM after step 4 of its first run",
             "step@4:SIGTERM", command="compare"),
    Scenario("compare-jobs2-sigkill", "`compare --jobs 2`: SIGKILL of the comparison while "
             "both its workers are inside step 4; `--resume` at once", "step@4:PAUSE",
             command="compare", extra=("--jobs", "2"), during="kill", ci=True),
    Scenario("second-writer", "a second `train --resume` while the run is inside step 6",
             "step@6:PAUSE", during="second", ci=True),
    Scenario("sigkill-old-folder", "SIGKILL after step 6, then the lock file deleted (a "
             "folder of an older minisab)", "step@6:SIGKILL", remove_lock),
    Scenario("steps-below-checkpoint", "Ctrl-C, then `--resume --steps 2` (the checkpoint "
             "is at step 6)", "step@6:SIGINT", resume=("--steps", "2"), ci=True),
    Scenario("changed-optimizer-allowed", "Ctrl-C, then `--resume --allow-changes` with "
             "`--optimizer sgd`", "step@6:SIGINT",
             resume=("--optimizer", "sgd", "--allow-changes")),
    Scenario("compare-changed-lr", "`compare`: Ctrl-C, then `--resume` with another `--lr`",
             "step@4:SIGINT", resume=("--lr", "0.05"), command="compare", ci=True),
    Scenario("compare-truncated-checkpoint", "`compare`: Ctrl-C, then its first run's "
             "checkpoint cut in half", "step@4:SIGINT", lambda run: truncate_checkpoint(
                 run / "lstm-bptt"), command="compare"),
]
CHOSEN = [s for s in SCENARIOS if s.ci or os.environ.get("MINISAB_FAULTS") == "all"]


# ------------------------------------------------------------------------ the checks
def files(run: Path) -> list:
    """The files of a run folder and of its sub-folders (compare's runs)."""
    return sorted(p for p in run.rglob("*") if p.is_file())


def incomplete_files(run: Path, allow_torn_metrics: bool = False) -> list:
    """Files of the run folder that do not parse completely (temporary files aside)."""
    bad = []
    for p in files(run):
        if p.name.startswith(".tmp-"):
            continue
        try:
            if p.suffix == ".json":
                json.loads(p.read_text(encoding="utf-8"))
            elif p.suffix == ".jsonl":
                lines = p.read_text(encoding="utf-8").splitlines()
                for i, line in enumerate(lines):
                    if not (allow_torn_metrics and i == len(lines) - 1):
                        json.loads(line)
            elif p.suffix == ".npz":
                load_checkpoint(p)
            elif p.suffix == ".png":
                data = p.read_bytes()
                assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
        except (ValueError, AssertionError, CheckpointError):
            bad.append(str(p.relative_to(run)))
    return bad


def saved_steps(run: Path) -> str:
    """The step of each checkpoint in the folder ("-": none), e.g. "6" or "4, 0, 0"."""
    steps = []
    for p in files(run):
        if p.name == "checkpoint.npz":
            try:
                steps.append(str(load_checkpoint(p)["meta"]["step"]))
            except CheckpointError:
                steps.append("damaged")
    return ", ".join(steps) or "-"


def temporary_files(run: Path) -> list:
    return [p.name for p in files(run) if p.name.startswith(".tmp-")]


def hashes(run: Path) -> dict:
    """Every file of the folder (the lock file too) -> the SHA-256 of its bytes."""
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files(run)}


def changed(before: dict, after: dict) -> list:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def plain(text: str, tmp: Path, run: Path) -> str:
    """A message without what differs between runs: paths, process ids, the holder's command
    and start time."""
    text = text.replace(str(run), "RUN").replace(str(tmp), "RUNS")
    text = re.sub(r"process \d+ \(.*?, since [^)]*\)",
                  "process PID (its command, since its start time)", text)
    return re.sub(r"process \d+", "process PID", text)


def fingerprint(run: Path, command: str = "train") -> dict:
    """What must be equal between a resumed and an uninterrupted run."""
    if command == "compare":
        rows = json.loads((run / "results.json").read_text())
        return {"runs": {d.name: fingerprint(d) for d in sorted(run.iterdir()) if d.is_dir()},
                "results": [{k: v for k, v in r.items() if k not in ("time", "peak_mib")}
                            for r in rows]}
    ck = load_checkpoint(run / "checkpoint.npz")
    meta = {k: v for k, v in ck["meta"].items() if k != "elapsed"}
    rows = [{k: v for k, v in json.loads(line).items() if k != "time"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]
    config = json.loads((run / "config.json").read_text())
    return {"params": {k: v.tobytes() for k, v in ck["params"].items()},
            "opt": {k: (v if k == "t" else v.tobytes()) for k, v in ck["opt_state"].items()},
            "meta": meta, "rows": rows,
            "config": {k: config[k] for k in ("model", "task", "train")}}


def child_env(fault):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [os.environ["PYTHONPATH"]]
                                          if os.environ.get("PYTHONPATH") else [str(ROOT)]))
    env.pop("MINISAB_FAULT", None)
    if fault:
        env["MINISAB_FAULT"] = fault
    return env


def start_child(command, argv, fault) -> subprocess.Popen:
    """``python -m minisab <command> ...`` in a real process, with SIGINT's default disposition
    (a shell's background jobs start with it ignored)."""
    return subprocess.Popen([sys.executable, "-m", "minisab", command, *argv],
                            env=child_env(fault), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def finish_child(proc) -> tuple:
    """(exit status (-9: killed), stderr) of a child of ``start_child``."""
    _, err = proc.communicate(timeout=300)
    err = err.decode(errors="replace")
    if "Traceback" in err:
        raise AssertionError(err)
    return proc.returncode, err


def train_in_child(command, argv, fault) -> tuple:
    """``start_child`` and ``finish_child``: (exit status, stderr)."""
    return finish_child(start_child(command, argv, fault))


def saved_step(run: Path):
    try:
        return load_checkpoint(run / "checkpoint.npz")["meta"]["step"]
    except (CheckpointError, OSError):
        return None


def wait_until(condition, what: str, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list:
    """The child processes of ``pid`` (Linux: /proc; elsewhere none are watched)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"       # a zombie has ended
    except OSError:
        return False


def watch_until_gone(pids, seconds: float) -> dict:
    """Start a thread that records how long ``pids`` live; ``out["left"]``: those alive after
    ``seconds``."""
    out, t0 = {"left": None}, time.monotonic()

    def watch():
        alive = set(pids)
        while alive and time.monotonic() - t0 < seconds:
            alive = {p for p in alive if running(p)}
            time.sleep(0.02)
        out["left"], out["after_s"] = len(alive), time.monotonic() - t0
    out["thread"] = threading.Thread(target=watch)
    out["thread"].start()
    return out


def train_here(command, argv) -> tuple:
    """``main([command, ...])`` in this process: (exit status, stderr)."""
    err = io.StringIO()
    fault = os.environ.pop("MINISAB_FAULT", None)          # faults are for the child only
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([command, *argv])
        except SystemExit as e:
            code = e.code
        finally:
            if fault is not None:
                os.environ["MINISAB_FAULT"] = fault
    return code, err.getvalue()


def reference(tmp: Path, commands=("train", "compare")) -> dict:
    """The fingerprints of the uninterrupted runs, by command."""
    out = {}
    for command in commands:
        code, err = train_here(command, [*ARGS[command], "--runs-dir", str(tmp), "--name",
                                         f"reference-{command}"])
        assert code == 0, err
        out[command] = fingerprint(tmp / f"reference-{command}", command)
    return out


def snapshot(run: Path) -> dict:
    """The folder as the first command left it: half-written and temporary files, the
    checkpoints' steps."""
    return {"half-written files": incomplete_files(run), "temporary files left":
            len(temporary_files(run)), "checkpoint at step": saved_steps(run)}


def run_first(s: Scenario, base: list, run: Path, tmp: Path, row: dict):
    """The first command, and what ``s.during`` does while it runs (``row`` gets the folder's
    ``snapshot`` before that); returns the resume's ``(exit status, stderr)`` when it ran
    during the first command, else None."""
    if s.during is None:
        first, err = train_in_child(s.command, base, s.fault)
        row["exit"] = first
        row["first run says"] = last_words(err, first, tmp, run)
        row.update(snapshot(run))
        return None
    proc = start_child(s.command, base, s.fault)
    if s.during == "kill":          # both workers wait inside step 4 (their runs' step 3 saved)
        wait_until(lambda: run.is_dir() and sum(saved_step(d) == 3 for d in run.iterdir()
                                                if d.is_dir()) == 2, "two runs at step 3")
        time.sleep(0.5)
        workers = children(proc.pid)
        proc.kill()
        first, err = finish_child(proc)
        watch = watch_until_gone(workers, 5.0)
        row.update(snapshot(run))
        resumed = train_here(s.command, base + ["--resume", *s.resume])     # at once
        watch["thread"].join()
        row.update({"exit": first, "first run says": last_words(err, first, tmp, run),
                    "workers alive 5 s after the kill": watch["left"]})
        return resumed
    wait_until(lambda: saved_step(run) == 4, "the run at step 4")    # then inside step 6
    time.sleep(0.5)
    row.update(snapshot(run))
    resumed = train_here(s.command, base + ["--resume", *s.resume])
    first, err = finish_child(proc)
    row.update({"exit": first, "first run says": last_words(err, first, tmp, run)})
    return resumed


def last_words(err: str, code: int, tmp: Path, run: Path) -> str:
    """The last line a stopped first command wrote to stderr ("-" if it was killed or ended
    normally)."""
    lines = [line for line in err.strip().splitlines() if line.strip()
             and "warn" not in line.lower() and "leaked" not in line]
    if code in (0, -9) or not lines:
        return "-"
    return plain(lines[-1].strip(), tmp, run)


def run_scenario(s: Scenario, tmp: Path, ref: dict) -> dict:
    """Stop, damage, resume; the row of the results table."""
    base = [*ARGS[s.command], *s.extra, "--runs-dir", str(tmp), "--name", s.id]
    run = tmp / s.id
    row = {"id": s.id, "tried": s.tried}
    resumed = run_first(s, base, run, tmp, row)
    before = {p: p.read_bytes() for p in files(run)}
    if s.damage is not None:
        s.damage(run)
    damaged = {str(p.relative_to(run)) for p in files(run) if before.get(p) != p.read_bytes()}
    held = hashes(run)
    code, err = resumed or train_here(s.command, base + ["--resume", *s.resume])
    assert "Traceback" not in err, err
    for metrics in run.rglob("metrics.jsonl"):     # one writer: rows unique and in order
        steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()
                 if line.strip() and line.rstrip().endswith("}")]
        assert steps == sorted(set(steps)), (metrics, steps)
    if code == 0:
        same = fingerprint(run, s.command) == ref[s.command]
        if same:
            outcome = "continues, bit-identical to an uninterrupted run"
        elif (run / "changes.jsonl").exists():
            outcome = "continues with the new options; the change is recorded in changes.jsonl"
        else:
            outcome = "continues, but DIFFERS from an uninterrupted run"
        notes = sorted({line.split(",")[0].split(" (")[0].replace(str(run), "RUN")
                        for line in err.splitlines() if line.startswith("note:")
                        and "removed .tmp-" not in line})
        if any("removed .tmp-" in line for line in err.splitlines()):
            notes.append("note: removed the temporary file")
        row.update(resume=code, outcome=outcome, notes=notes)
    else:
        msg = err.strip().splitlines()[-1].split("error: ", 1)[-1]
        row.update(resume=code, outcome="refused: " + plain(msg, tmp, run), notes=[])
        if s.during == "second":        # the refused writer changed nothing; the first ends
            same = fingerprint(run, s.command) == ref[s.command]
            row["outcome"] += ("; the first run then ends bit-identical to an uninterrupted run"
                               if same else "; the first run then DIFFERS")
        else:                           # a refusal leaves every file as it was
            row["files a refusal changed"] = changed(held, hashes(run))
    # A refusal leaves the damaged file as it was: only what minisab wrote must be whole.
    whole = [n for n in incomplete_files(run) if code == 0 or n not in damaged]
    row["after resume: half-written, temporary"] = [whole, len(temporary_files(run))]
    return row


def acceptable(row) -> bool:
    good_outcome = (row["outcome"].startswith("continues, bit-identical")
                    or row["outcome"].startswith("continues with the new options")
                    or (row["outcome"].startswith("refused: ") and row["resume"] == 2
                        and "DIFFERS" not in row["outcome"]))
    # A resume that continued removed every temporary file; a refused one changed nothing
    # (a temporary file of the killed run stays until a command writes the folder).
    half_after, tmp_after = row["after resume: half-written, temporary"]
    return (good_outcome and not row["half-written files"]
            and not row.get("files a refusal changed")
            and row.get("workers alive 5 s after the kill", 0) == 0
            and half_after == [] and (tmp_after == 0 or row["resume"] != 0))


# ------------------------------------------------------------------------ the table
def table(rows) -> str:
    out = ["| fault or damage | first run exits | it says | checkpoint at step | temporary "
           "files left | `--resume` exits | what happens |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        first = {130: "130 (SIGINT)", 143: "143 (SIGTERM)", -9: "killed", 2: "2 (error)",
                 0: "0"}.get(r["exit"], str(r["exit"]))
        what = r["outcome"] + "".join(f"; {n}" for n in r["notes"])
        if "files a refusal changed" in r:
            what += "; every file of the folder as it was" if not r["files a refusal changed"] \
                else "; CHANGED " + ", ".join(r["files a refusal changed"])
        if "workers alive 5 s after the kill" in r:
            what += (f"; workers still running 5 s after the kill: "
                     f"{r['workers alive 5 s after the kill']}")
        says = r["first run says"].replace("|", "/")
        out.append(f"| {r['tried']} | {first} | {says} | {r['checkpoint at step']} | "
                   f"{r['temporary files left']} | {r['resume']} | {what.replace('|', '/')} |")
    return "\n".join(out)


def committed_rows() -> dict:
    return {r["id"]: r for r in json.loads(RESULTS.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference(tmp_path_factory.mktemp("reference"),
                     sorted({s.command for s in CHOSEN}) or ["train"])


@pytest.mark.parametrize("scenario", CHOSEN, ids=[s.id for s in CHOSEN])
def test_fault(scenario, ref, tmp_path):
    row = run_scenario(scenario, tmp_path, ref)
    assert acceptable(row), row
    assert row == committed_rows()[scenario.id], "rerun: python tests/train/test_faults.py --write"


def test_docs_table_matches_the_results():
    rows = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == [s.id for s in SCENARIOS]
    assert all(acceptable(r) for r in rows)
    page = PAGE.read_text(encoding="utf-8")
    assert BEGIN + "\n\n" + table(rows) + "\n\n" + END in page


def test_fault_points_are_inert_and_their_spec_is_checked(monkeypatch):
    from minisab.train.faults import fault_point, parse
    monkeypatch.delenv("MINISAB_FAULT", raising=False)
    fault_point("step", 6)                                      # nothing happens
    monkeypatch.setenv("MINISAB_FAULT", "step@6:ENOSPC")
    fault_point("step", 5)
    fault_point("eval", 6)
    with pytest.raises(OSError, match="No space left"):
        fault_point("step", 6)
    with pytest.raises(ValueError, match="accepted values are"):
        parse("step6:SIGINT")
    with pytest.raises(ValueError, match="SIGINT, SIGTERM, SIGKILL, ENOSPC, PAUSE"):
        parse("step@6:SIGHUP")


def write_all():
    """Run every scenario; write the results file and the table of the docs page."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ref_print = reference(tmp / "reference-runs")
        rows = []
        for s in SCENARIOS:
            (tmp / s.id).mkdir()
            rows.append(run_scenario(s, tmp / s.id, ref_print))
            print(f"{s.id}: {rows[-1]['outcome']}", file=sys.stderr)
            shutil.rmtree(tmp / s.id)
    RESULTS.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    page = PAGE.read_text(encoding="utf-8")
    head, rest = page.split(BEGIN)
    _, tail = rest.split(END)
    PAGE.write_text(head + BEGIN + "\n\n" + table(rows) + "\n\n" + END + tail, encoding="utf-8")
    bad = [r["id"] for r in rows if not acceptable(r)]
    print(f"{len(rows)} scenarios, {len(bad)} not acceptable {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/train/test_faults.py --write")
    sys.exit(write_all())
