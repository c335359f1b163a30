"""Several small dilated 1-D CNNs evaluated together: the members of a reward ensemble on sequences."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional

POOLS = ("max", "mean")


class CNNHeads(nn.Module):
    """``H`` independent dilated 1-D CNNs ``R^{C×L} → R``, run at once with grouped convolutions.

    The input is a sequence of ``L`` positions with ``C`` channels (the ``V`` states of a
    one-hot or simplex code), given flattened as ``z ∈ R^F``, ``F = C·L`` (the layout of
    ``x.flatten(1)`` for ``x`` of shape ``(n, C, L)``). Head ``h`` computes

        u⁰ = z reshaped to (C, L),
        uᵈ = SiLU(conv_{h,d}(uᵈ⁻¹)),   d = 1..D,  kernel k, dilation 2^{d-1}, zero "same" padding,
        v⁰ = pool_j u^D[:, j] ∈ R^W   (max or mean over the L positions),
        vᵉ = SiLU(A_{h,e} vᵉ⁻¹ + c_{h,e}),   e = 1..E (``dense`` layers, ``E ≥ 0``),
        φ_h(z) = v^E,   g_h(z) = w_hᵀ φ_h(z) + b_h,

    with ``W = channels`` in every layer. Before pooling each layer is translation
    equivariant (away from the ends); the receptive field is ``1 + (k-1)(2^D - 1)``
    positions, so a motif spread over that many positions can be seen whole. ``φ_h``
    are the last-layer features a UCB bonus uses. Every parameter has a leading
    ``H`` axis, so early stopping can keep each head's own best weights.

    Args:
        heads: ``H``.
        in_shape: ``(C, L)``.
        channels: ``W``.
        depth: number of convolutional layers ``D``.
        kernel_size: ``k`` (odd).
        pool: ``"max"`` or ``"mean"``.
        dense: number of dense layers ``E`` after pooling.
    """

    def __init__(
        self,
        heads: int,
        in_shape: tuple[int, int],
        channels: int = 64,
        depth: int = 3,
        kernel_size: int = 5,
        pool: str = "max",
        dense: int = 0,
    ) -> None:
        super().__init__()
        if len(in_shape) != 2 or min(in_shape) < 1:
            raise ValueError(f"in_shape must be (channels, length) with positive entries, got {tuple(in_shape)}")
        if heads < 1 or channels < 1 or depth < 1 or dense < 0:
            raise ValueError(
                f"heads ({heads}), channels ({channels}) and depth ({depth}) must be positive and dense ({dense}) "
                "non-negative"
            )
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.in_shape = (int(in_shape[0]), int(in_shape[1]))
        self.kernel_size, self.pool = kernel_size, pool
        widths = [self.in_shape[0]] + [channels] * depth
        self.convs = nn.ParameterList(
            nn.Parameter(torch.empty(heads, b, a, kernel_size)) for a, b in zip(widths, widths[1:])
        )
        self.conv_biases = nn.ParameterList(nn.Parameter(torch.empty(heads, b)) for b in widths[1:])
        self.dense = nn.ParameterList(nn.Parameter(torch.empty(heads, channels, channels)) for _ in range(dense))
        self.dense_biases = nn.ParameterList(nn.Parameter(torch.empty(heads, 1, channels)) for _ in range(dense))
        self.weight = nn.Parameter(torch.empty(heads, channels, 1))
        self.bias = nn.Parameter(torch.empty(heads, 1, 1))
        self.reset(torch.Generator().manual_seed(0))

    @property
    def count(self) -> int:
        return self.weight.shape[0]

    @property
    def width(self) -> int:
        """``W``, the width of the last-layer features ``φ_h``."""
        return self.weight.shape[1]

    def output_layer(self) -> tuple[nn.Parameter, nn.Parameter]:
        """The last layer's weight ``(H, W, 1)`` and bias ``(H, 1, 1)``: ``g_h = w_hᵀ φ_h + b_h``."""
        return self.weight, self.bias

    @torch.no_grad()
    def reset(self, generator: torch.Generator) -> None:
        """Draw every weight and bias from ``U(-1/√fan_in, 1/√fan_in)`` with ``generator``
        (``fan_in = C_in·k`` for a convolution, ``W`` for a dense layer)."""
        layers = [(w, b, w.shape[2] * w.shape[3]) for w, b in zip(self.convs, self.conv_biases)]
        layers += [(w, b, w.shape[1]) for w, b in zip(self.dense, self.dense_biases)]
        layers.append((self.weight, self.bias, self.weight.shape[1]))
        for weight, bias, fan_in in layers:
            bound = 1.0 / math.sqrt(fan_in)
            for tensor in (weight, bias):
                draw = torch.rand(tensor.shape, generator=generator, dtype=torch.float64)
                tensor.copy_((2 * draw - 1) * bound)

    def maps(self, z: Tensor) -> Tensor:
        """The last convolution's output before pooling, ``(H, n, W, L)``, for ``z`` of
        shape ``(n, F)`` (shared) or ``(H, n, F)`` (one input per head)."""
        H, (C, L) = self.count, self.in_shape
        if z.dim() not in (2, 3) or z.shape[-1] != C * L or (z.dim() == 3 and z.shape[0] != H):
            raise ValueError(f"expected z of shape (n, {C * L}) or ({H}, n, {C * L}), got {tuple(z.shape)}")
        n = z.shape[-2]
        first, *rest = zip(self.convs, self.conv_biases)
        weight, bias = first
        if z.dim() == 2:  # one input for all heads: one convolution with H·W outputs
            u = functional.conv1d(z.reshape(n, C, L), weight.flatten(0, 1), bias.flatten(), padding="same")
        else:
            grouped = z.reshape(H, n, C, L).transpose(0, 1).reshape(n, H * C, L)
            u = functional.conv1d(grouped, weight.flatten(0, 1), bias.flatten(), padding="same", groups=H)
        u = functional.silu(u)
        for d, (weight, bias) in enumerate(rest, start=1):
            u = functional.conv1d(u, weight.flatten(0, 1), bias.flatten(), padding="same", dilation=2**d, groups=H)
            u = functional.silu(u)
        return u.reshape(n, H, -1, L).transpose(0, 1)

    def features(self, z: Tensor) -> Tensor:
        """``φ_h(z)``: ``(H, n, W)``, the pooled last convolution after the dense layers."""
        u = self.maps(z)
        v = u.amax(-1) if self.pool == "max" else u.mean(-1)
        for weight, bias in zip(self.dense, self.dense_biases):
            v = functional.silu(torch.matmul(v, weight) + bias)
        return v

    def forward(self, z: Tensor) -> Tensor:
        """``g_h(z)``: ``(H, n)``."""
        return (torch.matmul(self.features(z), self.weight) + self.bias).squeeze(-1)
