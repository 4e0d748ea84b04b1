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

from .argcheck import positive_int as _positive_int, seed_int
from .cliargs import (add_model_args, add_parallel_args, add_task_args, add_train_args,
                      config_from_args, _train_config)
from .config import LOSS_NAMES, ConfigError


def cmd_gradcheck(args) -> int:
    import numpy as np

    from .backend import get_backend
    from .gradcheck import check_model, format_report, passes
    from .params import init_params

    cfg = config_from_args(args, input_size=args.input_size, output_size=args.output_size,
                           loss=args.loss)
    if cfg.dtype != "float64":
        raise ConfigError(f"invalid dtype={cfg.dtype!r} for gradcheck: accepted values are "
                          "'float64' (finite differences need double precision)")
    from .footprint import check_memory
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
class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every default, unless the help text already says what it is."""

    def _get_help_string(self, action):
        if "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def cmd_train(args) -> int:
    from .argcheck import check_memory, check_run_options
    from .backend import get_backend
    from .checkpoint import atomic_write_text, remove_temporary_files
    from .reports import heatmap_model, run_summary, save_figures
    from .runfolder import check_folder, check_not_held_below, clear_folder
    from .runlock import hold_run_folder
    from .runs import write_config
    from .tasks import IMAGE_TASKS, make_task
    from .train import CHECKPOINT, resume_point, train

    check_run_options(args)
    T = args.T if args.T is not None or args.task in IMAGE_TASKS else 20
    task = make_task(args.task, T, n_digits=args.n_digits, n_symbols=args.n_symbols,
                     mask=args.mask, text_file=args.text_file and os.path.abspath(args.text_file),
                     data_dir=args.data_dir, image_size=args.image_size)
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
                from .train import FirstCheckpointError
                raise FirstCheckpointError(e, e.filename or run_dir) from None
            raise
        shown = task.spec() if task.name != "text" else {"name": "text", "T": task.T}
        print(f"train: {name} -> {run_dir}\n  {cfg}\n  task {shown}", file=sys.stderr)
        result = train(cfg, task, tc, run_dir, backend=be, resume=args.resume,
                       progress=not args.no_progress, allow_changes=args.allow_changes)
        if result["records"]:
            save_figures(run_dir, {f"{cfg.method}": result["records"]}, task.metric_name,
                         heatmap_model(result, cfg, task, run_dir, be), chance=task.chance)
        atomic_write_text(os.path.join(run_dir, "summary.md"),
                          run_summary(name, cfg, task, tc, result))
    last = result["records"][-1] if result["records"] else {}
    print(f"{name}: stopped ({result['stopped']}) at step {result['step']}, held-out "
          f"{task.metric_name} {last.get(task.metric_name, float('nan')):.4g}, loss "
          f"{last.get('loss', float('nan')):.4g}; files in {run_dir}")
    if result["stopped"] == "interrupted":
        return 143 if result["signal"] == "SIGTERM" else 130
    return {"done": 0, "target": 0, "nan": 1}[result["stopped"]]


def cmd_eval(args) -> int:
    import json

    from .argcheck import check_memory, check_run_folder
    from .checkpoint import atomic_write_text
    from .runs import load_run
    from .train import evaluate

    cfg, task, params = load_run(check_run_folder(args.run), backend=args.backend)
    lengths = args.T or [task.T]
    for T in lengths:
        check_memory(cfg, task.at_length(T).length(), 0, args.batch,
                     options=("--T", "--batch"))
    rows = []
    print(f"| T | held-out loss | {task.metric_name} |\n|---|---|---|")
    for T in lengths:
        ev = evaluate(params, cfg, task.at_length(T), args.batch, backend=args.backend)
        rows.append({"T": T, **ev})
        print(f"| {T}{' (trained)' if T == task.T else ''} | {ev['loss']:.4f} | "
              f"{ev[task.metric_name]:.4f} |")
    from .runlock import RunFolderBusy, hold_run_folder
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
    from .argcheck import check_run_options
    from .reports import compare_table, seeds_table
    from .compare import run_compare
    from .runs import PRESETS

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


def _preset_text(presets) -> str:
    lines = []
    for name, p in presets.items():
        fields = [f"{k}={v}" for part in ("task", "model", "train") for k, v in p[part].items()]
        lines.append(f"{name}: " + " ".join(fields))
    return "Options left out take the preset's value. " + "; ".join(lines) + "."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minisab",
        description="Sparse Attentive Backtracking from scratch: gradient checks, training, "
                    "comparisons.",
        formatter_class=_Formatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    g = sub.add_parser("gradcheck", help="analytic vs numerical gradient, one line a parameter",
                       formatter_class=_Formatter)
    add_model_args(g, hidden_size=4, attn_size=3, k_top=2, k_att=2, k_trunc=3)
    g.add_argument("--input-size", type=int, default=3, help="I")
    g.add_argument("--output-size", type=int, default=3, help="C")
    g.add_argument("--loss", default="xent", choices=LOSS_NAMES)
    g.add_argument("--batch", type=_positive_int, default=2, help="B")
    g.add_argument("--steps", type=_positive_int, default=10, help="T")
    g.add_argument("--seed", type=seed_int, default=0)
    g.add_argument("--engine", default="fast", choices=["fast", "reference"],
                   help="what to check: the fast engine that training runs (minisab.fast), or "
                        "the reference written as the equations (minisab.sab)")
    g.set_defaults(func=cmd_gradcheck)

    t = sub.add_parser("train", help="train one model on one task (runs/<name>/)",
                       formatter_class=_Formatter)
    add_task_args(t)
    add_model_args(t, hidden_size=64, attn_size=32, k_att=1, dtype="float32")
    add_train_args(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="evaluate a run, also at other sequence lengths (transfer)",
                       formatter_class=_Formatter)
    e.add_argument("run", help="run folder, e.g. runs/copy-sab")
    e.add_argument("--T", type=_positive_int, nargs="+", default=None,
                   help="sequence lengths to evaluate at (default: the training T)")
    e.add_argument("--batch", type=_positive_int, default=512, help="held-out sequences")
    e.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"])
    e.set_defaults(func=cmd_eval)

    from .runs import PRESETS
    c = sub.add_parser("compare", help="the main job: LSTM with full and truncated BPTT "
                                       "against SAB on the copy task",
                       formatter_class=_Formatter, description=_preset_text(PRESETS))
    c.add_argument("--preset", default="cpu", choices=sorted(PRESETS),
                   help="cpu: minutes on a 2-core laptop; paper: the paper's copy task (hours)")
    add_task_args(c, preset=True)
    m = c.add_argument_group("model (docs/model.md)")
    keep = argparse.SUPPRESS
    m.add_argument("--hidden-size", type=_positive_int, default=keep, help="H")
    m.add_argument("--k-trunc", type=_positive_int, default=keep,
                   help="truncation length for tbptt and sab")
    m.add_argument("--k-top", type=_positive_int, default=keep, help="memories kept by topk")
    m.add_argument("--k-att", type=_positive_int, default=keep,
                   help="write a memory every k_att steps")
    m.add_argument("--dtype", default=keep, choices=["float64", "float32"],
                   help="float type of parameters and states")
    m.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"])
    add_train_args(c, preset=True)
    c.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="train every method at each of these seeds; the table gives the mean "
                        "and range (default: --seed alone)")
    add_parallel_args(c)
    c.set_defaults(func=cmd_compare)
    for command in sub.choices.values():            # every command: BLAS threads per process
        command.add_argument("--threads", type=_positive_int, default=None,
                             help="BLAS threads per process (default: $MINISAB_THREADS, or "
                                  "1: the fastest at minisab's sizes; minisab/threads.py)")
    return parser


def _how_to_continue(args) -> str:
    """What an interrupted train or compare tells its user: --resume once a checkpoint exists
    in its run folder (``args.run_dir``, set by the command), else to run it again."""
    run_dir = getattr(args, "run_dir", None)
    if run_dir is None:
        return ""
    from .train import CHECKPOINT
    held = any(CHECKPOINT in files for _, _, files in os.walk(run_dir))
    return ("; continue with the same command and --resume" if held
            else "; no checkpoint was written yet: run the same command again")


def main(argv=None) -> int:
    from .argcheck import os_error_text
    from .backend import BackendError
    from .checkpoint import CheckpointError
    from .faults import Terminated, handle_sigterm
    from .optim import OptimError
    from .tasks import TaskError
    from .threads import use_threads
    from .train import TrainError

    parser = build_parser()
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
