import pytest
import torch

from rewardsde import PretrainedSDE, VPSchedule
from rewardsde.domains import SequenceEps


def test_shape_time_dependence_and_use_as_pretrained_network(generator):
    net = SequenceEps(num_states=6, length=10, channels=16, depth=2)
    x = torch.randn(4, 6, 10, generator=generator)
    assert torch.equal(net(x, torch.rand(4)), torch.zeros(4, 6, 10)), "the output layer starts at zero"
    torch.nn.init.normal_(net.out.weight, generator=generator)
    early, late = net(x, torch.full((4,), 0.1)), net(x, torch.full((4,), 0.9))
    assert early.shape == (4, 6, 10) and not torch.allclose(early, late)
    sde = PretrainedSDE(net, event_shape=(6, 10), schedule=VPSchedule())
    assert sde.drift(torch.tensor(0.3), x).shape == (4, 6, 10)


def test_gradients_reach_every_parameter(generator):
    net = SequenceEps(num_states=3, length=5, channels=8, depth=1)
    torch.nn.init.normal_(net.out.weight, generator=generator)
    net(torch.randn(2, 3, 5, generator=generator), torch.rand(2)).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_bad_shapes_and_sizes_are_named():
    net = SequenceEps(num_states=4, length=8, channels=8, depth=1)
    with pytest.raises(ValueError, match=r"\(batch, 4, 8\), got \(2, 5, 8\)"):
        net(torch.zeros(2, 5, 8), torch.rand(2))
    with pytest.raises(ValueError, match="odd kernel_size"):
        SequenceEps(4, 8, kernel_size=4)
    with pytest.raises(ValueError, match="num_states >= 2"):
        SequenceEps(1, 8)
