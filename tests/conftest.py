"""Shared fixtures: small problems with known answers."""

import os
import random

import numpy as np
import pytest
import torch

from rewardsde import ControlledSDE, NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, QuadraticReward

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest-xdist worker a core: each worker, and the commands it starts
    # (CLI runs, DDP processes), then uses one thread, so the workers do not fight for the cores.
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


try:
    from xdist.scheduler import LoadFileScheduling
except ImportError:  # plain pytest: no workers to schedule
    LoadFileScheduling = None

if LoadFileScheduling is not None:

    class _FilesButCliRuns(LoadFileScheduling):
        """``--dist loadfile``, but each test of ``test_cli.py`` is a unit of its own: a file's tests
        share a worker (its module-scoped fixtures are built once), while the CLI runs, independent
        subprocesses of up to a minute each, spread over the workers instead of holding one of them
        for the run's last minutes."""

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            return nodeid if path.endswith("test_cli.py") else path

    def pytest_xdist_make_scheduler(config, log):
        return _FilesButCliRuns(config, log) if config.getvalue("dist") == "loadfile" else None


@pytest.fixture(autouse=True)
def _seeded_global_rngs():
    """Every test starts from the same global RNG state (torch, numpy, random), whatever ran
    before it on its worker: `make test` spreads files over pytest-xdist workers in an order
    that differs between machines, and a weight drawn from the global generator must not
    depend on it (CI once drew a network that a local run never saw)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def mixture_prior() -> GaussianMixturePrior:
    """Three well-separated modes in 2-D; a linear reward b = (1, 0) at α = 2 moves
    their weights from (0.5, 0.3, 0.2) to about (0.15, 0.68, 0.17)."""
    return GaussianMixturePrior([0.5, 0.3, 0.2], [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], [0.4, 0.4, 0.4])


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture
def one_thread():
    """Run on one thread: tiny problems are fastest so on a shared CPU (many threads spin)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def float64_problem():
    """A controlled mixture prior in float64 with a non-zero control, 16 starts and a quadratic reward."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.5]], [0.5, 0.5])
    correction = NetworkCorrection(hidden=16)
    sde = ControlledSDE(prior, correction)
    with torch.no_grad():
        correction.network.head.weight.normal_(0, 0.3)  # leave the zero start: gradients then reach every layer
    x0 = prior.sample_initial(16, torch.Generator().manual_seed(0))
    yield sde, correction, x0, QuadraticReward([1.0, 1.0], 0.5)
    torch.set_default_dtype(default)
