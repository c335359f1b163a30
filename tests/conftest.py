"""Shared fixtures: small problems with known answers."""

import pytest
import torch

from rewardsde import ControlledSDE, NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, QuadraticReward


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
