"""The command line's options, one group per part of a run: the model (``Config``), the task,
the training (``TrainConfig``) and the parallel runs. ``cli.py`` builds its commands from these
groups; each invalid value is refused by an ``argcheck`` type that names the accepted values.
"""
from __future__ import annotations

import argparse

from .checks import (finite_float, none_or_float as _none_or_float,
                       none_or_int as _none_or_int, positive_float as _positive_float,
                       positive_int as _positive_int, seed_int)
from ..config import METHODS, OLD_SPARSIFIER_NAMES, SCORERS, SPARSIFIERS, Config


def add_model_args(p: argparse.ArgumentParser, **defaults) -> None:
    """The Config fields as options (docs/model.md); ``defaults`` overrides the dataclass defaults
    (``detach_scores=None``: on for SAB, off otherwise, see ``config_from_args``)."""
    d = Config().to_dict()
    d["detach_scores"] = None
    d.update(defaults)
    g = p.add_argument_group("model (docs/model.md)")
    g.add_argument("--hidden-size", type=int, default=d["hidden_size"],
                   help="size of the LSTM state, and of each memory [H]")
    g.add_argument("--attention", default="none" if d["attention"] is None else d["attention"],
                   choices=["none", "topk", "softmax"],
                   help="attention over the memories: 'topk' SAB's sparse attention, 'softmax' "
                        "dense attention over all of them, 'none' a plain LSTM")
    g.add_argument("--scorer", default=d["scorer"], choices=SCORERS,
                   help="how a memory is scored: 'mlp' w_s·tanh(ĥ W_q + m W_m), 'release' "
                        "w_s·tanh([ĥ; m]) as in the released code [docs/model.md §2]")
    g.add_argument("--attn-size", type=int, default=d["attn_size"],
                   help="hidden size of the mlp scorer [A]")
    g.add_argument("--k-top", type=int, default=d["k_top"],
                   help="memories the sparse attention keeps at each step [k_top]")
    g.add_argument("--k-att", type=int, default=d["k_att"],
                   help="a memory is written every this many steps [k_att]")
    g.add_argument("--k-trunc", type=_none_or_int, default=d["k_trunc"],
                   help="truncation: tbptt and sab cut the recurrent chain every this many steps; "
                        "'none' never [k_trunc]")
    g.add_argument("--method", default=d["method"], choices=METHODS,
                   help="credit assignment: 'bptt' full backpropagation through time, 'tbptt' "
                        "truncated, 'sab' sparse attentive backtracking [docs/model.md §4]")
    g.add_argument("--detach-scores", action=argparse.BooleanOptionalAction,
                   default=d["detach_scores"],
                   help="no mental updates: the scores' inputs count as constants in the "
                        "backward pass [detach_scores] (default: "
                        + ("on for --method sab, the course's one SAB, off otherwise)"
                           if d["detach_scores"] is None else
                           f"{'on' if d['detach_scores'] else 'off'})"))
    g.add_argument("--sparsifier", default=d["sparsifier"],
                   choices=SPARSIFIERS + tuple(OLD_SPARSIFIER_NAMES),
                   help="weights of topk attention: 'threshold' ã/(Σã+ε) [docs/model.md §2.3], "
                        "or the bounded 'topk_softmax' / 'topk_sparsemax' over the k_top largest "
                        "scores ('softmax' / 'sparsemax' are read as these)")
    g.add_argument("--temperature", type=_positive_float, default=d["temperature"],
                   help="temperature of --sparsifier topk_softmax [τ]")
    g.add_argument("--dtype", default=d["dtype"], choices=["float64", "float32"],
                   help="float type of parameters and states")
    g.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"],
                   help="array library: numpy, cupy (a GPU) or strict (the array-API test "
                        "backend) (default: $MINISAB_BACKEND, or numpy)")


def config_from_args(args, **sizes) -> Config:
    """Build the Config from parsed options; raises ConfigError on invalid combinations."""
    return Config(hidden_size=args.hidden_size,
                  attention=None if args.attention == "none" else args.attention,
                  scorer=args.scorer, attn_size=args.attn_size, k_top=args.k_top,
                  k_att=args.k_att, k_trunc=args.k_trunc, method=args.method,
                  detach_scores=detach_scores(args), sparsifier=args.sparsifier,
                  temperature=args.temperature, dtype=args.dtype, **sizes)


def detach_scores(args) -> bool:
    """--detach-scores as given, or by default on for SAB (the course's one SAB,
    ``minisab.train.runs.sab_method()``: no mental updates) and off for every other model."""
    if args.detach_scores is not None:
        return args.detach_scores
    return args.method == "sab" and args.attention == "topk"


def _shown(value) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def add_task_args(p: argparse.ArgumentParser, preset: bool = False, values=None,
                  source: str = "the cpu preset", given=()) -> None:
    """Task options. ``values``: the defaults to show, by option name (train: the cpu preset's
    task, with a settings file's ``given`` keys on top, as from ``source``); with ``preset`` an
    option left out is not set (the preset's value counts). T and the copy task's options stay
    None unless given (another task refuses them); ``cli.cmd_train`` fills in the preset's."""
    from ..train.tasks import MASKS, TASKS
    v = {"task": "copy", "T": 20, "n_digits": 10, "n_symbols": 8, "mask": "all",
         **(values or {})}

    def says(name):                     # the default a run gets, and where it comes from
        if preset or name in given:
            return f" (default: {_shown(v.get(name))}, from {source})"
        if name == "T":
            return f" (default: {v['T']} for copy, adding and text, from the cpu preset)"
        return f" (default: {_shown(v.get(name))}, from the cpu preset)"

    g = p.add_argument_group("task (minisab/train/tasks.py, minisab/train/datasets.py)")
    if not preset:
        g.add_argument("--task", default=v["task"], choices=TASKS,
                       help="what to learn: 'copy' recall digits after a delay, 'adding' add two "
                            "marked numbers (both generated); 'text' the next character of a "
                            "real text; 'digits' UCI 8x8 digits pixel by pixel (T=64, shipped); "
                            "'pdigits' the same, pixels in a fixed random order; 'fashion' "
                            "Fashion-MNIST pixel by pixel, 14x14 or 7x7 (--download, "
                            "--data-dir)" + says("task"))
    g.add_argument("--T", type=_positive_int, default=argparse.SUPPRESS if preset else None,
                   help="sequence length [T]: copy: blanks between the digits and the marker "
                        "(a sequence has T + 2 n_digits steps); adding, text: steps; digits, "
                        "pdigits, fashion: the pixels of an image, leave it out" + says("T"))
    g.add_argument("--n-digits", type=_positive_int, default=argparse.SUPPRESS if preset else None,
                   help="copy: digits to remember and recall [n_digits]" + says("n_digits"))
    g.add_argument("--n-symbols", type=_positive_int,
                   default=argparse.SUPPRESS if preset else None,
                   help="copy: alphabet the digits are drawn from [n_symbols]"
                        + says("n_symbols"))
    g.add_argument("--mask", default=argparse.SUPPRESS if preset else None, choices=MASKS,
                   help="copy: the loss on every step ('all', as the released code) or on the "
                        "recall steps only ('recall')" + says("mask"))
    if not preset:
        g.add_argument("--text-file", default=v.get("text_file"),
                       help="text: a UTF-8 file to learn (default: the standard library's "
                            "pydoc_data.topics, 465k characters of Python's reference manual; "
                            "the last 10%% is held out)")
        g.add_argument("--data-dir", default=v.get("data_dir"),
                       help="fashion: folder of the four Fashion-MNIST IDX files (default: the "
                            "user cache that --download fills, else /usr/share/datasets/"
                            "fashion-mnist/, Debian's dataset-fashion-mnist)")
        g.add_argument("--download", action="store_true",
                       help="fashion: if the data are not found, download them once (30 MB, "
                            "hash-checked) into the user cache (python -m minisab download "
                            "fashion does the same; without it, train asks on a terminal)")
        g.add_argument("--image-size", type=int, default=v.get("image_size"), choices=[14, 7, 28],
                       help="fashion: images averaged down to this side, T = side^2 "
                            "(default: 14)" if v.get("image_size") is None else
                            "fashion: images averaged down to this side, T = side^2")


def add_train_args(p: argparse.ArgumentParser, preset: bool = False, values=None,
                   source: str = "the cpu preset") -> None:
    """Training options (TrainConfig). ``values``: the defaults by option name (train: the cpu
    preset's training, or a settings file's); with ``preset`` an option left out is not set
    and ``values`` are only shown, as from ``source``."""
    from ..train.optim import OPTIMIZERS
    from ..train.loop import TrainConfig
    v = {**TrainConfig().to_dict(), **(values or {})}

    def add(flag, name, type_, words):
        if preset:
            g.add_argument(flag, type=type_, default=argparse.SUPPRESS,
                           help=f"{words} (default: {_shown(v[name])}, from {source})")
        else:
            g.add_argument(flag, type=type_, default=v[name], help=words)

    g = p.add_argument_group("training (minisab/train/loop.py)")
    add("--steps", "steps", _positive_int, "optimiser steps [steps]")
    add("--batch", "batch", _positive_int, "sequences per optimiser step [B]")
    add("--lr", "lr", _positive_float, "learning rate [η]")
    add("--clip", "clip", _none_or_float,
        "largest global gradient norm: a larger gradient is scaled down to it ('none': no "
        "clipping)")
    add("--seed", "seed", seed_int, "seeds the initial parameters and the data")
    add("--forget-bias", "forget_bias", finite_float,
        "added to the forget gate's bias at initialisation [b_f]")
    add("--eval-every", "eval_every", _positive_int,
        "evaluate on the held-out set and write a checkpoint every this many steps")
    add("--eval-batch", "eval_batch", _positive_int,
        "held-out sequences per evaluation, drawn once with the seed (image tasks: test "
        "images, all of them when at least the test set)")
    add("--target", "target", _none_or_float,
        "stop early once the held-out metric reaches this ('none': train every step)")
    if not preset:
        g.add_argument("--lr-final", type=_none_or_float, default=v["lr_final"],
                       help="cosine-decay the learning rate to this at the last step "
                            "('none': constant)")
        g.add_argument("--optimizer", default=v["optimizer"], choices=OPTIMIZERS,
                       help="update rule: 'adam', or 'sgd' with momentum")
        g.add_argument("--momentum", type=finite_float, default=v["momentum"],
                       help="momentum of sgd [μ]")
    r = p.add_argument_group("run folder")
    r.add_argument("--runs-dir", default="runs", help="folder that holds the run folders")
    r.add_argument("--name", default=None,
                   help="run folder name (default: train <task>-<method>, compare copy-<preset>)")
    r.add_argument("--overwrite", action="store_true",
                   help="delete the run's checkpoint and train it again")
    r.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint(s) in the run folder (give the same options)")
    r.add_argument("--allow-changes", action="store_true",
                   help="with --resume: accept changed training options (recorded in "
                        "changes.jsonl)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_config(args, **extra):
    from ..train.loop import TrainConfig
    return TrainConfig(steps=args.steps, batch=args.batch, optimizer=args.optimizer, lr=args.lr,
                       momentum=args.momentum, clip=args.clip, seed=args.seed,
                       forget_bias=args.forget_bias, eval_every=args.eval_every,
                       eval_batch=args.eval_batch, target=args.target,
                       lr_final=getattr(args, "lr_final", None), **extra)


def add_parallel_args(p: argparse.ArgumentParser) -> None:
    """--jobs and --scheduler: independent runs side by side (minisab/train/parallel.py)."""
    from ..train.parallel import default_jobs
    g = p.add_argument_group("parallel runs (minisab/train/parallel.py)")
    g.add_argument("--jobs", type=_positive_int, default=default_jobs(),
                   help="runs trained side by side in worker processes (default: the number "
                        f"of cores, here {default_jobs()}; results do not depend on it)")
    g.add_argument("--scheduler", default=None,
                   help="address of a Dask scheduler (tcp://host:8786) to run on instead "
                        "(needs the 'cluster' extra; docs/parallel.md)")
