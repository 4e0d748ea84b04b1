"""Run a student's notebook cell by cell, whatever it does: errors, a cell that never ends, a cell
that kills the kernel. Used by the grader (``grade.py``).

``run(nb, folder, timeout, env, extra)`` executes every code cell with nbclient in a Jupyter
kernel started in ``folder`` (the notebook's own, so relative paths work), errors allowed. A cell
that runs longer than ``timeout`` seconds is interrupted; if the kernel does not answer after
that, or if a cell kills it (``os._exit``, a segfault, memory), a fresh kernel runs the notebook
again from the top without that cell (at most ``MAX_RESTARTS`` times). After the last cell,
``extra`` (the grader's harvest cell, not part of the notebook) runs in the same kernel.

Returns ``{cell index: CellRun}`` and, if ``extra`` did not run, why. The cells that timed out or killed
the kernel get an error output saying so, so that the executed copy shows what happened.

A timed-out cell leaves nbclient's output poller behind; it ends with ``queue.Empty`` when its
kernel shuts down, and nothing waits for it. Left to the garbage collector, it would be logged as
"Task exception was never retrieved" at some later moment, and on Python 3.11 that logging can
happen inside an unrelated ``ast.parse`` and break it (CPython gh-106905). So ``run`` collects
those leftovers itself before it returns, with the event loop told that they are expected.
"""
from __future__ import annotations

import gc
import queue
import subprocess
from dataclasses import dataclass

MAX_RESTARTS = 3
PROBE_TIMEOUT = 30          # seconds for an interrupted kernel to answer again


@dataclass
class CellRun:
    """What happened to one code cell: "ok", "error", "timed out", "kernel died", "not run"."""
    status: str
    detail: str = ""


def _error_output(ename, evalue):
    import nbformat
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[
        f"{ename}: {evalue}"])


def _interrupt(client):
    """Interrupt the kernel (the kernel manager's method may be a coroutine)."""
    from nbclient.util import ensure_async, run_sync

    async def interrupt():
        await ensure_async(client.km.interrupt_kernel())
    run_sync(interrupt)()


def _run_extra(client, nb, source, timeout) -> str | None:
    """Run a cell that is not part of the notebook (the probe, the harvest) in the kernel.
    Returns None when it ran, else what went wrong."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.append(cell)                         # nbclient stores the cell at its index
    before = client.timeout
    client.timeout = timeout
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        return f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else None
    except (CellTimeoutError, DeadKernelError, RuntimeError) as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    finally:
        client.timeout = before
        nb.cells.pop()


def _pass(nb, folder, timeout, env, skip, runs, extra, extra_timeout):
    """One kernel's run over the notebook. Returns ("done", extra ran) or ("restart", None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):   # the kernel's own chatter
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if i in skip:
                cell.outputs = [_error_output(*skip[i])]
                continue
            try:
                client.execute_cell(cell, i)
            except CellTimeoutError:
                why = ("CellTimeoutError", f"the cell ran longer than {timeout} s and was "
                                           "stopped by the grader")
                runs[i] = CellRun("timed out", why[1])
                cell.outputs.append(_error_output(*why))
                _interrupt(client)
                if _run_extra(client, nb, "pass", PROBE_TIMEOUT) is not None:
                    skip[i] = why
                    return "restart", None
                continue
            except DeadKernelError:
                skip[i] = ("DeadKernelError", "the kernel died running this cell")
                runs[i] = CellRun("kernel died", skip[i][1])
                cell.outputs.append(_error_output(*skip[i]))
                return "restart", None
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            runs[i] = (CellRun("error", f"{errors[0].get('ename')}: {errors[0].get('evalue')}")
                       if errors else CellRun("ok"))
        return "done", (_run_extra(client, nb, extra, extra_timeout) if extra else None)


def _loop():
    """The event loop nbclient runs its coroutines on in this thread."""
    import asyncio
    from nbclient.util import run_sync

    async def running():
        return asyncio.get_running_loop()
    return run_sync(running)()


def _leftover(loop, context):
    """The loop's exception handler while ``run`` runs: a poller that ended with ``queue.Empty``
    is a timed-out cell's leftover (module docstring); anything else is reported as usual."""
    if not isinstance(context.get("exception"), queue.Empty):
        loop.default_exception_handler(context)


def _passes(nb, folder, timeout, env, extra, extra_timeout):
    runs: dict[int, CellRun] = {}
    skip: dict[int, tuple] = {}
    for _ in range(MAX_RESTARTS + 1):
        state, problem = _pass(nb, folder, timeout, env, skip, runs, extra, extra_timeout)
        if state == "done":
            return runs, problem
    for i, cell in enumerate(nb.cells):            # too many restarts: the rest did not run
        if cell.cell_type == "code" and i not in runs:
            runs[i] = CellRun("not run", "the kernel died too often")
    return runs, "the kernel died too often"


def run(nb, folder, timeout: int, env: dict, extra: str | None = None,
        extra_timeout: int = 120):
    """Execute ``nb`` in place (module docstring). Returns ``(runs, problem)``: ``problem`` is
    None when ``extra`` ran, else why it did not."""
    loop = _loop()
    before = loop.get_exception_handler()
    loop.set_exception_handler(_leftover)
    try:
        return _passes(nb, folder, timeout, env, extra, extra_timeout)
    finally:
        gc.collect()                     # the leftovers end here, under ``_leftover``
        loop.set_exception_handler(before)
