"""The command line: ``python -m minisab <command>``.

Every invalid argument or combination ends with a message that names the argument and its
accepted values, exit status 2, and no traceback.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from .options import config_from_args, _train_config
from .parser import prog_name
from ..config import ConfigError


def cmd_gradcheck(args) -> int:
    import numpy as np

    from ..backend import get_backend
    from ..gradcheck import check_model, format_report, passes
    from ..params import init_params

    cfg = config_from_args(args, input_size=args.input_size, output_size=args.output_size,
                           loss=args.loss)
    if cfg.dtype != "float64":
        raise ConfigError(f"invalid dtype={cfg.dtype!r} for gradcheck: accepted values are "
                          "'float64' (finite differences need double precision)")
    from ..train.footprint import check_memory
    check_memory(cfg, args.steps, args.batch, 0, optimizer=None,
                 options=("--hidden-size", "--attn-size", "--steps", "--batch"))
    be = get_backend(args.backend)
    rng = np.random.default_rng(args.seed)
    params = init_params(cfg, seed=args.seed, backend=be)
    x = be.asarray(rng.normal(size=(args.batch, args.steps, cfg.input_size)))
    if cfg.loss == "xent":
        targets = be.asarray(rng.integers(0, cfg.output_size, size=(args.batch, args.steps)))
    else:
        targets = be.asarray(rng.normal(size=(args.batch, args.steps, cfg.output_size)))
    print(f"gradcheck: {cfg}")
    print(f"B={args.batch} T={args.steps} seed={args.seed} backend={be.name} "
          f"engine={args.engine}\n")
    rows = check_model(params, x, targets, cfg, engine=args.engine)
    print(format_report(rows))
    return 0 if all(passes(r[3], r[2]) for r in rows) else 1


# ------------------------------------------------------------------ train / eval / compare
def cmd_train(args) -> int:
    from .checks import check_memory, check_run_options
    from ..backend import get_backend
    from ..train.checkpoint import atomic_write_text, remove_temporary_files
    from ..plots.reports import heatmap_model, run_summary, save_figures
    from ..train.runfolder import check_folder, check_not_held_below, clear_folder
    from ..train.runlock import hold_run_folder
    from ..train.runs import write_config
    from ..train.tasks import IMAGE_TASKS, make_task
    from ..train.loop import CHECKPOINT, resume_point, train

    check_run_options(args)
    from ..plots.reports import model_name
    from ..train.runs import PRESETS
    cpu = PRESETS["cpu"]["task"]        # what a copy-task option left out gets
    T = args.T if args.T is not None or args.task in IMAGE_TASKS else cpu["T"]
    copy = {k: (getattr(args, k) if getattr(args, k) is not None or args.task != "copy"
                else cpu[k]) for k in ("n_digits", "n_symbols", "mask")}
    if args.download and args.task != "fashion":
        raise ConfigError(f"invalid --download with --task {args.task}: accepted only with "
                          "--task fashion (the other data are generated or shipped)")
    data_dir = args.data_dir
    if args.task == "fashion":          # the user cache, Debian's folder, or a download
        from ..train.download import fashion_dir
        data_dir = fashion_dir(args.data_dir, download=args.download, ask=sys.stdin.isatty())
    task = make_task(args.task, T, **copy,
                     text_file=args.text_file and os.path.abspath(args.text_file),
                     data_dir=data_dir, image_size=args.image_size)
    cfg = config_from_args(args, input_size=task.input_size, output_size=task.output_size,
                           loss=task.loss)
    tc = _train_config(args)
    check_memory(cfg, task.length(), tc.batch, tc.eval_batch, tc.optimizer)
    be = get_backend(args.backend)
    name = args.name or f"{task.name}-{cfg.method}"
    run_dir = args.run_dir = os.path.join(args.runs_dir, name)
    with hold_run_folder(run_dir) as hold:      # one writer; a refusal below changes nothing
        check_folder(args.runs_dir, name, "train", args.overwrite)
        has_checkpoint = os.path.exists(os.path.join(run_dir, CHECKPOINT))
        if has_checkpoint and not (args.resume or args.overwrite):
            raise ConfigError(f"run folder {run_dir!r} already holds a checkpoint: continue it "
                              "with --resume, or pick another --name, or --overwrite to start "
                              "again")
        if args.resume:     # the checkpoint must fit first: config.json then describes it
            resume_point(run_dir, cfg, task, tc, args.allow_changes, be)
        if args.overwrite:
            check_not_held_below(run_dir)
        hold.commit()
        try:
            if args.overwrite:
                clear_folder(run_dir)
            for left in remove_temporary_files(run_dir):     # of a write killed last time
                print(f"note: removed {left}, left in {run_dir} by an interrupted write",
                      file=sys.stderr)
            write_config(run_dir, cfg, task, tc, be.name)
        except OSError as e:
            if not has_checkpoint or args.overwrite:
                from ..train.loop import FirstCheckpointError
                raise FirstCheckpointError(e, e.filename or run_dir) from None
            raise
        shown = task.spec() if task.name != "text" else {"name": "text", "T": task.T}
        print(f"train: {model_name(cfg)} -> {run_dir}\n  {cfg}\n  task {shown}\n  training "
              f"{tc.optimizer} lr={tc.lr:g}, {tc.steps} steps of batch {tc.batch}, seed "
              f"{tc.seed}", file=sys.stderr)
        result = train(cfg, task, tc, run_dir, backend=be, resume=args.resume,
                       progress=not args.no_progress, allow_changes=args.allow_changes)
        figures = []
        if result["records"]:
            figures = save_figures(run_dir, {f"{cfg.method}": result["records"]},
                                   task.metric_name, heatmap_model(result, cfg, task, run_dir, be),
                                   chance=task.chance)
        atomic_write_text(os.path.join(run_dir, "summary.md"),
                          run_summary(name, cfg, task, tc, result, figures))
    last = result["records"][-1] if result["records"] else {}
    print(f"{name}: {model_name(cfg)}, stopped ({result['stopped']}) at step {result['step']}, "
          f"held-out {task.metric_name} {last.get(task.metric_name, float('nan')):.4g} "
          f"(chance {task.chance:.3g}), loss {last.get('loss', float('nan')):.4g}, after "
          f"{result['elapsed']:.0f} s; files in {run_dir}")
    if result["stopped"] == "interrupted":
        return 143 if result["signal"] == "SIGTERM" else 130
    return {"done": 0, "target": 0, "nan": 1}[result["stopped"]]


def cmd_eval(args) -> int:
    import json

    from .checks import check_memory, check_run_folder
    from ..backend import host_rng
    from ..train.checkpoint import atomic_write_text
    from ..train.runs import load_run, read_config
    from ..train.loop import TrainConfig, evaluate

    cfg, task, params = load_run(check_run_folder(args.run), backend=args.backend)
    lengths = args.T or [task.T]
    # The run's own held-out set (drawn as train draws it: eval_batch sequences, seed [seed, 1]),
    # so that eval at the trained T gives the number of the run's summary; --batch: a new draw.
    train_d = {**TrainConfig().to_dict(), **read_config(args.run).get("train", {})}
    n = args.batch or train_d["eval_batch"]
    for T in lengths:
        check_memory(cfg, task.at_length(T).length(), 0, n, options=("--T", "--batch"))
    rows = []
    which = "the run's own, as in its summary" if args.batch is None else "a new draw"
    print(f"held-out set: {which}, {n} sequences (image tasks: test images, all of them when "
          f"{n} is at least the test set)")
    print(f"| T | held-out loss | {task.metric_name} |\n|---|---|---|")
    for T in lengths:
        tk = task.at_length(T)
        batch = (tk.sample_eval(host_rng([train_d["seed"], 1]), n) if args.batch is None
                 else n)
        ev = evaluate(params, cfg, tk, batch, backend=args.backend)
        rows.append({"T": T, "held_out": "run" if args.batch is None else "new", "n": n, **ev})
        print(f"| {T}{' (trained)' if T == task.T else ''} | {ev['loss']:.4f} | "
              f"{ev[task.metric_name]:.4f} |")
    from ..train.runlock import RunFolderBusy, hold_run_folder
    try:                            # eval.json only while no run writes the folder
        with hold_run_folder(args.run) as hold:
            hold.commit()
            atomic_write_text(os.path.join(args.run, "eval.json"),
                              json.dumps(rows, indent=2) + "\n")
    except OSError:                 # e.g. another user's run: the table above is the result
        print(f"note: eval.json not written: {args.run!r} is not writable", file=sys.stderr)
    except RunFolderBusy as e:
        print(f"note: eval.json not written: {e}", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from .checks import check_run_options
    from ..plots.reports import compare_table, seeds_table
    from .compare import run_compare
    from ..train.runs import PRESETS

    parts = {"task": ("T", "n_digits", "n_symbols", "mask"),
             "model": ("hidden_size", "k_trunc", "k_top", "k_att", "dtype"),
             "train": ("steps", "batch", "lr", "clip", "seed", "forget_bias", "eval_every",
                       "eval_batch", "target")}
    check_run_options(args)
    args.name = args.name or f"copy-{args.preset}"
    args.run_dir = os.path.join(args.runs_dir, args.name)
    given = vars(args)            # options left out are absent (argparse.SUPPRESS)
    over = {part: {k: given[k] for k in keys if k in given} for part, keys in parts.items()}
    task = {**PRESETS[args.preset]["task"], **over["task"]}
    print(f"compare (preset {args.preset}): lstm bptt, lstm tbptt, sab on {task}",
          file=sys.stderr)
    if args.seeds is not None and "seed" in over["train"]:
        raise ConfigError("invalid combination --seed with --seeds: accepted is one of them")
    t0 = time.perf_counter()
    rows = run_compare(args.preset, args.runs_dir, args.name, over, backend=args.backend,
                       progress=not args.no_progress, overwrite=args.overwrite,
                       log=lambda m: print(m, file=sys.stderr), resume=args.resume,
                       allow_changes=args.allow_changes, seeds=args.seeds, jobs=args.jobs,
                       scheduler=args.scheduler)
    print(compare_table(rows, "accuracy"))
    if args.seeds is not None and len(args.seeds) > 1:
        print("\n" + seeds_table(rows, "accuracy"))
    print(f"\nwall time {time.perf_counter() - t0:.1f} s (training time summed over runs "
          f"{sum(r['time'] for r in rows):.1f} s); results, figures and summary in "
          f"{os.path.join(args.runs_dir, args.name)}")
    return 0


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The command line (minisab/cli/parser.py): help that shows the defaults ``argv`` will
    use, and each command's function as ``func``."""
    from .parser import build_parser as build
    from ..train.download import cmd_download
    from .diagnose import run as cmd_diagnose
    return build(argv, {"gradcheck": cmd_gradcheck, "train": cmd_train, "eval": cmd_eval,
                        "compare": cmd_compare, "download": cmd_download,
                        "diagnose": cmd_diagnose})


def _how_to_continue(args) -> str:
    """What an interrupted train or compare tells its user: --resume once a checkpoint exists
    in its run folder (``args.run_dir``, set by the command), else to run it again."""
    run_dir = getattr(args, "run_dir", None)
    if run_dir is None:
        return ""
    from ..train.loop import CHECKPOINT
    held = any(CHECKPOINT in files for _, _, files in os.walk(run_dir))
    return ("; continue with the same command and --resume" if held
            else "; no checkpoint was written yet: run the same command again")


def main(argv=None) -> int:
    from .checks import os_error_text
    from ..backend import BackendError
    from ..train.checkpoint import CheckpointError
    from ..train.faults import Terminated, handle_sigterm
    from ..train.optim import OptimError
    from ..train.tasks import TaskError
    from ..threads import use_threads
    from ..train.loop import TrainError

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser(argv)
    except ConfigError as e:       # a --config file that cannot be used
        print(f"{prog_name()} {argv[0] if argv else ''}: error: {e}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    previous = handle_sigterm()     # a job scheduler's SIGTERM stops training like Ctrl-C
    try:
        with use_threads(args.threads):
            return args.func(args)
    except (ConfigError, TaskError, OptimError, TrainError, CheckpointError, BackendError) as e:
        parser.exit(2, f"{parser.prog} {args.command}: error: {e}\n")
    except OSError as e:        # a full disk, a folder that cannot be written: no traceback
        parser.exit(2, f"{parser.prog} {args.command}: error: {os_error_text(e)}\n")
    except KeyboardInterrupt as e:
        print(f"\ninterrupted ({'SIGTERM' if isinstance(e, Terminated) else 'SIGINT'}); "
              f"files already written are complete{_how_to_continue(args)}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)     # main() may run inside another program


if __name__ == "__main__":
    sys.exit(main())
