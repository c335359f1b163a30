"""UCB: the bonus is C·√(φᵀΣ⁻¹φ) with the unnormalised Σ = ΦᵀΦ + λI, so it shrinks with data."""

import pytest
import torch

from rewardsde.rewards import UCBReward

SETTINGS = dict(heads=2, hidden=8, epochs=30, patience=30)


def _data(n, seed=0):
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    return x, torch.sin(x[:, 0]).double()


def test_bonus_matches_the_closed_form():
    x, y = _data(20)
    model = UCBReward(c=0.7, lam=0.5, **SETTINGS)
    model.fit(x, y, seed=0)
    queries = torch.randn(5, 2)
    expected = torch.zeros(5, dtype=torch.float64)
    for h in range(2):
        phi = model.heads.features(x)[h].double()
        sigma = phi.T @ phi + 0.5 * torch.eye(8, dtype=torch.float64)
        q = model.heads.features(queries)[h].double()
        expected += torch.sqrt(torch.einsum("ni,ij,nj->n", q, torch.linalg.inv(sigma), q)) / 2
    torch.testing.assert_close(model.bonus(queries).double(), 0.7 * expected, rtol=1e-4, atol=1e-6)


def test_bonus_shrinks_as_labels_accumulate():
    x, y = _data(10)
    model = UCBReward(c=1.0, **SETTINGS)
    model.fit(x, y, seed=0)
    queries = torch.randn(50, 2)
    before = model.bonus(queries)
    model.set_design(torch.cat([x, torch.randn(40, 2)]))
    after = model.bonus(queries)
    assert (after < before).all()
    model.set_design(x.repeat(100, 1))
    assert (model.bonus(queries) < 0.5 * before).all()


def test_bonus_grows_away_from_the_labelled_data():
    """The posterior std is smallest where the labels are: every query on the circle of
    radius 8 gets a larger bonus than any labelled point, and the bonus rises along a ray."""
    x, y = _data(30)
    model = UCBReward(c=1.0, **SETTINGS)
    model.fit(x, y, seed=0)
    angle = torch.linspace(0, 2 * torch.pi, 17)[:-1]
    circle = 8 * torch.stack([angle.cos(), angle.sin()], dim=1)
    assert model.bonus(circle).min() > model.bonus(x).max()
    ray = torch.linspace(3, 30, 10)[:, None] * torch.tensor([[0.6, 0.8]])
    assert (model.bonus(ray).diff() > 0).all()


def test_bonus_is_clipped_and_the_reward_differentiable():
    x, y = _data(10)
    model = UCBReward(c=100.0, clip=0.25, **SETTINGS)
    model.fit(x, y, seed=0)
    queries = torch.randn(4, 2, requires_grad=True)
    assert torch.allclose(model.bonus(queries), torch.full((4,), 0.25))
    unclipped = UCBReward(c=1.0, **SETTINGS)
    unclipped.fit(x, y, seed=0)
    unclipped(queries).sum().backward()
    assert queries.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in unclipped.parameters())


@pytest.mark.parametrize("kwargs", [dict(c=-1.0), dict(lam=0.0), dict(clip=-0.1)])
def test_bad_ucb_settings_are_named(kwargs):
    with pytest.raises(ValueError, match="need c >= 0, lam > 0"):
        UCBReward(**kwargs)
