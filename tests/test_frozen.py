"""The frozen previous control and the second cost state of ControlledSDE."""

import pytest
import torch

from rewardsde import ControlledSDE, FrozenDrift, LoraCorrection, NetworkCorrection, PretrainedSDE, VPSchedule, solve
from rewardsde.analytic import BrownianPrior
from tests.helpers.tiny_eps import TinyEps


def _train_a_little(correction):
    with torch.no_grad():
        for p in correction.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))


def test_previous_cost_is_the_distance_to_the_frozen_control():
    torch.manual_seed(0)
    sde = ControlledSDE(BrownianPrior(2), NetworkCorrection(hidden=8), previous=True)
    x0 = torch.randn(16, 2)
    _train_a_little(sde.correction)
    before = solve(sde, x0, 10, backend="direct", seed=1)
    torch.testing.assert_close(before.previous_cost, before.running_cost)
    sde.freeze_previous()
    after = solve(sde, x0, 10, backend="direct", seed=1)
    assert torch.equal(after.previous_cost, torch.zeros(16))
    torch.testing.assert_close(after.running_cost, before.running_cost)
    assert not any(p.requires_grad for p in sde.previous.parameters())
    assert solve(ControlledSDE(BrownianPrior(2), NetworkCorrection(hidden=8)), x0, 10, seed=1).previous_cost is None


def test_a_snapshot_keeps_its_keys_and_ignores_later_training():
    sde = ControlledSDE(BrownianPrior(2), NetworkCorrection(hidden=8), previous=True)
    keys = list(sde.state_dict())
    _train_a_little(sde.correction)
    sde.freeze_previous()
    frozen = {k: v.clone() for k, v in sde.previous.state_dict().items()}
    _train_a_little(sde.correction)
    assert list(sde.state_dict()) == keys
    assert all(torch.equal(v, sde.previous.state_dict()[k]) for k, v in frozen.items())
    assert sde.previous.correction.reference is sde.reference


def test_lora_snapshot_copies_the_adapted_network():
    sde = ControlledSDE(PretrainedSDE(TinyEps(), (2,), VPSchedule(0.1, 20.0)), LoraCorrection(["inner", "outer"], rank=2),
                        previous=True)
    _train_a_little(sde.correction.reference.network)
    x, t = torch.randn(4, 2), torch.tensor(0.5)
    assert not torch.allclose(sde.previous(t, x), sde.correction(t, x)[1])
    sde.freeze_previous()
    torch.testing.assert_close(sde.previous(t, x), sde.correction(t, x)[1])
    assert any(k.startswith("previous.reference") for k in sde.state_dict())


def test_unattached_or_untracked_previous_is_refused():
    with pytest.raises(ValueError, match="not attached"):
        FrozenDrift(NetworkCorrection())
    with pytest.raises(ValueError, match="built without previous=True"):
        ControlledSDE(BrownianPrior(2), NetworkCorrection()).freeze_previous()
