"""Sampling a reference SDE as it is, with no correction."""

from __future__ import annotations

import torch
from torch import Tensor

from .controlled import ControlledSDE
from .corrections import ZeroCorrection
from .reference import ReferenceSDE
from .solve import solve


@torch.no_grad()
def sample_reference(
    reference: ReferenceSDE, n: int, steps: int = 100, method: str | None = None, seed: int | None = None
) -> Tensor:
    """``n`` samples ``(n, *event_shape)`` of the uncorrected ``reference`` from ``x_0 ~ N(0, I)``.

    Args:
        reference: e.g. a :class:`rewardsde.PretrainedSDE`.
        n: number of samples.
        steps: solver steps.
        method: torchsde solver; by default ``reference.preferred_method``.
        seed: seeds both ``x_0`` and the Brownian motion.
    """
    generator = None if seed is None else torch.Generator(device=reference.device).manual_seed(seed)
    x0 = reference.sample_initial(n, generator)
    sde = ControlledSDE(reference, ZeroCorrection())
    return solve(sde, x0, steps, backend="direct", method=method, seed=seed).x
