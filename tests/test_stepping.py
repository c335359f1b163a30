"""The plain fixed-step loop is torchsde's solvers, operation for operation, on the same Brownian path."""

import pytest
import torch
import torchsde

from rewardsde import ControlledSDE, NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior
from rewardsde.solve import _UnitSteps
from rewardsde.step_noise import StepNoise
from rewardsde.stepping import LOOP_METHODS, integrate

pytestmark = pytest.mark.core


def _problem(dtype: torch.dtype, method: str, steps: int) -> tuple[_UnitSteps, torch.Tensor]:
    """A VP mixture prior (time-dependent drift and σ) with a random, non-zero network control."""
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.5]], [0.5, 0.5]).to(dtype)
    sde = ControlledSDE(prior, NetworkCorrection(hidden=16).to(dtype))
    x0 = prior.sample_initial(32).to(dtype)
    return _UnitSteps(sde, steps, method), torch.cat([x0, x0.new_zeros(32, 1)], dim=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", LOOP_METHODS)
def test_the_loop_equals_torchsdes_solve_on_the_same_path(method, dtype):
    """Gradient-free sampling bypasses ``torchsde.sdeint``; the samples must be torchsde's to 1e-6."""
    stepped, y0 = _problem(dtype, method, steps=25)
    noise = StepNoise(25, tuple(y0.shape), seed=4, dtype=dtype)
    grid = torch.arange(26, dtype=dtype)
    with torch.no_grad():
        theirs = torchsde.sdeint(stepped, y0, grid, bm=noise, method=method, dt=1.0)
        ours = integrate(stepped, y0, 25, method, noise, keep_path=True)
    assert ours.shape == theirs.shape == (26, 32, 3)
    assert (ours[-1] - ours[0]).abs().max() > 0.1  # the paths move
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6 if dtype == torch.float32 else 1e-12)


def test_graph_from_cuts_the_graph_before_that_step():
    stepped, y0 = _problem(torch.float64, "euler", steps=10)
    start = y0.clone().requires_grad_()
    noise = StepNoise(10, tuple(y0.shape), seed=1, dtype=torch.float64)
    integrate(stepped, start, 10, "euler", noise, graph_from=3).sum().backward()
    assert start.grad is None
    assert all(p.grad is not None for p in stepped.parameters())


def test_an_unknown_method_is_named():
    stepped, y0 = _problem(torch.float32, "euler", steps=4)
    with pytest.raises(ValueError, match="'srk'"):
        integrate(stepped, y0, 4, "srk", StepNoise(4, tuple(y0.shape), seed=0))
