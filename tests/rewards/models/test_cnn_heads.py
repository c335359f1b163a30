"""CNN heads: H dilated 1-D CNNs at once, translation equivariant before pooling, seeded like the MLP heads."""

import pytest
import torch

from rewardsde.rewards.models import CNNHeads


def _heads(**kwargs):
    settings = dict(heads=3, in_shape=(4, 24), channels=8, depth=2, kernel_size=3)
    settings.update(kwargs)
    return CNNHeads(**settings)


def test_shapes_and_that_per_head_inputs_equal_a_shared_one():
    heads = _heads(dense=1)
    z = torch.randn(5, 4 * 24, generator=torch.Generator().manual_seed(0))
    assert heads.maps(z).shape == (3, 5, 8, 24)
    assert heads.features(z).shape == (3, 5, 8) and heads.width == 8 and heads.count == 3
    assert heads(z).shape == (3, 5)
    torch.testing.assert_close(heads(z.expand(3, 5, 96)), heads(z))


def test_each_head_is_its_own_network():
    """Head h's output on its own input does not depend on the other heads' inputs."""
    heads = _heads()
    generator = torch.Generator().manual_seed(1)
    z = torch.randn(3, 5, 96, generator=generator)
    other = z.clone()
    other[1:] = torch.randn(2, 5, 96, generator=generator)
    torch.testing.assert_close(heads(other)[0], heads(z)[0])


def test_maps_are_translation_equivariant_away_from_the_ends():
    """A pattern moved s positions along a zero background moves every map s positions,
    wherever the receptive field (radius (k-1)/2·(2^D - 1) = 3 here) stays inside the sequence."""
    heads = _heads()
    x = torch.zeros(2, 4, 24)
    x[:, :, 6:12] = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(2))
    shift, radius = 5, 3
    moved = torch.roll(x, shift, dims=2)
    maps, moved_maps = heads.maps(x.flatten(1)), heads.maps(moved.flatten(1))
    inside = slice(radius, 24 - radius - shift)
    torch.testing.assert_close(moved_maps[..., radius + shift : 24 - radius], maps[..., inside])
    assert (maps[..., inside] != maps[..., radius + 1 : 24 - radius - shift + 1]).any(), "the maps are not constant"


def test_seeded_resets_are_reproducible():
    a, b = _heads(), _heads()
    a.reset(torch.Generator().manual_seed(3))
    b.reset(torch.Generator().manual_seed(3))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    b.reset(torch.Generator().manual_seed(4))
    assert not torch.equal(a.convs[0], b.convs[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(kernel_size=4), "kernel_size must be a positive odd number, got 4"),
    (dict(pool="sum"), "pool must be one of .*got 'sum'"),
    (dict(depth=0), r"depth \(0\)"),
    (dict(dense=-1), r"dense \(-1\)"),
    (dict(in_shape=(96,)), r"in_shape must be \(channels, length\).*\(96,\)"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _heads(**kwargs)


def test_inputs_of_the_wrong_width_are_named():
    with pytest.raises(ValueError, match=r"expected z of shape \(n, 96\) or \(3, n, 96\), got \(5, 95\)"):
        _heads()(torch.zeros(5, 95))
