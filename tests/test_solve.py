import pytest
import torch

from rewardsde import ControlledSDE, DriftCorrection, NetworkCorrection, solve
from rewardsde.analytic import BrownianPrior
from rewardsde.step_noise import StepNoise
from tests.helpers.solving import objective_gradients

pytestmark = pytest.mark.core


def test_truncating_at_all_steps_is_direct_backprop(float64_problem):
    sde, correction, x0, reward = float64_problem
    direct = objective_gradients(sde, correction, x0, reward, "direct", "euler")
    truncated = objective_gradients(sde, correction, x0, reward, "truncated", "euler", truncate=30)
    assert torch.allclose(truncated, direct)


def _euler_by_hand(sde, x0, steps, seed, keep):
    """The Itô-Euler chain of ``solve`` written out: ``y_{k+1} = y_k + h·F(t_k, y_k) + √h·G(t_k)·ΔW_k``,
    with the seed's unit increments (``StepNoise``), and the graph cut (``detach``) at step ``steps - keep``."""
    reference = sde.reference
    h = (reference.t1 - reference.t0) / steps
    y = torch.cat([x0.flatten(1), x0.new_zeros(x0.shape[0], sde.cost_states)], dim=1)
    brownian = StepNoise(steps, tuple(y.shape), seed, y.dtype)
    for k in range(steps):
        if k == steps - keep:
            y = y.detach()
        t = torch.tensor(reference.t0 + h * k, dtype=y.dtype)
        y = y + h * sde.f(t, y) + h**0.5 * sde.g(t, y) * brownian(float(k), float(k + 1))
    return y[:, : reference.event_size], y[:, reference.event_size]


@pytest.mark.parametrize("keep", [1, 3, 30])
def test_truncated_gradients_are_backprop_through_the_last_steps_only(float64_problem, keep):
    """DRaFT-K: the gradient of ``truncated`` is exact backprop through the last ``K`` steps of
    the same chain, with the state at step ``N - K`` taken as a constant."""
    sde, correction, x0, reward = float64_problem
    truncated = objective_gradients(sde, correction, x0, reward, "truncated", "euler", truncate=keep)
    correction.zero_grad()
    x, cost = _euler_by_hand(sde, x0, 30, seed=3, keep=keep)
    (reward(x) - 0.5 * cost).mean().backward()
    by_hand = torch.cat([p.grad.flatten() for p in correction.parameters()])
    torch.testing.assert_close(truncated, by_hand, rtol=1e-9, atol=1e-12)


def test_truncated_gradients_do_not_reach_the_start(float64_problem):
    sde, _, x0, reward = float64_problem
    start = x0.clone().requires_grad_()
    end = solve(sde, start, 30, backend="truncated", method="euler", truncate=29, seed=3)
    (reward(end.x) - 0.5 * end.running_cost).mean().backward()
    assert start.grad is None


@pytest.mark.parametrize(
    "backend, method",
    [
        (backend, method)
        for backend in ("adjoint", "direct", "truncated")
        for method in ("reversible_heun", "euler", "midpoint")
    ],
)
def test_back_ends_agree_on_the_forward_values(float64_problem, backend, method):
    """The back ends differ only in how they differentiate: for one seed, a non-zero control
    gives the same ends and running costs, to rounding error."""
    sde, _, x0, _ = float64_problem
    reference = solve(sde, x0, 12, backend="direct", method=method, seed=7)
    end = solve(sde, x0, 12, backend=backend, method=method, truncate=4, seed=7)
    assert reference.running_cost.min() > 0
    torch.testing.assert_close(end.x, reference.x, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(end.running_cost, reference.running_cost, rtol=1e-10, atol=1e-12)


class _AffineControl(DriftCorrection):
    """``a(t, x) = k·x + m``: on a Brownian reference the controlled SDE is Ornstein–Uhlenbeck."""

    def __init__(self, k: float, m: float):
        super().__init__()
        self.k, self.m = k, m

    def forward(self, t, x):
        return self.reference.drift(t, x), self.k * x + self.m


def _euler_moments(c, s, k, m, steps):
    """Exact moments of the Euler chain of ``dx = √c(kx + m)dt + √c dW``, ``x_0 ~ N(0, s²)``:
    ``x_{j+1} = (1 + √c·k·h)x_j + √c·m·h + √(ch)·ξ_j`` is Gaussian with
    ``μ_{j+1} = (1 + √c·k·h)μ_j + √c·m·h`` and ``V_{j+1} = (1 + √c·k·h)²V_j + ch``, and the
    Itô-Euler running cost ``Σ_j h·½(kx_j + m)²`` has mean ``Σ_j h·½(k²(V_j + μ_j²) + 2kmμ_j + m²)``."""
    h, mean, variance, cost = 1.0 / steps, 0.0, s * s, 0.0
    rate = 1 + c**0.5 * k * h
    for _ in range(steps):
        cost += h * 0.5 * (k * k * (variance + mean * mean) + 2 * k * m * mean + m * m)
        mean, variance = rate * mean + c**0.5 * m * h, rate * rate * variance + c * h
    return mean, variance, cost


@pytest.mark.parametrize("k, m", [(0.0, 0.0), (0.0, 1.5), (-2.0, 0.5), (1.0, -1.0)])
def test_affine_control_of_brownian_motion_has_the_exact_moments(k, m):
    """Ornstein–Uhlenbeck (and Brownian motion with constant drift, ``k = 0``) from
    ``N(0, s²)``: the sample mean, variance and mean running cost of the Euler solve equal
    the chain's exact moments within 5 standard errors. The chain is Gaussian, so the
    standard errors are ``√(V/n)`` for the mean and ``V·√(2/(n-1))`` for the variance; that
    of the running cost is its sample std over ``√n``. Each of the 2 coordinates is an
    independent path, so ``n = 2 × 10000``."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        c, s, steps, batch = 2.0, 0.5, 20, 10000
        prior = BrownianPrior(2, c=c, initial_std=s)
        sde = ControlledSDE(prior, _AffineControl(k, m))
        with torch.no_grad():
            end = solve(sde, prior.sample_initial(batch, torch.Generator().manual_seed(0)), steps,
                        backend="direct", method="euler", seed=1)
    finally:
        torch.set_default_dtype(default)
    mean, variance, cost = _euler_moments(c, s, k, m, steps)
    x, n = end.x.flatten(), end.x.numel()
    assert abs(x.mean().item() - mean) < 5 * (variance / n) ** 0.5
    assert abs(x.var().item() - variance) < 5 * variance * (2 / (n - 1)) ** 0.5
    # the cost sums both coordinates: its expectation is twice the one-dimensional one
    cost_error = 5 * end.running_cost.std().item() / batch**0.5 + 1e-12
    assert abs(end.running_cost.mean().item() - 2 * cost) <= cost_error


def test_checkpointed_direct_gradients_equal_plain_direct(float64_problem):
    sde, correction, x0, reward = float64_problem
    plain = objective_gradients(sde, correction, x0, reward, "direct", "midpoint")
    sde.checkpoint = True
    checkpointed = objective_gradients(sde, correction, x0, reward, "direct", "midpoint")
    sde.checkpoint = False
    assert torch.allclose(plain, checkpointed)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backend": "reverse"}, "unknown backend 'reverse'"),
        ({"method": "rk4"}, "unknown solver method 'rk4'"),
        ({"method": "euler", "adjoint_method": "rk4"}, "unknown adjoint_method 'rk4'"),
        ({"backend": "truncated"}, "needs 1 <= truncate <= steps"),
        ({"backend": "truncated", "truncate": 11}, "needs 1 <= truncate <= steps"),
    ],
)
def test_bad_solver_arguments_are_named(kwargs, message):
    prior = BrownianPrior(2)
    sde = ControlledSDE(prior, NetworkCorrection(hidden=8))
    with pytest.raises(ValueError, match=message):
        solve(sde, prior.sample_initial(3), 10, **kwargs)


def test_wrong_start_shape_is_named():
    prior = BrownianPrior(2)
    sde = ControlledSDE(prior, NetworkCorrection(hidden=8))
    with pytest.raises(ValueError, match=r"x0 must have shape \(batch, \*\(2,\)\), got \(3, 4\)"):
        solve(sde, torch.zeros(3, 4), 10)
