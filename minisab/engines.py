"""The two engines that run the model, and which one made a cache.

- ``"reference"``: ``minisab.sab``, the model as docs/model.md writes it (what ``minisab.forward``,
  ``backward``, ``loss_and_grads`` run, and what the tutorials print);
- ``"fast"``: ``minisab.fast``, the same numbers rearranged for speed (what training, the CLI,
  the credit instruments, the experiments and the benchmarks run).

A forward cache records its engine (``cache["engine"]``), so that an instrument given a cache
(``minisab.credit.flow``) runs the backward that belongs to it.
"""
from __future__ import annotations

ENGINES = ("fast", "reference")


def engine_module(engine: str):
    """The module that runs ``engine``: ``minisab.fast`` or ``minisab.sab``."""
    if engine == "fast":
        from . import fast
        return fast
    if engine == "reference":
        from . import sab
        return sab
    raise ValueError(f"invalid engine={engine!r}: accepted values are 'fast', 'reference'")


def engine_of(cache):
    """The module whose ``forward`` made ``cache``."""
    return engine_module(cache["engine"])
