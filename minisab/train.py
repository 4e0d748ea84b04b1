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

A training step is committed in one assignment (``state = new``); Ctrl-C (or SIGTERM, see
``faults.py``) between two assignments saves the last committed step. A NaN or infinite loss or
gradient norm stops the run without touching the checkpoint on disk (the last good one).

The checkpoint is the truth about a run. On resume, rows of ``metrics.jsonl`` after its step
are dropped (also a torn last line, what a crash during an append leaves), and if the
checkpoint's step is an evaluation step whose row is missing (the run was stopped inside the
evaluation), the evaluation is done first, with the training loss it would have had. Leftover
temporary files of a killed write are removed. A resume with other training options than the
checkpoint's is refused, unless ``allow_changes``; the change is then recorded in
``changes.jsonl``.
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import numpy as np

from .backend import get_backend, host_rng, to_float, to_host
from .checkpoint import (CheckpointError, load_checkpoint, remove_temporary_files,
                         save_checkpoint)
from .config import Config
from .faults import Terminated, fault_point
from .optim import Optimizer
from .params import check_params, init_params, params_from_host, params_to_host
# The run record (metrics.jsonl, changes.jsonl, the resume check) lives in runrecord.py; its
# names are also importable from here, as they were before it was split off.
from .runrecord import (CHANGES, CHECKPOINT, CONFIG, METRICS, TrainError,  # noqa: F401
                        append_metric as _append_metric, changed_options, check_resumable,
                        read_metrics, record_changes, write_metrics as _write_metrics)
from .sab import forward, loss_and_grads, loss_forward
from .tasks import Task
from .threads import with_threads


# A diverging run overflows inside a step before its loss or gradient norm turns non-finite;
# the loop checks both after every step and stops with its own message (a smaller learning
# rate, clipping), so NumPy's overflow warnings from inside the step would only repeat it.
NONFINITE_OK = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


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
        if not (isinstance(self.seed, int) and not isinstance(self.seed, bool)
                and 0 <= self.seed < 2 ** 63):
            raise TrainError(f"invalid seed={self.seed!r}: accepted values are integers "
                             "from 0 to 2**63 - 1")
        for name in ("forget_bias", "momentum") + (("target",) if self.target is not None
                                                   else ()):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
                raise TrainError(f"invalid {name}={v!r}: accepted values are finite numbers"
                                 + (" or None (no early stop)" if name == "target" else ""))
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


@with_threads
def train(cfg: Config, task: Task, tc: TrainConfig, run_dir, backend=None, resume: bool = False,
          progress: bool = True, callback: Optional[Callable] = None, log=None,
          allow_changes: bool = False) -> dict:
    """Train ``cfg`` on ``task`` under ``tc``, writing into ``run_dir``.

    ``resume=True`` continues from ``run_dir/checkpoint.npz`` (same model and task; ``tc.steps``
    may be larger; other training options only with ``allow_changes``). ``callback(step, loss)``
    is called after every committed step (tests use it to interrupt). Returns ``{"params",
    "step", "records", "stopped", "elapsed", "grad_norm", "signal"}`` where ``stopped`` is
    "done", "target", "nan" or "interrupted" (by ``signal`` "SIGINT" or "SIGTERM").
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    be = get_backend(backend)
    if (cfg.input_size, cfg.output_size, cfg.loss) != (task.input_size, task.output_size, task.loss):
        raise TrainError(f"config sizes (input_size={cfg.input_size}, output_size="
                         f"{cfg.output_size}, loss={cfg.loss!r}) do not fit task {task.name!r} "
                         f"({task.input_size}, {task.output_size}, {task.loss!r})")
    opt = tc.optimizer_obj()
    os.makedirs(run_dir, exist_ok=True)
    for name in remove_temporary_files(run_dir):
        log(f"note: removed {name}, left in {run_dir} by an interrupted write")
    ckpt_path = os.path.join(run_dir, CHECKPOINT)
    model_d, task_d = cfg.to_dict(), task.spec()
    eval_data = task.sample_eval(host_rng([tc.seed, 1]), tc.eval_batch)   # drawn once, fixed
    rng = host_rng([tc.seed, 0])          # training batches; init_params draws from host_rng(seed)
    if resume:
        ck = check_resumable(run_dir, cfg, task, tc, allow_changes)
        meta = ck["meta"]
        try:
            params = params_from_host(ck["params"], cfg, be)
            check_params(params, cfg)
            opt_state = {k: (v if k == "t" else be.asarray(v, dtype=cfg.dtype))
                         for k, v in ck["opt_state"].items()}
            fresh = opt.init_state(params)
            if sorted(opt_state) != sorted(fresh):
                raise ValueError(f"optimiser slots {sorted(opt_state)} do not fit "
                                 f"optimizer={opt.name!r}")
            for k, v in fresh.items():                              # no silent broadcasting
                if k != "t" and tuple(opt_state[k].shape) != tuple(v.shape):
                    raise ValueError(f"optimiser slot {k!r} has shape "
                                     f"{tuple(opt_state[k].shape)}, expected {tuple(v.shape)}")
            rng.bit_generator.state = meta["rng_state"]
            step, elapsed = int(meta["step"]), float(meta.get("elapsed", 0.0))
            loss_sum, loss_n = float(meta.get("loss_sum", 0.0)), int(meta.get("loss_n", 0))
            grad_norm = meta.get("grad_norm")
        except (ValueError, TypeError, KeyError) as e:
            raise CheckpointError(f"checkpoint {ckpt_path!r} does not fit this run: {e}") from None
        records = [r for r in read_metrics(run_dir, log) if r["step"] <= step]
        _write_metrics(run_dir, records)                            # drop what came after it
        changes = changed_options(meta.get("train", {}), tc)
        if changes:
            record_changes(run_dir, step, changes)
            log(f"note: training options changed at step {step}, recorded in "
                f"{os.path.join(run_dir, CHANGES)}")
        log(f"resuming {run_dir} at step {step}")
    else:
        if os.path.exists(ckpt_path):
            raise TrainError(f"run folder {os.fspath(run_dir)!r} already holds a checkpoint: "
                             "continue it with --resume, or pick another --name "
                             "(or --overwrite to start it again)")
        params = init_params(cfg, seed=tc.seed, backend=be, forget_bias=tc.forget_bias)
        opt_state = opt.init_state(params)
        step, elapsed, loss_sum, loss_n, records = 0, 0.0, 0.0, 0, []
        grad_norm = None
        _write_metrics(run_dir, records)
    # The committed state, replaced whole (one assignment) after each finished step.
    state = _State(step, params, opt_state, rng.bit_generator.state, loss_sum, loss_n, grad_norm)

    def save(st, elapsed_now, point="checkpoint-write"):
        save_checkpoint(ckpt_path, params_to_host(st.params),
                        {k: (v if k == "t" else to_host(v)) for k, v in st.opt_state.items()},
                        {"step": st.step, "rng_state": st.rng_state, "model": model_d,
                         "task": task_d, "train": tc.to_dict(), "elapsed": elapsed_now,
                         "loss_sum": st.loss_sum, "loss_n": st.loss_n,
                         "grad_norm": st.grad_norm},
                        during_write=lambda: fault_point(point, st.step))

    def do_eval(st, elapsed_now):
        with np.errstate(**NONFINITE_OK):
            ev = evaluate(st.params, cfg, task, eval_data, be)
        fault_point("eval", st.step)
        rec = {"step": st.step, "loss": ev["loss"], task.metric_name: ev[task.metric_name],
               "train_loss": st.loss_sum / st.loss_n if st.loss_n else None,
               "grad_norm": st.grad_norm, "time": round(elapsed_now, 3)}
        _append_metric(run_dir, rec)
        records.append(rec)
        fault_point("metrics-append", st.step)
        return rec

    bar = _progress(tc.steps, step, task.metric_name, progress)
    stopped, signame, t0 = "done", None, time.perf_counter() - elapsed
    last = records[-1] if records else None
    try:
        if not resume:
            save(state, 0.0)        # first, so that a run stopped from here on can resume
        if state.step % tc.eval_every == 0 or state.step == tc.steps:
            if not (records and records[-1]["step"] == state.step):
                # A new run, or one stopped inside this step's evaluation: evaluate it now.
                last = do_eval(state, time.perf_counter() - t0)
                bar.show(last)
            state = state._replace(loss_sum=0.0, loss_n=0)
        while state.step < tc.steps:
            if last is not None and reached(task, last[task.metric_name], tc.target):
                stopped = "target"
                break
            x, targets, mask = task.sample(rng, tc.batch)
            with np.errstate(**NONFINITE_OK):
                loss, grads, _ = loss_and_grads(state.params, be.asarray(x, dtype=cfg.dtype),
                                                be.asarray(targets) if task.loss == "xent"
                                                else be.asarray(targets, dtype=cfg.dtype),
                                                cfg, mask=be.asarray(mask, dtype=cfg.dtype))
                loss_f = to_float(loss)
                step_opt = opt if tc.lr_final is None else dataclasses.replace(
                    opt, lr=tc.lr_at(state.step))                  # the decayed lr, this step
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
                           state.loss_sum + loss_f, state.loss_n + 1, grad_norm)
            bar.update(loss_f)
            fault_point("step", state.step)
            if callback is not None:
                callback(state.step, loss_f)
            if state.step % tc.eval_every == 0 or state.step == tc.steps:
                now = time.perf_counter() - t0
                last = do_eval(state, now)
                state = state._replace(loss_sum=0.0, loss_n=0)
                save(state, now)
                bar.show(last)
        else:
            if last is not None and reached(task, last[task.metric_name], tc.target):
                stopped = "target"
    except KeyboardInterrupt as e:
        stopped, signame = "interrupted", "SIGTERM" if isinstance(e, Terminated) else "SIGINT"
        save(state, time.perf_counter() - t0, point="interrupt-write")
        log(f"\ninterrupted ({signame}): checkpoint at step {state.step} written to "
            f"{ckpt_path}; continue with the same command and --resume")
    finally:
        bar.close()
    if stopped == "target":
        save(state, time.perf_counter() - t0)
    return {"params": state.params, "step": state.step, "records": records, "stopped": stopped,
            "elapsed": time.perf_counter() - t0, "grad_norm": state.grad_norm, "signal": signame}


class _State(NamedTuple):
    """What a checkpoint holds of a run after ``step`` finished steps."""
    step: int
    params: dict
    opt_state: dict
    rng_state: dict          # numpy Generator bit_generator.state after the step's batch
    loss_sum: float          # training loss summed since the last evaluation
    loss_n: int
    grad_norm: Optional[float]  # of the step's update (None before the first step)


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
