"""Scaled Brownian motion as a reference SDE: the reference of the learned initial law."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .reference import ReferenceSDE

if TYPE_CHECKING:
    from .analytic import GaussianMixture, QuadraticForm, TiltedMixture


class BrownianPrior(ReferenceSDE):
    """``dx = √c dW`` on ``t ∈ [0, 1]`` from ``x_0 ~ N(0, s²I)``; ``x_1 ~ N(0, (s² + c)I)``.

    With ``s = 0`` every path starts at the origin and ends at ``N(0, cI)``: the
    auxiliary control problem of :class:`rewardsde.LearnedInitialLaw` uses that
    (with ``c = 1``) to sample the initial law.

    With ``s > 0`` the end keeps a memory of the start (``Cov(x_0, x_1) = s²I``),
    so fine-tuning with the initial law fixed at ν_ini is biased. For
    ``r(x) = bᵀx`` the target is ``N((s² + c)b/α, (s² + c)I)``, while the optimal
    drift from a fixed start only reaches mean ``c·b/α`` (docs/concepts.md, "Why the initial law is learned").

    Args:
        dim: dimension ``D`` of the samples, shape ``(D,)``.
        c: diffusion rate; positive.
        initial_std: ``s``; non-negative.
    """

    def __init__(self, dim: int, c: float = 1.0, initial_std: float = 1.0) -> None:
        if not c > 0:
            raise ValueError(f"c must be positive, got {c}")
        if not initial_std >= 0:
            raise ValueError(f"initial_std must be non-negative, got {initial_std}")
        super().__init__((dim,), t0=0.0, t1=1.0)
        self.c = float(c)
        self.initial_std = float(initial_std)

    def drift(self, t: Tensor, x: Tensor) -> Tensor:
        return torch.zeros_like(x)

    def diffusion(self, t: Tensor) -> Tensor:
        return self._anchor.new_tensor(self.c).sqrt()

    def sample_initial(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.initial_std * super().sample_initial(n, generator)

    def terminal_law(self) -> GaussianMixture:
        """The exact law of ``x_1``: ``N(0, (s² + c)I)``."""
        from .analytic.mixture import GaussianMixture

        dim = self.event_shape[0]
        variance = self.initial_std**2 + self.c
        return GaussianMixture(torch.ones(1), torch.zeros(1, dim), variance * torch.eye(dim)[None])

    def tilted(self, reward: QuadraticForm, alpha: float) -> TiltedMixture:
        """The exact fine-tuning target ``∝ p_pre·exp(r/α)``."""
        return self.terminal_law().tilted(reward, alpha)
