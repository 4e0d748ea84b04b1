"""Every case of the independent implementation (tests/data/golden/, see its README), reproduced
in float64 by both engines, the reference (minisab.sab) and the fast one (minisab.fast): loss,
logits, states, attention weights and scores, dh, every gradient."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minisab import Config, to_host
from minisab.engines import ENGINES, engine_module
from minisab.params import param_shapes

GOLDEN = sorted((Path(__file__).parent / "data" / "golden").glob("*.npz"))


def test_golden_files_present():
    assert len(GOLDEN) == 14


def assert_matches(name, ours, ref):
    ours, ref = to_host(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{name}: shape {ours.shape} != {ref.shape}"
    err = np.max(np.abs(ours - ref), initial=0.0)
    bound = 1e-9 * np.max(np.abs(ref), initial=0.0) + 1e-13
    assert err <= bound, f"{name}: max|a-b| = {err:.3e} > {bound:.3e}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_case(path, engine, backend):
    d = np.load(path, allow_pickle=False)
    cfg = Config.from_dict(json.loads(str(d["config"])))
    names = param_shapes(cfg)
    assert sorted(names) == sorted(k for k in d.files if k in
                                   ("W_x", "W_h", "b", "W_q", "W_m", "w_s", "W_y", "b_y"))
    params = {k: backend.asarray(d[k]) for k in names}
    mask = backend.asarray(d["mask"]) if "mask" in d.files else None
    loss, grads, out = engine_module(engine).loss_and_grads(
        params, backend.asarray(d["x"]), backend.asarray(d["targets"]), cfg, mask=mask,
        record=True)
    cache = out["cache"]
    assert_matches("loss", loss, d["loss"])
    assert_matches("logits", out["logits"], d["logits"])
    assert_matches("h", cache["hs"], d["h"])
    assert_matches("h_hat", cache["h_hats"], d["h_hat"])
    assert_matches("c", cache["record"]["c"], d["c"])
    assert_matches("dh", out["dh"], d["dh"])
    if cfg.uses_attention:
        assert_matches("s", cache["ss"], d["s"])
        assert_matches("n_mem", np.asarray(cache["record"]["n_mem"]), d["n_mem"])
        assert_matches("attn", cache["record"]["attn"], d["attn"])
        assert_matches("scores", cache["record"]["scores"], d["scores"])
    for k in names:
        assert_matches("grad_" + k, grads[k], d["grad_" + k])
