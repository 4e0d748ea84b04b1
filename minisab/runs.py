"""Run folders and the comparison of runs (the main job, ``python -m minisab compare``).

A run folder ``runs/<name>/`` holds ``config.json`` (model, task, training, backend),
``metrics.jsonl`` and ``checkpoint.npz`` (``train.py``), the figures (``learning_curves.png``,
and ``attention.png`` for attention models) and ``summary.md`` (both made by ``reports.py``).
``compare`` trains the three methods of a preset in ``runs/<name>/<label>/`` (with several
seeds, ``runs/<name>/seed<s>/<label>/``), side by side in worker processes
(``minisab.parallel``), and writes the comparison table, the shared learning curves and SAB's
attention heat map in ``runs/<name>/``.

The ``cpu`` preset was chosen by measurement (docs: the paper's 10-digit copy task needs tens of
thousands of iterations on a CPU): 3 digits of 8 symbols after T = 20 steps, so a digit must be
remembered for 23 steps, more than four times ``k_trunc = 5``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from .argcheck import check_memory
from .backend import get_backend, host_rng
from .checkpoint import (CheckpointError, atomic_write_text, check_matches, load_checkpoint,
                         remove_temporary_files)
from .config import Config
from .faults import Terminated
from .parallel import check_jobs, run_all
from .params import check_params, params_from_host, params_to_host
from .provenance import describe, machine
# What a run folder shows (its summary, the tables, the figures) lives in reports.py; the names
# stay importable from here, where the tutorials and scripts first met them.
from .reports import (compare_table, heatmap_model, run_summary, save_figures,  # noqa: F401
                      seeds_table)
from .sab import loss_and_grads
from .tasks import Task, make_task
from .threads import resolve_threads, with_threads
from .train import CHECKPOINT, CONFIG, TrainConfig, TrainError, check_resumable, train

PRESETS = {
    # Measured on a 2-core laptop-class CPU: about 6 minutes for the three runs (README).
    "cpu": {"task": {"name": "copy", "T": 20, "n_digits": 3, "n_symbols": 8, "mask": "all"},
            "model": {"hidden_size": 64, "attn_size": 32, "k_top": 5, "k_att": 1, "k_trunc": 5,
                      "dtype": "float32"},
            "train": {"steps": 2000, "batch": 32, "lr": 1e-2, "clip": 1.0, "forget_bias": 1.0,
                      "eval_every": 100, "eval_batch": 256}},
    # The paper's copy task: 10 digits at T=100 (hours on a CPU; experiments/paper_copy.py).
    "paper": {"task": {"name": "copy", "T": 100, "n_digits": 10, "n_symbols": 8, "mask": "all"},
              "model": {"hidden_size": 128, "attn_size": 64, "k_top": 5, "k_att": 2,
                        "k_trunc": 5, "dtype": "float32"},
              "train": {"steps": 20000, "batch": 32, "lr": 1e-3, "clip": 1.0,
                        "forget_bias": 1.0, "eval_every": 500, "eval_batch": 512}},
}

# label -> the model fields that make the method (docs/model.md §4). SAB trains without "mental
# updates" (detach_scores=True): with them, the gradient through the scores back into the
# states bursts near sparsifier ties and training spikes or stalls (docs/make_sab_learn.md:
# at the cpu preset docs/model.md's SAB stays at chance on 1 seed of 3, this setting solves all 3).
METHODS = {"lstm bptt": {"attention": None, "method": "bptt"},
           "lstm tbptt": {"attention": None, "method": "tbptt"},
           "sab": {"attention": "topk", "method": "sab", "detach_scores": True}}


SAB = "sab"     # the label of the one SAB the notebooks, the README and compare train


def sab_method() -> dict:
    """The model fields of THE SAB (a copy of ``METHODS["sab"]``): every tutorial builds its SAB
    from this, so changing the method's settings here changes them everywhere at once. A
    variant (e.g. docs/model.md's SAB with mental updates, ``detach_scores=False``) is this dict
    with one field changed, and is named as a variant where it appears."""
    return dict(METHODS[SAB])


def config_for(task: Task, method: dict, **model) -> Config:
    """The model config of one method on ``task`` (sizes from the task)."""
    return Config(input_size=task.input_size, output_size=task.output_size, loss=task.loss,
                  **{**model, **method})


def write_config(run_dir, cfg: Config, task: Task, tc: TrainConfig, backend: str) -> None:
    d = {"model": cfg.to_dict(), "task": task.spec(), "train": tc.to_dict(), "backend": backend,
         "command": " ".join(["python -m minisab"] + sys.argv[1:]),
         "python": platform.python_version(), "numpy": np.__version__, "machine": machine()}
    os.makedirs(run_dir, exist_ok=True)
    atomic_write_text(os.path.join(run_dir, CONFIG), json.dumps(d, indent=2) + "\n")


def read_config(run_dir) -> dict:
    """``config.json`` of a run, with its ``model`` and ``task`` sections (a clear
    ``TrainError`` for a missing, unreadable or damaged file)."""
    path = os.path.join(run_dir, CONFIG)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except FileNotFoundError:
        raise TrainError(f"run folder {os.fspath(run_dir)!r} has no {CONFIG}: give the folder "
                         "of a run made by 'python -m minisab train' or 'compare'") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TrainError(f"{path!r} is not valid JSON ({e})") from None
    except OSError as e:
        raise TrainError(f"{path!r} cannot be read ({e.strerror})") from None
    missing = [k for k in ("model", "task") if not isinstance(d, dict)
               or not isinstance(d.get(k), dict)]
    if missing:
        raise TrainError(f"{path!r} is damaged: it has no {' or '.join(map(repr, missing))} "
                         "section; a resumed 'train' writes it again from its options")
    return d


def load_run(run_dir, backend=None, text_file=None):
    """``(cfg, task, params)`` of a finished or interrupted run, from its folder."""
    d = read_config(run_dir)
    cfg = Config.from_dict(d["model"])
    spec = dict(d["task"])
    spec.pop("vocab", None)
    tf = spec.pop("text_file", None)
    try:
        task = make_task(spec.pop("name"), spec.pop("T"), text_file=text_file or tf, **spec)
    except (KeyError, TypeError) as e:
        raise TrainError(f"the task section of {os.path.join(run_dir, CONFIG)!r} is damaged "
                         f"({type(e).__name__}: {e})") from None
    path = os.path.join(run_dir, CHECKPOINT)
    ck = load_checkpoint(path)
    check_matches(ck["meta"], cfg.to_dict(), task.spec(), path)   # e.g. the text file changed
    params = params_from_host(ck["params"], cfg, get_backend(backend))
    try:
        check_params(params, cfg)
    except ValueError as e:
        raise CheckpointError(f"checkpoint {path!r} does not fit {CONFIG}: {e}") from None
    return cfg, task, params


def peak_step_memory(params, cfg: Config, task: Task, batch: int, backend=None) -> float:
    """Peak memory (MiB) that one training step (forward + backward) allocates, by tracemalloc.

    Measured apart from the timed training so that tracing does not slow it; meaningful for
    host backends (NumPy registers its buffers with tracemalloc).
    """
    be = get_backend(backend)
    x, targets, mask = task.sample(host_rng(0), batch)
    args = (be.asarray(x, dtype=cfg.dtype),
            be.asarray(targets) if task.loss == "xent" else be.asarray(targets, dtype=cfg.dtype))
    m = be.asarray(mask, dtype=cfg.dtype)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        loss_and_grads(params, *args, cfg, mask=m)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2 ** 20


def _check_compare_folder(top, dirs: dict, overwrite: bool, resume: bool) -> list:
    """The labels whose run folder holds a checkpoint; refuses a folder that holds a comparison
    unless ``resume`` or ``overwrite`` (which deletes the checkpoints), and ``resume`` of none."""
    held = [label for label, d in dirs.items() if os.path.exists(os.path.join(d, CHECKPOINT))]
    if held and not (resume or overwrite):
        raise TrainError(f"{os.fspath(top)!r} already holds a comparison: continue it with "
                         "--resume, pick another --name, or --overwrite to train it again")
    if resume and not held:
        raise TrainError(f"--resume: {os.fspath(top)!r} holds no checkpoint of a comparison; "
                         "start it without --resume")
    if overwrite:
        for label in held:
            os.remove(os.path.join(dirs[label], CHECKPOINT))
        return []
    for name in remove_temporary_files(top):
        print(f"note: removed {name}, left in {top} by an interrupted write", file=sys.stderr)
    return held


def _max_rss_mib():
    """Peak resident memory of this process in MiB (None where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:       # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2 ** 20 if sys.platform == "darwin" else rss / 2 ** 10   # bytes vs KiB


def _compare_run(job: dict):
    """One run of a comparison, in this process or a worker: train it, write its figures and
    summary. Returns ``(row, records, host parameters, the signal that stopped it or None)``."""
    label, cfg, task, tc, run_dir = (job[k] for k in ("label", "cfg", "task", "tc", "run_dir"))
    be = get_backend(job["backend"])
    log = job.get("log") or (lambda m: print(m, file=sys.stderr, flush=True))
    write_config(run_dir, cfg, task, tc, be.name)
    log(f"[{job['title']}] attention={cfg.attention} method={cfg.method} k_trunc={cfg.k_trunc}"
        + (f" detach_scores={cfg.detach_scores}" if cfg.uses_attention else ""))
    t0 = time.perf_counter()
    result = train(cfg, task, tc, run_dir, backend=be, progress=job["progress"], log=log,
                   resume=job["resume"], allow_changes=job["allow_changes"])
    wall = result["elapsed"] if job["resume"] else time.perf_counter() - t0
    last = result["records"][-1]
    if result["stopped"] == "interrupted":          # checkpoint saved; the caller stops
        return ({"label": label, "seed": tc.seed, "stopped": "interrupted"}, result["records"],
                None, result.get("signal"))
    peak = peak_step_memory(result["params"], cfg, task, tc.batch, be)
    row = {"label": label, "seed": tc.seed,
           "k_trunc": cfg.k_trunc if cfg.method != "bptt" else "none",
           "step": result["step"], task.metric_name: last[task.metric_name],
           "loss": last["loss"], "time": wall, "peak_mib": peak, "stopped": result["stopped"]}
    run_figs = save_figures(run_dir, {label: result["records"]}, task.metric_name,
                            chance=task.chance)
    atomic_write_text(os.path.join(run_dir, "summary.md"),      # named as its folder is
                      run_summary(job["folder"], cfg, task, tc, result, run_figs))
    log(f"[{job['title']}] {task.metric_name} {last[task.metric_name]:.3f} after "
        f"{result['step']} steps, {wall:.1f} s ({result['stopped']}); figures: "
        f"{', '.join(run_figs)}")
    return row, result["records"], params_to_host(result["params"]), result.get("signal")


@with_threads
def run_compare(preset: str, runs_dir: str, name: str, overrides: dict, backend=None,
                progress: bool = True, overwrite: bool = False, log=print,
                resume: bool = False, allow_changes: bool = False, seeds=None,
                jobs: int = 1, scheduler=None) -> list:
    """Train every method of ``METHODS`` under ``preset`` (with ``overrides`` of its fields).

    ``overrides`` maps "task", "model", "train" to dicts of fields. ``resume`` continues an
    interrupted comparison: runs with a checkpoint resume (a finished one just reloads), the
    others start. ``seeds``: train each method at each of these seeds (default: the training
    seed alone); with several, run folders are ``<name>/seed<s>/<label>``. ``jobs``: runs
    trained side by side in worker processes (``minisab.parallel``; results are bit-identical
    to ``jobs=1``), ``scheduler``: a Dask scheduler instead. Returns one dict per run (by
    seed, then method): label, seed, k_trunc, step, the metric, loss, time (s, the run's
    training time, summed over resumes), peak_mib, stopped.
    """
    p = {part: {**PRESETS[preset][part], **overrides.get(part, {})}
         for part in ("task", "model", "train")}
    spec = dict(p["task"])
    if spec["name"] != PRESETS[preset]["task"]["name"]:     # another task: not the preset's
        spec = dict(overrides["task"])                      # copy options (make_task refuses)
    task = make_task(spec.pop("name"), spec.pop("T"), **spec)
    tc = TrainConfig(**p["train"])
    seeds = [tc.seed] if seeds is None else list(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise TrainError(f"invalid seeds={seeds!r}: accepted values are distinct integers")
    jobs = check_jobs(jobs)
    be = get_backend(backend)
    cfgs = {label: config_for(task, m, **p["model"]) for label, m in METHODS.items()}
    top = os.path.join(runs_dir, name)
    runs = [{"label": label, "cfg": cfg, "task": task, "tc": dataclasses.replace(tc, seed=s),
             "run_dir": os.path.join(top, *([f"seed{s}"] if len(seeds) > 1 else []),
                                     label.replace(" ", "-")),
             "title": label + (f" seed {s}" if len(seeds) > 1 else ""), "name": name,
             "folder": "/".join([name, *([f"seed{s}"] if len(seeds) > 1 else []),
                                 label.replace(" ", "-")]),
             "backend": backend, "progress": progress and jobs == 1 and scheduler is None,
             "log": log if jobs == 1 and scheduler is None else None,
             "resume": False, "allow_changes": allow_changes}
            for s in seeds for label, cfg in cfgs.items()]
    for cfg in cfgs.values():                       # an absurd --T: refused up front
        check_memory(cfg, task.length(), tc.batch, tc.eval_batch)
    held = _check_compare_folder(top, {run["title"]: run["run_dir"] for run in runs},
                                 overwrite, resume)
    for run in runs:                                # refuse before spending minutes training
        if run["title"] in held:
            check_resumable(run["run_dir"], run["cfg"], task, run["tc"], allow_changes)
            run["resume"] = True
    done = {}
    for run, (row, records, host_params, signal) in run_all(
            _compare_run, runs, jobs=jobs, scheduler=scheduler, describe=lambda r: r["title"],
            log=log if (jobs > 1 or scheduler is not None) else False):
        done[run["title"]] = (row, records, host_params)
        if row["stopped"] == "interrupted":          # train saved; stop the comparison
            raise Terminated() if signal == "SIGTERM" else KeyboardInterrupt()
    rows = [done[run["title"]][0] for run in runs]                # a fixed order, not finish order
    curves = {run["title"]: done[run["title"]][1] for run in runs}
    sab = next(run for run in runs if run["cfg"].uses_attention)     # the first seed's SAB
    sab_model = (params_from_host(done[sab["title"]][2], sab["cfg"], be), sab["cfg"], task)
    table = compare_table(rows, task.metric_name)
    if len(seeds) > 1:
        table += "\n\nOver seeds " + ", ".join(map(str, seeds)) + ":\n\n" + seeds_table(
            rows, task.metric_name)
    save_figures(top, curves, task.metric_name, sab_model, chance=task.chance)
    total = sum(r["time"] for r in rows)
    rss = _max_rss_mib() if jobs == 1 and scheduler is None else None   # else: workers' RSS
    summary = "\n".join([
        f"# Comparison `{name}` (preset `{preset}`)", "",
        f"Task: {task.name} {json.dumps(task.spec())}; chance {task.metric_name} = "
        f"{task.chance:.3f}.", f"Model: {json.dumps(p['model'])}.",
        "Methods: " + "; ".join(f"{k}: {json.dumps(v)}" for k, v in METHODS.items()) + ".",
        f"Training: {json.dumps(p['train'])}, backend {be.name}, {resolve_threads()} BLAS "
        f"thread(s) per run, {min(jobs, len(runs)) if scheduler is None else 'Dask'} "
        "run(s) at a time.", f"Machine: {describe(machine())}.", "", table, "",
        f"Training time summed over runs {total:.1f} s. Peak step memory: one forward + "
        "backward, traced with tracemalloc after training"
        + ("." if rss is None else f"; peak resident memory of the whole process: {rss:.0f} MiB."),
        "",
        "Figures: `learning_curves.png`, `attention.png` (SAB's attention on one held-out "
        "sequence).", ""])
    atomic_write_text(os.path.join(top, "summary.md"), summary)
    atomic_write_text(os.path.join(top, "results.json"), json.dumps(rows, indent=2) + "\n")
    return rows

