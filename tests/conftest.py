"""Shared test set-up: hypothesis profiles and the array backends every test runs on.

- Profile ``ci`` (the default) is derandomized: the same examples on every run.
  ``HYPOTHESIS_PROFILE=dev`` draws fresh examples, more of them.
- The ``backend`` fixture runs a test on NumPy, on the strict backend (array_api_strict on
  ``Device("device1")``, which refuses any implicit conversion to NumPy, where CuPy would fail)
  and on CuPy when a GPU is present. ``MINISAB_TEST_BACKENDS=numpy,strict`` picks a subset.
- The ``ctrl_c`` fixture makes SIGINT raise KeyboardInterrupt for one test, as in a terminal.
"""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from minisab.backend import BackendError, get_backend

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=15,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("dev", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# The backend fixture holds no state, so sharing it across examples is safe.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _available_backends():
    wanted = os.environ.get("MINISAB_TEST_BACKENDS", "numpy,strict,cupy").split(",")
    out = []
    for name in wanted:
        try:
            get_backend(name)
        except BackendError:
            continue        # cupy without a GPU: skipped here, runs unchanged where there is one
        out.append(name)
    return out


BACKENDS = _available_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return get_backend(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def ctrl_c():
    """SIGINT raises KeyboardInterrupt during the test, as Ctrl-C does in a terminal, even where
    pytest inherited it ignored (started with ``&`` by a shell without job control)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
