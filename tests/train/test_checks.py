"""The library refuses what the command line refuses, naming the argument and the accepted
values: inputs, t_start, parameters, seeds and forget-gate biases, gradient checks in float32,
presets, run names, scheduler addresses, and runs that do not fit in memory."""
from __future__ import annotations

import math

import numpy as np
import pytest

from minisab import Config, ConfigError
from minisab.train.footprint import check_memory, footprint, n_params
from minisab.gradcheck import check_model
from minisab.params import (check_inputs, check_params, check_t_start, init_params,
                            param_shapes)

CFG = Config(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=2,
             k_trunc=3)


@pytest.mark.parametrize("x, words", [
    (np.zeros((2, 5)), "invalid x of shape (2, 5): accepted are arrays of shape (B, T, "
     "input_size=3)"),
    (np.zeros((2, 5, 4)), "invalid x of shape (2, 5, 4)"),
    (np.zeros((0, 5, 3)), "with B, T >= 1"),
    (np.zeros((2, 5, 3), complex), "invalid x of dtype complex128: accepted are real numbers"),
    (np.array([[["a", "b", "c"]]]), "invalid x of dtype str"),
    (np.full((2, 5, 3), np.inf), "invalid x: it holds NaN or infinite values"),
    (np.where(np.eye(3)[None, :2] > 0, np.nan, 0.0), "NaN or infinite"),
])
def test_check_inputs_refuses_by_name(x, words):
    with pytest.raises(ConfigError) as e:
        check_inputs(x, CFG)
    assert words in str(e.value)


def test_check_inputs_accepts_real_inputs():
    for dtype in (np.float64, np.float32, np.int64, bool):
        check_inputs(np.ones((2, 5, 3), dtype=dtype), CFG)


@pytest.mark.parametrize("t_start", [-5, -1, 10, 11, 2.0, "3", True])
def test_check_t_start_refuses_out_of_range(t_start):
    with pytest.raises(ConfigError, match=r"invalid t_start=.*accepted values are None \(the "
                                          r"last step\) or integers from 0 to T - 1 = 9"):
        check_t_start(t_start, 10)


def test_check_t_start_accepts_every_step():
    assert check_t_start(None, 10) == 9
    assert [check_t_start(t, 10) for t in range(10)] == list(range(10))
    assert check_t_start(np.int64(4), 10) == 4


def test_check_params_refuses_another_dtype_and_non_finite_values():
    params = init_params(CFG, seed=0)
    check_params(params, CFG)
    with pytest.raises(ConfigError, match=r"params\['W_x'\] has dtype float16, expected "
                                          r"float64 \(the Config's dtype\)"):
        check_params({**params, "W_x": params["W_x"].astype(np.float16)}, CFG)
    with pytest.raises(ConfigError, match="has dtype float64, expected float32"):
        check_params(params, CFG.replace(dtype="float32"))
    bad = dict(params, b=params["b"].copy())
    bad["b"][5] = np.nan
    check_params(bad, CFG)                  # the forward pass lets a diverged run reach its loss
    with pytest.raises(ConfigError, match=r"params\['b'\] holds NaN or infinite values"):
        check_params(bad, CFG, finite=True)
    with pytest.raises(ConfigError, match="missing"):
        check_params({k: v for k, v in params.items() if k != "w_s"}, CFG)
    with pytest.raises(ConfigError, match="accepted values are a dict"):
        check_params(list(params.values()), CFG)


@pytest.mark.parametrize("seed", [-1, 2 ** 63, 1.5, "0", True, None])
def test_init_params_refuses_bad_seeds(seed):
    with pytest.raises(ConfigError, match=r"invalid seed=.*accepted values are integers from "
                                          r"0 to 2\*\*63 - 1"):
        init_params(CFG, seed=seed)


@pytest.mark.parametrize("bias", [float("nan"), float("inf"), "1", None])
def test_init_params_refuses_bad_forget_biases(bias):
    with pytest.raises(ConfigError, match="invalid forget_bias=.*accepted values are finite"):
        init_params(CFG, forget_bias=bias)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_params_draws_in_the_config_dtype_the_same_values_in_blocks(dtype, monkeypatch):
    """Drawn a few rows at a time, the parameters are the bits of one float64 draw of each
    shape, rounded once to the dtype: what init_params has always returned."""
    import minisab.params as mp
    cfg = CFG.replace(hidden_size=7, dtype=dtype)
    whole = init_params(cfg, seed=3, forget_bias=1.5)
    monkeypatch.setattr(mp, "_DRAW_ROWS", 5)            # blocks of rows; b in blocks of 5
    blocks = init_params(cfg, seed=3, forget_bias=1.5)
    rng, H = np.random.default_rng(3), cfg.hidden_size
    for name, shape in param_shapes(cfg).items():
        assert blocks[name].dtype == np.dtype(dtype)
        assert blocks[name].tobytes() == whole[name].tobytes(), name
        if name != "b_y":
            fan_in = H if name in ("W_x", "W_h", "b") else shape[0]
            bound = 1.0 / math.sqrt(fan_in)
            want = rng.uniform(-bound, bound, size=shape)
            if name == "b":
                want[H:2 * H] += 1.5
            assert np.array_equal(whole[name], want.astype(dtype)), name


def test_a_float32_gradient_check_is_refused():
    cfg = CFG.replace(dtype="float32")
    params = init_params(cfg)
    x = np.zeros((1, 4, 3), np.float32)
    with pytest.raises(ConfigError, match="invalid cfg.dtype='float32' for a gradient check: "
                                          "accepted is 'float64'"):
        check_model(params, x, np.zeros((1, 4), np.int64), cfg)


# ------------------------------------------------------------------------- memory
def test_the_footprint_counts_parameters_optimiser_activations_and_data():
    cfg = CFG.replace(dtype="float32")
    P = n_params(cfg)
    assert P == sum(int(np.prod(s)) for s in param_shapes(cfg).values())
    adam = footprint(cfg, 20, 8, 64, "adam")
    sgd = footprint(cfg, 20, 8, 64, "sgd")
    assert adam["parameters"] == 4 * P and adam["optimiser state"] == 8 * P
    assert sgd["optimiser state"] == 4 * P and adam["gradients and update"] == 28 * P
    assert adam["data"] == 8 * (8 + 64) * 20 * (3 + 2)
    assert footprint(cfg.replace(dtype="float64"), 20, 8)["parameters"] == 8 * P
    assert footprint(cfg, 40, 8)["activations"] > footprint(cfg, 20, 8)["activations"]
    check = footprint(cfg, 20, 8, optimizer=None)
    assert set(check) == {"parameters", "gradients", "activations", "data"}


def test_a_run_that_does_not_fit_is_refused_with_needed_and_available(monkeypatch):
    import minisab.train.footprint as fp
    monkeypatch.setattr(fp, "available_bytes", lambda: (2 ** 30, "MemAvailable in /proc/meminfo"))
    big = CFG.replace(hidden_size=20000, dtype="float32")      # W_h alone: 6.4 GB
    with pytest.raises(ConfigError) as e:
        check_memory(big, 10, 2, 4, "adam")
    msg = str(e.value)
    assert "invalid sizes: this run needs at least" in msg and "parameters 6.0 GiB" in msg
    assert "optimiser state 11.9 GiB" in msg and "1.0 GiB are available (MemAvailable" in msg
    assert "a smaller --hidden-size, --attn-size, --T, --batch or --eval-batch" in msg
    assert check_memory(CFG, 10, 2, 4) < 2 ** 30                     # a small run passes
    mid = CFG.replace(hidden_size=1000, dtype="float32")             # about 0.16 GiB
    one = check_memory(mid, 10, 2, 4)
    with pytest.raises(ConfigError, match=r"8 runs side by side \(--jobs\), each needs at "
                                          r"least 0.2 GiB.* or --jobs$"):
        check_memory(mid, 10, 2, 4, copies=8)
    assert check_memory(mid, 10, 2, 4, copies=3) == 3 * one


def test_available_memory_says_where_it_was_read():
    from minisab.train.footprint import available_bytes
    have, source = available_bytes()
    assert have is None or have > 0
    assert source in ("MemAvailable in /proc/meminfo", "free physical pages, os.sysconf",
                      "unknown")


# ------------------------------------------------------------------------- compare
@pytest.mark.parametrize("kw, words", [
    (dict(preset="foo"), "invalid preset='foo': accepted values are 'cpu', 'paper'"),
    (dict(name="../esc"), "invalid name='../esc': accepted values are one folder name"),
    (dict(name=".."), "invalid name='..'"),
    (dict(name=""), "invalid name=''"),
    (dict(overrides={"modle": {}}), "invalid overrides="),
    (dict(overrides={"model": {"hiden_size": 3}}), "invalid overrides['model'] fields "
     "['hiden_size']"),
    (dict(scheduler="localhost:8786"), "invalid scheduler='localhost:8786': accepted values "
     "are addresses 'tcp://host:port'"),
    (dict(scheduler="http://127.0.0.1:8786"), "invalid scheduler='http://127.0.0.1:8786'"),
    (dict(scheduler="tcp://127.0.0.1"), "invalid scheduler='tcp://127.0.0.1'"),
    (dict(scheduler="tcp://127.0.0.1:1"), "nothing answers at 127.0.0.1:1"),
])
def test_run_compare_refuses_bad_arguments_before_writing(tmp_path, kw, words):
    from minisab.cli.compare import run_compare
    args = dict(preset="cpu", runs_dir=str(tmp_path / "runs"), name="c", overrides={},
                progress=False)
    args.update(kw)
    with pytest.raises(ValueError) as e:
        run_compare(**args)
    assert words in str(e.value)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "esc").exists()
