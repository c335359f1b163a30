"""PointMutations: draws exactly `sites` substitutions from a uniformly chosen anchor, uniformly."""

import itertools

import pytest
import torch

from rewardsde.domains import PointMutations, decode, one_hot

pytestmark = pytest.mark.core


def test_every_draw_is_a_code_exactly_sites_away_from_its_anchor():
    anchors = one_hot(torch.tensor([[0, 0, 0, 0, 0, 0], [3, 3, 3, 3, 3, 3]]), 4)
    for sites in (1, 2, 3):
        x = PointMutations(sites)(anchors, 500, torch.Generator().manual_seed(sites))
        assert x.shape == (500, 4, 6) and set(x.unique().tolist()) == {-1.0, 1.0}
        distance = (decode(x)[:, None, :] != decode(anchors)[None]).sum(-1)
        # The anchors differ at every site, so a draw is 6 - sites or more from the other one: its
        # nearest anchor is its own, at distance exactly `sites`.
        assert torch.equal(distance.amin(1), torch.full((500,), sites))


def test_the_law_is_uniform_over_anchors_and_over_the_neighbours_of_each():
    # Two anchors of length 3 over 3 states: each has C(3,1)·2 = 6 single-site neighbours, disjoint here,
    # so each of the 12 outcomes has probability 1/12.
    anchors = one_hot(torch.tensor([[0, 0, 0], [2, 2, 2]]), 3)
    n = 60_000
    tokens = decode(PointMutations(1)(anchors, n, torch.Generator().manual_seed(0)))
    outcomes = {}
    for row in tokens.tolist():
        outcomes[tuple(row)] = outcomes.get(tuple(row), 0) + 1
    expected = {tuple(a[:j] + [s] + a[j + 1:]) for a in ([0, 0, 0], [2, 2, 2])
                for j, s in itertools.product(range(3), range(3)) if s != a[j]}
    assert set(outcomes) == expected and len(expected) == 12
    p = 1 / 12
    tolerance = 5 * (p * (1 - p) / n) ** 0.5  # five standard errors of a frequency
    for count in outcomes.values():
        assert count / n == pytest.approx(p, abs=tolerance)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="sites must be a positive integer, got 0"):
        PointMutations(0)
    with pytest.raises(ValueError, match=r"anchors must be a non-empty \(A, num_states, length\) tensor"):
        PointMutations()(torch.zeros(0, 3, 4), 5)
    with pytest.raises(ValueError, match="5 sites cannot change in sequences of length 4"):
        PointMutations(5)(one_hot(torch.zeros(1, 4, dtype=torch.long), 3), 5)
