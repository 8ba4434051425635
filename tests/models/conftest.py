"""Run the model tests single-threaded: on a shared 2-core machine, torch's OpenMP threads
spin against other processes and make tiny steps tens of times slower."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def single_torch_thread():
    try:
        import torch
    except ImportError:  # the numpy-only data tests still run
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
