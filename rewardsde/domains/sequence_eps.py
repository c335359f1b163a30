"""A small 1-D convolutional ε-network for one-hot sequences."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from ..nets import TIME_FEATURES, time_features
from ..schedule import VPSchedule
from .onehot import check_one_hot_shape

FORMAT = "rewardsde.SequenceEps"
CONFIG = "config.json"
WEIGHTS = "model.safetensors"


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
    :meth:`save_pretrained` writes it with its VP schedule to a directory that
    :class:`rewardsde.domains.SequenceSDE` loads.

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
        self.config = {
            "num_states": num_states, "length": length, "channels": channels, "depth": depth, "kernel_size": kernel_size
        }
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

    def save_pretrained(
        self, directory: str | Path, schedule: VPSchedule, s_min: float = 1e-3, metadata: dict | None = None
    ) -> None:
        """Write ``directory/config.json`` and ``directory/model.safetensors``.

        ``config.json`` holds the constructor arguments (``"network"``), the VP
        schedule (``"schedule"``: ``beta_min``, ``beta_max``, ``kind``), ``"s_min"``
        and ``"metadata"``: what the data were (e.g. the Ehrlich instance or the
        SELFIES alphabet), a JSON-serialisable dict or ``None``.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "format": FORMAT,
            "network": self.config,
            "schedule": {"beta_min": schedule.beta_min, "beta_max": schedule.beta_max, "kind": schedule.kind},
            "s_min": float(s_min),
            "metadata": metadata or {},
        }
        (directory / CONFIG).write_text(json.dumps(config, indent=2))
        state = {name: value.detach().cpu().contiguous() for name, value in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS))
