"""Small networks for vector-valued tasks: controls, values and ε-networks."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

FREQUENCIES = 8
TIME_FEATURES = 2 * FREQUENCIES + 1


def time_features(t: Tensor, batch: int) -> Tensor:
    """Sinusoidal features of a time in [0, 1]: ``(batch, TIME_FEATURES)``."""
    t = torch.as_tensor(t).reshape(-1, 1).expand(batch, 1)
    frequencies = math.pi * torch.arange(1, FREQUENCIES + 1, device=t.device, dtype=t.dtype)
    angles = t * frequencies
    return torch.cat([t, torch.sin(angles), torch.cos(angles)], dim=1)


class MLP(nn.Module):
    """``x ↦ y`` on flattened inputs, optionally conditioned on a time ``t ∈ [0, 1]``.

    Args:
        in_features: size of a flattened input.
        out_features: size of the flattened output.
        hidden: width of the hidden layers.
        depth: number of hidden layers.
        timed: whether :meth:`forward` takes a time and appends sinusoidal features of it.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: int = 64,
        depth: int = 2,
        timed: bool = True,
    ) -> None:
        super().__init__()
        if depth < 1 or hidden < 1:
            raise ValueError(f"hidden ({hidden}) and depth ({depth}) must be at least 1")
        self.timed = timed
        width = in_features + (TIME_FEATURES if timed else 0)
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: Tensor, t: Tensor | None = None) -> Tensor:
        """``y`` of shape ``(batch, out_features)`` for ``x`` of shape ``(batch, ...)`` with
        ``in_features`` scalars per row, and ``t`` a scalar or ``(batch,)`` when ``timed``."""
        h = x.flatten(1)
        if self.timed:
            h = torch.cat([h, time_features(t, h.shape[0]).to(h)], dim=1)
        return self.head(self.body(h))
