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
"""
from __future__ import annotations

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


def run(nb, folder, timeout: int, env: dict, extra: str | None = None,
        extra_timeout: int = 120):
    """Execute ``nb`` in place (module docstring). Returns ``(runs, problem)``: ``problem`` is
    None when ``extra`` ran, else why it did not."""
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
