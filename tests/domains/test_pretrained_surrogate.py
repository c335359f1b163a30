"""PretrainedSurrogateReward buys its labels from a budgeted Oracle and fits a RewardModel, as SEIKO does."""

import pytest
import torch

from rewardsde import VPSchedule, sample_reference
from rewardsde.domains import (
    EhrlichInstance,
    EhrlichReward,
    PretrainedSurrogateReward,
    SequenceDomain,
    SequenceEps,
    SequenceSDE,
)
from rewardsde.rewards import BudgetExhaustedError, GreedyReward, UCBReward

DOMAIN = SequenceDomain(5, 8, EhrlichInstance(num_motifs=2, motif_length=2, random_seed=0))


@pytest.fixture(scope="module")
def path(tmp_path_factory) -> str:
    return _snapping_model(tmp_path_factory.mktemp("snapping") / "model", DOMAIN)


def _snapping_model(directory, domain: SequenceDomain) -> str:
    """A model whose samples are (near) ±1 codes of uniform random tokens: an x0-network whose
    logits are 20·x, so x̂₀ is the vertex nearest x and the sampler snaps onto the code."""
    net = SequenceEps(domain.num_states, domain.length, channels=domain.num_states, depth=1, kernel_size=1,
                      parameterisation="x0")
    backbone, eye = net.backbone, torch.eye(domain.num_states)[:, :, None]
    with torch.no_grad():
        for parameter in backbone.parameters():
            parameter.zero_()
        backbone.inp.weight.copy_(eye)
        backbone.out.weight.copy_(20.0 * eye)
    net.save_pretrained(directory, VPSchedule(), metadata=domain)
    return str(directory)


def _genuine(x: torch.Tensor) -> torch.Tensor:
    reward = EhrlichReward(DOMAIN.num_states, DOMAIN.length, num_motifs=2, motif_length=2, random_seed=0)
    return reward(x).double()


def _model() -> GreedyReward:
    return GreedyReward(epochs=200, patience=20)


def test_labels_are_bought_once_within_the_budget_and_are_the_genuine_values(path):
    reward = PretrainedSurrogateReward(path, train_size=120, steps=10, seed=0, reward_model=_model())
    x, y, _ = reward.oracle.store.tensors()
    assert reward.oracle.spent == reward.oracle.calls == reward.oracle.budget == 120 and x.shape == (120, 5, 8)
    assert torch.equal(y, _genuine(x.float()))
    assert reward.report.holdout_error.shape == (4,)
    with pytest.raises(BudgetExhaustedError, match="120 of 120 labels spent"):
        reward.oracle.query(x[:1] + 1.0)


def test_a_label_store_file_keeps_the_labels_and_the_budget(path, tmp_path):
    store = tmp_path / "labels.jsonl"
    first = PretrainedSurrogateReward(path, train_size=60, steps=10, seed=0, reward_model=_model(), label_store=str(store))
    lines = store.read_text().splitlines()
    again = PretrainedSurrogateReward(path, train_size=60, steps=10, seed=0, reward_model=_model(), label_store=str(store))
    assert len([line for line in lines if '"x"' in line]) == 60 and again.oracle.calls == 0 and again.oracle.spent == 60, "nothing new is bought"
    probe = torch.randn(7, 5, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again(probe), first(probe)), "the same labels and seed fit the same model"
    with pytest.raises(BudgetExhaustedError, match="60 of 60 labels spent"):
        PretrainedSurrogateReward(path, train_size=60, steps=10, seed=1, reward_model=_model(), label_store=str(store))
    assert store.read_text().splitlines() == lines, "a refused query writes nothing"


def test_the_fitted_model_beats_a_constant_on_held_out_samples_and_is_differentiable(path):
    reward = PretrainedSurrogateReward(path, train_size=400, steps=10, seed=0, reward_model=_model())
    held_out = sample_reference(SequenceSDE(path), 400, 10, seed=1)
    truth, (_, labels, _) = _genuine(held_out), reward.oracle.store.tensors()
    with torch.no_grad():
        error = (reward(held_out).double() - truth).pow(2).mean()
    assert error < 0.8 * (labels.mean() - truth).pow(2).mean(), "better than the mean label"
    x = held_out[:5].clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(reward(x).sum(), x)
    assert gradient.abs().sum() > 0 and not any(p.requires_grad for p in reward.parameters())


def test_the_reward_model_is_chosen_by_the_caller_and_bad_input_is_named(path):
    ucb = UCBReward(c=0.5, epochs=20, patience=5)
    reward = PretrainedSurrogateReward(path, train_size=30, steps=5, reward_model=ucb)
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(2))
    assert reward.model is ucb and torch.equal(reward(x), ucb(x)) and ucb.bonus(x).min() > 0
    with pytest.raises(ValueError, match=r"\(batch, 5, 8\), got \(3, 4, 8\)"):
        reward(torch.zeros(3, 4, 8))
    with pytest.raises(ValueError, match="train_size must be at least 10, got 3"):
        PretrainedSurrogateReward(path, train_size=3)
    with pytest.raises(ValueError, match="steps must be positive, got 0"):
        PretrainedSurrogateReward(path, steps=0)


def test_a_label_store_of_another_instance_is_refused_naming_both(path, tmp_path):
    store = tmp_path / "labels.jsonl"
    PretrainedSurrogateReward(path, train_size=20, steps=5, reward_model=_model(), label_store=str(store))
    lines = store.read_text()
    other = SequenceDomain(5, 8, EhrlichInstance(num_motifs=2, motif_length=2, random_seed=7))
    elsewhere = _snapping_model(tmp_path / "other", other)
    with pytest.raises(ValueError, match=r"written for instance.random_seed=0, this store is for instance.random_seed=7"):
        PretrainedSurrogateReward(elsewhere, train_size=20, steps=5, reward_model=_model(), label_store=str(store))
    assert store.read_text() == lines, "nothing is bought or written"
