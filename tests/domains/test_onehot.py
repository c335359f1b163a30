import pytest
import torch

from rewardsde.domains import check_one_hot_shape, decode, one_hot


def test_round_trip_and_scaled_vertices(generator):
    tokens = torch.randint(0, 5, (6, 9), generator=generator)
    x = one_hot(tokens, 5, low=-1.0, high=1.0)
    assert x.shape == (6, 5, 9) and x.dtype == torch.get_default_dtype()
    assert torch.equal(decode(x), tokens)
    assert torch.equal((x == 1).sum(dim=1), torch.ones(6, 9, dtype=torch.long))
    assert torch.equal(x.sum(dim=1), torch.full((6, 9), -3.0))
    assert torch.equal(x[0, tokens[0, 2], 2], torch.tensor(1.0))


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


def test_bad_scale_and_shapes_are_named():
    with pytest.raises(ValueError, match="high > low"):
        one_hot(torch.zeros(1, 2, dtype=torch.long), 3, low=1.0, high=1.0)
    with pytest.raises(ValueError, match=r"\(batch, 4, 8\), got \(2, 5, 8\)"):
        check_one_hot_shape(torch.zeros(2, 5, 8), 4, 8)
    with pytest.raises(ValueError, match=r"got \(2, 4\)"):
        decode(torch.zeros(2, 4))
