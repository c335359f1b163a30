"""Gradients of a reward-minus-cost objective through a solve, for comparing back ends."""

import torch

from rewardsde import solve


def objective_gradients(sde, correction, x0, reward, backend, method, truncate=None):
    """The gradient of ``mean(r(x_T) - ½∫½‖a‖²)`` over ``correction``'s parameters (30 steps, seed 3)."""
    correction.zero_grad()
    end = solve(sde, x0, 30, backend=backend, method=method, truncate=truncate, seed=3)
    (reward(end.x) - 0.5 * end.running_cost).mean().backward()
    return torch.cat([p.grad.flatten() for p in correction.parameters()])
