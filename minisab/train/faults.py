"""Fault injection for the reliability tests, and SIGTERM handled like Ctrl-C
(``handle_sigterm``, ``sigterm_as_ctrl_c``).

``fault_point(name, step)`` marks a named point of the training loop. It does nothing unless the
environment variable ``MINISAB_FAULT`` names that point and step, as ``<point>@<step>:<fault>``
(for example ``MINISAB_FAULT=checkpoint-write@8:SIGKILL``; several, separated by commas, as
``step@6:SIGINT,interrupt-write@6:SIGINT`` for a second Ctrl-C while the first one's checkpoint
is written). The fault is then delivered there:

- ``SIGINT``, ``SIGTERM``, ``SIGKILL``: the process sends itself that signal (a real one, so
  the same handlers run as for Ctrl-C, a job scheduler or ``kill -9``);
- ``ENOSPC``: an ``OSError`` "No space left on device" is raised, as a full disk would;
- ``PAUSE``: the process waits there for ``PAUSE_S`` seconds, as a slow step would (the tests
  stop a comparison, or start a second writer, while its workers wait).

The points (``train.py``): ``step`` (a step was just committed), ``eval`` (the evaluation is
computed but its row not yet written), ``metrics-append`` (the row is written, the checkpoint not
yet), ``checkpoint-write`` (the new checkpoint is in its temporary file, not yet renamed over the
old one; also ``interrupt-write``, the checkpoint written after a Ctrl-C). The variable is read at
every call: there is no state, and with it unset every point is inert. ``tests/train/test_faults.py``
drives a real training process through these points.
"""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
import time

ENV = "MINISAB_FAULT"
FAULTS = ("SIGINT", "SIGTERM", "SIGKILL", "ENOSPC", "PAUSE")
PAUSE_S = 3.0


class Terminated(KeyboardInterrupt):
    """SIGTERM turned into an exception, so that it stops training the way Ctrl-C does."""


def _raise_terminated(signum, frame):
    raise Terminated()


def handle_sigterm():
    """From now on SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``) in the main thread;
    returns the previous handler, for ``signal.signal`` to put back."""
    return signal.signal(signal.SIGTERM, _raise_terminated)


def stop_error(signame: str | None) -> KeyboardInterrupt:
    """The exception that passes a stop on to the caller, after ``train`` returned "interrupted"
    by ``signame``: ``Terminated`` for "SIGTERM", a plain ``KeyboardInterrupt`` otherwise."""
    return Terminated() if signame == "SIGTERM" else KeyboardInterrupt()


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """Within the block, SIGTERM (a job scheduler, ``kill``, ``experiments/run_plan.py``'s stop)
    raises ``Terminated``, so that training stops the way Ctrl-C stops it: the checkpoint of the
    last finished step is written and the run folder let go. The previous handler is put back
    afterwards. Off the main thread (a Dask worker's thread) Python lets no code set a handler:
    the block then runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = handle_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse(spec: str):
    """``"<point>@<step>:<fault>"`` -> ``(point, step, fault)``; a ValueError names the format."""
    try:
        where, fault = spec.rsplit(":", 1)
        point, step = where.rsplit("@", 1)
        step = int(step)
    except ValueError:
        raise ValueError(f"invalid {ENV}={spec!r}: accepted values are '<point>@<step>:<fault>', "
                         f"e.g. 'eval@8:SIGTERM'") from None
    if fault not in FAULTS:
        raise ValueError(f"invalid fault {fault!r} in {ENV}={spec!r}: accepted values are "
                         + ", ".join(FAULTS))
    return point, step, fault


def fault_point(name: str, step: int) -> None:
    """Deliver the fault that ``$MINISAB_FAULT`` asks for at point ``name`` of step ``step``."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for one in spec.split(","):
        point, at, fault = parse(one)
        if point == name and at == step:
            _deliver(fault, name, step)


def _deliver(fault: str, name: str, step: int) -> None:
    if fault == "ENOSPC":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC) + f" (injected at {name}@{step})")
    if fault == "PAUSE":
        time.sleep(PAUSE_S)
        return
    os.kill(os.getpid(), getattr(signal, fault))
    if fault == "SIGKILL":          # never returns; a signal to oneself may take a moment
        signal.pause()
