import pytest
import torch

from rewardsde.domains import EhrlichReward, one_hot


@pytest.fixture(scope="module")
def reward() -> EhrlichReward:
    return EhrlichReward(num_states=20, dim=32, num_motifs=2, motif_length=4, random_seed=0)


def test_dmp_samples_are_fresh_feasible_and_seeded(reward):
    first = reward.sample(500, torch.Generator().manual_seed(1))
    again = reward.sample(500, torch.Generator().manual_seed(1))
    other = reward.sample(500, torch.Generator().manual_seed(2))
    assert first.shape == (500, 32) and torch.equal(first, again) and not torch.equal(first, other)
    assert reward.feasible(first).all()
    values = reward(one_hot(first, 20))
    assert ((values >= 0) & (values <= 1)).all() and values.mean() > 0


def test_feasibility_agrees_with_holo_and_infeasible_is_never_minus_inf(reward, generator):
    uniform = torch.randint(0, 20, (1000, 32), generator=generator)
    raw = reward.function(uniform)
    feasible = reward.feasible(uniform)
    assert torch.equal(feasible, torch.isfinite(raw)) and 0 < feasible.sum() < 50
    values = reward(one_hot(uniform, 20))
    assert torch.isfinite(values).all()
    assert (values[~feasible] == 0).all() and torch.equal(values[feasible], raw[feasible])
    penalised = EhrlichReward(20, 32, 2, 4, random_seed=0, infeasible_value=-1.0)
    assert (penalised.value(uniform)[~feasible] == -1).all()


def test_the_optimum_scores_one(reward):
    assert reward(one_hot(reward.optimum()[None], 20)).item() == 1.0


def test_bad_input_is_named(reward):
    with pytest.raises(ValueError, match=r"x has 21 states, the Ehrlich instance has 20 .*\(3, 21, 32\)"):
        reward(torch.zeros(3, 21, 32))
    with pytest.raises(ValueError, match=r"x has length 31, the Ehrlich instance has length 32"):
        reward(torch.zeros(3, 20, 31))
    with pytest.raises(ValueError, match=r"tokens have length 31, the Ehrlich instance has length 32"):
        reward.feasible(torch.zeros(3, 31, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 20\) \(the Ehrlich instance has 20 states\), got 20..20"):
        reward.value(torch.full((1, 32), 20))
    with pytest.raises(ValueError, match="infeasible_value must be finite, got -inf"):
        EhrlichReward(infeasible_value=float("-inf"))


def test_the_fingerprint_names_the_instance(reward):
    same = EhrlichReward(num_states=20, dim=32, num_motifs=2, motif_length=4, quantization=4, random_seed=0)
    other = EhrlichReward(num_states=20, dim=32, num_motifs=2, motif_length=4, random_seed=1)
    assert reward.fingerprint == same.fingerprint, "quantization None is the motif length"
    assert reward.fingerprint != other.fingerprint
    assert reward.fingerprint["num_states"] == 20 and reward.fingerprint["length"] == 32
