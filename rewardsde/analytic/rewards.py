"""Linear and quadratic rewards, whose tilts of Gaussian mixtures are exact."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


class QuadraticForm(nn.Module):
    """``r(x) = bᵀx - ½xᵀAx + c`` on flattened samples; returns shape ``(batch,)``.

    Args:
        b: ``(D,)`` linear coefficients.
        a: ``(D, D)`` symmetric curvature (zero for a linear reward).
        c: constant offset.
    """

    def __init__(self, b: Tensor, a: Tensor, c: float = 0.0) -> None:
        super().__init__()
        b = torch.as_tensor(b, dtype=torch.get_default_dtype())
        a = torch.as_tensor(a, dtype=torch.get_default_dtype())
        if b.dim() != 1 or a.shape != (b.shape[0], b.shape[0]):
            raise ValueError(f"need b of shape (D,) and a of shape (D, D); got {tuple(b.shape)} and {tuple(a.shape)}")
        if not torch.allclose(a, a.T):
            raise ValueError("the curvature matrix a must be symmetric")
        self.register_buffer("b", b)
        self.register_buffer("a", a)
        self.c = float(c)

    def coefficients(self, dim: int) -> tuple[Tensor, Tensor, float]:
        """``(b, A, c)`` in float64, checked against the sample dimension ``dim``."""
        if self.b.shape[0] != dim:
            raise ValueError(f"reward has dimension {self.b.shape[0]} but the samples have dimension {dim}")
        return self.b.double().cpu(), self.a.double().cpu(), self.c

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        b, a = self.b.to(x), self.a.to(x)
        return x @ b - 0.5 * ((x @ a) * x).sum(dim=1) + self.c


class LinearReward(QuadraticForm):
    """``r(x) = wᵀx``.

    Args:
        weights: the direction and strength ``w`` of the reward, length ``D``.
    """

    def __init__(self, weights: Sequence[float]) -> None:
        weights = torch.as_tensor(weights, dtype=torch.get_default_dtype())
        super().__init__(weights, torch.zeros(weights.shape[0], weights.shape[0]))


class QuadraticReward(QuadraticForm):
    """``r(x) = -½ (x - m)ᵀ A (x - m)``: highest at ``center`` ``m``.

    Args:
        center: the maximiser ``m``, length ``D``.
        curvature: ``A``, a positive number (``A = curvature·I``) or a ``D×D`` matrix.
    """

    def __init__(self, center: Sequence[float], curvature: float | Sequence[Sequence[float]] = 1.0) -> None:
        center = torch.as_tensor(center, dtype=torch.get_default_dtype())
        dim = center.shape[0]
        if isinstance(curvature, (int, float)):
            a = float(curvature) * torch.eye(dim)
        else:
            a = torch.as_tensor(curvature, dtype=torch.get_default_dtype())
        if a.shape != (dim, dim):
            raise ValueError(f"curvature must be a number or a {dim}x{dim} matrix, got shape {tuple(a.shape)}")
        super().__init__(a @ center, a, -0.5 * float(center @ a @ center))
