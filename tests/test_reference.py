"""The contracts of the reference SDE and the drift correction are enforced at construction."""

import pytest
import torch

from rewardsde import BrownianPrior, DriftCorrection, ReferenceSDE, ZeroCorrection


class DriftOnly(ReferenceSDE):
    def drift(self, t, x):
        return torch.zeros_like(x)


class NoForward(DriftCorrection):
    pass


def test_a_reference_without_diffusion_cannot_be_built():
    with pytest.raises(TypeError, match="diffusion"):
        DriftOnly((2,), 0.0, 1.0)


def test_a_correction_without_forward_cannot_be_built():
    with pytest.raises(TypeError, match="forward"):
        NoForward()


def test_the_brownian_reference_meets_the_contract():
    prior = BrownianPrior(3, c=4.0, initial_std=0.0)
    correction = ZeroCorrection()
    correction.attach(prior)
    x = torch.randn(5, 3)
    drift, control = correction(torch.tensor(0.5), x)
    assert drift.shape == control.shape == x.shape
    assert prior.diffusion(torch.tensor(0.5)).item() == 2.0
    assert torch.equal(prior.sample_initial(4), torch.zeros(4, 3))
