"""The gradient-check report (python -m minisab gradcheck) passes on the real backward and fails
on a broken one: a check that cannot fail would prove nothing."""
from __future__ import annotations

import pytest

import minisab.fast.engine
import minisab.sab
from minisab.cli.commands import main


@pytest.mark.parametrize("args", [
    [],
    ["--attention", "none", "--method", "tbptt"],
    ["--attention", "softmax", "--scorer", "release", "--method", "bptt"],
    ["--detach-scores", "--loss", "mse", "--k-trunc", "2"],
    ["--sparsifier", "softmax", "--temperature", "0.5", "--k-att", "1"],
    ["--sparsifier", "sparsemax", "--k-att", "1", "--detach-scores"],
])
def test_gradcheck_report_passes(capsys, args):
    assert main(["gradcheck", "--steps", "7", *args]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "W_h" in out and "FAIL" not in out


def test_gradcheck_report_passes_on_the_reference(capsys):
    assert main(["gradcheck", "--steps", "7", "--engine", "reference"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_gradcheck_report_catches_a_broken_fast_backward(capsys, monkeypatch):
    real = minisab.fast.engine.gates_backward

    def broken(dh_hat, dc, gates, g, c_prev, tanh_c, dz):
        dz, dc_prev = real(dh_hat, dc, gates, g, c_prev, tanh_c, dz)
        return dz, 0.9 * dc_prev                   # forgets a tenth of the cell's gradient

    monkeypatch.setattr(minisab.fast.engine, "gates_backward", broken)
    assert main(["gradcheck", "--steps", "7", "--method", "bptt"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_gradcheck_report_catches_a_broken_reference_backward(capsys, monkeypatch):
    real = minisab.sab.lstm_step_backward

    def broken(dh_hat, dc_next, cache, W_h):
        dz, dh_prev, dc_prev = real(dh_hat, dc_next, cache, W_h)
        return dz, dh_prev, 0.9 * dc_prev          # forgets a tenth of the cell's gradient

    monkeypatch.setattr(minisab.sab, "lstm_step_backward", broken)
    assert main(["gradcheck", "--steps", "7", "--method", "bptt", "--engine", "reference"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_gradcheck_refuses_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--k-top", "0"])
    assert e.value.code == 2
    assert "k_top" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--sparsifier", "entmax"])
    assert e.value.code == 2
    assert "sparsemax" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--temperature", "0.5"])        # the default sparsifier has no τ
    assert e.value.code == 2
    assert "temperature" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--dtype", "float32"])
    assert e.value.code == 2
    assert "float64" in capsys.readouterr().err


def test_check_model_refuses_an_empty_batch():
    """``--batch 0`` once printed PASS on all-zero gradients: an empty batch checks nothing."""
    import numpy as np

    from minisab.config import Config
    from minisab.gradcheck import check_model
    from minisab.params import init_params
    cfg = Config(input_size=3, hidden_size=4, output_size=3, attn_size=3, k_top=2, k_att=2,
                 k_trunc=3)
    params = init_params(cfg, seed=0)
    with pytest.raises(ValueError, match="B, T >= 1"):
        check_model(params, np.zeros((0, 5, 3)), np.zeros((0, 5), dtype=np.int64), cfg)
