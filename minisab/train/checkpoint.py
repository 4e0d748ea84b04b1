"""Checkpoints and atomic files.

A checkpoint is one ``.npz`` file (no pickle, so ``allow_pickle=False`` loads it) holding:

- ``param.<name>``       every parameter (docs/model.md §1 names), in the model's dtype;
- ``opt.<slot>.<name>``  the optimiser's moments (``opt.m.W_x``, ``opt.v.W_x``, ...);
- ``meta``               a JSON string: ``format``, ``step``, the optimiser step count ``opt_t``,
                         the data generator's state (``numpy.random.Generator.bit_generator
                         .state``), the model config, the task spec, and bookkeeping (elapsed
                         time, the running training loss).

Every file is written to a temporary file in the same folder and then renamed over the old one
(``os.replace`` is atomic), so a crash or Ctrl-C at any moment leaves either the old complete
file or the new complete file, never half of one. A process killed outright (``kill -9``) can
leave its temporary file (``.tmp-*``) behind: ``remove_temporary_files`` clears them, and the
training loop calls it when it starts. Files get the permissions the umask allows, as files
made with ``open`` do (not the 0600 of a bare ``mkstemp``), so a run folder can be shared.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from ..config import OLD_SPARSIFIER_NAMES

FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that belongs to another model or task."""


TMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0o022)          # the only way to read it is to set it: put it back at once
    os.umask(mask)
    return mask


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary binary file next to ``path``, then rename it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix="-" + os.path.basename(path), dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())          # mkstemp makes 0600; honour the umask
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:           # also on KeyboardInterrupt: never leave the temp file
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def remove_temporary_files(folder) -> list:
    """Delete the ``.tmp-*`` files a killed ``atomic_write`` left in ``folder``; return their names.

    Call it only while holding the folder (``runlock.hold_run_folder``): it would also remove
    the temporary file of another writer still at work.
    """
    if not os.path.isdir(folder):
        return []
    left = sorted(n for n in os.listdir(folder) if n.startswith(TMP_PREFIX))
    for name in left:
        os.remove(os.path.join(folder, name))
    return left


def save_checkpoint(path, params: dict, opt_state: dict, meta: dict, during_write=None) -> None:
    """Write host arrays ``params`` and ``opt_state`` (keys ``"<slot>/<name>"`` and ``"t"``).

    ``during_write()``, if given, is called once the temporary file holds the checkpoint and
    before it replaces the old one (the fault-injection point ``faults.py`` uses).
    """
    arrays = {f"param.{k}": np.asarray(v) for k, v in params.items()}
    for k, v in opt_state.items():
        if k != "t":
            slot, name = k.split("/", 1)
            arrays[f"opt.{slot}.{name}"] = np.asarray(v)
    meta = dict(meta, format=FORMAT, opt_t=int(opt_state["t"]))
    arrays["meta"] = np.array(json.dumps(meta))

    def write(f):
        np.savez(f, **arrays)
        if during_write is not None:
            during_write()
    atomic_write(path, write)


def load_checkpoint(path) -> dict:
    """Read a checkpoint: ``{"params", "opt_state", "meta"}`` with host arrays.

    A missing, truncated or foreign file raises ``CheckpointError`` with what to do about it.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path!r}: nothing to continue (a run stopped "
                              "before its first checkpoint starts again without --resume); "
                              "or give the run folder of a finished or interrupted run")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"checkpoint {path!r} cannot be read (permission denied): ask its "
                              "owner to make the run folder readable, or copy it")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        meta = json.loads(str(files.pop("meta")))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as e:
        raise CheckpointError(f"checkpoint {path!r} is corrupt or not a minisab checkpoint "
                              f"({type(e).__name__}: {e}); delete it to start again, or resume "
                              "from a copy") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path!r} has format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r}; "
                              f"this minisab reads format {FORMAT}")
    for key in ("step", "opt_t", "rng_state", "model", "task"):
        if key not in meta:
            raise CheckpointError(f"checkpoint {path!r} is incomplete: its meta has no {key!r}")
    model = meta["model"]
    if isinstance(model, dict) and model.get("sparsifier") in OLD_SPARSIFIER_NAMES:
        model["sparsifier"] = OLD_SPARSIFIER_NAMES[model["sparsifier"]]   # an earlier name
    params = {k[len("param."):]: v for k, v in files.items() if k.startswith("param.")}
    opt_state = {"t": int(meta["opt_t"])}
    for k, v in files.items():
        if k.startswith("opt."):
            slot, name = k[len("opt."):].split(".", 1)
            opt_state[f"{slot}/{name}"] = v
    return {"params": params, "opt_state": opt_state, "meta": meta}


def check_matches(meta: dict, model: dict, task: dict, path) -> None:
    """Raise ``CheckpointError`` if the checkpoint was made for another model or task."""
    for what, saved, wanted in (("model", meta["model"], model), ("task", meta["task"], task)):
        diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        if diff:
            detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r} vs now {wanted.get(k)!r}"
                               for k in diff)
            raise CheckpointError(f"checkpoint {os.fspath(path)!r} belongs to another {what} "
                                  f"({detail}); resume with the same {what} options, or start "
                                  "a new run (--name)")
