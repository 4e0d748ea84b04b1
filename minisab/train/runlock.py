"""One writer per run folder: a lock that a run or a comparison holds for its whole life.

The lock is ``fcntl.flock`` on the file ``.lock`` inside the folder (``msvcrt.locking`` on
Windows). The operating system drops it when its process ends, however it ends (``kill -9``
included), so a lock left by a dead process is simply taken over; the file itself names the
holder (process id, host, command, start time), so that a second writer is refused with a
message that says who holds the folder.

Why not ``filelock``: its ``FileLock`` truncates the lock file each time a process tries to
take it, which would erase the holder's name that the refusal must give.

``hold_run_folder(folder)`` is a context manager. Until ``commit()`` is called nothing has been
written for the run, and a refusal (any exception before ``commit``) puts the folder back as it
was: the lock file gets its old bytes again, or is removed (and the folder too, if taking the
lock made it). After ``commit`` the lock file is removed when the run ends. The same process
may take a folder again (``train`` called by the ``train`` command): the inner hold shares the
outer one.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time

from .runrecord import TrainError

LOCK = ".lock"
# Folders this process holds: real path -> [Hold, depth]. A per-process table, as the
# operating system's own is: a second flock on another descriptor would conflict with ours.
_HELD: dict = {}


class RunFolderBusy(TrainError):
    """Another process is writing the run folder."""


def describe_holder(info: dict | None) -> str:
    if not info:
        return "another process (it has not written its name yet)"
    where = "" if info.get("host") == socket.gethostname() else f" on {info.get('host')}"
    return (f"process {info.get('pid')}{where} ({info.get('command', '?')}, since "
            f"{info.get('started', '?')})")


def _read_info(path) -> dict | None:
    for _ in range(3):                  # the holder may be writing its name right now
        try:
            with open(path, encoding="utf-8") as f:
                info = json.loads(f.read())
            if isinstance(info, dict) and "pid" in info:
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return None


if sys.platform == "win32":            # pragma: no cover - not tested on this project's CI
    import msvcrt

    def _try_lock(fd) -> bool:
        os.lseek(fd, 1 << 30, os.SEEK_SET)      # a byte past the name, which others read
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False


def holder(folder) -> dict | None:
    """Who holds ``folder`` (a dict: pid, host, command, started), or None when no other
    process does. Changes nothing: the lock is tried on the existing lock file, if any."""
    path = os.path.join(folder, LOCK)
    if os.path.realpath(folder) in _HELD:
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:                     # no lock file (or not ours to open): nobody holds it
        return None
    try:
        if _try_lock(fd):
            return None                 # closing the descriptor below releases it again
        return _read_info(path) or {}
    finally:
        os.close(fd)


class Hold:
    """A held run folder; ``commit()`` marks the start of writing (see the module's doc)."""

    def __init__(self, folder, fd, old: bytes | None, made: list):
        self.folder, self.fd, self.old, self.made = folder, fd, old, made
        self.committed = False
        prev = None
        if old:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                prev = json.loads(old.decode("utf-8"))
        # The name in a lock file we could take: a process that ended without releasing it.
        self.taken_over = prev if isinstance(prev, dict) and prev.get("pid") != os.getpid() \
            else None

    def commit(self) -> None:
        self.committed = True

    def release(self) -> None:
        path = os.path.join(self.folder, LOCK)
        try:
            if self.committed or self.old is None:
                with contextlib.suppress(OSError):
                    os.remove(path)             # before closing: nobody else holds it yet
            else:                               # a refusal: the old bytes again
                os.lseek(self.fd, 0, os.SEEK_SET)
                os.ftruncate(self.fd, 0)
                os.write(self.fd, self.old)
        finally:
            os.close(self.fd)
        if not self.committed:
            for d in reversed(self.made):       # folders that taking the lock made
                with contextlib.suppress(OSError):
                    os.rmdir(d)


def _read_all(fd) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _makedirs(folder) -> list:
    """``os.makedirs``, returning the folders it made (outermost first)."""
    made, d = [], os.path.abspath(folder)
    while not os.path.isdir(d):
        made.append(d)
        d = os.path.dirname(d)
    for d in reversed(made):
        with contextlib.suppress(FileExistsError):
            os.mkdir(d)
    return list(reversed(made))


def _acquire(folder, wait: float) -> Hold:
    path = os.path.join(folder, LOCK)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise TrainError(f"run folder {os.fspath(folder)!r} is a file: pick another --name "
                         "(a run folder is a folder)")
    made = _makedirs(folder)
    deadline = time.monotonic() + wait
    while True:
        try:                            # made here (None: nothing to put back), or found
            fd, created = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), True
        except FileExistsError:
            try:
                fd, created = os.open(path, os.O_RDWR), False
            except FileNotFoundError:   # its holder let go and removed it just now
                continue
        if _try_lock(fd):
            try:                        # the file we locked must still be the one at ``path``
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except OSError:
                same = False
            if same:                    # what a refusal puts back, read under the lock
                old = None if created else _read_all(fd)
                break
        os.close(fd)
        if time.monotonic() >= deadline:
            info = _read_info(path)
            for d in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(d)
            raise RunFolderBusy(f"run folder {os.fspath(folder)!r} is being written by "
                                f"{describe_holder(info)}: wait for it to finish, stop it, or pick "
                                "another --name")
        time.sleep(0.1)
    hold = Hold(folder, fd, old, made)
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "command": " ".join(["python -m minisab"] + sys.argv[1:])
            if os.path.basename(sys.argv[0]) in ("__main__.py", "minisab") else sys.argv[0],
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, (json.dumps(info) + "\n").encode("utf-8"))
    return hold


@contextlib.contextmanager
def hold_run_folder(folder, wait: float = 0.0):
    """Hold ``folder`` (made if missing) for the ``with`` block; yields a ``Hold``.

    ``wait``: seconds to wait for another holder to let go (the workers of a killed comparison
    stop within about a second) before ``RunFolderBusy`` is raised, naming the holder.
    """
    key = os.path.realpath(folder)
    if key in _HELD:                    # this process holds it already: share that hold
        _HELD[key][1] += 1
        try:
            yield _HELD[key][0]
        finally:
            _HELD[key][1] -= 1
        return
    hold = _acquire(folder, wait)
    _HELD[key] = [hold, 1]
    try:
        yield hold
    finally:
        del _HELD[key]
        hold.release()
