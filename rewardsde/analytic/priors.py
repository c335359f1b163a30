"""Priors whose terminal laws, and their reward tilts, are known exactly."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..pretrained import PretrainedSDE
from ..schedule import VPSchedule
from .mixture import GaussianMixture, TiltedMixture
from .rewards import QuadraticForm


class GaussianMixturePrior(PretrainedSDE):
    """A VP diffusion model of an isotropic Gaussian mixture, with its exact score.

    Data ``p_0 = Σ w_k N(μ_k, τ_k² I)`` diffuses to
    ``p_s = Σ w_k N(√ᾱ(s)μ_k, (ᾱ(s)τ_k² + σ_s²) I)``, whose score is known in
    closed form and stands in for a trained ε-network. From ``N(0, I)`` at
    ``s = 1`` the model is nearly memoryless (ᾱ(1) ≈ 4·10⁻⁵ for the default
    schedule), and the terminal law is ``p_{s_min}``.

    Args:
        weights: ``w_k``, length ``K``.
        means: ``μ_k``, ``K`` rows of length ``D``.
        stds: ``τ_k``, length ``K``.
        beta_min, beta_max, s_min: the VP schedule and the stopping time.
    """

    def __init__(
        self,
        weights: Sequence[float],
        means: Sequence[Sequence[float]],
        stds: Sequence[float],
        beta_min: float = 0.1,
        beta_max: float = 20.0,
        s_min: float = 1e-3,
    ) -> None:
        schedule = VPSchedule(beta_min, beta_max)
        network = ExactMixtureEps(weights, means, stds, schedule)
        super().__init__(network, (network.means.shape[1],), schedule, s_min)

    def terminal_law(self) -> GaussianMixture:
        """The exact law at the stopping time, ``p_{s_min}``."""
        return self.network.law_at(torch.tensor(self.s_min, dtype=torch.float64))

    def tilted(self, reward: QuadraticForm, alpha: float) -> TiltedMixture:
        """The exact fine-tuning target ``∝ p_pre·exp(r/α)``."""
        return self.terminal_law().tilted(reward, alpha)


class ExactMixtureEps(nn.Module):
    """``ε(x, s) = -σ_s ∇log p_s(x)`` for an isotropic Gaussian mixture, in closed form."""

    def __init__(self, weights, means, stds, schedule: VPSchedule) -> None:
        super().__init__()
        weights = torch.as_tensor(weights, dtype=torch.get_default_dtype())
        means = torch.as_tensor(means, dtype=torch.get_default_dtype())
        stds = torch.as_tensor(stds, dtype=torch.get_default_dtype())
        if means.dim() != 2 or weights.shape != means.shape[:1] or stds.shape != means.shape[:1]:
            raise ValueError(
                f"need weights (K,), means (K, D) and stds (K,); got {tuple(weights.shape)}, "
                f"{tuple(means.shape)}, {tuple(stds.shape)}"
            )
        if (weights <= 0).any() or (stds <= 0).any():
            raise ValueError("mixture weights and stds must be positive")
        self.register_buffer("log_weights", torch.log(weights / weights.sum()))
        self.register_buffer("means", means)
        self.register_buffer("variances", stds**2)
        self.schedule = schedule

    def law_at(self, s: Tensor) -> GaussianMixture:
        """``p_s`` as a :class:`GaussianMixture`."""
        alpha_bar = self.schedule.alpha_bar(s)
        variances = alpha_bar * self.variances.double() + 1 - alpha_bar
        dim = self.means.shape[1]
        covariances = variances[:, None, None] * torch.eye(dim, dtype=torch.float64)
        return GaussianMixture(self.log_weights.double().exp(), alpha_bar.sqrt() * self.means.double(), covariances)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        alpha_bar = self.schedule.alpha_bar(s)[:, None]
        sigma = self.schedule.sigma(s)[:, None]
        variances = alpha_bar * self.variances + sigma**2
        diff = x[:, None, :] - alpha_bar.sqrt()[:, :, None] * self.means
        log_component = self.log_weights - 0.5 * (diff.pow(2).sum(-1) / variances + x.shape[1] * variances.log())
        responsibility = torch.softmax(log_component, dim=1)
        score = -(responsibility[:, :, None] * diff / variances[:, :, None]).sum(1)
        return -sigma * score
