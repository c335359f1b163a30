"""Small labelled problems for the reward-model tests."""

import torch

SETTINGS = dict(heads=4, hidden=16, epochs=60, patience=60)


def quadratic_labels(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``x ~ N(0, I₂)`` ``(n, 2)`` and ``y = x₁²`` ``(n,)`` in float64."""
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    return x, (x[:, 0] ** 2).double()
