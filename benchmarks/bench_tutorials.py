"""How long does each tutorial take on a busy machine, and did its stated time hold? Run by hand.

Executes every tutorial notebook (``tutorials/0*.ipynb``) top to bottom in a fresh Jupyter
kernel at its default size, ``--repeats`` times (default 3; rounds of every notebook one after
another, so that a slow minute of the machine does not fall on one notebook's runs), while
``--busy`` other processes (default 2) spin on the CPU beside it: the situation of a student's
2-core laptop that is doing something else too. Each notebook sets its own BLAS threads through
``minisab.threads`` (its first code cell after the setup); the kernels get no
``OMP_NUM_THREADS`` and no ``MINISAB_THREADS`` from here, so what is measured is what the
notebook's own line does (``--threads N`` passes ``MINISAB_THREADS=N`` to test another count).

Writes a Markdown table — notebook, the compute time the syllabus states before this run, every
run's wall time, their median, the bound the median gives (``tutorial_times.py``: median ×
``FACTOR``, rounded up), whether every run stayed under the stated time, and the first error if
any — to ``benchmarks/results/bench_tutorials.md`` (``bench_tutorials_smoke.md`` with
``--smoke``, or ``--out``), and, with ``--readme``, into the block of ``tutorials/README.md``
between the markers below, so the syllabus shows the measured table and nobody types it. Its
first line records the machine (processor, BLAS and kernel, versions: minisab.train.provenance).

The stated times are not typed either: ``python scripts/report.py`` makes them from the median
column of ``bench_tutorials.md`` (``tutorial_times.py``), so after a run at the default sizes it
restates them. A stated "< X" held when every run took at most X.

    python benchmarks/bench_tutorials.py --readme && python scripts/report.py   # ~15 minutes
    python benchmarks/bench_tutorials.py --only '01_*' --repeats 3 --out /tmp/b.md   # one notebook
    python benchmarks/bench_tutorials.py --smoke     # MINISAB_SMOKE=1: proves the script
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from minisab.train.checkpoint import atomic_write_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tutorial_times  # noqa: E402  (the stated times: made from this script's table)

START, END = "<!-- bench_tutorials:start -->", "<!-- bench_tutorials:end -->"
SPIN = "while True: pass"


def stated_times(readme: Path) -> dict:
    """notebook file name -> the syllabus's compute-time cell (e.g. "< 1.5 min")."""
    out = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[1].startswith("`0") and cells[1].endswith(".ipynb`"):
            out[cells[1].strip("`")] = cells[4]
    return out


def run_notebook(path: Path, env: dict, timeout: int):
    """Execute one notebook in a fresh kernel (working folder: its own); (seconds, error)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)                   # the kernel inherits this process's environment
    t0 = time.perf_counter()
    try:
        NotebookClient(nb, kernel_name="python3", timeout=timeout,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        error = None
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1][:120]
    except Exception as e:                   # a cell timeout, a dead kernel
        error = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:120] if str(e) else ''}"
    finally:
        seconds = time.perf_counter() - t0
        os.environ.clear()
        os.environ.update(saved)
    return seconds, error


def fmt_time(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def table(rows, head: str) -> str:
    """The results file: ``head`` (how it was measured), then one row a notebook
    ``(name, stated, [seconds of each run], error)``."""
    import statistics
    lines = [head, "", "| notebook | stated before this run | runs | median | bound (median × "
             f"{tutorial_times.FACTOR:g}) | held | error |", "|---|---|---|---|---|---|---|"]
    for name, st, runs, error in rows:
        median = statistics.median(runs)
        bound = tutorial_times.parse_short(st)
        held = ("—" if bound is None or "smoke" in head else
                "yes" if max(runs) <= bound and error is None else "**no**")
        shown = fmt_time(median)
        new_bound = tutorial_times.short_phrase(tutorial_times.stated_bound(shown))
        lines.append(f"| `{name}` | {st} | {', '.join(fmt_time(s) for s in runs)} | {shown} | "
                     f"{new_bound} | {held} | {error or ''} |")
    total = sum(statistics.median(r[2]) for r in rows)
    lines.append(f"\nTotal of the medians {fmt_time(total)}. A stated \"< X\" held when every "
                 "run took at most X; the bound is the median times "
                 f"{tutorial_times.FACTOR:g}, rounded up (benchmarks/tutorial_times.py says why).")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true", help="MINISAB_SMOKE=1 (seconds per notebook)")
    p.add_argument("--busy", type=int, default=2, help="busy processes beside the notebooks")
    p.add_argument("--repeats", type=int, default=3,
                   help="runs of every notebook (the stated times need at least 3: their median)")
    p.add_argument("--threads", type=int, default=None,
                   help="MINISAB_THREADS for the kernels (default: the notebooks' own setting)")
    p.add_argument("--only", default="0*.ipynb", help="glob of notebooks under tutorials/")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    p.add_argument("--out", default=None, help="the table's file (default under "
                                               "benchmarks/results/)")
    p.add_argument("--readme", action="store_true",
                   help="also write the table into tutorials/README.md between its markers")
    args = p.parse_args(argv)
    if args.busy < 0:
        p.error(f"invalid --busy={args.busy}: accepted values are integers >= 0")
    if args.repeats < 1:
        p.error(f"invalid --repeats={args.repeats}: accepted values are integers >= 1 (3 or "
                "more for a table the stated times are made from)")

    notebooks = sorted((ROOT / "tutorials").glob(args.only))
    if not notebooks:
        p.error(f"invalid --only={args.only!r}: no notebook under tutorials/ matches it")
    readme = ROOT / "tutorials" / "README.md"
    stated = stated_times(readme)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                        "MINISAB_THREADS", "MINISAB_SMOKE")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]]
                                                       if os.environ.get("PYTHONPATH") else []))
    if args.smoke:
        env["MINISAB_SMOKE"] = "1"
    if args.threads is not None:
        env["MINISAB_THREADS"] = str(args.threads)

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    # Ctrl-C or SIGTERM stops the whole benchmark: nbclient turns an interrupt inside a cell
    # into that cell's error, so a flag, checked after every notebook, carries it out.
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum
        raise KeyboardInterrupt
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    busy = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy)]
    runs = {path.name: [] for path in notebooks}
    errors = {path.name: None for path in notebooks}
    try:
        for r in range(args.repeats):              # rounds: every notebook once, then again
            for path in notebooks:
                seconds, error = run_notebook(path, env, args.timeout)
                if stop["signal"] is not None:
                    raise KeyboardInterrupt
                runs[path.name].append(seconds)
                errors[path.name] = errors[path.name] or error
                print(f"round {r + 1}/{args.repeats} {path.name}: {seconds:.1f} s"
                      + (f"  ERROR {error}" if error else ""), flush=True)
    except KeyboardInterrupt:
        print("interrupted: no table written", file=sys.stderr)
        return 130
    finally:
        for proc in busy:                      # only the processes this script started
            proc.kill()
            proc.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = [(path.name, stated.get(path.name, "—"), runs[path.name], errors[path.name])
            for path in notebooks]

    from minisab.train.provenance import describe, machine
    mode = ("smoke mode (`MINISAB_SMOKE=1`: tiny sizes; these times say nothing about the "
            "stated ones)" if args.smoke else "default sizes")
    loads = ("" if load_before is None else
             f" Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after.")
    options = "".join([" --smoke" if args.smoke else "",
                       f" --busy {args.busy}" if args.busy != 2 else "",
                       f" --repeats {args.repeats}" if args.repeats != 3 else "",
                       f" --only '{args.only}'" if args.only != "0*.ipynb" else ""])
    head = (f"Measured by `python benchmarks/bench_tutorials.py{options}` on "
            f"{datetime.date.today().isoformat()}: {mode}; median of {args.repeats} run(s) of "
            f"each notebook, each in a fresh kernel, in rounds, with {args.busy} busy "
            f"process(es) spinning beside it; {os.cpu_count()} CPU core(s), "
            f"Python {platform.python_version()}; BLAS threads "
            + (f"MINISAB_THREADS={args.threads}" if args.threads else
               "as each notebook sets them (`minisab.set_threads()`)")
            + f"; {describe(machine())}.{loads}")
    table_text = table(rows, head)
    out = Path(args.out) if args.out else (
        ROOT / "benchmarks" / "results" /
        ("bench_tutorials_smoke.md" if args.smoke else "bench_tutorials.md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, table_text)
    print(f"\n{table_text}\nwritten to {out}")
    if args.readme:
        text = readme.read_text(encoding="utf-8")
        if START not in text or END not in text:
            print(f"{readme} has no {START} ... {END} block: README not changed", file=sys.stderr)
            return 1
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        atomic_write_text(readme, head + START + "\n" + table_text + END + tail)
        print(f"table written into {readme}")
    if not args.smoke and args.out is None:
        print("the stated compute times come from this table: python scripts/report.py "
              "restates them")
    return 1 if any(r[3] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
