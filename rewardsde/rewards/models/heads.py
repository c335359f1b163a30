"""Several small networks evaluated together: the members of a reward ensemble."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class Heads(nn.Module):
    """``H`` independent MLPs ``R^F → R``, run at once with batched matrix products.

    Head ``h`` is ``g_h(z) = w_hᵀ φ_h(z) + b_h`` with last-layer features
    ``φ_h(z) ∈ R^W`` from ``depth`` hidden layers of width ``W = hidden`` and SiLU.

    Args:
        heads: ``H``.
        in_features: ``F``, the width of the inputs.
        hidden: ``W``.
        depth: number of hidden layers.
    """

    def __init__(self, heads: int, in_features: int, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        if heads < 1 or in_features < 1 or hidden < 1 or depth < 1:
            raise ValueError(
                f"heads ({heads}), in_features ({in_features}), hidden ({hidden}) and depth ({depth}) must be positive"
            )
        widths = [in_features] + [hidden] * depth + [1]
        self.weights = nn.ParameterList(nn.Parameter(torch.empty(heads, a, b)) for a, b in zip(widths, widths[1:]))
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(heads, 1, b)) for b in widths[1:])
        self.reset(torch.Generator().manual_seed(0))

    @property
    def count(self) -> int:
        return self.weights[0].shape[0]

    @property
    def width(self) -> int:
        """``W``, the width of the last-layer features ``φ_h``."""
        return self.weights[-1].shape[1]

    def output_layer(self) -> tuple[nn.Parameter, nn.Parameter]:
        """The last layer's weight ``(H, W, 1)`` and bias ``(H, 1, 1)``: ``g_h = w_hᵀ φ_h + b_h``."""
        return self.weights[-1], self.biases[-1]

    @torch.no_grad()
    def reset(self, generator: torch.Generator) -> None:
        """Draw every weight and bias from ``U(-1/√fan_in, 1/√fan_in)`` with ``generator``."""
        for weight, bias in zip(self.weights, self.biases):
            bound = 1.0 / math.sqrt(weight.shape[1])
            for tensor in (weight, bias):
                draw = torch.rand(tensor.shape, generator=generator, dtype=torch.float64)
                tensor.copy_((2 * draw - 1) * bound)

    def features(self, z: Tensor) -> Tensor:
        """``φ_h(z)``: ``(H, n, W)`` for ``z`` of shape ``(n, F)`` (shared) or ``(H, n, F)`` (one per head)."""
        h = z.expand(self.count, *z.shape) if z.dim() == 2 else z
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            h = nn.functional.silu(torch.matmul(h, weight) + bias)
        return h

    def forward(self, z: Tensor) -> Tensor:
        """``g_h(z)``: ``(H, n)``."""
        return (torch.matmul(self.features(z), self.weights[-1]) + self.biases[-1]).squeeze(-1)
