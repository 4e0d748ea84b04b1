"""Continue the plan of runs: the pending runs of ``experiments/plan.json``, one command at a time.

The plan lists every run the reproduction report waits for; ``docs/_generate_plan.py`` compares
it with the results files. This script prints, or runs, the commands that continue the pending
runs, in the plan's order (the order of its experiments is the order of priority). Every
experiment script is resumable, so a command cut short (Ctrl-C, SIGTERM, a reboot) is simply
run again by the next call; nothing here keeps state of its own::

    python experiments/run_plan.py                         # list what is pending
    nice -n 19 python experiments/run_plan.py --run        # run it, one command at a time
    nice -n 19 python experiments/run_plan.py --run --jobs 2 --only paper_copy mental_updates

``--jobs N`` runs N commands side by side (each trains one run at a time with one BLAS thread,
so N is the number of cores it takes). Every line a command prints comes out whole, marked with
its experiment's name. SIGTERM or Ctrl-C stops the commands at once; this script killed outright
(``kill -9``) takes them with it at their next line, their last checkpoints kept. Afterwards
``python scripts/report.py`` restates the report from the results files.

The commands train with the plan's BLAS kernel (``blas_kernel`` in plan.json, set as
``OPENBLAS_CORETYPE``; ``minisab/train/provenance.py`` says why a kernel changes the bits): a run
that one session started on one processor and the next resumes on another is then the run an
uninterrupted machine would give. ``OPENBLAS_CORETYPE`` set by the caller wins; a processor that
cannot run the kernel trains with OpenBLAS's own choice, and the log says so.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "docs"))

import _generate_plan  # noqa: E402  (docs/: the plan against the results files)


def pending_commands(only=None) -> list[tuple[str, str]]:
    """[(experiment, command)] for every experiment of the plan with pending runs."""
    names = list(_generate_plan.plan())
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise SystemExit(f"run_plan.py: error: --only {' '.join(unknown)}: not in "
                         f"experiments/plan.json; accepted values: {', '.join(names)}")
    return [(name, cmd) for name in names if not only or name in only
            for cmd in _generate_plan.continue_commands(name)]


POSIX = os.name == "posix"

# What each kernel the plan may name needs of the processor (NumPy's names of the features).
KERNEL_NEEDS = {"Haswell": ("AVX2", "FMA3")}


def cpu_features() -> dict:
    """{feature: bool} of this processor, as NumPy detected them ({} where it cannot say)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:                 # pragma: no cover - another NumPy layout
        return {}
    return dict(__cpu_features__)


def kernel_env(kernel, environ=None, features=None) -> tuple[dict, str]:
    """``(environment, note)`` for the plan's commands: ``environ`` (default ``os.environ``) with
    ``OPENBLAS_CORETYPE=kernel`` where the processor can run that kernel and the caller set none,
    and a line for the log that says which kernel the runs use."""
    env = dict(os.environ if environ is None else environ)
    if not kernel:
        return env, "BLAS kernel: the plan names none; OpenBLAS picks one for this processor"
    if env.get("OPENBLAS_CORETYPE"):
        same = env["OPENBLAS_CORETYPE"].lower() == kernel.lower()
        return env, (f"BLAS kernel: OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}, as set"
                     + ("" if same else f"; the plan's runs were trained with {kernel}, so a run "
                        "resumed now parts from the run it continues"))
    if kernel not in KERNEL_NEEDS:
        raise SystemExit(f"run_plan.py: error: experiments/plan.json: blas_kernel {kernel!r}: "
                         f"accepted values: {', '.join(KERNEL_NEEDS)} (or none: leave it out)")
    feats = cpu_features() if features is None else features
    needs = KERNEL_NEEDS[kernel]
    if all(feats.get(f) for f in needs):
        env["OPENBLAS_CORETYPE"] = kernel
        return env, f"BLAS kernel: OPENBLAS_CORETYPE={kernel}, the plan's (experiments/plan.json)"
    return env, (f"BLAS kernel: this processor cannot run the plan's {kernel} kernel (it needs "
                 f"{' and '.join(needs)}), so OpenBLAS picks one; a "
                 "run resumed here parts from the run it continues, and its results are "
                 "another run with the same seed")


def _terminate(proc) -> None:
    """SIGTERM to the command's whole process group (the shell and what it started), so that
    every trainer stops and keeps its checkpoint."""
    if POSIX:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    else:                               # pragma: no cover - not tested on this project's CI
        proc.terminate()


def _relay(name, stream, say) -> None:
    """Each line a command prints, passed to ``say`` whole and marked ``[name]``: commands side
    by side then write one log without cutting into each other's lines."""
    with stream:
        for line in iter(stream.readline, b""):
            say(f"[{name}] {line.decode(errors='replace').rstrip()}")


def run(commands, jobs: int, log=print, env=None) -> int:
    """Run ``commands`` with at most ``jobs`` at once, in the environment ``env`` (default:
    this process's); 0 if every one succeeded. Every line a command prints (its stdout and
    stderr) goes to ``log``, marked with its experiment's name. SIGTERM and Ctrl-C stop the
    running commands with SIGTERM (each keeps its checkpoints) and start no other."""
    todo, running, failed = list(commands), [], []
    lock = threading.Lock()

    def say(line):
        with lock:                      # the relays' threads and this one share the log
            log(line)

    def stop(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, stop)
    try:
        while todo or running:
            while todo and len(running) < jobs:
                name, cmd = todo.pop(0)
                say(f"[{time.strftime('%H:%M:%S')}] start {name}: {cmd}")
                # A session (process group) of its own: the stop below reaches the trainer
                # itself, not only the shell that started it.
                proc = subprocess.Popen(cmd, shell=True, cwd=ROOT, env=env,
                                        start_new_session=POSIX, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
                relay = threading.Thread(target=_relay, args=(name, proc.stdout, say),
                                         daemon=True)
                relay.start()
                running.append((name, cmd, proc, relay))
            time.sleep(0.2)
            for item in [r for r in running if r[2].poll() is not None]:
                running.remove(item)
                name, cmd, proc, relay = item
                relay.join(timeout=5)           # its last lines before its end
                say(f"[{time.strftime('%H:%M:%S')}] end {name} (exit {proc.returncode}): {cmd}")
                if proc.returncode:
                    failed.append(cmd)
    except KeyboardInterrupt:
        for _, _, proc, _ in running:
            _terminate(proc)
        for _, _, proc, relay in running:
            proc.wait()
            relay.join(timeout=5)       # the last lines of the stopped command
        say("stopped: run the same command again to continue")
        return 130
    finally:
        signal.signal(signal.SIGTERM, old)
    for cmd in failed:
        say(f"failed: {cmd}")
    return 1 if failed else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--run", action="store_true", help="run the commands (default: list them)")
    p.add_argument("--jobs", type=int, default=1, help="commands run side by side")
    p.add_argument("--only", nargs="+", metavar="EXPERIMENT",
                   help="these experiments of the plan only (their names in plan.json)")
    p.add_argument("--print-kernel", action="store_true",
                   help="print the OPENBLAS_CORETYPE the plan's commands get here (an empty "
                        "line where OpenBLAS picks), and the note to stderr; run nothing "
                        "(experiments/reproduce.sh trains with it too)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"argument --jobs: invalid value {args.jobs}: accepted values are 1 or more")
    if args.print_kernel:
        env, note = kernel_env(_generate_plan.blas_kernel())
        print(note, file=sys.stderr)
        print(env.get("OPENBLAS_CORETYPE", ""))
        return 0
    commands = pending_commands(args.only)
    if not commands:
        print("every planned run has finished")
        return 0
    env, note = kernel_env(_generate_plan.blas_kernel())
    if not args.run:
        print(note, file=sys.stderr)
        for name, cmd in commands:
            print(f"{name}: {cmd}")
        return 0
    print(note, flush=True)
    return run(commands, args.jobs, log=lambda line: print(line, flush=True), env=env)


if __name__ == "__main__":
    sys.exit(main())
