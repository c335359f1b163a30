import pytest
import torch

from rewardsde import ControlledSDE, NetworkCorrection, solve
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, QuadraticReward


def _gradients(sde, correction, x0, reward, backend, method, truncate=None):
    correction.zero_grad()
    end = solve(sde, x0, 30, backend=backend, method=method, truncate=truncate, seed=3)
    (reward(end.x) - 0.5 * end.running_cost).mean().backward()
    return torch.cat([p.grad.flatten() for p in correction.parameters()])


@pytest.fixture
def float64_problem():
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


def test_reversible_heun_adjoint_matches_direct_backprop(float64_problem):
    """The reversible-Heun adjoint rebuilds the forward chain exactly, so in float64 its
    gradients (parameters and start) equal direct backprop to rounding error."""
    sde, correction, x0, reward = float64_problem
    gradients = {}
    for backend in ("direct", "adjoint"):
        start = x0.clone().requires_grad_()
        gradients[backend] = _gradients(sde, correction, start, reward, backend, "reversible_heun"), start.grad
    for adjoint, direct in zip(gradients["adjoint"], gradients["direct"]):
        assert ((adjoint - direct).norm() / direct.norm()) < 1e-9


def test_reversible_heun_adjoint_forward_is_torchsdes_solve(float64_problem):
    sde, _, x0, _ = float64_problem
    ours = solve(sde, x0, 30, backend="adjoint", method="reversible_heun", seed=3)
    torchsdes = solve(sde, x0, 30, backend="direct", method="reversible_heun", seed=3)
    assert torch.equal(ours.x, torchsdes.x)
    assert torch.equal(ours.running_cost, torchsdes.running_cost)


def test_ito_euler_adjoint_is_far_off(float64_problem):
    """The Itô/Euler adjoint is a different discretisation of the backward SDE, so it
    does not reproduce the gradient of the forward Euler chain (about 50% relative
    error at these settings; ``benchmarks/adjoint_error.py`` prints the figures)."""
    sde, correction, x0, reward = float64_problem
    direct = _gradients(sde, correction, x0, reward, "direct", "euler")
    adjoint = _gradients(sde, correction, x0, reward, "adjoint", "euler")
    assert ((adjoint - direct).norm() / direct.norm()) > 0.1


def test_truncating_at_all_steps_is_direct_backprop(float64_problem):
    sde, correction, x0, reward = float64_problem
    direct = _gradients(sde, correction, x0, reward, "direct", "euler")
    truncated = _gradients(sde, correction, x0, reward, "truncated", "euler", truncate=30)
    assert torch.allclose(truncated, direct)


def test_truncation_drops_the_early_steps(float64_problem):
    sde, correction, x0, reward = float64_problem
    direct = _gradients(sde, correction, x0, reward, "direct", "euler")
    truncated = _gradients(sde, correction, x0, reward, "truncated", "euler", truncate=3)
    assert not torch.allclose(truncated, direct)


@pytest.mark.parametrize("backend", ["adjoint", "direct", "truncated"])
def test_back_ends_agree_on_the_forward_values(backend):
    prior = BrownianPrior(2)
    sde = ControlledSDE(prior, NetworkCorrection(hidden=8))
    x0 = prior.sample_initial(5, torch.Generator().manual_seed(1))
    reference = solve(sde, x0, 12, backend="direct", seed=7)
    end = solve(sde, x0, 12, backend=backend, truncate=4, seed=7)
    assert torch.allclose(end.x, reference.x, atol=1e-6)
    assert torch.allclose(end.running_cost, reference.running_cost, atol=1e-6)


def test_brownian_prior_without_control_has_the_exact_terminal_variance():
    prior = BrownianPrior(1, c=2.0)
    sde = ControlledSDE(prior, NetworkCorrection(hidden=8))
    n = 20000
    end = solve(sde, prior.sample_initial(n, torch.Generator().manual_seed(0)), 10, backend="direct", seed=1)
    assert end.x.var().item() == pytest.approx(3.0, abs=4 * 3.0 * (2 / n) ** 0.5)
    assert torch.count_nonzero(end.running_cost) == 0


def test_checkpointed_direct_gradients_equal_plain_direct(float64_problem):
    sde, correction, x0, reward = float64_problem
    plain = _gradients(sde, correction, x0, reward, "direct", "midpoint")
    sde.checkpoint = True
    checkpointed = _gradients(sde, correction, x0, reward, "direct", "midpoint")
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


def test_reversible_heun_adjoint_calls_the_drift_once_per_backward_step(float64_problem):
    sde, correction, x0, reward = float64_problem
    end = solve(sde, x0, 30, backend="adjoint", method="reversible_heun", seed=3)
    calls = []
    correction.register_forward_hook(lambda *_: calls.append(1))
    (reward(end.x) - 0.5 * end.running_cost).mean().backward()
    assert len(calls) == 30 + 1
