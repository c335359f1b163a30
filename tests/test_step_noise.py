"""StepNoise: a Brownian path on the unit grid, reproducible step by step from its seed."""

import math

import pytest
import torch

from rewardsde.step_noise import StepNoise, step_seed

pytestmark = pytest.mark.core


def test_increments_come_back_bit_for_bit_in_any_order():
    noise = StepNoise(6, (3, 2), seed=11)
    forwards = [noise.increment(k) for k in range(6)]
    backwards = [noise.increment(k) for k in reversed(range(6))][::-1]
    again = StepNoise(6, (3, 2), seed=11)
    for a, b, c in zip(forwards, backwards, (again(k, k + 1) for k in range(6))):
        assert torch.equal(a, b) and torch.equal(a, c)
    assert not torch.equal(StepNoise(6, (3, 2), seed=12).increment(0), forwards[0])


def test_longer_intervals_are_sums_of_steps():
    noise = StepNoise(5, (4, 3), seed=2, dtype=torch.float64)
    steps = [noise.increment(k) for k in range(5)]
    torch.testing.assert_close(noise(1, 4), steps[1] + steps[2] + steps[3])
    torch.testing.assert_close(noise(3.0), steps[0] + steps[1] + steps[2])
    assert torch.equal(noise(2, 2), torch.zeros(4, 3, dtype=torch.float64))


def test_increments_are_independent_standard_normals():
    """Mean 0, variance 1, no correlation between neighbouring steps or neighbouring seeds,
    each within 5 standard errors of n = 200,000 draws."""
    n = 200_000
    a, b = StepNoise(2, (n,), seed=0, dtype=torch.float64), StepNoise(2, (n,), seed=1, dtype=torch.float64)
    first, second, other = a.increment(0), a.increment(1), b.increment(0)
    tolerance = 5 / math.sqrt(n)
    assert abs(float(first.mean())) < tolerance
    assert abs(float(first.var()) - 1) < 5 * math.sqrt(2 / n)
    for x, y in ((first, second), (first, other)):
        assert abs(float(torch.corrcoef(torch.stack([x, y]))[0, 1])) < tolerance


def test_step_seeds_do_not_collide_on_a_grid_of_seeds_and_steps():
    seeds = {step_seed(seed, k) for seed in range(200) for k in range(200)}
    assert len(seeds) == 200 * 200
    assert all(0 <= s < 2**63 for s in seeds)


@pytest.mark.parametrize(
    "query, message",
    [((0.5, 1.0), "grid 0, 1, …, 4 only, got time 0.5"), ((0, 5), "got time 5"), ((3, 1), "ta <= tb")],
)
def test_bad_queries_are_named(query, message):
    with pytest.raises(ValueError, match=message):
        StepNoise(4, (2, 2), seed=0)(*query)


def test_levy_areas_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Lévy"):
        StepNoise(4, (2, 2), seed=0)(0, 1, return_U=True)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        StepNoise(0, (2, 2))
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        StepNoise(3, (2, 2), seed=-1)
