"""Config validation: invalid values and combinations are refused on construction, by name."""
from __future__ import annotations

import pytest

from minisab import Config, ConfigError


@pytest.mark.parametrize("changes, field", [
    (dict(k_top=0), "k_top"),
    (dict(k_top=2.5), "k_top"),
    (dict(k_att=0), "k_att"),
    (dict(k_trunc=0), "k_trunc"),
    (dict(hidden_size=0), "hidden_size"),
    (dict(attention="dense"), "attention"),
    (dict(scorer="dot"), "scorer"),
    (dict(method="rtrl"), "method"),
    (dict(loss="l1"), "loss"),
    (dict(dtype="float16"), "dtype"),
    (dict(attn_size=None), "attn_size"),
    (dict(eps=-1.0), "eps"),
    (dict(detach_scores="yes"), "detach_scores"),
    (dict(attention=None, method="sab"), "method='sab'"),
    (dict(attention="softmax", method="sab"), "method='sab'"),
    (dict(attention=None, method="bptt", detach_scores=True), "detach_scores"),
    # a temperature below the dtype's machine epsilon (1e-300 is 0 in float32)
    (dict(sparsifier="topk_softmax", temperature=1e-300, dtype="float32"),
     "temperature=1e-300: accepted values are finite numbers >= 1.19e-07 for dtype='float32'"),
    (dict(sparsifier="topk_softmax", temperature=1e-17), "temperature=1e-17: accepted values are "
     "finite numbers >= 2.22e-16 for dtype='float64'"),
])
def test_invalid_config_names_the_field(changes, field):
    with pytest.raises(ConfigError) as e:
        Config(**changes)
    assert field in str(e.value)
    assert "accepted" in str(e.value) or "needs" in str(e.value)


def test_valid_configs():
    Config()
    Config(attention=None, method="tbptt", k_trunc=3)
    Config(attention="softmax", method="bptt", scorer="release", attn_size=None)
    Config(method="tbptt", k_trunc=None)      # no cut at all


def test_cuts_follow_model_md_section_4():
    cfg = Config(k_trunc=3, method="tbptt")
    assert [t for t in range(10) if cfg.cuts(t)] == [3, 6, 9]
    assert not any(cfg.replace(method="bptt").cuts(t) for t in range(10))
    assert not any(cfg.replace(k_trunc=None).cuts(t) for t in range(10))


def test_round_trip_and_unknown_fields():
    cfg = Config(hidden_size=7, k_top=3)
    assert Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown config field"):
        Config.from_dict({**cfg.to_dict(), "k_topp": 3})


def test_the_smallest_temperature_of_each_dtype_is_accepted():
    Config(sparsifier="topk_softmax", temperature=2.0 ** -23, dtype="float32")
    Config(sparsifier="topk_softmax", temperature=1e-8, dtype="float64")


def test_the_earlier_sparsifier_names_are_read_as_the_new_ones():
    """A checkpoint or a script from before docs/model.md §6 named them "softmax"/"sparsemax"."""
    assert Config(sparsifier="softmax").sparsifier == "topk_softmax"
    assert Config(sparsifier="sparsemax").sparsifier == "topk_sparsemax"
    assert Config.from_dict(Config(sparsifier="sparsemax").to_dict()).sparsifier == \
        "topk_sparsemax"
