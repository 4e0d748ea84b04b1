"""Checks of command-line arguments that argparse cannot make: run names and folders (whether a
run fits in memory: ``footprint.py``). Each failure is a ``ConfigError`` naming the argument and
what it accepts, so that ``cli.py`` ends with exit status 2 and a message, not a traceback.
"""
from __future__ import annotations

import argparse
import errno
import math
import os

from ..config import ConfigError
# The memory check lives in footprint.py; its names stay importable from here.
from ..train.footprint import available_bytes, check_memory  # noqa: F401


def check_run_options(args) -> None:
    """The run-folder options of train and compare: --resume, --overwrite, --allow-changes,
    --name, --runs-dir."""
    if args.resume and args.overwrite:
        raise ConfigError("invalid combination --resume with --overwrite: accepted is one of them")
    if args.allow_changes and not args.resume:
        raise ConfigError("invalid --allow-changes without --resume: accepted only with --resume")
    if args.name is not None:
        check_name(args.name)
    check_writable_dir(args.runs_dir)


def check_name(name: str, option: str = "--name") -> str:
    """A run name is one folder inside ``--runs-dir``: no separators, not ``.`` or ``..``."""
    seps = [s for s in (os.sep, os.altsep, "/") if s]
    if not name or name in (".", "..") or any(s in name for s in seps):
        raise ConfigError(f"invalid {option}={name!r}: accepted values are one folder name, "
                          "without '/' and not '.' or '..' (the run goes inside --runs-dir)")
    return name


def check_writable_dir(path: str, option: str = "--runs-dir") -> str:
    """``path`` is a folder minisab can write into, or can be made inside one."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"invalid {option}={path!r}: it is a file; accepted values are a "
                          "folder (existing or to be made) that you can write to")
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"invalid {option}={path!r}: {probe!r} cannot be written (permissions "
                          "or a read-only file system); accepted values are a folder you can "
                          "write to")
    return path


def check_run_folder(path: str) -> str:
    """``eval``'s argument: the folder of a run."""
    if not os.path.isdir(path):
        raise ConfigError(f"invalid run={path!r}: " + ("it is a file" if os.path.exists(path)
                                                       else "it does not exist")
                          + "; accepted values are the folder of a run made by 'python -m "
                            "minisab train' or 'compare', e.g. runs/copy-sab")
    return path


# ----------------------------------------------------------------- argparse types
# (moved here from cli.py, which imports them under their old names)
def none_or_int(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}") from None


def none_or_float(text: str):
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def positive_int(text: str):
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return v


def positive_float(text: str):
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return v


def seed_int(text: str) -> int:
    """An argparse type: a seed, an integer from 0 to 2**63 - 1 (NumPy refuses negative ones)."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v < 2 ** 63:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**63 - 1, got {text!r}")
    return v


def finite_float(text: str) -> float:
    """An argparse type: a finite number (``nan`` and ``inf`` are refused)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def os_error_text(e: OSError) -> str:
    """What a CLI user reads for an OSError: what failed, and what to do."""
    where = f" writing {e.filename!r}" if e.filename else ""
    advice = {errno.ENOSPC: "free some space, then continue with --resume (the last checkpoint "
                            "is intact)",
              errno.EACCES: "choose a --runs-dir you can write to",
              errno.EROFS: "choose a --runs-dir on a writable file system"}
    return (f"{e.strerror or e}{where}: "
            + advice.get(e.errno, "check the path and the free space, then try again"))
