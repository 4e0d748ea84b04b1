"""Writes the measured numbers into the READMEs and the docs from their committed results files.

A number in a README is only as good as the file it came from, so none is typed by hand: each
block between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` is generated here from a
results file, and ``tests/test_report.py`` fails when a committed README differs from what this
script generates (a number edited by hand, or a results file re-measured without running it)::

    python scripts/report.py            # rewrite the blocks, the READMEs' and the docs'
    python scripts/report.py --check    # exit 1 and show the difference if a block is stale

This is the one command for every generated number: after the READMEs it restates the tutorials'
compute times (each notebook's header card and the syllabus's column, rounded up from the
measured times of ``benchmarks/results/bench_tutorials.md`` by ``benchmarks/tutorial_times.py``;
the file is made by ``python benchmarks/bench_tutorials.py``), then it runs
``docs/_generate.py`` (the ``<!-- generated: NAME -->`` passages of docs/*.md, checked by
``tests/test_docs_generated.py``; ``python docs/_generate.py [--check]`` does the docs alone).

Blocks and their files:

- README.md ``main-job``: ``experiments/results/main_job/results.json`` and ``measured.json``,
  made by ``bash experiments/main_job.sh`` (``python -m minisab compare --seeds 0 1 2 --runs-dir
  experiments/results --name main_job --overwrite``, timed);
- README.md ``train-default``: ``experiments/results/train_commands/default.json`` (``python
  experiments/measure_train.py``: ``python -m minisab train`` with no options, timed, with the
  machine and kernel); ``real-data``: the rows of the digits, fashion and text results files
  that the README's commands train, and those commands run again
  (``experiments/results/train_commands/``); ``test-time``: ``.ci/measured.json``, the last
  full run of ``.ci/run``;
- README.md ``main-job-time`` and benchmarks/README.md ``bench-load``:
  ``benchmarks/results/bench_load.json`` (``python benchmarks/bench_load.py``);
- benchmarks/README.md ``bench-threads``: ``benchmarks/results/bench_threads.json``
  (``python benchmarks/bench_threads.py``);
- benchmarks/README.md ``split-speed``: ``benchmarks/results/split/*.txt``, the fast engine
  against PyTorch before and after the reference/fast split (``bash
  benchmarks/results/split/run.sh BEFORE``);
- benchmarks/README.md ``speed-results``: the one-thread speed runs in ``benchmarks/results/``
  (``bash benchmarks/run_speed.sh``); ``openblas-auto`` (table 4) the same runs with OpenBLAS's
  own kernels; ``ops`` (table 5) ``results/ops.txt``; ``lstm-parts`` the LSTM step by parts,
  ``results/lstm_parts.txt`` and ``results/lstm_parts_before.txt``.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN_JOB = "experiments/results/main_job/results.json"
MAIN_JOB_MEASURED = "experiments/results/main_job/measured.json"    # date, load, wall time
BENCH_LOAD = "benchmarks/results/bench_load.json"
BENCH_THREADS = "benchmarks/results/bench_threads.json"
sys.path.insert(0, ROOT)            # minisab from this checkout, installed or not
from minisab.plots.reports import table_number  # noqa: E402  (the comparison table's number format)

BLOCK = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)",
                   re.S)


def _load(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return json.load(f)


def _mean_range(vals, fmt) -> str:
    return f"{fmt(sum(vals) / len(vals))} ({fmt(min(vals))}–{fmt(max(vals))})"


def main_job() -> str:
    rows = _load(MAIN_JOB)
    seeds = sorted({r["seed"] for r in rows})
    names = {"lstm bptt": "LSTM, full BPTT", "lstm tbptt": "LSTM, truncated BPTT", "sab": "SAB"}
    out = ["| run | k_trunc | recall accuracy (chance 0.125): mean (range) | held-out loss: "
           "mean (range) | training time (s): mean |", "|---|---|---|---|---|"]
    for label in dict.fromkeys(r["label"] for r in rows):
        rs = [r for r in rows if r["label"] == label]
        acc = _mean_range([r["accuracy"] for r in rs], lambda v: f"{v:.3f}")
        out.append(f"| {names.get(label, label)} | {rs[0]['k_trunc']} | {acc} | "
                   f"{_mean_range([r['loss'] for r in rs], table_number)} | "
                   f"{sum(r['time'] for r in rs) / len(rs):.0f} |")
    solved = [r for r in rows if r["label"] == "sab" and r["accuracy"] >= 0.99]
    m = _load(MAIN_JOB_MEASURED)
    out += ["", f"Seeds {', '.join(map(str, seeds))}: {len(rows)} runs (`{MAIN_JOB}`, with "
            f"`summary.md`, every run's learning curves and SAB's attention at seed {seeds[0]} "
            "beside it). SAB reaches a recall "
            f"accuracy of at least 0.99 on {len(solved)} of {len(seeds)} seeds. Measured on "
            f"{m['date']} with the default settings, {m['wall_s']:.0f} s for the {len(rows)} "
            f"runs, load average {m['load_average_start']:.1f} at the start and "
            f"{m['load_average_end']:.1f} at the end (other work on the machine lengthens the "
            "training times; it does not change the accuracies). "
            + (f"Machine: {m['machine']['processor']}, {_kernel(m['machine'])}, NumPy "
               f"{m['machine']['numpy']}, Python {m['machine']['python']}."
               if "machine" in m else
               "These files predate the record of the machine and its BLAS kernel; the "
               "section above says which kernel their bits come from.")]
    return "\n".join(out) + "\n"


def main_job_time() -> str:
    doc = _load(BENCH_LOAD)
    s = doc["summary"]["main job (python -m minisab compare)"]
    loads = [r["load_before"] for r in doc["runs"] if r["case"].startswith("main job")
             and r["condition"] == "alone"]
    st = doc["settings"]
    return (f"Time, measured on {doc['date']} on a {doc['machine']['cores']}-core machine with "
            f"the default settings ({st['default_jobs']} runs side by side, "
            f"{st['default_threads']} BLAS thread each): `python -m minisab compare` takes "
            f"**{s['alone_median_s']:.0f} s** (median of {st['repeats']}; load average "
            f"{min(loads):.1f}–{max(loads):.1f} from other work when it started), and "
            f"**{s['loaded_median_s']:.0f} s** beside {st['busy_processes']} busy processes "
            f"({s['ratio_median']:.1f}× as long; `{BENCH_LOAD}`, "
            "`python benchmarks/bench_load.py`).\n")


def bench_load() -> str:
    doc = _load(BENCH_LOAD)
    lines = ["| run | alone (s, median) | beside 2 busy processes (s, median) | ratio "
             "(target <= 2.5) |", "|---|---|---|---|"]
    for case, s in doc["summary"].items():
        lines.append(f"| {case} | {s['alone_median_s']:.1f} | {s['loaded_median_s']:.1f} | "
                     f"{s['ratio_median']:.2f} |")
    la = [r["load_before"] for r in doc["runs"]]
    m = doc["machine"]
    lines += ["", f"Measured {doc['date']}: {m['cores']} cores, Python {m['python']}, NumPy "
              f"{m['numpy']}; default settings ({doc['settings']['default_jobs']} worker "
              f"processes, {doc['settings']['default_threads']} BLAS thread each), "
              f"{doc['settings']['repeats']} alternating pairs; load average "
              f"{min(la):.1f}–{max(la):.1f} at the start of a timing (the machine is shared)."]
    return "\n".join(lines) + "\n"


def bench_threads() -> str:
    doc = _load(BENCH_THREADS)
    ns = doc["threads"]
    lines = ["| training step | " + " | ".join(f"{n} thread{'s' * (n > 1)}: min / median (ms)"
                                              for n in ns)
             + f" | {ns[-1]} vs {ns[0]}: min / median |", "|---" * (len(ns) + 2) + "|"]
    for row in doc["rows"]:
        cells = " | ".join(f"{row[str(n)]['min_ms']:.2f} / {row[str(n)]['median_ms']:.2f}"
                           for n in ns)
        a, b = row[str(ns[0])], row[str(ns[-1])]
        lines.append(f"| {row['case']} | {cells} | {b['min_ms'] / a['min_ms']:.2f}x / "
                     f"{b['median_ms'] / a['median_ms']:.2f}x |")
    lines += ["", f"Measured {doc['date']}, load average {doc['load'][0]:.1f} before and "
              f"{doc['load'][1]:.1f} after, {doc['repeats']} alternating repeats."]
    return "\n".join(lines) + "\n"


SPEED_FILES = [   # (file, what, targets): the one-thread speed runs of benchmarks/run_speed.sh
    ("sab_1thread.txt", "SAB step against the PyTorch autograd SAB",
     {("120", "float32"): 0.5, ("120", "float64"): 0.75, ("320", "float32"): 0.4,
      ("320", "float64"): 0.4}),
    ("lstm_1thread.txt", "plain LSTM step against `nn.LSTM`, one thread",
     {("120", "float32"): 0.9, ("120", "float64"): 0.9}),
    ("lstm_default_threads.txt", "plain LSTM step against `nn.LSTM`, default threads",
     {("120", "float32"): 0.9, ("120", "float64"): 0.9}),
    ("lstm_1thread_malloc_keep.txt", "plain LSTM step against `nn.LSTM`, one thread, the C "
     "library keeping freed memory", {}),
    ("lstm_students.txt", "plain LSTM step, students' size", {}),
    ("lstm_students_T106.txt", "plain LSTM step, students' size", {}),
    ("sab_students.txt", "SAB step, students' size", {}),
    ("sab_students_T106.txt", "SAB step, students' size", {}),
]


def speed_results() -> str:
    """The speed runs' tables as their files hold them, and each target met or not (by the
    ratio of the minima, the figure the targets were set on)."""
    out, verdicts = [], []
    for name, what, targets in SPEED_FILES:
        with open(os.path.join(ROOT, "benchmarks", "results", name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        out += [f"**{what}** (`results/{name}`, `{lines[0].lstrip('$ ')}`):", "", "```text"]
        out += [l for l in lines[1:]] + ["```", ""]
        for T, dtype, v in _bench_rows(name)[0]:
            if (T, dtype) in targets:               # v[4]: the ratio of the minima
                goal = targets[(T, dtype)]
                verdicts.append(f"| {what} | {T} | {dtype} | {v[4]:.2f} | {goal} | "
                                f"{'met' if v[4] <= goal else '**not met**'} |")
    return ("\n".join(out) + "\nThe targets (ratio of the minima, minisab / PyTorch):\n\n"
            "| step | T | dtype | ratio | target | |\n|---|---|---|---|---|---|\n"
            + "\n".join(verdicts) + "\n")


def _bench_rows(name):
    """The timing rows of a bench_lstm/bench_sab results file: (T, dtype, numbers...), with T
    from the header when the table has no T column; and the file's first load line."""
    with open(os.path.join(ROOT, "benchmarks", "results", name), encoding="utf-8") as f:
        lines = f.read().splitlines()
    T_default = re.search(r"\bT=(\d+)", lines[1])
    rows = []
    for line in lines:
        cells = [c for c in line.split() if c != "/"]
        if cells and cells[0].isdigit() and len(cells) > 1 and cells[1].startswith("float"):
            rows.append((cells[0], cells[1], [float(c) for c in cells[2:]]))
        elif cells and cells[0].startswith("float") and T_default:
            rows.append((T_default.group(1), cells[0], [float(c) for c in cells[1:]]))
    load = next(l for l in lines if l.startswith("# load average"))
    return rows, load[2:]


def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 1000 else f"{v:.1f}"


OPENBLAS_AUTO = [("LSTM", "lstm_1thread_openblas_auto.txt"), ("SAB", "sab_1thread_openblas_auto.txt")]


def openblas_auto() -> str:
    """Table 4: the one-thread runs with OpenBLAS's own kernel choice (env -u OPENBLAS_CORETYPE)."""
    out = ["| step | T | dtype | minisab min / median (ms) | PyTorch min / median (ms) | ratio "
           "min / median | CPU-time ratio min / median |", "|---|---|---|---|---|---|---|"]
    loads = []
    for step, name in OPENBLAS_AUTO:
        rows, load = _bench_rows(name)
        loads.append(f"`results/{name}`: {load.split(' on ')[0]}")
        for T, dtype, v in rows:
            out.append(f"| {step} | {T} | {dtype} | {_ms(v[0])} / {_ms(v[1])} | {_ms(v[2])} / "
                       f"{_ms(v[3])} | **{v[4]:.2f}** / {v[5]:.2f} | {v[6]:.2f} / {v[7]:.2f} |")
    return "\n".join(out) + "\n\n(" + "; ".join(loads) + " at the start.)\n"


OPS_FORMS = {"add+tanh": "`tanh(q + K)` (minisab)",
             "exp-ident": "`1 − 2/(1 + e^{2q} e^{2K})`, `e^{2K}` stored",
             "add-ident": "`(tanh q + tanh K)/(1 + tanh q tanh K)`",
             "1/(1+e^-z)": "gates `1/(1 + e^{−z})`",
             "(1+tanh(z/2))/2": "gates `(1 + tanh(z/2))/2` (minisab)"}


def ops() -> str:
    """Table 5: results/ops.txt (python benchmarks/bench_ops.py), ns per element."""
    with open(os.path.join(ROOT, "benchmarks", "results", "ops.txt"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = ["| dtype | form | min / median (ns per element) | max error |", "|---|---|---|---|"]
    for line in lines:
        cells = line.split()
        if cells and cells[0].startswith("float") and cells[1] in OPS_FORMS:
            out.append(f"| {cells[0]} | {OPS_FORMS[cells[1]]} | {float(cells[2]):.2f} / "
                       f"{float(cells[3]):.2f} | {cells[4]} |")
    load = next(l for l in lines if l.startswith("# load average"))
    return "\n".join(out) + f"\n\n(`results/ops.txt`, `{lines[0].lstrip('$ ')}`; {load[2:].split(' on ')[0]}.)\n"


LSTM_PARTS = [("now", "lstm_parts.txt"), ("before this work (commit 009a157)", "lstm_parts_before.txt")]


def lstm_parts() -> str:
    """The LSTM step by parts (python benchmarks/bench_lstm_parts.py), now and before."""
    out = []
    for when, name in LSTM_PARTS:
        with open(os.path.join(ROOT, "benchmarks", "results", name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        out += [f"**{when}** (`results/{name}`):", "", "```text"] + lines + ["```", ""]
    return "\n".join(out)


SPLIT = {"lstm_T120": "plain LSTM step, B=64, H=128", "sab_T120_320": "SAB step, B=64, H=128",
         "lstm_students": "plain LSTM step, students' size (B=32, H=64)",
         "sab_students": "SAB step, students' size (B=32, H=64, A=32, k_att=1)"}


def _split_rows(name: str, side: str, run: int) -> dict:
    """(T, dtype) -> (wall ratio median, CPU ratio median) of one results/split file."""
    path = os.path.join(ROOT, "benchmarks", "results", "split", f"{name}_{side}_run{run}.txt")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    T_default = re.search(r"\bT=(\d+)", lines[1]).group(1) if "lstm" in name else None
    out = {}
    for line in lines:
        cells = line.split()
        if cells and cells[0] in ("float32", "float64"):              # bench_lstm: dtype first
            out[(T_default, cells[0])] = (float(cells[8]), float(cells[10]))
        elif len(cells) > 1 and cells[0].isdigit() and cells[1] in ("float32", "float64"):
            out[(cells[0], cells[1])] = (float(cells[9]), float(cells[11]))
    return out


def split_speed() -> str:
    """benchmarks/README.md ``split-speed``: the fast engine against PyTorch before and after
    the reference/fast split (``bash benchmarks/results/split/run.sh``)."""
    head = ("| what | T | dtype | before: wall / CPU ratio (run 1; run 2) | "
            "after: wall / CPU ratio (run 1; run 2) |")
    lines = [head, "|---|---|---|---|---|"]
    for name, what in SPLIT.items():
        runs = {(side, r): _split_rows(name, side, r) for side in ("before", "after")
                for r in (1, 2)}
        for key in runs[("before", 1)]:
            cell = {side: "; ".join(f"{runs[(side, r)][key][0]:.2f} / {runs[(side, r)][key][1]:.2f}"
                                    for r in (1, 2)) for side in ("before", "after")}
            lines.append(f"| {what} | {key[0]} | {key[1]} | {cell['before']} | {cell['after']} |")
    return "\n".join(lines) + "\n"


TRAIN_DEFAULT = "experiments/results/train_commands/default.json"
CI_TIME = ".ci/measured.json"
# The README's real-data commands: (command, results file, the row it trains: task, method,
# its measurement today under experiments/results/train_commands/, None: not measured).
REAL_DATA = [
    ("python -m minisab train --config experiments/configs/digits.toml",
     "experiments/results/digits/results.json", "digits", "sab", "digits_sab"),
    ("python -m minisab train --config experiments/configs/digits.toml --task pdigits "
     "--attention none --method bptt", "experiments/results/digits/results.json", "pdigits",
     "bptt", "pdigits_bptt"),
    ("python -m minisab train --config experiments/configs/fashion.toml --download",
     "experiments/results/fashion/results.json", "fashion", "sab", None),
    ("python -m minisab train --config experiments/configs/text.toml --attention none "
     "--method tbptt", "experiments/results/text/results.json", None, "tbptt", "text_tbptt"),
]
TRAIN_COMMANDS = "experiments/results/train_commands"
REAL_WORDS = {"sab": "SAB", "bptt": "LSTM, full BPTT", "tbptt": "LSTM, truncated BPTT"}


BLAS_NAMES = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}


def _kernel(m: dict) -> str:
    """"OpenBLAS 0.3.31 (Haswell kernel)" from a results file's machine record."""
    pool = next(p for p in m["blas"] if p.get("user_api") == "blas")
    name = BLAS_NAMES.get(pool["internal_api"], pool["internal_api"])
    return f"{name} {pool['version']}" + (f" ({pool['architecture']} kernel)"
                                          if pool.get("architecture") else "")


def train_default() -> str:
    """What ``python -m minisab train`` with no options reaches, how long it took, and the
    machine and kernel that made the main job's bits (experiments/measure_train.py)."""
    d = _load(TRAIN_DEFAULT)
    m, ref = d["machine"], d["reference"]
    pool = next(p for p in m["blas"] if p.get("user_api") == "blas")
    same = ("the same bits as the main job's SAB at seed 0 (held-out loss "
            f"{table_number(d['loss'])} in both)" if ref["same_bits"] else
            f"other bits than the main job's SAB at seed 0 ({table_number(ref['loss'])})")
    return (f"Measured on {d['date']} (`{TRAIN_DEFAULT}`, made by `python "
            "experiments/measure_train.py default --ref "
            "experiments/results/main_job/results.json::sab`): it ends at a held-out recall "
            f"accuracy of **{d['final']:.3f}** after {d['step']} steps, {same}, in "
            f"**{d['wall_s']:.0f} s** "
            f"on a {m['cores']}-core {m['processor']} busy with other work (load average "
            f"{d['load_average_start']:.1f} at the start, run at the lowest priority). Machine: "
            f"{_kernel(m)}, {m['threads']} BLAS thread, NumPy {m['numpy']}, Python "
            f"{m['python']}. The main job's files below predate the machine record; these bits "
            f"say they were made on the {pool['architecture']} kernel: to get the same bits on "
            "another x86-64 processor, run with that kernel "
            f"(`OPENBLAS_CORETYPE={pool['architecture']} python -m minisab compare ...`) and "
            f"the same NumPy.\n")


def real_data() -> str:
    """The README's real-data commands: what each reached in the results file whose settings
    it trains (seed 0), and what it reached when run again (experiments/measure_train.py)."""
    out = ["| command | trains | in the results file: seed 0 (all seeds: mean, range), "
           "training time | run again: reached, training time |", "|---|---|---|---|"]
    for cmd, rel, task, method, measured in REAL_DATA:
        rows = [r for r in _load(rel)["runs"] if r.get("task") == task and r["method"] == method]
        r0 = next(r for r in rows if r["seed"] == 0)
        what = "bits per character" if r0["metric"] == "bpc" else "accuracy"
        fmt = (lambda v: f"{v:.2f}") if r0["metric"] == "bpc" else (lambda v: f"{v:.3f}")
        path = os.path.join(TRAIN_COMMANDS, f"{measured}.json") if measured else None
        if path and os.path.exists(os.path.join(ROOT, path)):
            m = _load(path)
            bits = "the same bits" if m["reference"]["same_bits"] else "other bits"
            again = (f"{fmt(m['final'])} after {m['step']:,} steps, {bits}; "
                     f"{m['training_s']:.0f} s ({m['date']}, `{path}`)")
        else:
            again = "not run again (no Fashion-MNIST on the machine that ran the others)"
        out.append(f"| `{cmd}` | {REAL_WORDS[method]} on {task or 'text'} | {what} "
                   f"{fmt(r0['final'])} ({_mean_range([r['final'] for r in rows], fmt)} over "
                   f"{len(rows)} seeds), {r0['wall_s']:.0f} s | {again} |")
    out += ["", "Each command trains the settings of one row of a results file (its settings "
            "file under `experiments/configs/`; `--seed 1` or `2` trains the other rows). Run "
            "again with today's code (the last column; its file records the machine and BLAS "
            "kernel), it ends at that row's bits where the column says so; where it says other "
            "bits, the results file "
            "was made before later changes to the order of the LSTM step's operations, which "
            "change a float32 run's last bits as another BLAS kernel does. The last column's "
            "runs were made by `python experiments/measure_train.py`, at the lowest priority "
            "beside other work, so their times are long; the results files' times are of two "
            "runs side by side on a 2-core machine."]
    return "\n".join(out) + "\n"


def test_time() -> str:
    """How long the test suite takes: the last full run of .ci/run."""
    d = _load(CI_TIME)
    minutes, seconds = divmod(round(d["wall_s"]), 60)
    where = ", ".join(f"{k} {d[k]}" for k in ("date", "machine", "load") if d.get(k)) or (
        "its date, machine and load were not recorded")
    quick = d.get("quick_lane")
    quick_text = (f" The quick lane below took **{round(quick['wall_s'])} s** ({quick['where']})."
                  if quick else "")
    return (f"The last full run of `{d['command']}` ({d['what']}) took **{minutes} min "
            f"{seconds} s** (`{CI_TIME}`; {where}). On a machine busy with other work it takes "
            "several times as long; `-m \"not install and not notebooks\"` leaves out the "
            f"wheel install and the notebook runs.{quick_text}\n")


RENDERERS = {"main-job": main_job, "split-speed": split_speed,
             "train-default": train_default, "real-data": real_data,
             "test-time": test_time, "main-job-time": main_job_time, "bench-load": bench_load,
             "bench-threads": bench_threads, "speed-results": speed_results,
             "openblas-auto": openblas_auto, "ops": ops, "lstm-parts": lstm_parts}
FILES = ["README.md", "benchmarks/README.md"]


def regenerate(text: str) -> str:
    """``text`` with every results block rewritten from its file."""
    def sub(m):
        name = m.group("name")
        if name not in RENDERERS:
            raise SystemExit(f"unknown results block {name!r}: known are {sorted(RENDERERS)}")
        return m.group(1) + RENDERERS[name]() + m.group(4)
    return BLOCK.sub(sub, text)


def blocks(text: str) -> list:
    return [m.group("name") for m in BLOCK.finditer(text)]


def _script(rel: str, name: str):
    """A script of the repository (not part of minisab) as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def docs_generator():
    """docs/_generate.py as a module."""
    return _script(os.path.join("docs", "_generate.py"), "minisab_docs_generate")


def tutorial_times():
    """benchmarks/tutorial_times.py as a module: the tutorials' stated compute times."""
    return _script(os.path.join("benchmarks", "tutorial_times.py"), "minisab_tutorial_times")


def targets() -> list:
    """[(file relative to ROOT, function old text -> new text)]: every file this script writes
    but the docs pages (docs/_generate.py's own)."""
    return [(rel, regenerate) for rel in FILES] + tutorial_times().targets()


def _targets_and_problems():
    """``targets()``, or the READMEs' alone and the reason when the tutorials' results file
    cannot give stated times (e.g. it is not a median of 3 runs): the rest is still written."""
    try:
        return targets(), None
    except ValueError as e:
        return [(rel, regenerate) for rel in FILES], str(e)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = p.parse_args(argv)
    stale = 0
    todo, problem = _targets_and_problems()
    for rel, remake in todo:
        path = os.path.join(ROOT, rel)
        with open(path, encoding="utf-8", newline="") as f:
            old = f.read()
        new = remake(old)
        if new == old:
            continue
        if args.check:
            stale += 1
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                       rel, rel + " (regenerated)"))
        else:
            from minisab.train.checkpoint import atomic_write_text
            atomic_write_text(path, new)
            print(f"updated {rel}")
    docs = docs_generator().main(["--check"] if args.check else [])     # docs/*.md
    if problem:
        print(f"the tutorials' compute times were not restated: {problem}", file=sys.stderr)
    return 1 if (stale or docs or problem) else 0


if __name__ == "__main__":
    sys.exit(main())
