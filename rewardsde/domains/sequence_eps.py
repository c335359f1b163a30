"""A small 1-D convolutional ε-network for one-hot sequences."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nets import TIME_FEATURES, time_features
from .onehot import check_one_hot_shape


class _Block(nn.Module):
    """``h + conv(SiLU(conv(SiLU(norm(h))) + W·τ(s)))``: a residual block with the time added in."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.first = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.time = nn.Linear(TIME_FEATURES, channels)
        self.second = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.act = nn.SiLU()

    def forward(self, h: Tensor, features: Tensor) -> Tensor:
        inner = self.first(self.act(self.norm(h))) + self.time(features)[:, :, None]
        return h + self.second(self.act(inner))


class SequenceEps(nn.Module):
    """``ε(x, s)`` for sequences ``x`` of shape ``(batch, num_states, length)`` at diffusion time ``s``.

    The states are the input channels of a stack of residual 1-D convolutions; a
    learned position embedding ``(channels, length)`` is added after the input
    projection and sinusoidal features of ``s`` enter every block, so

        ε(x, s) = W_out · blocks(W_in x + P, τ(s)),  same shape as ``x``.

    Use it as the ``network`` of :class:`rewardsde.PretrainedSDE` with
    ``event_shape=(num_states, length)``. The output layer starts at zero.

    Args:
        num_states: size of the token alphabet (input and output channels).
        length: sequence length.
        channels: hidden channels.
        depth: number of residual blocks.
        kernel_size: odd convolution width.

    Example:
        >>> net = SequenceEps(num_states=20, length=32)
        >>> net(torch.randn(4, 20, 32), torch.rand(4)).shape
        torch.Size([4, 20, 32])
    """

    def __init__(self, num_states: int, length: int, channels: int = 64, depth: int = 4, kernel_size: int = 5) -> None:
        super().__init__()
        if num_states < 2 or length < 1:
            raise ValueError(f"need num_states >= 2 and length >= 1, got {num_states} and {length}")
        if channels < 1 or depth < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"need channels >= 1, depth >= 1 and an odd kernel_size; got {channels}, {depth}, {kernel_size}"
            )
        self.num_states = num_states
        self.length = length
        self.inp = nn.Conv1d(num_states, channels, 1)
        self.position = nn.Parameter(torch.zeros(channels, length))
        self.blocks = nn.ModuleList(_Block(channels, kernel_size) for _ in range(depth))
        self.out = nn.Conv1d(channels, num_states, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        check_one_hot_shape(x, self.num_states, self.length)
        features = time_features(s, x.shape[0]).to(x)
        h = self.inp(x) + self.position
        for block in self.blocks:
            h = block(h, features)
        return self.out(h)
