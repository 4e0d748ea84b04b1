"""BLAS threads under minisab's control (minisab/threads.py)."""
import pytest
from threadpoolctl import threadpool_info

import minisab
from minisab.cli.commands import main
from minisab.threads import (DEFAULT_THREADS, ENV, ThreadsError, reset_threads, resolve_threads,
                             set_threads, use_threads, with_threads)


def blas_threads():
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_default_env_argument_and_block(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert resolve_threads() == DEFAULT_THREADS == 1
    monkeypatch.setenv(ENV, "3")
    assert resolve_threads() == 3
    with use_threads(2):
        assert resolve_threads() == 2                  # a block beats the environment
        assert resolve_threads(4) == 4                 # an argument beats the block
    assert resolve_threads() == 3


def test_set_threads_is_the_notebooks_one_liner(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    try:
        assert minisab.set_threads() == 1
        assert resolve_threads() == 1 and blas_threads() <= {1}
        assert set_threads(2) == 2 and resolve_threads() == 2
    finally:
        reset_threads()
    assert resolve_threads() == DEFAULT_THREADS


def test_the_limit_is_applied_and_restored():
    before = blas_threads()
    with use_threads(1):
        assert blas_threads() <= {1}
    assert blas_threads() == before

    @with_threads
    def inside():
        return blas_threads(), resolve_threads()

    assert inside(threads=1) == ({1} if before else set(), 1)
    assert "threads" in inside.__doc__


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True])
def test_bad_thread_counts_name_the_argument(bad):
    with pytest.raises(ThreadsError, match="invalid threads=.*integers >= 1"):
        resolve_threads(bad)


def test_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(ThreadsError, match="invalid MINISAB_THREADS='lots'"):
        resolve_threads()


@pytest.mark.parametrize("command", ["train", "eval", "compare", "gradcheck"])
def test_every_command_has_threads(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--threads" in capsys.readouterr().out


def test_cli_refuses_bad_threads(monkeypatch, capsys):
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--threads", "0"])
    assert e.value.code == 2 and "argument --threads" in capsys.readouterr().err
    monkeypatch.setenv(ENV, "0")
    with pytest.raises(SystemExit) as e:
        main(["gradcheck", "--steps", "2"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "MINISAB_THREADS" in err and "Traceback" not in err


def test_cli_threads_reach_the_computation(monkeypatch, capsys):
    import minisab.gradcheck as gc
    seen = []
    real = gc.format_report

    def spy(rows):
        seen.append((resolve_threads(), blas_threads()))
        return real(rows)

    monkeypatch.setattr(gc, "format_report", spy)
    assert main(["gradcheck", "--steps", "2", "--threads", "1"]) == 0
    assert seen[0][0] == 1 and seen[0][1] <= {1}
