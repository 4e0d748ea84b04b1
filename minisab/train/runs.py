"""Run folders and what the comparison of runs builds on (the main job, ``python -m minisab
compare``, whose ``run_compare`` is in ``compare.py``).

A run folder ``runs/<name>/`` holds ``config.json`` (model, task, training, backend),
``metrics.jsonl`` and ``checkpoint.npz`` (``train.py``), the figures (``learning_curves.png``,
and ``attention.png`` for attention models) and ``summary.md`` (both made by ``reports.py``).
``compare`` trains the three methods of a preset in ``runs/<name>/<label>/`` (with several
seeds, ``runs/<name>/seed<s>/<label>/``), side by side in worker processes
(``minisab.train.parallel``), and writes the comparison table, the shared learning curves and SAB's
attention heat map in ``runs/<name>/``.

The ``cpu`` preset was chosen by measurement (docs: the paper's 10-digit copy task needs tens of
thousands of iterations on a CPU): 3 digits of 8 symbols after T = 20 steps, so a digit must be
remembered for 23 steps, more than four times ``k_trunc = 5``.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tracemalloc

import numpy as np

from ..backend import get_backend, host_rng
from .checkpoint import CheckpointError, atomic_write_text, check_matches, load_checkpoint
from ..config import Config
from ..params import check_params, params_from_host
from .provenance import machine, segments
from ..fast import loss_and_grads
from .tasks import Task, make_task
from .runrecord import CHECKPOINT, CONFIG, TrainError
from .trainconfig import TrainConfig

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
    """Write ``config.json`` as a start of the run: ``machine`` is this start's machine, and
    ``segments`` keeps every start's (``starts``), so a run resumed on another processor or
    BLAS kernel says from which step it trained there. Callers clear the folder or refuse before
    a fresh start, so a checkpoint in the folder is the one this start resumes."""
    here = machine()
    d = {"model": cfg.to_dict(), "task": task.spec(), "train": tc.to_dict(), "backend": backend,
         "command": " ".join(["python -m minisab"] + sys.argv[1:]),
         "python": platform.python_version(), "numpy": np.__version__, "machine": here,
         "segments": starts(run_dir, here)}
    os.makedirs(run_dir, exist_ok=True)
    atomic_write_text(os.path.join(run_dir, CONFIG), json.dumps(d, indent=2) + "\n")


def starts(run_dir, here: dict) -> list:
    """``config.json``'s ``segments`` after a start on machine ``here``: the earlier starts
    that trained steps before the checkpoint now in ``run_dir``, then ``{"from_step": its step
    (0 with none), "machine": here}``. A start at a later step than the checkpoint's (a run put
    back to an earlier checkpoint) is dropped; a ``config.json`` written before segments were
    kept gives its one machine with ``"from_step": None`` (not recorded)."""
    path = os.path.join(run_dir, CHECKPOINT)
    if not os.path.exists(path):
        return [{"from_step": 0, "machine": here}]
    try:
        step = int(load_checkpoint(path)["meta"]["step"])
    except (CheckpointError, OSError, ValueError, KeyError):
        step = None                     # resume_point refuses such a checkpoint before this
    try:
        with open(os.path.join(run_dir, CONFIG), encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    before = segments(old) if isinstance(old, dict) else []
    kept = [s for s in before
            if step is None or s.get("from_step") is None or s["from_step"] < step]
    return kept + [{"from_step": step, "machine": here}]


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
        check_params(params, cfg, finite=True)
    except ValueError as e:
        raise CheckpointError(f"checkpoint {path!r} does not fit {CONFIG}: {e}") from None
    return cfg, task, params


def run_finished(run_dir) -> bool:
    """Whether the run in ``run_dir`` has trained every step its config plans: its checkpoint
    reached ``train.steps``. A run still training, or stopped part-way, is not finished, so an
    evaluation of its model is not a result of the run (False also where there is no
    checkpoint yet)."""
    path = os.path.join(run_dir, CHECKPOINT)
    if not os.path.exists(path):
        return False
    step = int(load_checkpoint(path)["meta"]["step"])
    return step >= int(read_config(run_dir)["train"]["steps"])


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
