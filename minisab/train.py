"""The training loop: seeded, evaluated periodically, checkpointed, resumable bit for bit.

``train`` runs one model on one task and writes into its run folder:

- ``metrics.jsonl``  one JSON object per evaluation: ``step``, ``loss`` (held-out loss),
                     the task's metric (``accuracy``, ``mse`` or ``bpc``), ``train_loss``
                     (mean training loss since the last evaluation), ``grad_norm``, ``time``;
- ``checkpoint.npz`` parameters, optimiser state, data-generator state and step
                     (``checkpoint.py``), written atomically at every evaluation, at the end,
                     and on Ctrl-C.

Determinism: one seed gives the initial parameters (``init_params(seed)``), the training
batches (a host Generator seeded ``[seed, 0]``, whose state is checkpointed) and the evaluation
batch (seeded ``[seed, 1]``, drawn once). A resumed run therefore replays exactly
the batches and updates of an uninterrupted one and ends at the same bits.

A training step is committed in one assignment (``state = new``); Ctrl-C between two
assignments saves the last committed step. A NaN or infinite loss or gradient norm stops the
run without touching the checkpoint on disk (the last good one).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import numpy as np

from .backend import get_backend, host_rng, to_float, to_host
from .checkpoint import (CheckpointError, atomic_write_text, check_matches, load_checkpoint,
                         save_checkpoint)
from .config import Config
from .optim import Optimizer
from .params import check_params, init_params, params_from_host, params_to_host
from .sab import forward, loss_and_grads, loss_forward
from .tasks import Task
from .threads import with_threads

CHECKPOINT, METRICS, CONFIG = "checkpoint.npz", "metrics.jsonl", "config.json"


class TrainError(ValueError):
    """A training option or a run folder that cannot be used as asked."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything about training that is not the model (``Config``) or the task."""
    steps: int = 2000                    # total optimiser steps (a resumed run continues to it)
    batch: int = 32
    optimizer: str = "adam"              # "adam" or "sgd"
    lr: float = 1e-3
    momentum: float = 0.9                # sgd only
    clip: Optional[float] = 1.0          # global-norm clipping inside the update; None: off
    seed: int = 0
    forget_bias: float = 0.0             # added to the forget-gate bias at initialisation
    eval_every: int = 100                # evaluate and checkpoint every this many steps
    eval_batch: int = 256                # held-out sequences per evaluation
    target: Optional[float] = None       # stop early once the metric reaches it
    lr_final: Optional[float] = None     # cosine decay of the lr to this value at the last
                                         # step (None: constant lr; see lr_at)

    def __post_init__(self):
        for name in ("steps", "batch", "eval_every", "eval_batch"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise TrainError(f"invalid {name}={v!r}: accepted values are integers >= 1")
        try:
            self.optimizer_obj()                                    # validates lr, clip, ...
        except ValueError as e:
            raise TrainError(str(e)) from None
        if self.lr_final is not None and not (
                isinstance(self.lr_final, (int, float)) and not isinstance(self.lr_final, bool)
                and 0 < self.lr_final <= self.lr):
            raise TrainError(f"invalid lr_final={self.lr_final!r}: accepted values are None "
                             f"(constant learning rate) or numbers in (0, lr={self.lr:g}]")

    def lr_at(self, step: int) -> float:
        """Learning rate of the update that follows ``step`` finished steps: ``lr`` throughout,
        or with ``lr_final`` a cosine from ``lr`` (step 0) to ``lr_final`` (the last update).
        A function of the step alone, so a resumed run follows the same schedule (as long as
        ``steps`` is unchanged: the schedule spans ``steps``)."""
        if self.lr_final is None:
            return self.lr
        frac = step / max(self.steps - 1, 1)
        return self.lr_final + 0.5 * (self.lr - self.lr_final) * (1.0 + math.cos(math.pi * frac))

    def optimizer_obj(self) -> Optimizer:
        return Optimizer(self.optimizer, lr=self.lr, momentum=self.momentum, clip=self.clip)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@with_threads
def evaluate(params, cfg: Config, task: Task, batch, backend=None, chunk: int = 256) -> dict:
    """Held-out loss and metric on a host batch ``(x, targets, mask)`` (or a size to draw,
    with a fixed seed). Works at any length ``task.T`` (transfer).

    Returns ``{"loss": float, task.metric_name: float}``; the batch is run in chunks.
    """
    be = get_backend(backend)
    if isinstance(batch, int):
        batch = task.sample_eval(host_rng(12345), batch)
    x, targets, mask = batch
    total, weight, metric = 0.0, 0.0, 0.0
    for i in range(0, x.shape[0], chunk):
        sl = slice(i, i + chunk)
        y, _ = forward(params, be.asarray(x[sl], dtype=cfg.dtype), cfg)
        m = be.asarray(mask[sl], dtype=cfg.dtype)
        loss = to_float(loss_forward(y, be.asarray(targets[sl]), cfg, m)[0])
        n = float(np.sum(mask[sl]))
        total, weight = total + loss * n, weight + n
        metric += task.metric(to_host(y), targets[sl], mask[sl], loss) * x[sl].shape[0]
    return {"loss": total / weight, task.metric_name: metric / x.shape[0]}


def reached(task: Task, value: float, target: Optional[float]) -> bool:
    if target is None:
        return False
    return value >= target if task.higher_is_better else value <= target


def read_metrics(run_dir) -> list:
    """The records of ``metrics.jsonl`` (an empty list if there is none)."""
    path = os.path.join(run_dir, METRICS)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write_metrics(run_dir, records) -> None:
    atomic_write_text(os.path.join(run_dir, METRICS),
                      "".join(json.dumps(r) + "\n" for r in records))


def _append_metric(run_dir, record) -> None:
    with open(os.path.join(run_dir, METRICS), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


@with_threads
def train(cfg: Config, task: Task, tc: TrainConfig, run_dir, backend=None, resume: bool = False,
          progress: bool = True, callback: Optional[Callable] = None, log=None) -> dict:
    """Train ``cfg`` on ``task`` under ``tc``, writing into ``run_dir``.

    ``resume=True`` continues from ``run_dir/checkpoint.npz`` (same model and task; ``tc.steps``
    may be larger). ``callback(step, loss)`` is called after every committed step (tests use it
    to interrupt). Returns ``{"params", "step", "records", "stopped", "elapsed"}`` where
    ``stopped`` is "done", "target", "nan" or "interrupted".
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    be = get_backend(backend)
    if (cfg.input_size, cfg.output_size, cfg.loss) != (task.input_size, task.output_size, task.loss):
        raise TrainError(f"config sizes (input_size={cfg.input_size}, output_size="
                         f"{cfg.output_size}, loss={cfg.loss!r}) do not fit task {task.name!r} "
                         f"({task.input_size}, {task.output_size}, {task.loss!r})")
    opt = tc.optimizer_obj()
    os.makedirs(run_dir, exist_ok=True)
    ckpt_path = os.path.join(run_dir, CHECKPOINT)
    model_d, task_d = cfg.to_dict(), task.spec()
    eval_data = task.sample_eval(host_rng([tc.seed, 1]), tc.eval_batch)   # drawn once, fixed
    rng = host_rng([tc.seed, 0])          # training batches; init_params draws from host_rng(seed)
    if resume:
        ck = load_checkpoint(ckpt_path)
        check_matches(ck["meta"], model_d, task_d, ckpt_path)
        meta = ck["meta"]
        try:
            params = params_from_host(ck["params"], cfg, be)
            opt_state = {k: (v if k == "t" else be.asarray(v, dtype=cfg.dtype))
                         for k, v in ck["opt_state"].items()}
            if sorted(opt_state) != sorted(opt.init_state(params)):
                raise ValueError(f"optimiser slots {sorted(opt_state)} do not fit "
                                 f"optimizer={opt.name!r}")
            rng.bit_generator.state = meta["rng_state"]
            check_params(params, cfg)
        except (ValueError, TypeError, KeyError) as e:
            raise CheckpointError(f"checkpoint {ckpt_path!r} does not fit this run: {e}") from None
        step, elapsed = int(meta["step"]), float(meta.get("elapsed", 0.0))
        loss_sum, loss_n = float(meta.get("loss_sum", 0.0)), int(meta.get("loss_n", 0))
        records = [r for r in read_metrics(run_dir) if r["step"] <= step]
        _write_metrics(run_dir, records)                            # drop what came after it
        log(f"resuming {run_dir} at step {step}")
    else:
        if os.path.exists(ckpt_path):
            raise TrainError(f"run folder {os.fspath(run_dir)!r} already holds a checkpoint: "
                             "continue it with --resume, or pick another --name "
                             "(or --overwrite to start it again)")
        params = init_params(cfg, seed=tc.seed, backend=be, forget_bias=tc.forget_bias)
        opt_state = opt.init_state(params)
        step, elapsed, loss_sum, loss_n, records = 0, 0.0, 0.0, 0, []
        _write_metrics(run_dir, records)
    # The committed state, replaced whole (one assignment) after each finished step.
    state = _State(step, params, opt_state, rng.bit_generator.state, loss_sum, loss_n)

    def save(st, elapsed_now):
        save_checkpoint(ckpt_path, params_to_host(st.params),
                        {k: (v if k == "t" else to_host(v)) for k, v in st.opt_state.items()},
                        {"step": st.step, "rng_state": st.rng_state, "model": model_d,
                         "task": task_d, "train": tc.to_dict(), "elapsed": elapsed_now,
                         "loss_sum": st.loss_sum, "loss_n": st.loss_n})

    def do_eval(st, grad_norm, elapsed_now):
        ev = evaluate(st.params, cfg, task, eval_data, be)
        rec = {"step": st.step, "loss": ev["loss"], task.metric_name: ev[task.metric_name],
               "train_loss": st.loss_sum / st.loss_n if st.loss_n else None,
               "grad_norm": grad_norm, "time": round(elapsed_now, 3)}
        records.append(rec)
        _append_metric(run_dir, rec)
        return rec

    bar = _progress(tc.steps, step, task.metric_name, progress)
    stopped, grad_norm, t0 = "done", None, time.perf_counter() - elapsed
    last = records[-1] if records else None
    try:
        if not resume:
            last = do_eval(state, None, 0.0)
            save(state, 0.0)
            bar.show(last)
        while state.step < tc.steps:
            if last is not None and reached(task, last[task.metric_name], tc.target):
                stopped = "target"
                break
            x, targets, mask = task.sample(rng, tc.batch)
            loss, grads, _ = loss_and_grads(state.params, be.asarray(x, dtype=cfg.dtype),
                                            be.asarray(targets) if task.loss == "xent"
                                            else be.asarray(targets, dtype=cfg.dtype),
                                            cfg, mask=be.asarray(mask, dtype=cfg.dtype))
            loss_f = to_float(loss)
            step_opt = opt if tc.lr_final is None else dataclasses.replace(
                opt, lr=tc.lr_at(state.step))                      # the decayed lr, this step
            new_params, new_opt_state, norm = step_opt.step(state.params, grads,
                                                            state.opt_state)
            grad_norm = to_float(norm)
            if not (math.isfinite(loss_f) and math.isfinite(grad_norm)):
                stopped = "nan"
                what = "loss" if not math.isfinite(loss_f) else "gradient norm"
                log(f"\nstopped: the {what} became {loss_f if what == 'loss' else grad_norm} at "
                    f"step {state.step + 1}. The last good checkpoint (step "
                    f"{_saved_step(ckpt_path)}) is kept in {ckpt_path}. Try a smaller learning "
                    f"rate (e.g. --lr {tc.lr / 10:g}) or "
                    + ("gradient clipping (e.g. --clip 1.0)." if tc.clip is None else
                       f"tighter gradient clipping (now --clip {tc.clip:g})."))
                break
            state = _State(state.step + 1, new_params, new_opt_state, rng.bit_generator.state,
                           state.loss_sum + loss_f, state.loss_n + 1)
            bar.update(loss_f)
            if callback is not None:
                callback(state.step, loss_f)
            if state.step % tc.eval_every == 0 or state.step == tc.steps:
                now = time.perf_counter() - t0
                last = do_eval(state, grad_norm, now)
                state = state._replace(loss_sum=0.0, loss_n=0)
                save(state, now)
                bar.show(last)
        else:
            if last is not None and reached(task, last[task.metric_name], tc.target):
                stopped = "target"
    except KeyboardInterrupt:
        stopped = "interrupted"
        save(state, time.perf_counter() - t0)
        log(f"\ninterrupted: checkpoint at step {state.step} written to {ckpt_path}; "
            "continue with the same command and --resume")
    finally:
        bar.close()
    if stopped == "target":
        save(state, time.perf_counter() - t0)
    return {"params": state.params, "step": state.step, "records": records, "stopped": stopped,
            "elapsed": time.perf_counter() - t0, "grad_norm": grad_norm}


class _State(NamedTuple):
    """What a checkpoint holds of a run after ``step`` finished steps."""
    step: int
    params: dict
    opt_state: dict
    rng_state: dict          # numpy Generator bit_generator.state after the step's batch
    loss_sum: float          # training loss summed since the last evaluation
    loss_n: int


def _saved_step(path):
    try:
        return load_checkpoint(path)["meta"]["step"]
    except CheckpointError:
        return None


class _progress:
    """A tqdm bar with loss and metric (a silent stand-in when ``enabled`` is False)."""

    def __init__(self, total, initial, metric_name, enabled):
        self.metric_name, self.bar, self.loss = metric_name, None, None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=initial, file=sys.stderr, dynamic_ncols=True,
                            leave=False)
        self.post = {}

    def update(self, loss):
        self.loss = loss if self.loss is None else 0.95 * self.loss + 0.05 * loss
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 20 == 0:
                self.post["loss"] = f"{self.loss:.4f}"
                self.bar.set_postfix(self.post, refresh=False)

    def show(self, rec):
        if self.bar is not None and rec is not None:
            self.post[self.metric_name] = f"{rec[self.metric_name]:.4g}"
            self.post["loss"] = f"{(self.loss if self.loss is not None else rec['loss']):.4f}"
            self.bar.set_postfix(self.post)

    def close(self):
        if self.bar is not None:
            self.bar.close()
