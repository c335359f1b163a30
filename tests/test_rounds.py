"""SeikoRound: each round freezes the previous control, buys its batch once, and refits on every label."""

import pytest
import torch

from rewardsde import ElegantObjective, FineTunedSampler, NetworkCorrection, SeikoRound
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward, ModeReward
from rewardsde.rewards import GreedyReward, Oracle
from tests.helpers.controls import ConstantControl

pytestmark = pytest.mark.core

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]


def _round(budget=24, sizes=(8, 16), previous=True, reward=None):
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4])
    sampler = FineTunedSampler(prior, NetworkCorrection(hidden=8), steps=4, backend="direct", method="euler",
                               previous=previous)
    model = reward or GreedyReward(heads=2, hidden=8, epochs=30, patience=5)
    objective = ElegantObjective(sampler, model, alpha=0.5, beta=0.5 if previous else 0.0)
    oracle = Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=budget)
    return SeikoRound(objective, oracle, list(sizes), seed=3)


def test_rounds_buy_their_batches_and_fit_on_every_label_so_far():
    seiko = _round()
    first = seiko.begin(0)
    assert first.queries == seiko.oracle.spent == 8 and first.x.shape == (8, 2)
    # Noise-free labels: exactly the genuine reward, infeasible at the oracle's -1.
    assert torch.equal(first.y, seiko.oracle.genuine(first.x)[0].to(first.y.dtype))
    second = seiko.begin(1)
    assert second.queries == 24 and seiko.oracle.calls == 24
    labelled, labels, _ = seiko.oracle.store.tensors()
    assert labelled.shape == (24, 2)
    # The model was refitted on all 24 labels: its label standardisation is theirs.
    assert seiko.model.label_mean.item() == pytest.approx(labels.mean().item(), rel=1e-6)


def test_beginning_a_round_freezes_the_current_control_as_the_previous():
    seiko = _round()
    controlled = seiko.objective.sampler.controlled
    with torch.no_grad():
        for p in controlled.correction.parameters():
            p.add_(0.1)
    seiko.begin(0)
    x, t = torch.randn(5, 2), torch.tensor(0.5)
    assert torch.equal(controlled.previous(t, x), controlled.correction(t, x)[1])


def test_same_seed_same_batch_and_a_repeat_costs_nothing():
    a, b = _round(), _round()
    assert torch.equal(a.begin(0).x, b.begin(0).x)
    spent = b.oracle.spent
    b.begin(0)  # the same batch again: every label is already stored
    assert b.oracle.spent == spent


@pytest.mark.parametrize("kwargs, message", [
    (dict(budget=6), r"oracle budget \(6\) is smaller than the first round \(8 queries\)"),
    (dict(budget=12), r"need 24 queries, more than the oracle budget \(12\)"),
    (dict(sizes=(1,)), "round_sizes must be a non-empty list of sizes >= 2"),
    (dict(reward=LinearReward([1.0, 0.0])), "a SEIKO round refits a RewardModel, not LinearReward"),
])
def test_bad_rounds_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _round(**kwargs)


def test_round_index_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"round index must lie in \[0, 2\), got 2"):
        _round().begin(2)


def test_round_optima_follow_the_geometric_mixing_of_the_rounds():
    """Round i's optimum is p_pre·exp(φ_i) with φ_i = (r + β·φ_{i-1})/(α+β), φ_0 = 0 (the recursion
    of ModeReward.round_optima). On dx = a dt + dW from x_0 = 0 with r(x) = b·x that is N(k_i·b, 1),
    k_i = (1 + β·k_{i-1})/(α+β), reached by the constant control a = k_i·b, which SEIKO must find
    from labels alone: freeze, buy, refit, then train the drift under α and β."""
    alpha, beta, b = 0.5, 1.5, 1.0
    torch.manual_seed(0)
    prior = BrownianPrior(1, c=1.0, initial_std=0.0)
    control = ConstantControl(0.0, dtype=torch.float32)
    sampler = FineTunedSampler(prior, control, steps=2, backend="direct", method="euler", previous=True)
    model = GreedyReward(heads=2, hidden=16, depth=1, epochs=400, patience=100, lr=0.02)
    objective = ElegantObjective(sampler, model, alpha=alpha, beta=beta)
    seiko = SeikoRound(objective, Oracle(LinearReward([b]), budget=256), [128, 128], seed=0)
    k = 0.0
    for index in range(2):
        seiko.begin(index)
        k = (1 + beta * k) / (alpha + beta)
        optimizer = torch.optim.Adam(control.parameters(), lr=0.05)
        for step in range(150):
            loss = objective.drift_loss(256, seed=1000 * index + step)
            optimizer.zero_grad()
            loss.value.backward()
            optimizer.step()
        # The learned slope of r̂ on N(θ, 1) is b within a few per cent (a 16-unit SiLU fit to 128-256
        # noise-free labels), so θ = k·E[r̂'] lands within 0.05 of k·b; Adam's last steps add ~0.01.
        assert control.theta.item() == pytest.approx(k * b, abs=0.06), index


def _half_grid(x):
    """Designs on the half-integer grid (+ 0.0: one zero, where rounding gives -0.0 and 0.0, two keys)."""
    return (2 * x).round() / 2 + 0.0


def _nine_designs(x):
    """Only nine designs: the grid {-1, 0, 1}²."""
    return x.round().clamp(-1, 1) + 0.0


def test_with_a_canonical_design_a_round_buys_distinct_new_designs_only():
    seiko = _round(budget=24, sizes=(8, 16))
    seiko.canonical = _half_grid
    first = seiko.begin(0)
    assert first.x.shape == (8, 2) and torch.equal(first.x, _half_grid(first.x))
    assert len({tuple(row.tolist()) for row in first.x}) == 8 and seiko.oracle.spent == 8
    seiko.begin(1)
    labelled = seiko.oracle.store.tensors()[0]
    assert seiko.oracle.spent == 24 and len({tuple(row.tolist()) for row in labelled}) == 24


def test_a_round_that_runs_out_of_new_designs_buys_fewer_and_says_so():
    seiko = _round(budget=24, sizes=(8, 16))
    seiko.canonical, seiko.max_draws = _nine_designs, 4
    with pytest.warns(UserWarning, match="4 draws of 16 samples held only"):
        seiko.begin(0)
        seiko.begin(1)
    labelled = seiko.oracle.store.tensors()[0]
    assert seiko.oracle.spent == len(labelled) <= 9
    assert len({tuple(row.tolist()) for row in labelled}) == len(labelled)
    with pytest.raises(ValueError, match="max_draws must be a positive integer, got 0"):
        SeikoRound(seiko.objective, seiko.oracle, [8], max_draws=0)


def test_a_round_killed_while_buying_draws_the_same_designs_when_resumed():
    whole = _round(budget=24, sizes=(8, 16))
    whole.canonical = _half_grid
    whole.begin(0)
    whole.begin(1)
    killed = _round(budget=24, sizes=(8, 16))
    killed.canonical = _half_grid
    killed.begin(0)
    # Round 1 dies after buying half of its batch; the resumed round buys only the rest.
    killed.oracle.query(killed.draw_batch(16, killed.batch_seed(1), 1)[:8])
    killed.begin(1)
    assert killed.oracle.spent == whole.oracle.spent == 24
    designs = [{tuple(row.tolist()) for row in seiko.oracle.store.tensors()[0]} for seiko in (whole, killed)]
    assert designs[0] == designs[1]


def _tilted_round(target, canonical=None):
    from rewardsde import TiltedDenoisingObjective
    from tests.test_tilted import _objective

    torch.manual_seed(0)
    model = GreedyReward(heads=2, hidden=8, epochs=30, patience=5)
    model.build((2,))
    model.double()
    objective = TiltedDenoisingObjective(_objective(pool=64).sampler, model, 0.5, pool=64, pool_seed=3)
    oracle = Oracle(LinearReward([0.5, -0.25]).double(), budget=24)
    return SeikoRound(objective, oracle, [8, 16], seed=3, canonical=canonical, target=target)


def test_a_round_can_buy_draws_of_the_target_and_the_model_fills_the_rest():
    seiko = _tilted_round(target=0.5)
    first = seiko.begin(0)
    pool = {tuple(row.tolist()) for row in seiko.objective.samples}
    assert not any(tuple(row.tolist()) in pool for row in first.x)  # round 0: the model only
    second = seiko.begin(1)
    rows = [tuple(row.tolist()) for row in second.x]
    assert all(row in pool for row in rows[:8]) and len(set(rows[:8])) == 8
    assert not any(row in pool for row in rows[8:])
    assert seiko.oracle.spent == 24


def test_with_a_canonical_design_the_target_fills_the_round_with_new_designs_of_the_pool():
    seiko = _tilted_round(target=1.0, canonical=_half_grid)
    seiko.begin(0)
    seiko.begin(1)
    labelled = seiko.oracle.store.tensors()[0]
    assert len({tuple(row.tolist()) for row in labelled}) == 24
    pool = {tuple(row.tolist()) for row in _half_grid(seiko.objective.samples)}
    assert all(tuple(row.tolist()) in pool for row in labelled[8:])


def test_target_draws_need_a_tilted_objective_and_a_fraction():
    seiko = _round()
    with pytest.raises(ValueError, match="target > 0 draws from a TiltedDenoisingObjective's pool, not a ElegantObjective"):
        SeikoRound(seiko.objective, seiko.oracle, [8], target=0.5)
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\], got 1.5"):
        SeikoRound(seiko.objective, seiko.oracle, [8], target=1.5)
    with pytest.raises(ValueError, match="each of 2 shards would draw its own"):
        _tilted_round(target=0.5).begin(1, shards=2)
