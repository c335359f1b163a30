"""The oracle: a hard budget, seeded noise, infeasible samples mapped, labels never bought twice."""

import pytest
import torch

from rewardsde.rewards import BudgetExhaustedError, Oracle


def _reward(x):
    """Feasible inside the unit disc, where r(x) = x₁."""
    return torch.where(x.norm(dim=1) <= 1, x[:, 0], torch.full_like(x[:, 0], float("nan")))


def _points(n, seed=0):
    return 0.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def test_budget_is_never_exceeded_and_the_error_says_so():
    oracle = Oracle(_reward, budget=10)
    oracle.query(_points(6))
    with pytest.raises(BudgetExhaustedError, match="6 of 10 labels spent, 5 more requested"):
        oracle.query(_points(5, seed=1))
    assert oracle.spent == 6 and oracle.calls == 6
    oracle.query(_points(4, seed=2))
    assert oracle.spent == oracle.budget == oracle.calls == 10


def test_stored_and_repeated_samples_are_free():
    oracle = Oracle(_reward, budget=8)
    x = _points(5)
    first = oracle.query(x)
    again = oracle.query(torch.cat([x[:3], x[:3]]))
    assert oracle.calls == oracle.spent == 5
    assert torch.equal(again, torch.cat([first[:3], first[:3]]))


def test_noise_is_seeded_by_the_sample_not_the_order():
    x = _points(64)
    a = Oracle(_reward, budget=64, noise_std=0.1, seed=3).query(x)
    b = Oracle(_reward, budget=64, noise_std=0.1, seed=3, chunk_size=7).query(x.flip(0)).flip(0)
    c = Oracle(_reward, budget=64, noise_std=0.1, seed=4).query(x)
    clean = Oracle(_reward, budget=64).query(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert 0.05 < (a - clean).std() < 0.15


def test_infeasible_samples_get_the_configured_value():
    x = torch.tensor([[0.2, 0.0], [3.0, 0.0], [0.0, -2.0]])
    oracle = Oracle(_reward, budget=3, noise_std=0.5, infeasible_value=-4.0)
    y = oracle.query(x)
    assert torch.isfinite(y).all()
    assert y[1] == y[2] == -4.0 and y[0] != 0.2
    assert oracle.store.feasible == [True, False, False]


def test_labels_go_to_the_file_and_come_back(tmp_path):
    path = tmp_path / "labels.jsonl"
    oracle = Oracle(_reward, budget=10, noise_std=0.1)
    oracle.open(path)
    x = _points(4)
    y = oracle.query(x)
    assert len(path.read_text().splitlines()) == 4
    again = Oracle(_reward, budget=10, noise_std=0.1)
    again.open(path)
    assert again.spent == 4
    assert torch.equal(again.query(x), y) and again.calls == 0
    again.query(_points(2, seed=1))
    assert len(path.read_text().splitlines()) == 6


def test_checkpoint_state_reloads_with_weights_only(tmp_path):
    oracle = Oracle(_reward, budget=10)
    oracle.open(tmp_path / "a.jsonl")
    y = oracle.query(_points(3))
    torch.save(oracle.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    fresh = Oracle(_reward, budget=10)
    fresh.open(tmp_path / "b.jsonl")
    assert fresh.load_state_dict(state) == 3
    assert torch.equal(fresh.query(_points(3)), y) and fresh.calls == 0
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(budget=0), "budget must be a positive integer"),
    (dict(budget=4, noise_std=-1.0), "noise_std must be non-negative"),
    (dict(budget=4, infeasible_value=float("-inf")), "infeasible_value must be finite"),
    (dict(budget=4, chunk_size=0), "chunk_size must be positive"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Oracle(_reward, **kwargs)


class _Instance(torch.nn.Module):
    """``_reward`` of a named instance."""

    def __init__(self, seed):
        super().__init__()
        self.fingerprint = {"domain": "disc", "instance": {"random_seed": seed}}

    def forward(self, x):
        return _reward(x)


def test_a_label_file_of_another_instance_is_refused_before_anything_is_bought(tmp_path):
    path = tmp_path / "labels.jsonl"
    first = Oracle(_Instance(0), budget=10)
    first.open(path)
    y = first.query(_points(4))
    other = Oracle(_Instance(1), budget=10)
    with pytest.raises(ValueError, match="written for instance.random_seed=0, this store is for instance.random_seed=1"):
        other.open(path)
    assert other.spent == other.calls == 0
    again = Oracle(_Instance(0), budget=10)
    again.open(path)
    assert torch.equal(again.query(_points(4)), y) and again.calls == 0
