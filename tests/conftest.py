"""Shared fixtures: small problems with known answers."""

import pytest
import torch

from rewardsde.analytic import GaussianMixturePrior


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
