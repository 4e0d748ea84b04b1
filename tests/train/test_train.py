"""The training loop: runs on every backend, resumes bit for bit, and loses nothing."""
import json
import os

import numpy as np
import pytest

from minisab.backend import to_host
from minisab.train.checkpoint import (CheckpointError, atomic_write, load_checkpoint,
                                save_checkpoint)
from minisab.config import Config
from minisab.train.tasks import make_task
from minisab.train import TrainConfig, TrainError, evaluate, read_metrics, train

TASK = make_task("copy", 4, n_digits=2, n_symbols=3)


def _cfg(task=TASK, **kw):
    d = dict(input_size=task.input_size, output_size=task.output_size, loss=task.loss,
             hidden_size=6, attn_size=4, k_top=2, k_att=2, k_trunc=3)
    d.update(kw)
    return Config(**d)


TC = TrainConfig(steps=12, batch=3, lr=1e-2, eval_every=4, eval_batch=8)


def _host(params):
    return {k: to_host(v) for k, v in params.items()}


def _same(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_short_run_on_every_backend(backend, tmp_path):
    """A few steps of SAB on the copy task, on NumPy and on the strict (device) backend."""
    r = train(_cfg(), TASK, TC, tmp_path / "run", backend=backend, progress=False)
    assert r["stopped"] == "done" and r["step"] == 12
    recs = read_metrics(tmp_path / "run")
    assert [x["step"] for x in recs] == [0, 4, 8, 12]
    assert all(np.isfinite(x["loss"]) and 0 <= x["accuracy"] <= 1 for x in recs)
    assert recs[-1]["loss"] < recs[0]["loss"]                   # it learns something
    ck = load_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert ck["meta"]["step"] == 12 and ck["opt_state"]["t"] == 12
    assert _same(ck["params"], _host(r["params"]))
    ref = train(_cfg(), TASK, TC, tmp_path / "ref", backend="numpy", progress=False)
    for k, v in _host(r["params"]).items():   # the same numbers on every backend
        assert np.allclose(v, to_host(ref["params"][k]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kw", [{"attention": None, "method": "tbptt"},
                                {"attention": "topk", "method": "sab"}])
def test_interrupt_and_resume_is_bit_identical(tmp_path, kw):
    cfg = _cfg(**kw)
    full = train(cfg, TASK, TC, tmp_path / "full", progress=False)

    def stop_at_7(step, loss):
        if step == 7:
            raise KeyboardInterrupt
    part = train(cfg, TASK, TC, tmp_path / "part", progress=False, callback=stop_at_7,
                 log=lambda m: None)
    assert part["stopped"] == "interrupted" and part["step"] == 7
    assert load_checkpoint(tmp_path / "part" / "checkpoint.npz")["meta"]["step"] == 7
    assert not [f for f in os.listdir(tmp_path / "part") if f.startswith(".tmp")]
    resumed = train(cfg, TASK, TC, tmp_path / "part", progress=False, resume=True,
                    log=lambda m: None)
    assert resumed["step"] == 12 and _same(_host(resumed["params"]), _host(full["params"]))
    a, b = (read_metrics(tmp_path / d) for d in ("full", "part"))
    strip = [{k: v for k, v in r.items() if k != "time"} for r in a]
    assert strip == [{k: v for k, v in r.items() if k != "time"} for r in b]
    ca, cb = (load_checkpoint(tmp_path / d / "checkpoint.npz") for d in ("full", "part"))
    assert _same(ca["opt_state"], cb["opt_state"]) and ca["meta"]["rng_state"] == cb["meta"]["rng_state"]


def test_resume_to_more_steps_equals_one_longer_run(tmp_path):
    long_tc = TrainConfig(steps=10, batch=3, lr=1e-2, eval_every=5, eval_batch=8)
    short_tc = TrainConfig(steps=5, batch=3, lr=1e-2, eval_every=5, eval_batch=8)
    full = train(_cfg(), TASK, long_tc, tmp_path / "a", progress=False)
    train(_cfg(), TASK, short_tc, tmp_path / "b", progress=False)
    more = train(_cfg(), TASK, long_tc, tmp_path / "b", progress=False, resume=True,
                 log=lambda m: None)
    assert _same(_host(more["params"]), _host(full["params"]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_stops_and_keeps_last_good_checkpoint(tmp_path):
    task = make_task("adding", 6)
    cfg = _cfg(task, attention=None, method="bptt")
    tc = TrainConfig(steps=50, batch=4, optimizer="sgd", lr=1e8, clip=None, eval_every=1,
                     eval_batch=8)
    messages = []
    r = train(cfg, task, tc, tmp_path / "run", progress=False, log=messages.append)
    assert r["stopped"] == "nan" and r["step"] < 50
    assert "smaller learning rate" in messages[-1] and "--clip" in messages[-1]
    ck = load_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert ck["meta"]["step"] == r["step"]                      # the last finite step
    assert all(np.all(np.isfinite(v)) for v in ck["params"].values())


def test_early_stop_at_target(tmp_path):
    task = make_task("adding", 6)
    cfg = _cfg(task, attention=None, method="bptt")
    tc = TrainConfig(steps=50, batch=4, eval_every=2, eval_batch=8, target=100.0)   # any mse
    r = train(cfg, task, tc, tmp_path / "run", progress=False)
    assert r["stopped"] == "target" and r["step"] == 0


def test_existing_run_needs_resume(tmp_path):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    with pytest.raises(TrainError, match="--resume"):
        train(_cfg(), TASK, TC, tmp_path / "run", progress=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, damage):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    path = tmp_path / "run" / "checkpoint.npz"
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a checkpoint at all", "truncated": data[:len(data) // 2],
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="corrupt"):
        train(_cfg(), TASK, TC, tmp_path / "run", progress=False, resume=True)


def test_missing_checkpoint_on_resume(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train(_cfg(), TASK, TC, tmp_path / "nothing", progress=False, resume=True)


@pytest.mark.parametrize("cfg_kw, task, field", [
    ({"hidden_size": 7}, TASK, "hidden_size"),
    ({"method": "tbptt"}, TASK, "method"),
    ({}, make_task("copy", 5, n_digits=2, n_symbols=3), "T"),
])
def test_mismatched_checkpoint_is_a_clear_error(tmp_path, cfg_kw, task, field):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    with pytest.raises(CheckpointError, match=f"another .*{field}: checkpoint"):
        train(_cfg(task, **cfg_kw), task, TC, tmp_path / "run", progress=False, resume=True)


def test_checkpoint_with_wrong_optimizer_state(tmp_path):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    sgd = TrainConfig(steps=14, batch=3, optimizer="sgd", eval_every=4, eval_batch=8)
    with pytest.raises(CheckpointError, match="optimi"):
        train(_cfg(), TASK, sgd, tmp_path / "run", progress=False, resume=True,
              allow_changes=True)


def test_resume_refuses_changed_training_options_unless_allowed(tmp_path):
    """The run record stays true: another lr, batch or seed is refused by name, with both
    values; allowed explicitly, the run continues and ``changes.jsonl`` records the change."""
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    for field, value in (("lr", 1e-3), ("batch", 4), ("seed", 1), ("eval_batch", 9)):
        changed = TrainConfig(**{**TC.to_dict(), "steps": 16, field: value})
        with pytest.raises(TrainError, match=f"{field}: .* in the run, {value!r} now"):
            train(_cfg(), TASK, changed, tmp_path / "run", progress=False, resume=True)
    assert not (tmp_path / "run" / "changes.jsonl").exists()
    changed = TrainConfig(**{**TC.to_dict(), "steps": 16, "lr": 1e-3})
    r = train(_cfg(), TASK, changed, tmp_path / "run", progress=False, resume=True,
              allow_changes=True, log=lambda m: None)
    assert r["step"] == 16
    rows = [json.loads(x) for x in (tmp_path / "run" / "changes.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 12 and rows[0]["changed"] == {"lr": {"old": 1e-2, "new": 1e-3}}
    more = TrainConfig(**{**changed.to_dict(), "steps": 20})   # steps alone is no change
    train(_cfg(), TASK, more, tmp_path / "run", progress=False, resume=True, log=lambda m: None)


def test_optimizer_moment_of_the_wrong_shape_is_refused(tmp_path):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    path = tmp_path / "run" / "checkpoint.npz"
    ck = load_checkpoint(path)
    ck["opt_state"]["m/W_y"] = ck["opt_state"]["m/W_y"][:1]     # would broadcast
    save_checkpoint(path, ck["params"], ck["opt_state"], ck["meta"])
    with pytest.raises(CheckpointError, match="m/W_y.* shape"):
        train(_cfg(), TASK, TC, tmp_path / "run", progress=False, resume=True)


@pytest.mark.parametrize("where", ["inside", "after"])
def test_interrupt_in_the_evaluation_loses_no_row(tmp_path, monkeypatch, where):
    """Ctrl-C inside the evaluation of step 8 (before its row is written) or just after it:
    the resumed run writes the same rows, with the same training losses, as one run."""
    import minisab.train.loop as tr
    train(_cfg(), TASK, TC, tmp_path / "full", progress=False)           # the run to match
    real = tr.evaluate if where == "inside" else tr._append_metric

    def stop_at_8(*args, **kw):
        out = real(*args, **kw)
        step = args[1]["step"] if where == "after" else None
        if where == "inside" and len(read_metrics(tmp_path / "part")) == 2:
            raise KeyboardInterrupt                             # rows 0 and 4 are written
        if step == 8:
            raise KeyboardInterrupt
        return out
    monkeypatch.setattr(tr, "evaluate" if where == "inside" else "_append_metric", stop_at_8)
    part = train(_cfg(), TASK, TC, tmp_path / "part", progress=False, log=lambda m: None)
    monkeypatch.undo()
    assert part["stopped"] == "interrupted" and part["step"] == 8
    train(_cfg(), TASK, TC, tmp_path / "part", progress=False, resume=True, log=lambda m: None)
    strip = [[{k: v for k, v in r.items() if k != "time"} for r in read_metrics(tmp_path / d)]
             for d in ("full", "part")]
    assert strip[0] == strip[1] and [r["step"] for r in strip[0]] == [0, 4, 8, 12]
    assert _same(load_checkpoint(tmp_path / "full" / "checkpoint.npz")["params"],
                 load_checkpoint(tmp_path / "part" / "checkpoint.npz")["params"])


def test_torn_last_metrics_line_is_dropped_on_resume(tmp_path):
    train(_cfg(), TASK, TC, tmp_path / "run", progress=False)
    metrics = tmp_path / "run" / "metrics.jsonl"
    good = metrics.read_text()
    metrics.write_text(good + '{"step": 16, "lo')
    notes = []
    assert read_metrics(tmp_path / "run", notes.append) == read_metrics(tmp_path / "run")
    assert "torn" in notes[0]
    more = TrainConfig(**{**TC.to_dict(), "steps": 16})
    train(_cfg(), TASK, more, tmp_path / "run", progress=False, resume=True, log=notes.append)
    assert [r["step"] for r in read_metrics(tmp_path / "run")] == [0, 4, 8, 12, 16]
    metrics.write_text('{"step": 0}\nnot json\n{"step": 4}\n')     # damage inside: refused
    with pytest.raises(TrainError, match="line 2 is damaged"):
        read_metrics(tmp_path / "run")


def test_files_honour_the_umask_and_leftovers_are_removed(tmp_path):
    old = os.umask(0o022)
    try:
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / ".tmp-abc-checkpoint.npz").write_bytes(b"half")
        train(_cfg(), TASK, TC, tmp_path / "run", progress=False, log=lambda m: None)
        modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir()}
        assert modes["checkpoint.npz"] == modes["metrics.jsonl"] == 0o644
        assert not [n for n in modes if n.startswith(".tmp")]
        os.umask(0o077)
        atomic_write(tmp_path / "private", lambda f: f.write(b"x"))
        assert (tmp_path / "private").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_atomic_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write(path, lambda f: f.write(b"old"))

    def fails(f):
        f.write(b"half of the new")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, fails)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_checkpoint_round_trip(tmp_path, rng):
    params = {"W_x": rng.normal(size=(2, 3)).astype(np.float32), "b": rng.normal(size=3)}
    state = {"m/W_x": np.ones((2, 3)), "v/W_x": np.zeros((2, 3)), "t": 4}
    save_checkpoint(tmp_path / "c.npz", params, state,
                    {"step": 4, "rng_state": {"a": 2 ** 100}, "model": {}, "task": {}})
    ck = load_checkpoint(tmp_path / "c.npz")
    assert _same(ck["params"], params) and ck["params"]["W_x"].dtype == np.float32
    assert ck["opt_state"]["t"] == 4 and np.array_equal(ck["opt_state"]["m/W_x"], state["m/W_x"])
    assert ck["meta"]["rng_state"] == {"a": 2 ** 100}           # 128-bit PCG64 state survives
    with np.load(tmp_path / "c.npz", allow_pickle=False) as d:  # no pickle inside
        assert json.loads(str(d["meta"]))["format"] == 1


def test_evaluate_at_other_lengths(backend, tmp_path):
    r = train(_cfg(), TASK, TC, tmp_path / "run", backend=backend, progress=False)
    for T in (2, 4, 9):
        ev = evaluate(r["params"], _cfg(), TASK.at_length(T), 8, backend=backend)
        assert np.isfinite(ev["loss"]) and 0.0 <= ev["accuracy"] <= 1.0


def test_text_task_trains(tmp_path):
    task = make_task("text", 12)
    cfg = _cfg(task, attention=None, method="tbptt")
    r = train(cfg, task, TrainConfig(steps=3, batch=2, eval_every=3, eval_batch=4),
              tmp_path / "run", progress=False)
    assert r["records"][-1]["bpc"] > 0


@pytest.mark.parametrize("kw, field", [({"steps": 0}, "steps"), ({"batch": -1}, "batch"),
                                       ({"lr": -1.0}, "lr"), ({"optimizer": "rms"}, "optimizer"),
                                       ({"seed": -1}, "seed"),
                                       ({"forget_bias": float("nan")}, "forget_bias"),
                                       ({"target": float("inf")}, "target")])
def test_invalid_train_config(kw, field):
    with pytest.raises(TrainError, match=f"invalid {field}="):
        TrainConfig(**kw)


def test_cosine_lr_schedule_and_its_use_by_the_loop(tmp_path, monkeypatch):
    """``lr_final``: a cosine from lr (first update) to lr_final (last update); the loop hands
    each update its own rate; an lr_final above lr or not positive is refused by name."""
    tc = TrainConfig(steps=11, batch=2, lr=1e-2, lr_final=1e-3, eval_every=5, eval_batch=4)
    assert tc.lr_at(0) == pytest.approx(1e-2) and tc.lr_at(10) == pytest.approx(1e-3)
    assert tc.lr_at(5) == pytest.approx(5.5e-3)                     # halfway: the mean
    assert TrainConfig(lr=1e-2).lr_at(7) == 1e-2                    # None: constant
    from minisab.train.optim import Optimizer
    seen = []
    real_step = Optimizer.step
    monkeypatch.setattr(Optimizer, "step",
                        lambda self, *a: (seen.append(self.lr), real_step(self, *a))[1])
    train(_cfg(), TASK, tc, tmp_path / "run", progress=False)
    assert seen == pytest.approx([tc.lr_at(s) for s in range(11)])
    for bad in (0.0, 2e-2, -1e-3):
        with pytest.raises(TrainError, match="lr_final"):
            TrainConfig(lr=1e-2, lr_final=bad)
