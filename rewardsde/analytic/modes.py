"""A reward defined only on the prior's modes, whose per-round SEIKO optima are exact."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from .mixture import GaussianMixture


class ModeReward(nn.Module):
    """``r(x) = h_k`` when ``‖x - c_k‖ ≤ ρ``; infeasible (NaN) away from every ball.

    The balls must be disjoint. Since ``r`` is constant on each region (each ball,
    and the infeasible rest, which an :class:`rewardsde.rewards.Oracle` labels with
    its ``infeasible_value``), every KL-regularised optimum is the prior times a
    constant per region, so its reward is a finite sum (:meth:`round_optima`).

    Args:
        centers: ``c_k``, ``K`` rows of length ``D`` (the prior's modes).
        heights: ``h_k``, length ``K``.
        radius: ``ρ > 0``.
    """

    def __init__(self, centers: Sequence[Sequence[float]], heights: Sequence[float], radius: float = 1.0) -> None:
        super().__init__()
        centers = torch.as_tensor(centers, dtype=torch.float64)
        heights = torch.as_tensor(heights, dtype=torch.float64)
        if centers.dim() != 2 or heights.shape != centers.shape[:1]:
            raise ValueError(f"need centers (K, D) and heights (K,), got {tuple(centers.shape)} and {tuple(heights.shape)}")
        if not radius > 0:
            raise ValueError(f"radius must be positive, got {radius}")
        gaps = torch.cdist(centers, centers) + torch.eye(len(centers)) * 1e9
        if (gaps <= 2 * radius).any():
            raise ValueError(f"the balls of radius {radius} around the centers overlap; use a smaller radius")
        self.register_buffer("centers", centers)
        self.register_buffer("heights", heights)
        self.radius = float(radius)

    def forward(self, x: Tensor) -> Tensor:
        """``r(x)``, ``(n,)``, NaN where infeasible."""
        inside = torch.cdist(x.flatten(1).to(self.centers), self.centers) <= self.radius
        value = (inside.to(self.heights) * self.heights).sum(1)
        return torch.where(inside.any(1), value, torch.full_like(value, float("nan"))).to(x.dtype)

    def regions(self, x: Tensor) -> Tensor:
        """The region of each sample: ``k`` inside ball ``k``, ``K`` when infeasible, ``(n,)`` long."""
        inside = torch.cdist(x.flatten(1).to(self.centers), self.centers) <= self.radius
        return torch.where(inside.any(1), inside.long().argmax(1), torch.full_like(inside[:, 0], len(self.centers), dtype=torch.long))

    def region_masses(self, law: GaussianMixture, grid: int = 4000) -> Tensor:
        """``P(‖X - c_k‖ ≤ ρ)`` for ``X ~ law`` (isotropic components, ``D = 2``), ``(K,)``.

        For ``N(m, vI)`` and ``d = ‖m - c‖`` the radius ``R = ‖X - c‖`` has density
        ``(r/v)·exp(-(r² + d²)/(2v))·I₀(rd/v)`` (Rice), integrated on ``[0, ρ]`` with
        Simpson's rule in float64.
        """
        if law.dim != 2:
            raise ValueError(f"region masses are exact for D = 2 only, got D = {law.dim}")
        variances = torch.diagonal(law.covariances, dim1=-2, dim2=-1)[:, 0]
        r = torch.linspace(0, self.radius, 2 * grid + 1, dtype=torch.float64)
        d = torch.cdist(self.centers, law.means)
        v = variances[None, :, None]
        z = r * d[..., None] / v
        density = r / v * torch.exp(-((r - d[..., None]) ** 2) / (2 * v)) * torch.special.i0e(z)
        simpson = torch.ones_like(r)
        simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
        mass = (density * simpson).sum(-1) * (r[1] - r[0]) / 3
        return mass @ law.weights

    def round_optima(
        self, law: GaussianMixture, alpha: float, beta: float, rounds: int, infeasible_value: float
    ) -> Tensor:
        """Expected reward of the exact optimum of each round with the genuine reward, ``(rounds,)``.

        Round ``i`` maximises ``E[r] - α·KL(p ‖ p_pre) - β·KL(p ‖ p_{i-1})`` from
        ``p_0 = p_pre = law``; its optimum is
        ``p_i ∝ exp(r/(α+β))·p_pre^{α/(α+β)}·p_{i-1}^{β/(α+β)} = p_pre·exp(φ_i)`` with
        ``φ_i = (r + β·φ_{i-1})/(α+β)``, ``φ_0 = 0``, constant on each region.
        """
        if not alpha > 0 or not beta >= 0 or rounds < 1:
            raise ValueError(f"need alpha > 0, beta >= 0 and rounds >= 1; got {alpha}, {beta}, {rounds}")
        inside = self.region_masses(law)
        masses = torch.cat([inside, (1 - inside.sum()).clamp_min(0)[None]])
        values = torch.cat([self.heights, self.heights.new_tensor([infeasible_value])])
        phi = torch.zeros_like(values)
        optima = []
        for _ in range(rounds):
            phi = (values + beta * phi) / (alpha + beta)
            weights = torch.softmax(masses.log() + phi, 0)
            optima.append(weights @ values)
        return torch.stack(optima)
