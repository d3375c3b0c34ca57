"""Run these tests on one torch thread.

The suites use tiny models: each op is microseconds, and with several OpenMP threads on a busy
machine every op waits at a barrier for a descheduled thread (measured: 58 s instead of 14 s for
tests/core/model + tests/core/uncertainty under a load average of 6 on 2 cores).
"""
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
