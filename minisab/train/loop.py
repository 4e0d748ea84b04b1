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
from typing import NamedTuple
from collections.abc import Callable

import numpy as np

from ..backend import get_backend, host_rng, to_float, to_host
from .checkpoint import (CheckpointError, load_checkpoint, remove_temporary_files,
                         save_checkpoint)
from ..config import Config
from .faults import Terminated, fault_point
from ..params import check_params, init_params, params_from_host, params_to_host
from .progressbar import Progress
from .runlock import hold_run_folder
from .runrecord import (CHANGES, CHECKPOINT, FirstCheckpointError,
                        TrainError,
                        append_metric as _append_metric, changed_options, check_resumable,
                        read_metrics, record_changes, write_metrics as _write_metrics)
from ..fast import forward, loss_and_grads, loss_forward  # the engine that trains
from .tasks import Task
from ..threads import with_threads
from .trainconfig import TrainConfig

# A diverging run overflows inside a step before its loss or gradient norm turns non-finite;
# the loop checks both after every step and stops with its own message (a smaller learning
# rate, clipping), so NumPy's overflow warnings from inside the step would only repeat it.
NONFINITE_OK = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


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


def reached(task: Task, value: float, target: float | None) -> bool:
    if target is None:
        return False
    return value >= target if task.higher_is_better else value <= target


@with_threads
def train(cfg: Config, task: Task, tc: TrainConfig, run_dir, backend=None, resume: bool = False,
          progress: bool = True, callback: Callable | None = None, log=None,
          allow_changes: bool = False,
          to_continue: str = "continue with the same command and --resume") -> dict:
    """Train ``cfg`` on ``task`` under ``tc``, writing into ``run_dir``.

    ``resume=True`` continues from ``run_dir/checkpoint.npz`` (same model and task; ``tc.steps``
    may be larger; other training options only with ``allow_changes``). ``callback(step, loss)``
    is called after every committed step (tests use it to interrupt). Returns ``{"params",
    "step", "records", "stopped", "elapsed", "grad_norm", "signal"}`` where ``stopped`` is
    "done", "target", "nan" or "interrupted" (by ``signal`` "SIGINT" or "SIGTERM").

    The run holds ``run_dir`` (``runlock.py``) from start to end: a second writer is refused
    with ``RunFolderBusy``. Everything is checked before the first file is written, so a
    refused run leaves the folder as it was.
    """
    with hold_run_folder(run_dir) as hold:
        return _train(cfg, task, tc, run_dir, hold, backend, resume, progress, callback, log,
                      allow_changes, to_continue)


def resume_point(run_dir, cfg: Config, task: Task, tc: TrainConfig, allow_changes: bool = False,
                 backend=None) -> dict:
    """Everything ``train(resume=True)`` checks before it writes: the checkpoint fits the model,
    the task and the training options (``check_resumable``), its parameters and optimiser state
    fit the model and ``tc.optimizer``, and ``metrics.jsonl`` is readable. Reads only; returns
    ``{"meta", "params", "opt_state"}`` (arrays on ``backend``) or raises a clear error."""
    be = get_backend(backend)
    ck = check_resumable(run_dir, cfg, task, tc, allow_changes)
    try:
        params = params_from_host(ck["params"], cfg, be)
        check_params(params, cfg, finite=True)
        opt_state = {k: (v if k == "t" else be.asarray(v, dtype=cfg.dtype))
                     for k, v in ck["opt_state"].items()}
        opt = tc.optimizer_obj()
        fresh = opt.init_state(params)
        if sorted(opt_state) != sorted(fresh):
            def slots(state):
                return sorted({k.split("/")[0] for k in state if k != "t"})
            raise ValueError(f"its optimiser state holds the slots {slots(opt_state)}, "
                             f"optimizer={opt.name!r} keeps {slots(fresh)}; resume with the "
                             "run's --optimizer")
        for k, v in fresh.items():                              # no silent broadcasting
            if k != "t" and tuple(opt_state[k].shape) != tuple(v.shape):
                raise ValueError(f"optimiser slot {k!r} has shape "
                                 f"{tuple(opt_state[k].shape)}, expected {tuple(v.shape)}")
        host_rng(0).bit_generator.state = ck["meta"]["rng_state"]
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"checkpoint {os.path.join(run_dir, CHECKPOINT)!r} does not fit "
                              f"this run: {e}") from None
    read_metrics(run_dir)                 # a damaged line is refused here, not half-way
    return {"meta": ck["meta"], "params": params, "opt_state": opt_state}


def _train(cfg, task, tc, run_dir, hold, backend, resume, progress, callback, log,
           allow_changes, to_continue) -> dict:
    log = log or (lambda msg: print(msg, file=sys.stderr))
    be = get_backend(backend)
    if (cfg.input_size, cfg.output_size, cfg.loss) != (task.input_size, task.output_size, task.loss):
        raise TrainError(f"config sizes (input_size={cfg.input_size}, output_size="
                         f"{cfg.output_size}, loss={cfg.loss!r}) do not fit task {task.name!r} "
                         f"({task.input_size}, {task.output_size}, {task.loss!r})")
    opt = tc.optimizer_obj()
    ckpt_path = os.path.join(run_dir, CHECKPOINT)
    model_d, task_d = cfg.to_dict(), task.spec()
    eval_data = task.sample_eval(host_rng([tc.seed, 1]), tc.eval_batch)   # drawn once, fixed
    rng = host_rng([tc.seed, 0])          # training batches; init_params draws from host_rng(seed)
    if resume:                            # every check first: a refusal writes nothing
        point = resume_point(run_dir, cfg, task, tc, allow_changes, be)
        params, opt_state, meta = point["params"], point["opt_state"], point["meta"]
        rng.bit_generator.state = meta["rng_state"]
        step, elapsed = int(meta["step"]), float(meta.get("elapsed", 0.0))
        loss_sum, loss_n = float(meta.get("loss_sum", 0.0)), int(meta.get("loss_n", 0))
        grad_norm = meta.get("grad_norm")
        records = [r for r in read_metrics(run_dir, log) if r["step"] <= step]
        changes = changed_options(meta.get("train", {}), tc)
    else:
        if os.path.exists(ckpt_path):
            raise TrainError(f"run folder {os.fspath(run_dir)!r} already holds a checkpoint: "
                             "continue it with --resume, or pick another --name "
                             "(or --overwrite to start it again)")
        params = init_params(cfg, seed=tc.seed, backend=be, forget_bias=tc.forget_bias)
        opt_state = opt.init_state(params)
        step, elapsed, loss_sum, loss_n, records = 0, 0.0, 0.0, 0, []
        grad_norm, changes = None, {}
    hold.commit()                         # from here on the run writes its folder
    if hold.taken_over:
        log(f"note: the run folder's last writer ended without letting go of it (process "
            f"{hold.taken_over.get('pid')}, killed?); taken over")
        hold.taken_over = None
    for name in remove_temporary_files(run_dir):
        log(f"note: removed {name}, left in {run_dir} by an interrupted write")
    _write_metrics(run_dir, records)      # a resume drops what came after the checkpoint
    if resume:
        if changes:
            record_changes(run_dir, step, changes)
            log(f"note: training options changed at step {step}, recorded in "
                f"{os.path.join(run_dir, CHANGES)}")
        log(f"resuming {run_dir} at step {step}")
    elif os.path.exists(os.path.join(run_dir, CHANGES)):
        os.remove(os.path.join(run_dir, CHANGES))    # of a run that never checkpointed
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

    bar = Progress(tc.steps, step, task.metric_name, progress)
    stopped, signame, t0 = "done", None, time.perf_counter() - elapsed
    last = records[-1] if records else None
    try:
        if not resume:              # first, so that a run stopped from here on can resume
            try:
                save(state, 0.0)
            except OSError as e:
                raise FirstCheckpointError(e, ckpt_path) from None
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
            f"{ckpt_path}; {to_continue}")
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
    grad_norm: float | None  # of the step's update (None before the first step)


def _saved_step(path):
    try:
        return load_checkpoint(path)["meta"]["step"]
    except CheckpointError:
        return None
