"""DenoisingLoss: exact zeros for the exact denoiser of a point mass, and the min-SNR weight;
CrossEntropyDenoisingLoss: exact log scores and the marginal as its minimiser at pure noise."""

import math

import pytest
import torch

from rewardsde import CrossEntropyDenoisingLoss, DenoisingLoss, VPSchedule

pytestmark = pytest.mark.core

POINT = torch.tensor([[0.7, -1.2, 0.3]], dtype=torch.float64)


def _loss(**kwargs) -> DenoisingLoss:
    return DenoisingLoss(VPSchedule(0.1, 20.0), **kwargs)


@pytest.mark.parametrize("gamma", [None, 5.0])
def test_exact_denoiser_of_a_point_mass_has_zero_loss_in_both_parameterisations(gamma):
    """For data at one point c, x̂_0 = c and ε̂ = (x_s - √ᾱ·c)/σ are exact."""
    loss = _loss(min_snr_gamma=gamma)
    x0 = POINT.expand(64, 3)
    schedule = loss.schedule

    def exact_eps(x, s):
        return (x - schedule.alpha_bar(s).sqrt()[:, None] * POINT) / schedule.sigma(s)[:, None]

    generator = torch.Generator().manual_seed(0)
    assert loss(exact_eps, x0, generator) == pytest.approx(0.0, abs=1e-20)
    x0_loss = _loss(min_snr_gamma=gamma, prediction="x0")
    assert x0_loss(lambda x, s: POINT.expand_as(x), x0, generator) == pytest.approx(0.0, abs=1e-20)
    assert x0_loss(lambda x, s: POINT.expand_as(x) + 0.1, x0, generator) > 0


def test_x0_prediction_loss_is_min_snr_times_the_data_space_error():
    """‖ε̂ - ε‖² = SNR·‖x̂_0 - x_0‖², so min-SNR weighting gives min(SNR, γ)·‖x̂_0 - x_0‖²."""
    loss = _loss(min_snr_gamma=5.0, prediction="x0", s_min=0.5)
    x0 = torch.zeros(2000, 1, dtype=torch.float64)
    offset = 0.3  # the network's x̂_0 is off by 0.3 everywhere
    value = loss(lambda x, s: torch.full_like(x, offset), x0, torch.Generator().manual_seed(1))
    s = torch.linspace(0.5, 1.0, 10001, dtype=torch.float64)
    snr = loss.schedule.alpha_bar(s) / loss.schedule.sigma(s).square()
    exact = (snr.clamp(max=5.0) * offset**2).mean()  # E over s ~ U(0.5, 1) by a fine grid
    # Monte Carlo over 2000 draws of s: the weighted error is bounded by 5·0.09, so 5 standard errors < 0.05.
    assert value.item() == pytest.approx(exact.item(), abs=5 * 5 * offset**2 / 2000**0.5)


def test_min_snr_weight_is_one_at_high_noise_and_gamma_over_snr_at_low_noise():
    loss = _loss(min_snr_gamma=5.0)
    s = torch.tensor([0.001, 0.05, 0.3, 0.9])
    snr = loss.schedule.alpha_bar(s) / loss.schedule.sigma(s).square()
    assert torch.allclose(loss.weight(s), torch.where(snr > 5.0, 5.0 / snr, torch.ones_like(snr)))
    assert loss.weight(s)[0] < 0.01 and loss.weight(s)[-1] == 1.0
    assert torch.equal(_loss().weight(s), torch.ones(4))


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_snr_gamma=0.0), "min_snr_gamma must be positive or None, got 0.0"),
    (dict(s_min=0.0), r"s_min must lie in \(0, 1\), got 0.0"),
    (dict(prediction="v"), "prediction must be one of"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _loss(**kwargs)


def test_wrong_output_shape_is_named():
    with pytest.raises(ValueError, match=r"returned shape \(4, 1\) for data of shape \(4, 3\)"):
        _loss()(lambda x, s: x[:, :1], torch.zeros(4, 3))


def _ce() -> CrossEntropyDenoisingLoss:
    return CrossEntropyDenoisingLoss(VPSchedule(0.1, 20.0))


@pytest.mark.parametrize("margin", [0.0, 2.0, 7.5])
def test_cross_entropy_of_logits_with_a_margin_on_the_true_token_is_exact(margin):
    """Logits ``c`` on the data's token and 0 on the K - 1 others, whatever x_s and s:
    -log softmax = log(1 + (K - 1)·e^{-c}) at every position (log K for c = 0)."""
    tokens = torch.tensor([[0, 3, 1, 1, 4], [2, 2, 0, 4, 3]])
    x0 = 2.0 * torch.nn.functional.one_hot(tokens, 5).transpose(1, 2).double() - 1.0
    logits = (x0 + 1.0) / 2.0 * margin
    value = _ce()(lambda x, s: logits, x0, torch.Generator().manual_seed(0))
    assert value.item() == pytest.approx(math.log(1.0 + 4.0 * math.exp(-margin)), rel=1e-12)


def test_cross_entropy_is_minimised_by_the_data_frequencies_at_pure_noise():
    """Where the network ignores x_s (constant logits), the minimiser of the expected log score is the
    marginal of the tokens: 3:1 data give softmax = (3/4, 1/4), logits differing by log 3."""
    x0 = torch.tensor([[1.0, -1.0], [1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]).double()[:, :, None]
    loss = _ce()

    def at(gap: float) -> float:
        logits = torch.tensor([gap, 0.0], dtype=torch.float64)[None, :, None]
        return loss(lambda x, s: logits.expand(x.shape[0], 2, 1), x0).item()

    best = math.log(3.0)
    assert at(best) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), rel=1e-12)
    assert at(best) < min(at(best - 0.05), at(best + 0.05))


def test_cross_entropy_needs_one_hot_sequences_and_logits_of_their_shape():
    with pytest.raises(ValueError, match=r"shape \(batch, num_states >= 2, length\), got \(4, 3\)"):
        _ce()(lambda x, s: x, torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"returned shape \(4, 1, 2\) for data of shape \(4, 3, 2\)"):
        _ce()(lambda x, s: x[:, :1], torch.zeros(4, 3, 2))
    with pytest.raises(ValueError, match=r"s_min must lie in \(0, 1\), got 1.5"):
        CrossEntropyDenoisingLoss(VPSchedule(), s_min=1.5)


def test_min_snr_weighted_cross_entropy_weighs_each_sample_by_min_snr_gamma():
    """With a margin c on the true token the log score is log(1 + (K - 1)·e^{-c}) for every sample, so the
    loss is that times the mean of min(SNR(s_i), γ) over the times s_i it drew (the first draws of its generator)."""
    loss = CrossEntropyDenoisingLoss(VPSchedule(0.1, 20.0), s_min=0.01, min_snr_gamma=2.0)
    x0 = 2.0 * torch.nn.functional.one_hot(torch.randint(0, 3, (256, 4)), 3).transpose(1, 2).double() - 1.0
    value = loss(lambda x, s: (x0 + 1.0) * 1.5, x0, torch.Generator().manual_seed(3))
    s = 0.01 + 0.99 * torch.rand(256, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    snr = loss.schedule.alpha_bar(s) / loss.schedule.sigma(s).square()
    assert torch.equal(loss.weight(s), snr.clamp(max=2.0)) and (snr > 2.0).any() and (snr < 2.0).any()
    per_sample = math.log(1.0 + 2.0 * math.exp(-3.0))
    assert value.item() == pytest.approx(per_sample * snr.clamp(max=2.0).mean().item(), rel=1e-12)
