import pytest
import torch

from rewardsde.domains import SequenceEps, check_one_hot_shape, decode, from_probabilities, one_hot
from rewardsde.domains.onehot import check_network_shape


def test_round_trip_and_the_plus_minus_one_code(generator):
    tokens = torch.randint(0, 5, (6, 9), generator=generator)
    x = one_hot(tokens, 5)
    assert x.shape == (6, 5, 9) and x.dtype == torch.get_default_dtype()
    assert torch.equal(decode(x), tokens)
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal((x == 1).sum(dim=1), torch.ones(6, 9, dtype=torch.long))
    assert torch.equal(x[0, tokens[0, 2], 2], torch.tensor(1.0))


def test_probabilities_map_vertices_to_codes_and_the_uniform_law_to_the_centre():
    tokens = torch.tensor([[0, 2, 1]])
    vertices = torch.nn.functional.one_hot(tokens, 3).transpose(1, 2).float()
    assert torch.equal(from_probabilities(vertices), one_hot(tokens, 3))
    assert torch.equal(from_probabilities(torch.full((1, 4, 2), 0.25)), torch.full((1, 4, 2), -0.5))


def test_decode_takes_the_argmax_of_noisy_codes(generator):
    tokens = torch.randint(0, 4, (3, 7), generator=generator)
    noisy = one_hot(tokens, 4) + 0.2 * torch.randn(3, 4, 7, generator=generator)
    assert torch.equal(decode(noisy), tokens)


@pytest.mark.parametrize(
    "tokens, num_states, match",
    [
        (torch.zeros(3, dtype=torch.long), 4, r"shape \(batch, length\)"),
        (torch.zeros(2, 3), 4, "integer tensor"),
        (torch.tensor([[0, 4]]), 4, r"\[0, 4\).*0 to 4"),
        (torch.tensor([[0, -1]]), 4, "-1"),
        (torch.tensor([[0, 1]]), 1, "num_states must be at least 2, got 1"),
    ],
)
def test_bad_tokens_are_named(tokens, num_states, match):
    with pytest.raises(ValueError, match=match):
        one_hot(tokens, num_states)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"x has 5 states, expected 4 .*\(batch, 4, 8\), got \(2, 5, 8\)"):
        check_one_hot_shape(torch.zeros(2, 5, 8), 4, 8)
    with pytest.raises(ValueError, match=r"x has length 7, the alphabet has length 8"):
        check_one_hot_shape(torch.zeros(2, 4, 7), 4, 8, owner="the alphabet")
    with pytest.raises(ValueError, match=r"\(batch, 4, 8\), got \(2, 32\)"):
        check_one_hot_shape(torch.zeros(2, 32), 4, 8)
    check_one_hot_shape(torch.zeros(2, 4, 8), 4, 8)
    with pytest.raises(ValueError, match=r"got \(2, 4\)"):
        decode(torch.zeros(2, 4))


def test_a_network_of_another_sequence_shape_is_named():
    network = SequenceEps(num_states=32, length=16, channels=4, depth=1)
    with pytest.raises(ValueError, match="correction's network .* 32 states and length 16, .* 20 states and length 16"):
        check_network_shape(network, (20, 16), "the correction's network")
    with pytest.raises(ValueError, match=r"shape \(3, 8, 8\)"):
        check_network_shape(network, (3, 8, 8))
    check_network_shape(network, (32, 16))
    check_network_shape(torch.nn.Linear(2, 2), (20, 16)), "a network that declares no sequence shape passes"
