"""The exact reversible-Heun adjoint: direct backprop's gradients at one drift call per backward step."""

import pytest
import torch
import torchsde

from rewardsde import solve
from rewardsde.solve import _UnitSteps
from rewardsde.step_noise import StepNoise
from tests.helpers.solving import objective_gradients

pytestmark = pytest.mark.core


def test_reversible_heun_adjoint_matches_direct_backprop(float64_problem):
    """The reversible-Heun adjoint rebuilds the forward chain exactly, so in float64 its
    gradients (parameters and start) equal direct backprop to rounding error."""
    sde, correction, x0, reward = float64_problem
    gradients = {}
    for backend in ("direct", "adjoint"):
        start = x0.clone().requires_grad_()
        gradients[backend] = objective_gradients(sde, correction, start, reward, backend, "reversible_heun"), start.grad
    for adjoint, direct in zip(gradients["adjoint"], gradients["direct"]):
        assert ((adjoint - direct).norm() / direct.norm()) < 1e-9


def test_reversible_heun_adjoint_forward_is_torchsdes_solve(float64_problem):
    sde, _, x0, _ = float64_problem
    ours = solve(sde, x0, 30, backend="adjoint", method="reversible_heun", seed=3)
    y0 = torch.cat([x0, x0.new_zeros(x0.shape[0], 1)], dim=1)
    noise = StepNoise(30, tuple(y0.shape), seed=3, dtype=y0.dtype)
    grid = torch.tensor([0.0, 30.0], dtype=y0.dtype)
    torchsdes = torchsde.sdeint(_UnitSteps(sde, 30, "reversible_heun"), y0, grid, bm=noise,
                                method="reversible_heun", dt=1.0)[-1]
    assert torch.equal(ours.x, torchsdes[:, :2])
    assert torch.equal(ours.running_cost, torchsdes[:, 2])


def test_reversible_heun_adjoint_calls_the_drift_once_per_backward_step(float64_problem):
    sde, correction, x0, reward = float64_problem
    end = solve(sde, x0, 30, backend="adjoint", method="reversible_heun", seed=3)
    calls = []
    correction.register_forward_hook(lambda *_: calls.append(1))
    (reward(end.x) - 0.5 * end.running_cost).mean().backward()
    assert len(calls) == 30 + 1
