"""Priors whose terminal laws, and their reward tilts, are known exactly."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ..pretrained import PretrainedSDE
from ..reference import ReferenceSDE
from ..schedule import VPSchedule
from .mixture import GaussianMixture, TiltedMixture
from .rewards import QuadraticForm


class BrownianPrior(ReferenceSDE):
    """``dx = √c dW`` on ``t ∈ [0, 1]`` from ``x_0 ~ N(0, s²I)``; ``x_1 ~ N(0, (s² + c)I)``.

    The end keeps a memory of the start (``Cov(x_0, x_1) = s²I``), so fine-tuning
    with the initial law fixed at ν_ini is biased. For ``r(x) = bᵀx`` the target
    is ``N((s² + c)b/α, (s² + c)I)``, while the optimal drift from a fixed start
    only reaches mean ``c·b/α`` (METHODS.md, section 1).

    Args:
        dim: dimension ``D`` of the samples.
        c: diffusion rate; positive.
        initial_std: ``s``; 0 starts every path at the origin (the auxiliary
            problem of the learned initial law uses that).
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
        dim = self.event_shape[0]
        variance = self.initial_std**2 + self.c
        return GaussianMixture(torch.ones(1), torch.zeros(1, dim), variance * torch.eye(dim)[None])

    def tilted(self, reward: QuadraticForm, alpha: float) -> TiltedMixture:
        """The exact fine-tuning target ``∝ p_pre·exp(r/α)``."""
        return self.terminal_law().tilted(reward, alpha)


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

    def data_law(self) -> GaussianMixture:
        """``p_0``, the mixture the model was built from."""
        return self.network.law_at(torch.zeros((), dtype=torch.float64))

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
