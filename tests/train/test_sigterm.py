"""minisab.train.faults.sigterm_as_ctrl_c: SIGTERM raises ``Terminated`` (a KeyboardInterrupt)
inside the block, the previous handler is back after it, and off the main thread the block runs
as it is (Python lets only the main thread set a handler)."""
import os
import signal
import sys
import threading

import pytest

from minisab.train.faults import Terminated, sigterm_as_ctrl_c

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to oneself is POSIX")


def test_sigterm_in_the_block_is_a_ctrl_c_and_the_old_handler_comes_back():
    def mine(signum, frame):
        raise RuntimeError("the handler before the block")
    before = signal.signal(signal.SIGTERM, mine)
    try:
        with pytest.raises(Terminated):
            with sigterm_as_ctrl_c():
                os.kill(os.getpid(), signal.SIGTERM)
        assert issubclass(Terminated, KeyboardInterrupt)
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)


def test_off_the_main_thread_the_block_changes_no_handler():
    seen = []

    def work():
        with sigterm_as_ctrl_c():
            seen.append(signal.getsignal(signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [before]


def test_a_stop_is_passed_on_as_the_exception_of_its_signal():
    from minisab.train.faults import stop_error
    assert isinstance(stop_error("SIGTERM"), Terminated)
    for other in ("SIGINT", None):
        err = stop_error(other)
        assert isinstance(err, KeyboardInterrupt) and not isinstance(err, Terminated)
