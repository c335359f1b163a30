"""The exact optimal control of a Gaussian-mixture prior tilted by a linear reward."""

from __future__ import annotations

import torch
from torch import Tensor

from ..corrections import DriftCorrection
from ..reference import ReferenceSDE
from .priors import GaussianMixturePrior
from .rewards import QuadraticForm


class OptimalMixtureControl(DriftCorrection):
    """``a*(t, x) = σ(t)·∇v*_t(x)/α`` for :class:`GaussianMixturePrior` and ``r(x) = bᵀx``.

    The soft value ``exp(v*_t(x)/α) = E[exp(bᵀx_T/α) | x_t = x]`` is closed form:
    with ``ρ = ᾱ(s)/ᾱ(s_min)``, the end ``x_T ~ p_{s_min} = Σ w_k N(m_k, v_k I)`` is
    seen through ``x = √ρ·x_T + √(1-ρ)·ξ``, so given ``x`` it is a mixture with
    responsibilities ``π_k(x) ∝ w_k N(x; √ρ m_k, (ρv_k + 1 - ρ)I)`` and component
    posteriors ``N(μ_k(x), c_k I)``, ``c_k = (1/v_k + ρ/(1-ρ))⁻¹``,
    ``μ_k(x) = c_k (m_k/v_k + √ρ x/(1-ρ))``. Hence

        v*_t(x)/α = log Σ_k π_k(x)·exp(bᵀμ_k(x)/α + c_k‖b‖²/(2α²)).

    It has no parameters: it is the answer that a learned correction should reach,
    and it checks the solver and the exact target independently of any training.
    """

    def __init__(self, reward: QuadraticForm, alpha: float) -> None:
        super().__init__()
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        if reward.a.abs().max() > 0:
            raise ValueError("OptimalMixtureControl is exact for linear rewards only; this reward has curvature")
        self.reward = reward
        self.alpha = float(alpha)

    def attach(self, reference: ReferenceSDE) -> None:
        if not isinstance(reference, GaussianMixturePrior):
            raise ValueError(f"OptimalMixtureControl needs a GaussianMixturePrior, got {type(reference).__name__}")
        super().attach(reference)

    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        prior: GaussianMixturePrior = self.reference
        exact = prior.network
        schedule, alpha = prior.schedule, self.alpha
        b = self.reward.b.to(x)
        s = 1.0 - t
        s_min = torch.as_tensor(prior.s_min).to(x)
        end_bar = schedule.alpha_bar(s_min)
        log_rho = schedule.log_alpha_bar(s) - schedule.log_alpha_bar(s_min)
        rho = log_rho.exp()
        gap = (-torch.expm1(log_rho)).clamp_min(1e-12)
        means = end_bar.sqrt() * exact.means
        variances = end_bar * exact.variances + 1 - end_bar
        marginal = rho * variances + gap
        diff = x[:, None, :] - rho.sqrt() * means
        logits = exact.log_weights - 0.5 * (diff.pow(2).sum(-1) / marginal + x.shape[1] * marginal.log())
        grad_logits = -diff / marginal[:, None]
        post_var = 1.0 / (1.0 / variances + rho / gap)
        post_mean = post_var[:, None] * (means / variances[:, None] + rho.sqrt() * x[:, None, :] / gap)
        tilted = logits + post_mean @ b / alpha + 0.5 * post_var * (b @ b) / alpha**2
        grad_tilted = grad_logits + (post_var * rho.sqrt() / gap)[:, None] * b / alpha
        prior_weights = torch.softmax(logits, dim=1)[:, :, None]
        tilted_weights = torch.softmax(tilted, dim=1)[:, :, None]
        grad_value = (tilted_weights * grad_tilted).sum(1) - (prior_weights * grad_logits).sum(1)
        return prior.drift(t, x), prior.diffusion(t) * grad_value
