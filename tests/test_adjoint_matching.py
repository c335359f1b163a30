"""Adjoint Matching: the lean adjoint of a linear drift, the fixed point at the exact optimal control,
the memoryless check, and named errors."""

import pytest
import torch
from torch import nn

from rewardsde import FineTunedSampler, LearnedInitialLaw, NetworkCorrection, ZeroCorrection, solve
from rewardsde.adjoint_matching import AdjointMatchingObjective, end_sensitivity, lean_adjoint
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward, OptimalMixtureControl
from rewardsde.corrections import DriftCorrection
from rewardsde.solve import trajectory

pytestmark = pytest.mark.core

REWARD = LinearReward([1.0, 0.0])


def _mixture() -> GaussianMixturePrior:
    return GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0], [1.5, 0], [0, 2]], [0.5, 0.5, 0.5])


def test_lean_adjoint_of_a_linear_drift_is_the_discrete_exponential():
    """f(t, x) = λx: ã_k = (1 + hλ)^{N-k}·ã_N exactly, → exp(λ(T - t_k))·ã_N as h → 0."""
    lam, steps = -0.7, 40
    times = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
    path = torch.randn(steps + 1, 3, 2, dtype=torch.float64)
    terminal = torch.randn(3, 2, dtype=torch.float64)
    adjoint = lean_adjoint(lambda t, x: lam * x, times, path, terminal)
    powers = (1 + lam / steps) ** torch.arange(steps, -1, -1, dtype=torch.float64)
    torch.testing.assert_close(adjoint, powers[:, None, None] * terminal, rtol=1e-12, atol=1e-12)
    continuous = torch.exp(lam * (1 - times))[:, None, None] * terminal
    assert (adjoint - continuous).abs().max() < 0.02 * terminal.abs().max()


def test_trajectory_ends_where_the_euler_solve_ends():
    sde = FineTunedSampler(_mixture(), NetworkCorrection(hidden=8), steps=6).controlled
    x0 = torch.randn(5, 2)
    path, cost = trajectory(sde, x0, 6, seed=3)
    end = solve(sde, x0, 6, backend="direct", method="euler", seed=3)
    assert path.shape == (7, 5, 2) and torch.equal(path[0], x0)
    torch.testing.assert_close(path[-1], end.x)
    torch.testing.assert_close(cost, end.running_cost)


class Shifted(DriftCorrection):
    """``a + θ`` for a fixed control ``a`` and a constant shift θ ∈ R² (θ = 0 at start)."""

    def __init__(self, inner: DriftCorrection) -> None:
        super().__init__()
        self.inner = inner
        self.theta = nn.Parameter(torch.zeros(2))

    def attach(self, reference):
        super().attach(reference)
        self.inner.attach(reference)

    def forward(self, t, x):
        drift, control = self.inner(t, x)
        return drift, control + self.theta


def _shift_gradients(inner: DriftCorrection, repeats: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    correction = Shifted(inner)
    objective = AdjointMatchingObjective(FineTunedSampler(_mixture(), correction, steps=50), REWARD, alpha=2.0)
    grads = []
    for seed in range(repeats):
        correction.theta.grad = None
        objective.drift_loss(256, seed=seed).value.backward()
        grads.append(correction.theta.grad.clone())
    grads = torch.stack(grads)
    return grads.mean(0), grads.std(0) / repeats**0.5


def test_exact_optimal_control_is_a_fixed_point_of_the_regression():
    """E[σ(t_k)·ã_{k+1} | x_k] = a*(t_k, x_k) on a memoryless prior, so at the exact optimal control of
    the mixture (OptimalMixtureControl) the loss is stationary in any direction θ; at a = 0 it is not.
    Allowance: 5 standard errors of 10 repeats, plus the O(h) bias of 50 Euler steps, bounded here
    by 10% of the gradient at a = 0 (measured: the bias halves from 25 to 50 steps, as O(h) does)."""
    at_optimum, optimum_se = _shift_gradients(OptimalMixtureControl(REWARD, 2.0))
    at_zero, zero_se = _shift_gradients(ZeroCorrection())
    assert at_zero[0].abs() > 10 * zero_se[0]
    assert (at_optimum.abs() <= 5 * optimum_se + 0.1 * at_zero.abs().max()).all()


def test_end_sensitivity_tells_a_memoryless_prior_from_a_brownian_one():
    assert end_sensitivity(BrownianPrior(2)) == pytest.approx(1.0, abs=1e-5)  # x_T - x'_T = x_0 - x'_0
    assert end_sensitivity(_mixture()) < 0.05  # about √ᾱ(1) of the VP schedule


def test_bad_settings_are_named():
    sampler = FineTunedSampler(_mixture(), NetworkCorrection(hidden=8), steps=4)
    with pytest.raises(ValueError, match="alpha must be positive for Adjoint Matching, got 0"):
        AdjointMatchingObjective(sampler, REWARD, alpha=0.0)
    with pytest.raises(ValueError, match=r"time_samples must lie in \[1, steps=4\]"):
        AdjointMatchingObjective(sampler, REWARD, alpha=1.0, time_samples=5)
    with pytest.raises(ValueError, match="only the 'drift' phase"):
        AdjointMatchingObjective(sampler, REWARD, alpha=1.0)("value", 4, 0)
    with pytest.raises(ValueError, match="is not differentiable in x"):
        AdjointMatchingObjective(sampler, lambda x: (x[:, 0] > 0).float(), alpha=1.0).drift_loss(4, 0)
    law = FineTunedSampler(_mixture(), NetworkCorrection(hidden=8), LearnedInitialLaw((2,)), steps=4)
    with pytest.raises(ValueError, match="without an initial_law"):
        AdjointMatchingObjective(law, REWARD, alpha=1.0)


def test_regression_moves_the_samples_to_the_exact_tilt():
    """A short run from a = 0: the sample mean goes from the prior's (1.0 away from the tilt's
    mean) to within 0.25 of the exact tilt's (4000 samples: 4 standard errors are 0.06, the rest
    is the allowance of a 150-step run on 20 Euler steps, which lands near 0.13)."""
    torch.manual_seed(0)
    prior, correction = _mixture(), NetworkCorrection(hidden=32)
    sampler = FineTunedSampler(prior, correction, steps=20, method="euler")
    objective = AdjointMatchingObjective(sampler, REWARD, alpha=2.0, time_samples=5)
    optimizer = torch.optim.Adam(correction.parameters(), lr=3e-3)
    for step in range(150):
        loss = objective.drift_loss(128, seed=step)
        optimizer.zero_grad()
        loss.value.backward()
        optimizer.step()
    target = prior.tilted(REWARD, 2.0)
    error = (sampler.sample(4000, seed=1).double().mean(0) - target.mean()).norm()
    assert error < 0.25
