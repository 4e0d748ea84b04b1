"""The command line's options, one group per part of a run: the model (``Config``), the task,
the training (``TrainConfig``) and the parallel runs. ``cli.py`` builds its commands from these
groups; each invalid value is refused by an ``argcheck`` type that names the accepted values.
"""
from __future__ import annotations

import argparse

from .argcheck import (finite_float, none_or_float as _none_or_float,
                       none_or_int as _none_or_int, positive_float as _positive_float,
                       positive_int as _positive_int, seed_int)
from .config import METHODS, OLD_SPARSIFIER_NAMES, SCORERS, SPARSIFIERS, Config


def add_model_args(p: argparse.ArgumentParser, **defaults) -> None:
    """The Config fields as options (docs/model.md); ``defaults`` overrides the dataclass defaults."""
    d = Config().to_dict()
    d.update(defaults)
    g = p.add_argument_group("model (docs/model.md)")
    g.add_argument("--hidden-size", type=int, default=d["hidden_size"], help="H")
    g.add_argument("--attention", default="none" if d["attention"] is None else d["attention"],
                   choices=["none", "topk", "softmax"], help="attention kind")
    g.add_argument("--scorer", default=d["scorer"], choices=SCORERS, help="attention scorer")
    g.add_argument("--attn-size", type=int, default=d["attn_size"], help="A, mlp scorer size")
    g.add_argument("--k-top", type=int, default=d["k_top"], help="memories kept by topk")
    g.add_argument("--k-att", type=int, default=d["k_att"], help="write a memory every k_att steps")
    g.add_argument("--k-trunc", type=_none_or_int, default=d["k_trunc"],
                   help="truncation length ('none': no cut)")
    g.add_argument("--method", default=d["method"], choices=METHODS, help="credit assignment")
    g.add_argument("--detach-scores", action="store_true", default=d["detach_scores"],
                   help="no mental updates: scorer inputs are constants")
    g.add_argument("--sparsifier", default=d["sparsifier"],
                   choices=SPARSIFIERS + tuple(OLD_SPARSIFIER_NAMES),
                   help="weights of topk attention: 'threshold' ã/(Σã+ε) (docs/model.md §2.3), "
                        "or the bounded 'topk_softmax' / 'topk_sparsemax' over the k_top largest "
                        "scores ('softmax' / 'sparsemax' are read as these)")
    g.add_argument("--temperature", type=_positive_float, default=d["temperature"],
                   help="τ of --sparsifier topk_softmax")
    g.add_argument("--dtype", default=d["dtype"], choices=["float64", "float32"],
                   help="float type of parameters and states")
    g.add_argument("--backend", default=None, choices=["numpy", "cupy", "strict"],
                   help="array backend (default: $MINISAB_BACKEND or numpy)")


def config_from_args(args, **sizes) -> Config:
    """Build the Config from parsed options; raises ConfigError on invalid combinations."""
    return Config(hidden_size=args.hidden_size,
                  attention=None if args.attention == "none" else args.attention,
                  scorer=args.scorer, attn_size=args.attn_size, k_top=args.k_top,
                  k_att=args.k_att, k_trunc=args.k_trunc, method=args.method,
                  detach_scores=args.detach_scores, sparsifier=args.sparsifier,
                  temperature=args.temperature, dtype=args.dtype, **sizes)


def add_task_args(p: argparse.ArgumentParser, preset: bool = False) -> None:
    """Task options; with ``preset`` an option left out is not set (the preset's value counts)."""
    from .tasks import MASKS, TASKS

    def d(value):
        return argparse.SUPPRESS if preset else value

    g = p.add_argument_group("task (minisab/tasks.py, minisab/datasets.py)")
    if not preset:
        g.add_argument("--task", default="copy", choices=TASKS,
                       help="copy, adding: generated; text: characters of a real text; "
                            "digits: UCI 8x8 digits pixel by pixel (T=64, shipped); pdigits: "
                            "the same, pixels in a fixed random order; fashion: Fashion-MNIST "
                            "pixel by pixel, 14x14 or 7x7 (IDX files in --data-dir). "
                            "(default: copy)")
    g.add_argument("--T", type=_positive_int, default=d(None if not preset else 20),
                   help="sequence length (default: 20; copy: blanks between digits and "
                        "marker, the sequence has T + 2*n_digits steps; digits, pdigits, "
                        "fashion: the number of pixels, set by the image)")
    # The copy task's options are None unless given, so that another task can refuse them.
    g.add_argument("--n-digits", type=_positive_int, default=d(None),
                   help="copy: digits to recall (default: 10)")
    g.add_argument("--n-symbols", type=_positive_int, default=d(None),
                   help="copy: alphabet size (default: 8)")
    g.add_argument("--mask", default=d(None), choices=MASKS,
                   help="copy: loss on all steps (released code, the default) or on the recall "
                        "steps only")
    if not preset:
        g.add_argument("--text-file", default=None,
                       help="text: a UTF-8 file (default: the standard library's "
                            "pydoc_data.topics, 465k characters of Python's reference manual; "
                            "the last 10%% is held out)")
        g.add_argument("--data-dir", default=None,
                       help="fashion: folder of the Fashion-MNIST IDX files (default: "
                            "/usr/share/datasets/fashion-mnist/, Debian's "
                            "dataset-fashion-mnist)")
        g.add_argument("--image-size", type=int, default=None, choices=[14, 7, 28],
                       help="fashion: images averaged down to this size, T = size^2 "
                            "(default: 14)")


def add_train_args(p: argparse.ArgumentParser, preset: bool = False) -> None:
    """Training options (TrainConfig); with ``preset`` an option left out is not set."""
    from .optim import OPTIMIZERS

    def d(value):
        return argparse.SUPPRESS if preset else value

    g = p.add_argument_group("training (minisab/train.py)")
    g.add_argument("--steps", type=_positive_int, default=d(2000), help="optimiser steps")
    g.add_argument("--batch", type=_positive_int, default=d(32), help="sequences per step")
    g.add_argument("--lr", type=_positive_float, default=d(1e-3), help="learning rate")
    g.add_argument("--clip", type=_none_or_float, default=d(1.0),
                   help="global gradient-norm limit ('none': no clipping)")
    g.add_argument("--seed", type=seed_int, default=d(0), help="seeds the model and the data")
    g.add_argument("--forget-bias", type=finite_float, default=d(1.0),
                   help="added to the forget-gate bias at initialisation")
    g.add_argument("--eval-every", type=_positive_int, default=d(100),
                   help="evaluate and checkpoint every this many steps")
    g.add_argument("--eval-batch", type=_positive_int, default=d(256),
                   help="held-out sequences per evaluation")
    g.add_argument("--target", type=_none_or_float, default=d(None),
                   help="stop early when the metric reaches this value")
    if not preset:
        g.add_argument("--lr-final", type=_none_or_float, default=None,
                       help="cosine-decay the learning rate to this at the last step "
                            "('none': constant)")
        g.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, help="update rule")
        g.add_argument("--momentum", type=finite_float, default=0.9, help="sgd momentum")
    r = p.add_argument_group("run folder")
    r.add_argument("--runs-dir", default="runs", help="where run folders go")
    r.add_argument("--name", default=None,
                   help="run folder name (default: train <task>-<method>, compare copy-<preset>)")
    r.add_argument("--overwrite", action="store_true", help="start an existing run again")
    r.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint(s) in the run folder (give the same options)")
    r.add_argument("--allow-changes", action="store_true",
                   help="with --resume: accept changed training options (recorded in "
                        "changes.jsonl)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_config(args, **extra):
    from .train import TrainConfig
    return TrainConfig(steps=args.steps, batch=args.batch, optimizer=args.optimizer, lr=args.lr,
                       momentum=args.momentum, clip=args.clip, seed=args.seed,
                       forget_bias=args.forget_bias, eval_every=args.eval_every,
                       eval_batch=args.eval_batch, target=args.target,
                       lr_final=getattr(args, "lr_final", None), **extra)


def add_parallel_args(p: argparse.ArgumentParser) -> None:
    """--jobs and --scheduler: independent runs side by side (minisab/parallel.py)."""
    from .parallel import default_jobs
    g = p.add_argument_group("parallel runs (minisab/parallel.py)")
    g.add_argument("--jobs", type=_positive_int, default=default_jobs(),
                   help="runs trained side by side in worker processes (default: the number "
                        f"of cores, here {default_jobs()}; results do not depend on it)")
    g.add_argument("--scheduler", default=None,
                   help="address of a Dask scheduler (tcp://host:8786) to run on instead "
                        "(needs the 'cluster' extra; docs/parallel.md)")
