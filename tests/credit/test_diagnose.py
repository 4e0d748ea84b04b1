"""The diagnostic (minisab/cli/diagnose.py): its per-path split must add up to the
backward's adjoints, its sparsifier numbers must match the scores, and a diverging SAB run must
stop with the last good checkpoint kept."""
from __future__ import annotations

import json

import numpy as np
import pytest

from minisab import Config, init_params, loss_and_grads, to_host
from minisab.train.checkpoint import load_checkpoint
from minisab.cli.diagnose import main, train_and_diagnose
from minisab.credit.probe import diagnose, summarize
from minisab.train.tasks import make_task
from minisab.train import TrainConfig, train

from test_sab import make_problem


def _cfg(**kw):
    base = dict(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=2,
                k_trunc=3)
    return Config(**{**base, **kw})


def test_profiles_have_one_value_per_step(backend):
    cfg = _cfg()
    params, x, targets, mask = make_problem(backend, cfg, 2, 11, 0)
    d = diagnose(params, cfg, x, targets, mask)
    for k in ("h_max", "h_hat_max", "s_max", "logit_max", "sum_tilde_min", "select_gap",
              "g_out", "g_rec", "g_mem", "g_key", "g_score", "g_total"):
        assert d[k].shape == (11,), k
    assert np.all(d["h_hat_max"] < 1.0)                      # an LSTM output
    assert np.all(d["h_max"] <= d["h_hat_max"] + d["s_max"] + 1e-12)   # h = ĥ + s
    assert d["finite"] and set(d["param_grad_norms"]) == set(params)
    assert d["grad_norm"] == pytest.approx(np.sqrt(sum(v * v for v in
                                                       d["param_grad_norms"].values())))
    s = summarize(d)
    assert s["h_max"] == pytest.approx(float(np.max(d["h_max"])))


@pytest.mark.parametrize("attention, write", [("topk", "h"), ("softmax", "h"), ("topk", "h_hat"),
                                              ("topk", "tanh_h")])
def test_without_recurrent_credit_the_memory_paths_are_the_whole_adjoint(backend, attention,
                                                                        write):
    """k_trunc = 1 cuts every recurrent edge, so dH = output + memory value + memory key:
    the recurrent residual must vanish. This checks the replay against sab.backward."""
    cfg = _cfg(attention=attention, method="tbptt", k_trunc=1, memory_write=write)
    params, x, targets, mask = make_problem(backend, cfg, 2, 10, 4, scale=2.0)
    d = diagnose(params, cfg, x, targets, mask)
    assert np.max(d["g_rec"]) <= 1e-12 * np.max(d["g_total"])
    assert np.max(d["g_mem"][1::2]) > 0 and np.all(d["g_mem"][0::2] == 0)   # written at odd t
    if write == "h":
        assert np.max(d["g_mem"]) > 0


def test_recurrent_path_is_cut_where_the_method_cuts(backend):
    cfg = _cfg(method="sab", k_trunc=3)
    params, x, targets, mask = make_problem(backend, cfg, 2, 10, 7)
    d = diagnose(params, cfg, x, targets, mask)
    cut_into = [t - 1 for t in range(1, 10) if cfg.cuts(t)]       # h_{t-1} gets nothing from t
    kept = [t for t in range(9) if t not in cut_into]
    assert np.max(d["g_rec"][cut_into]) <= 1e-12 * np.max(d["g_total"])
    assert np.min(d["g_rec"][kept]) > 0


def test_sum_of_tilde_and_gaps_match_the_scores(backend):
    cfg = _cfg(k_att=1, k_top=2)
    params, x, targets, mask = make_problem(backend, cfg, 3, 8, 2, scale=2.0)
    d = diagnose(params, cfg, x, targets, mask)
    _, _, out = loss_and_grads(params, x, targets, cfg, mask, record=True)
    rec = out["cache"]["record"]
    scores = to_host(rec["scores"])
    for t, n in enumerate(rec["n_mem"]):
        s = -np.sort(-scores[t, :, :n], axis=1)                      # (B, n) largest first
        if n > cfg.k_top:
            tilde = np.sum(s[:, :cfg.k_top] - s[:, cfg.k_top:cfg.k_top + 1], axis=1)
            assert d["select_gap"][t] == pytest.approx(np.min(s[:, 1] - s[:, 2]))
        else:
            tilde = np.sum(s - s[:, -1:] + 1.0, axis=1)                # δ = min a − 1
            assert np.isinf(d["select_gap"][t])
        assert d["sum_tilde_min"][t] == pytest.approx(np.min(tilde), rel=1e-9, abs=1e-12)


def test_plain_lstm_has_no_memory_paths(backend):
    cfg = _cfg(attention=None, method="bptt")
    params, x, targets, mask = make_problem(backend, cfg, 2, 6, 1)
    d = diagnose(params, cfg, x, targets, mask)
    assert np.all(d["g_mem"] == 0) and np.all(d["s_max"] == 0)
    assert np.all(np.isnan(d["sum_tilde_min"]))
    np.testing.assert_allclose(d["g_total"][-1], d["g_out"][-1])   # nothing after the last step


def test_train_and_diagnose_stops_at_the_first_non_finite_step():
    task = make_task("copy", 4, n_digits=2, n_symbols=3)
    cfg = Config(input_size=task.input_size, output_size=task.output_size, hidden_size=3,
                 attn_size=2, k_top=1, k_att=1, k_trunc=2)
    params = init_params(cfg, seed=0)
    params["W_y"][0, 0] = np.nan
    rows, last = train_and_diagnose(cfg, task, steps=3, every=1, params=params, log=lambda m: 0)
    assert rows[-1]["stopped"] == "nan" and rows[-1]["step"] == 1
    assert last is params                                        # the last good parameters


def test_diverging_sab_run_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    """For an SAB model: a huge learning rate makes the loss non-finite; the
    loop stops with a message and the checkpoint on disk holds the last finite step."""
    task = make_task("copy", 6, n_digits=2, n_symbols=3)
    cfg = Config(input_size=task.input_size, output_size=task.output_size, hidden_size=4,
                 attn_size=3, k_top=2, k_att=1, k_trunc=2, dtype="float32")
    # Adam moves every weight by about lr per step: at 1e38 float32 overflows within steps.
    # (Huge SGD steps do not: saturated gates and a stable log-softmax keep the loss finite.)
    tc = TrainConfig(steps=40, batch=4, optimizer="adam", lr=1e38, clip=None, eval_every=1,
                     eval_batch=4)
    messages = []
    r = train(cfg, task, tc, tmp_path / "run", progress=False, log=messages.append)
    assert r["stopped"] == "nan" and r["step"] < 40
    assert "stopped" in messages[-1] and "last good checkpoint" in messages[-1]
    ck = load_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert ck["meta"]["step"] == r["step"]
    assert all(np.all(np.isfinite(v)) for v in ck["params"].values())


def test_command_line_writes_json(tmp_path, capsys):
    out = tmp_path / "d.json"
    rc = main(["--T", "4", "--n-digits", "2", "--n-symbols", "3", "--hidden-size", "3",
               "--attn-size", "2", "--k-top", "2", "--steps", "2", "--every", "1",
               "--profile-T", "6", "--json", str(out),
               "--model-option", 'memory_write="h_hat"'])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert [r["step"] for r in doc["rows"]] == [0, 1, 2]
    assert doc["config"]["memory_write"] == "h_hat" and doc["task"]["T"] == 6
    assert len(doc["profile"]["h_max"]) == 6 + 2 * 2
    assert "per-step profile" in capsys.readouterr().out


def test_command_line_bad_option_is_exit_2(capsys):
    assert main(["--model-option", 'memory_write="s"', "--steps", "1"]) == 2
    assert "memory_write" in capsys.readouterr().err


def test_split_paths_separates_the_score_paths():
    """The trace's score-path norm is the part of the gradient that ``detach_scores`` removes:
    exactly zero for a model that already detaches the scorer's inputs, non-zero otherwise."""
    task = make_task("copy", 6, n_digits=2, n_symbols=3)
    norms = {}
    for detach in (False, True):
        cfg = Config(input_size=task.input_size, output_size=task.output_size, hidden_size=4,
                     attn_size=3, k_top=2, k_att=1, k_trunc=2, detach_scores=detach)
        rows, _ = train_and_diagnose(cfg, task, steps=2, every=2, log=lambda m: 0,
                                     split_paths=True)
        tr = rows[-1]["trace"]
        assert len(tr["grad_norm_score"]) == len(tr["grad_norm_value"]) == 2
        norms[detach] = tr
    assert all(v == 0.0 for v in norms[True]["grad_norm_score"])
    assert norms[True]["grad_norm_value"] == norms[True]["grad_norm"]
    assert all(v > 0.0 for v in norms[False]["grad_norm_score"])
