import torch

from rewardsde.analytic import GaussianMixture, sliced_wasserstein, target_distance


def _standard_normal(dim=2):
    return GaussianMixture(torch.ones(1), torch.zeros(1, dim), torch.eye(dim)[None])


def test_sliced_wasserstein_of_a_shift_is_its_projected_length():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(5000, 2, generator=generator, dtype=torch.float64)
    b = a + torch.tensor([3.0, 0.0], dtype=torch.float64)
    # Projected shifts 3·θ₁ with θ uniform on the circle: root mean square 3/√2.
    assert abs(sliced_wasserstein(a, b, projections=2000) - 3 / 2**0.5) < 0.05


def test_exact_samples_sit_at_the_noise_floor_and_shifted_ones_do_not():
    target = _standard_normal()
    exact = target.sample(4000, torch.Generator().manual_seed(5))
    near = target_distance(exact, target)
    far = target_distance(exact + 0.5, target)
    assert near.sliced_wasserstein < 2 * near.sliced_wasserstein_floor
    assert far.sliced_wasserstein > 5 * far.sliced_wasserstein_floor
    assert far.mean_error > 10 * far.mean_error_floor
