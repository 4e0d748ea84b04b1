"""The comparison of a preset's methods, ``python -m minisab compare``: ``run_compare``.

It trains every method of ``runs.METHODS`` at every seed, side by side in worker processes
(``parallel.py``), each run in its own folder ``<name>/<label>/`` (several seeds:
``<name>/seed<s>/<label>/``), then writes the table (``summary.md``, ``results.json``) and the
shared figures in ``<name>/``.

The comparison holds its folder for its whole life and each run holds its own
(``runlock.py``); every check (the folder's kind and seeds, the checkpoints to resume, the
memory, the scheduler) is made before the first file is written, so a refused comparison
leaves every file as it was.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

from .checks import check_name
from ..backend import get_backend
from ..train.checkpoint import atomic_write_text, remove_temporary_files
from ..config import Config, ConfigError
from ..train.faults import stop_error
from ..train.footprint import check_memory
from ..train.parallel import check_jobs, check_scheduler, run_all
from ..params import params_from_host, params_to_host
from ..train.provenance import describe, machine
from ..plots.reports import compare_table, run_summary, save_figures, seeds_table
from ..train.runfolder import check_folder, check_not_held_below, clear_folder
from ..train.runlock import RunFolderBusy, describe_holder, hold_run_folder, holder
from ..train.runs import METHODS, PRESETS, config_for, peak_step_memory, write_config
from ..train.tasks import make_task
from ..threads import resolve_threads, with_threads
from ..train.loop import CHECKPOINT, FirstCheckpointError, TrainConfig, TrainError, resume_point, train

# A run folder still held when a comparison starts belongs to a worker of a comparison that
# was just killed (workers stop within about a second, parallel.py): wait for it this long.
SUBRUN_WAIT_S = 10.0


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
    with hold_run_folder(run_dir, wait=SUBRUN_WAIT_S) as hold:
        hold.commit()           # run_compare checked everything before any run started
        return _train_one(job, label, cfg, task, tc, run_dir)


def _train_one(job, label, cfg, task, tc, run_dir):
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
    trained side by side in worker processes (``minisab.train.parallel``; results are bit-identical
    to ``jobs=1``), ``scheduler``: a Dask scheduler instead. Returns one dict per run (by
    seed, then method): label, seed, k_trunc, step, the metric, loss, time (s, the run's
    training time, summed over resumes), peak_mib, stopped.
    """
    if not (isinstance(preset, str) and preset in PRESETS):
        raise ConfigError(f"invalid preset={preset!r}: accepted values are "
                          + ", ".join(map(repr, PRESETS)))
    check_name(name, "name")
    p = _settings(preset, overrides)
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
    side_by_side = min(jobs, len(runs)) if scheduler is None else 1
    for cfg in cfgs.values():                       # an absurd --T: refused up front
        check_memory(cfg, task.length(), tc.batch, tc.eval_batch, tc.optimizer,
                     options=("--hidden-size", "--T", "--batch", "--eval-batch"),
                     copies=side_by_side)
    check_scheduler(scheduler)
    with hold_run_folder(top) as hold:              # a refusal below changes no file
        check_folder(runs_dir, name, "compare", overwrite, seeds)
        _wait_for_runs(runs)
        held = _held_runs(top, runs, overwrite, resume)
        for run in runs:                            # refuse before spending minutes training
            if run["title"] in held:
                resume_point(run["run_dir"], run["cfg"], task, run["tc"], allow_changes, be)
                run["resume"] = True
        if overwrite:
            check_not_held_below(top)
        hold.commit()
        if overwrite:
            clear_folder(top)
        for left in remove_temporary_files(top):
            print(f"note: removed {left}, left in {top} by an interrupted write",
                  file=sys.stderr)
        done = {}
        try:
            for run, (row, records, host_params, signal) in run_all(
                    _compare_run, runs, jobs=jobs, scheduler=scheduler,
                    describe=lambda r: r["title"],
                    log=log if (jobs > 1 or scheduler is not None) else False):
                done[run["title"]] = (row, records, host_params)
                if row["stopped"] == "interrupted":          # train saved; stop the comparison
                    raise stop_error(signal)
        except (FirstCheckpointError, OSError) as e:
            raise TrainError(_write_failed(e, runs)) from None
        rows = [done[run["title"]][0] for run in runs]        # a fixed order, not finish order
        _write_results(top, name, preset, p, task, be, runs, done, seeds, jobs, scheduler)
    return rows


def _settings(preset, overrides) -> dict:
    """The preset's fields with ``overrides``; unknown parts or fields are refused by name."""
    if not isinstance(overrides, dict) or set(overrides) - {"task", "model", "train"}:
        raise ConfigError(f"invalid overrides={overrides!r}: accepted is a dict with the keys "
                          "'task', 'model', 'train', each a dict of fields")
    known = {"model": {f.name for f in dataclasses.fields(Config)},
             "train": {f.name for f in dataclasses.fields(TrainConfig)}}
    for part, fields in known.items():
        unknown = sorted(set(overrides.get(part, {})) - fields)
        if unknown:
            raise ConfigError(f"invalid overrides[{part!r}] fields {unknown}: accepted are "
                              f"{sorted(fields)}")
    return {part: {**PRESETS[preset][part], **overrides.get(part, {})}
            for part in ("task", "model", "train")}


def _wait_for_runs(runs) -> None:
    """Refuse, naming it, a process that still writes one of the run folders after
    ``SUBRUN_WAIT_S`` seconds (a worker of a killed comparison stops within about one)."""
    deadline = time.monotonic() + SUBRUN_WAIT_S
    for run in runs:
        while (who := holder(run["run_dir"])) is not None:
            if time.monotonic() > deadline:
                raise RunFolderBusy(f"run folder {run['run_dir']!r} is being written by "
                                    f"{describe_holder(who)}: wait for it to finish, or stop it")
            time.sleep(0.1)


def _held_runs(top, runs, overwrite: bool, resume: bool) -> list:
    """The titles of the runs whose folder holds a checkpoint; refuses a folder that holds a
    comparison unless ``resume`` or ``overwrite``, and ``resume`` of none."""
    held = [run["title"] for run in runs
            if os.path.exists(os.path.join(run["run_dir"], CHECKPOINT))]
    if held and not (resume or overwrite):
        raise TrainError(f"{os.fspath(top)!r} already holds a comparison: continue it with "
                         "--resume, pick another --name, or --overwrite to train it again")
    if resume and not held:
        raise TrainError(f"--resume: {os.fspath(top)!r} holds no checkpoint of a comparison; "
                         "start it without --resume")
    return [] if overwrite else held


def _write_failed(e, runs) -> str:
    """The message of a comparison whose files could not be written (a full disk): continue
    with --resume where a run has a checkpoint, else run the command again."""
    err = e.error if isinstance(e, FirstCheckpointError) else e
    where = f" writing {err.filename!r}" if getattr(err, "filename", None) else ""
    if any(os.path.exists(os.path.join(run["run_dir"], CHECKPOINT)) for run in runs):
        then = "then continue with the same command and --resume (the checkpoints are intact)"
    else:
        then = "then run the same command again (no run has a checkpoint yet)"
    return (f"{getattr(err, 'strerror', None) or err}{where}: free some space (or choose a "
            f"--runs-dir you can write to), {then}")


def _write_results(top, name, preset, p, task, be, runs, done, seeds, jobs, scheduler):
    """The comparison's table (summary.md, results.json) and shared figures in ``top``."""
    rows = [done[run["title"]][0] for run in runs]
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
