"""TiltedDenoisingObjective: exact weights, and a fit that reaches the tilted Gaussian with its analytic KL."""

import math

import pytest
import torch
from torch import nn

from rewardsde import (DenoiserCorrection, FineTunedSampler, LearnedInitialLaw, NetworkCorrection, PretrainedSDE,
                       TiltedDenoisingObjective)
from rewardsde.analytic import LinearReward

pytestmark = pytest.mark.core

B, ALPHA = [0.5, -0.25], 1.0  # r(x) = b·x; p_pre = N(0, I), so p* = N(b/α, I)


class GaussianEps(nn.Module):
    """The exact ε of data N(m, I) under a VP schedule (ᾱ + σ² = 1): ε = σ·(x - √ᾱ·m)."""

    def __init__(self, dim, schedule):
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(dim, dtype=torch.float64))
        self.schedule = schedule

    def forward(self, x, s):
        root, sigma = self.schedule.alpha_bar(s).sqrt()[:, None], self.schedule.sigma(s)[:, None]
        return sigma * (x - root * self.mean)


def _objective(pool=4096, correction=None, law=None):
    from rewardsde import VPSchedule

    schedule = VPSchedule()
    reference = PretrainedSDE(GaussianEps(2, schedule), (2,), schedule, s_min=1e-3).double()
    sampler = FineTunedSampler(reference, correction or DenoiserCorrection(), law, steps=40, backend="direct",
                               method="midpoint")
    return TiltedDenoisingObjective(sampler, LinearReward(B).double(), ALPHA, pool=pool, pool_seed=3,
                                    min_snr_gamma=None, chunk=1024)


def test_the_weights_reweight_the_pool_to_the_tilted_mean():
    objective = _objective()
    w = objective.weights()
    assert w.sum().item() == pytest.approx(1.0, abs=1e-12)
    ess = 1.0 / w.pow(2).sum().item()
    # For p_pre = N(0, I) and r = b·x the ESS fraction tends to exp(-‖b‖²/α²).
    assert ess / 4096 == pytest.approx(math.exp(-(0.25 + 0.0625)), abs=0.05)
    mean = (w[:, None] * objective.samples).sum(0)
    # Self-normalised mean: standard error about 1/√ESS per coordinate; 5 of them.
    torch.testing.assert_close(mean, torch.tensor(B, dtype=torch.float64) / ALPHA, atol=5 / ess**0.5, rtol=0)


def test_fitting_the_copy_reaches_the_tilted_law_at_its_analytic_kl():
    torch.manual_seed(0)
    objective = _objective()
    network = objective.network
    optimiser = torch.optim.Adam(network.parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, 300)
    for step in range(300):
        optimiser.zero_grad()
        objective.drift_loss(4096, seed=step).value.backward()
        optimiser.step()
        schedule.step()
    w = objective.weights()
    pool_mean = (w[:, None] * objective.samples).sum(0)
    # The ε-loss in this family is minimised exactly at the weighted mean of the pool. It is flat
    # there (curvature E[ᾱσ²] ≈ 0.08), so SGD leaves about 0.01 of noise: 0.025 allows it, while
    # the bias of drawing the pool index and the noise from one seed (a bug this test caught) was about 0.02.
    torch.testing.assert_close(network.mean.detach(), pool_mean, atol=0.025, rtol=0)
    rollout = objective.sampler.rollout(4000, seed=11)
    target = torch.tensor(B, dtype=torch.float64) / ALPHA
    ess = 1.0 / w.pow(2).sum().item()
    tolerance = 5 / ess**0.5 + 0.025 + 5 / 4000**0.5  # pool error + fit + the rollout's own standard error
    torch.testing.assert_close(rollout.x.mean(0), target, atol=tolerance, rtol=0)
    # KL(N(μ, I) ‖ N(0, I)) = ½‖μ‖²: the Girsanov cost of the fitted copy, with no initial law.
    kl = rollout.kl
    exact = 0.5 * (network.mean.detach() ** 2).sum().item()
    # (The control is constant in x here, so the estimate has no spread; 1e-3 covers the solver's error.)
    assert kl.mean().item() == pytest.approx(exact, abs=5 * kl.std().item() / 4000**0.5 + 1e-3)


def test_rounds_chain_the_previous_target_and_a_fixed_reward_converges_to_its_alpha_tilt():
    # φ_i = (r_i + β·φ_{i-1})/(α+β): round 0 tilts by r/(α+β); a constant reward's fixed point is r/α
    objective = _objective(pool=64)
    objective.beta, alpha = 3.0, ALPHA
    objective.draw_pool()
    r0 = objective.rewards.clone()
    torch.testing.assert_close(objective.weights(), torch.softmax(r0 / (alpha + 3.0), 0))
    objective.freeze_previous()
    objective.reward = LinearReward([-0.5, 1.0]).double()
    objective.rescore()
    r1 = objective.rewards
    expected = torch.softmax((r1 + 3.0 * r0 / (alpha + 3.0)) / (alpha + 3.0), 0)
    torch.testing.assert_close(objective.weights(), expected, rtol=1e-12, atol=1e-15)
    for _ in range(200):
        objective.freeze_previous()
    torch.testing.assert_close(objective.weights(), torch.softmax(r1 / alpha, 0), rtol=1e-9, atol=1e-12)


def test_without_beta_freezing_changes_nothing():
    objective = _objective(pool=64)
    before = objective.weights()
    objective.freeze_previous()
    assert torch.equal(objective.weights(), before) and objective.previous is None


def _refreshed(b0, b1, fraction):
    """Round 0 tilted by r0 = b0·x with the copy exactly at its target N(b0/α, I); then a refresh of
    ``fraction`` of the pool and round 1's reward r1 = b1·x, whose target is N(b1/α, I)."""
    objective = _objective()
    objective.refresh = fraction
    objective.freeze_previous()  # round 0: nothing drawn yet, nothing to refresh
    assert objective.samples is None
    objective.reward = LinearReward(b0.tolist()).double()
    objective.rescore()
    with torch.no_grad():
        objective.network.mean.copy_(b0 / ALPHA)
    pretrained_pool = objective.samples.clone()
    objective.freeze_previous()
    fresh = round(fraction * 4096)
    assert torch.equal(objective.samples[: 4096 - fresh], pretrained_pool[: 4096 - fresh])
    # The redrawn part is the copy's: mean b0/α within 5 standard errors.
    torch.testing.assert_close(objective.samples[4096 - fresh:].mean(0), b0 / ALPHA, atol=5 / fresh**0.5 + 1e-3, rtol=0)
    objective.reward = LinearReward(b1.tolist()).double()
    objective.rescore()
    w = objective.weights()
    return w, 1.0 / w.pow(2).sum().item(), (w[:, None] * objective.samples).sum(0)


B0 = torch.tensor([1.75, -0.75], dtype=torch.float64)


def test_a_pool_redrawn_from_the_copy_keeps_the_target_and_more_of_its_size_when_the_reward_moves_a_little():
    # A pretrained pool keeps exp(-‖b1‖²/α²) of its size for N(b1/α, I); the copy's own pool, weighted
    # by exp((r1 - r0)/α), keeps exp(-‖b1 - b0‖²/α²).
    b1 = torch.tensor([2.0, -1.0], dtype=torch.float64)
    w, ess, mean = _refreshed(B0, b1, 1.0)
    assert ess / 4096 == pytest.approx(math.exp(-((b1 - B0) ** 2).sum().item() / ALPHA**2), abs=0.05)
    assert ess / 4096 > 100 * math.exp(-(b1**2).sum().item() / ALPHA**2)
    torch.testing.assert_close(mean, b1 / ALPHA, atol=5 / ess**0.5, rtol=0)


def test_a_half_refreshed_pool_keeps_the_target_when_the_reward_turns_away_from_the_copy():
    # r1 = -r0: the copy's samples are worthless for N(-b0/α, I). Balance-heuristic weights leave the
    # pretrained half to carry the target, as a pretrained pool of 2048 would: ESS ≈ 2048·exp(-‖b0‖²/α²)
    # ≈ 54 (Poisson-like spread: more than 30). Redrawing all of the pool leaves about one sample.
    w, ess, mean = _refreshed(B0, -B0, 0.5)
    assert ess > 30
    torch.testing.assert_close(mean, -B0 / ALPHA, atol=5 / ess**0.5, rtol=0)
    _, ess_all, _ = _refreshed(B0, -B0, 1.0)
    assert ess_all < 5


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="trains a DenoiserCorrection"):
        _objective(correction=NetworkCorrection(hidden=4))
    with pytest.raises(ValueError, match="no initial_law"):
        _objective(law=LearnedInitialLaw((2,), 8))
    with pytest.raises(ValueError, match="pool must be a positive integer"):
        _objective(pool=0)
    objective = _objective(pool=16)
    with pytest.raises(ValueError, match="only the drift phase"):
        objective("value", 4, 0)
    with pytest.raises(ValueError, match="alpha must be positive"):
        TiltedDenoisingObjective(objective.sampler, objective.reward, 0.0)
    with pytest.raises(ValueError, match="beta non-negative"):
        TiltedDenoisingObjective(objective.sampler, objective.reward, 1.0, beta=-0.5)
    with pytest.raises(ValueError, match="refresh > 0 needs beta=0"):
        TiltedDenoisingObjective(objective.sampler, objective.reward, 1.0, beta=0.5, refresh=0.5)
    with pytest.raises(ValueError, match=r"refresh must lie in \[0, 1\], got 1.5"):
        TiltedDenoisingObjective(objective.sampler, objective.reward, 1.0, refresh=1.5)


def _around(anchors, k, generator):
    """A proposal known in closed form: N(a, I) around an anchor a chosen uniformly."""
    pick = torch.randint(len(anchors), (k,), generator=generator)
    return anchors[pick] + torch.randn(k, anchors.shape[1], generator=generator, dtype=anchors.dtype)


def test_neighbours_of_the_best_labels_widen_the_base_and_the_weights_stay_exact_for_its_tilt():
    # Pool: 4096 of p_pre = N(0, I) and 4096 neighbours of the two best labelled designs, so the base is
    # b = ½·N(0, I) + ¼·N(m1, I) + ¼·N(m2, I). With r = B·x its tilt b·exp(r/α) is the mixture of
    # N(m_j + B/α, I) with weights ∝ λ_j·exp(B·m_j/α); the third design (the worst label) plays no part.
    objective = TiltedDenoisingObjective(_objective().sampler, LinearReward(B).double(), ALPHA, pool=4096,
                                         pool_seed=3, chunk=1024, neighbours=4096, propose=_around, anchors=2)
    designs = torch.tensor([[-3.0, 0.0], [2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    objective.anchor(designs, torch.tensor([0.2, 1.0, 0.5]), seed=0)
    w = objective.weights()
    assert objective.samples.shape == (8192, 2) and w.shape == (8192,)
    means = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    b = torch.tensor(B, dtype=torch.float64)
    mix = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64) * torch.exp(means @ b / ALPHA)
    expected = b / ALPHA + (mix / mix.sum()) @ means
    mean = (w[:, None] * objective.samples).sum(0)
    spread = (w[:, None] * (objective.samples - mean) ** 2).sum(0).sqrt()
    ess = 1.0 / w.pow(2).sum().item()
    torch.testing.assert_close(mean, expected, atol=(5 * spread / ess**0.5).max().item(), rtol=0)
    # A new anchoring replaces the neighbours and keeps the pretrained part.
    pretrained = objective.samples[:4096].clone()
    objective.anchor(designs, torch.tensor([1.0, 0.2, 0.5]), seed=1)
    assert objective.samples.shape == (8192, 2) and torch.equal(objective.samples[:4096], pretrained)
    assert objective.weights().shape == (8192,)


def test_neighbours_need_a_proposal_and_a_pool_of_the_pretrained_model():
    sampler = _objective(pool=16).sampler
    reward = LinearReward(B).double()
    for kwargs in (dict(neighbours=8), dict(neighbours=8, propose=_around, refresh=0.5),
                   dict(neighbours=8, propose=_around, beta=0.5), dict(neighbours=8, propose=_around, anchors=0)):
        with pytest.raises(ValueError, match="neighbours > 0 needs a propose function"):
            TiltedDenoisingObjective(sampler, reward, 1.0, **kwargs)
    with pytest.raises(ValueError, match="neighbours must be a non-negative integer, got -1"):
        TiltedDenoisingObjective(sampler, reward, 1.0, neighbours=-1)
    objective = TiltedDenoisingObjective(sampler, reward, 1.0, pool=16, neighbours=8, propose=_around)
    with pytest.raises(ValueError, match="anchor needs as many labels as designs, at least one, got 2 and 1"):
        objective.anchor(torch.zeros(2, 2, dtype=torch.float64), torch.zeros(1), seed=0)


@pytest.mark.parametrize("parameterisation", ["x0", "eps"])
def test_the_loss_is_the_cross_entropy_of_an_x0_sequence_network_and_the_squared_error_otherwise(parameterisation):
    from rewardsde import CrossEntropyDenoisingLoss, DenoisingLoss, VPSchedule
    from rewardsde.domains import SequenceEps

    schedule = VPSchedule()
    reference = PretrainedSDE(SequenceEps(3, 5, channels=4, depth=1, parameterisation=parameterisation), (3, 5),
                              schedule)
    sampler = FineTunedSampler(reference, DenoiserCorrection(), steps=2, backend="direct", method="midpoint")
    objective = TiltedDenoisingObjective(sampler, lambda x: x.sum((1, 2)), 1.0, pool=8, chunk=8)
    expected = CrossEntropyDenoisingLoss if parameterisation == "x0" else DenoisingLoss
    assert type(objective.loss) is expected
    assert torch.isfinite(objective.drift_loss(4, seed=0).value)


def test_the_target_is_drawn_without_replacement_with_probabilities_proportional_to_the_weights():
    # Successive sampling: P(first = i, second = j) = w_i·w_j/(1 - w_i). A pool of 4, 4000 draws of 2.
    objective = _objective(pool=4)
    w = objective.weights()
    n = 4000
    pairs = torch.zeros(4, 4, dtype=torch.float64)
    for seed in range(n):
        draw = objective.draw_target(2, seed)
        i, j = [int(torch.nonzero((objective.samples == row).all(1))[0]) for row in draw]
        pairs[i, j] += 1
    expected = w[:, None] * w[None, :] / (1 - w[:, None])
    expected.fill_diagonal_(0.0)
    assert pairs.diagonal().sum() == 0  # never the same sample twice
    # Each cell a binomial proportion: within 5 of its standard errors (the order matters: w_2 = 0.53, so
    # (2, 1) has probability 0.31 and (1, 2) 0.20).
    assert ((pairs / n - expected).abs() <= 5 * (expected * (1 - expected) / n).sqrt()).all()
    whole = objective.draw_target(4, 0)
    assert sorted(whole.tolist()) == sorted(objective.samples.tolist())
    for bad in (0, 5, 2.0):
        with pytest.raises(ValueError, match=rf"n must be an integer in \[1, 4\] \(the pool's size\), got {bad}"):
            objective.draw_target(bad, 0)
