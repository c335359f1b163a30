"""The simplex projection: points of the coded simplex, the one-hot codes as its sharp limit, and gradients."""

import math

import pytest
import torch

from rewardsde.domains import SimplexProjection, decode, one_hot


def test_each_position_is_a_point_of_the_coded_simplex_with_the_same_argmax(generator):
    x = 2 * torch.randn(3, 5, 7, generator=generator)
    for straight_through in (False, True):
        out = SimplexProjection(2.0, straight_through)(x)
        torch.testing.assert_close(out.sum(1), torch.full((3, 7), 2.0 - 5))
        assert out.min() >= -1 and out.max() <= 1
        assert torch.equal(decode(out), decode(x))


def test_one_hot_codes_are_fixed_points_in_the_sharp_limit(generator):
    """On a ±1 code, each wrong state keeps probability e^{-2τ}/(1 + (V-1)e^{-2τ}): the code
    itself up to that, and exactly with the straight-through forward."""
    x = one_hot(torch.randint(5, (3, 7), generator=generator), 5)
    for tau in (1.0, 4.0, 20.0):
        wrong = math.exp(-2 * tau) / (1 + 4 * math.exp(-2 * tau))
        torch.testing.assert_close(SimplexProjection(tau)(x), x + 2 * wrong * (torch.where(x > 0, -4.0, 1.0)))
    torch.testing.assert_close(SimplexProjection(20.0)(x), x, rtol=0, atol=1e-12)
    assert torch.equal(SimplexProjection(0.5, straight_through=True)(x), x)


def test_both_have_the_soft_gradient(generator):
    x = torch.randn(2, 4, 6, generator=generator, requires_grad=True)
    weights = torch.randn(2, 4, 6, generator=generator)
    grads = []
    for straight_through in (False, True):
        (gradient,) = torch.autograd.grad((SimplexProjection(3.0, straight_through)(x) * weights).sum(), x)
        grads.append(gradient)
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[1], grads[0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="temperature must be positive and finite, got 0.0"):
        SimplexProjection(0.0)
    with pytest.raises(ValueError, match=r"expected sequences of shape \(batch, num_states, length\), got \(4, 6\)"):
        SimplexProjection()(torch.zeros(4, 6))
