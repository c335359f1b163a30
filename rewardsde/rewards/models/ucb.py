"""UCB: an exploration bonus from last-layer Bayesian linear regression."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import RewardModel


class UCBReward(RewardModel):
    """``r̂(x) + ĝ(x)`` with ``ĝ(x) = min(C·(1/H) Σ_h √(φ_h(x)ᵀ Σ_h⁻¹ φ_h(x)), clip)``.

    ``φ_h`` are head ``h``'s last-layer features and ``Σ_h = Φ_hᵀΦ_h + λI`` sums
    over every labelled sample (``Φ_h`` is ``(n, W)``). The sum is not normalised
    by ``n``, so the bonus shrinks as labels accumulate: it is the posterior
    standard deviation of Bayesian linear regression on ``φ_h`` with prior
    ``N(0, I/λ)`` and unit noise, times ``C`` (in reward units).

    Args:
        c: ``C``, the width of the confidence bound.
        lam: ``λ > 0``, the prior precision.
        clip: the largest bonus; ``None``: unclipped.
        kwargs: see :class:`RewardModel`.
    """

    def __init__(self, c: float = 1.0, lam: float = 1.0, clip: float | None = None, **kwargs) -> None:
        if not c >= 0 or not lam > 0 or (clip is not None and not clip >= 0):
            raise ValueError(f"need c >= 0, lam > 0 and clip >= 0 or None; got c={c}, lam={lam}, clip={clip}")
        super().__init__(**kwargs)
        self.c, self.lam, self.clip = float(c), float(lam), clip

    def on_build(self) -> None:
        width = self.heads.width
        eye = torch.eye(width).expand(self.head_count, width, width)
        self.register_buffer("covariance_inverse", eye.clone() / self.lam)

    def set_design(self, z: Tensor) -> None:
        """``Σ_h⁻¹`` from the labelled features ``z (n, F)``: ``(Φ_hᵀΦ_h + λI)⁻¹``."""
        phi = self.heads.features(z.to(self.covariance_inverse)).double()
        eye = torch.eye(self.heads.width, dtype=torch.float64, device=phi.device)
        precision = phi.transpose(1, 2) @ phi + self.lam * eye
        self.covariance_inverse.copy_(torch.linalg.inv(precision))

    def after_fit(self, z: Tensor, generator: torch.Generator) -> None:
        self.set_design(z)

    def bonus(self, x: Tensor) -> Tensor:
        phi = self.heads.features(self.featurize(x))
        quadratic = torch.einsum("hni,hij,hnj->hn", phi, self.covariance_inverse.to(phi), phi)
        bonus = self.c * quadratic.clamp_min(1e-12).sqrt().mean(0)
        return bonus if self.clip is None else bonus.clamp(max=self.clip)
