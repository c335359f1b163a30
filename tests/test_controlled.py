"""ControlledSDE: the reference drift plus σ·a, with the running costs as extra states."""

import pytest
import torch

from rewardsde import ControlledSDE, NetworkCorrection
from rewardsde.analytic import BrownianPrior

pytestmark = pytest.mark.core


def test_controlled_sde_stacks_drift_control_and_running_cost():
    prior = BrownianPrior(2, c=4.0)
    correction = NetworkCorrection(hidden=8)
    sde = ControlledSDE(prior, correction)
    with torch.no_grad():
        correction.network.head.bias.copy_(torch.tensor([1.0, -2.0]))
    y = torch.zeros(3, 3)
    f = sde.f(torch.tensor(0.5), y)
    assert torch.allclose(f[:, :2], torch.tensor([2.0, -4.0]).expand(3, 2))  # σ·a with σ = 2
    assert torch.allclose(f[:, 2], torch.full((3,), 2.5))  # ½‖a‖²
    g = sde.g(torch.tensor(0.5), y)
    assert torch.equal(g, torch.tensor([2.0, 2.0, 0.0]).expand(3, 3))


def test_previous_cost_state_is_half_the_squared_gap_to_the_frozen_control():
    prior = BrownianPrior(2)
    correction = NetworkCorrection(hidden=8)
    sde = ControlledSDE(prior, correction, previous=True)
    sde.freeze_previous()  # a_prev = 0
    with torch.no_grad():
        correction.network.head.bias.copy_(torch.tensor([3.0, 4.0]))
    f = sde.f(torch.tensor(0.5), torch.zeros(2, 4))
    torch.testing.assert_close(f[:, 2:], torch.full((2, 2), 12.5))  # ½‖a‖² = ½‖a - a_prev‖² = 12.5
    sde.freeze_previous()
    torch.testing.assert_close(sde.f(torch.tensor(0.5), torch.zeros(2, 4))[:, 3], torch.zeros(2))
    assert torch.equal(sde.g(torch.tensor(0.5), torch.zeros(2, 4))[:, 2:], torch.zeros(2, 2))


def test_freezing_without_a_previous_control_is_named():
    with pytest.raises(ValueError, match="without previous=True"):
        ControlledSDE(BrownianPrior(2), NetworkCorrection(hidden=8)).freeze_previous()
