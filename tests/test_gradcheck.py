"""The gradient-check report (python -m minisab gradcheck) passes on the real backward and fails
on a broken one: a check that cannot fail would prove nothing."""
from __future__ import annotations

import pytest

import minisab.sab
from minisab.cli import main


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


def test_gradcheck_report_catches_a_broken_backward(capsys, monkeypatch):
    real = minisab.sab.lstm_step_backward

    def broken(dh_hat, dc, cache, W_h):
        dz, dh_prev, dc_prev = real(dh_hat, dc, cache, W_h)
        return dz, dh_prev, 0.9 * dc_prev          # forgets a tenth of the cell's gradient

    monkeypatch.setattr(minisab.sab, "lstm_step_backward", broken)
    assert main(["gradcheck", "--steps", "7", "--method", "bptt"]) == 1
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
