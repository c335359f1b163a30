"""The exact optimal control of a Gaussian-mixture prior tilted by a linear or isotropic quadratic reward."""

from __future__ import annotations

import torch
from torch import Tensor

from ..corrections import DriftCorrection
from ..reference import ReferenceSDE
from .priors import GaussianMixturePrior
from .rewards import QuadraticForm


class OptimalMixtureControl(DriftCorrection):
    """``a*(t, x) = σ(t)·∇v*_t(x)/α`` for :class:`GaussianMixturePrior` and ``r(x) = bᵀx - ½a‖x‖² + c``.

    The soft value ``exp(v*_t(x)/α) = E[exp(r(x_T)/α) | x_t = x]`` is closed form:
    with ``ρ = ᾱ(s)/ᾱ(s_min)``, the end ``x_T ~ p_{s_min} = Σ w_k N(m_k, v_k I)`` is
    seen through ``x = √ρ·x_T + √(1-ρ)·ξ``, so given ``x`` it is a mixture with
    responsibilities ``π_k(x) ∝ w_k N(x; √ρ m_k, (ρv_k + 1 - ρ)I)`` and component
    posteriors ``N(μ_k(x), c_k I)``, ``c_k = (1/v_k + ρ/(1-ρ))⁻¹``,
    ``μ_k(x) = c_k (m_k/v_k + √ρ x/(1-ρ))``. Tilting ``N(μ, cI)`` by ``exp(r/α)``
    gives ``N(μ', c'I)`` with ``1/c' = 1/c + a/α`` and ``μ' = c'(μ/c + b/α)``, so

        v*_t(x)/α = log Σ_k π_k(x)·exp(D/2·log(c'_k/c_k) + ‖μ'_k‖²/(2c'_k) - ‖μ_k‖²/(2c_k)) + c/α,

    whose gradient in ``x`` is ``Σ_k π*_k (∇log π_k + √ρ/(1-ρ)·(μ'_k - μ_k))`` with
    ``π*`` the tilted responsibilities (``∇μ_k = c_k√ρ/(1-ρ)·I``). For ``a = 0`` the
    exponent is ``bᵀμ_k/α + c_k‖b‖²/(2α²)``.

    It has no parameters: it is the answer that a learned correction should reach,
    and it checks the solver and the exact target independently of any training.

    Args:
        reward: a :class:`QuadraticForm` whose curvature ``A`` is ``a·I`` with ``a ≥ 0``.
        alpha: the KL weight, positive.
    """

    def __init__(self, reward: QuadraticForm, alpha: float) -> None:
        super().__init__()
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        curvature = reward.a.detach().double().cpu()
        a = curvature[0, 0]
        if not torch.allclose(curvature, a * torch.eye(curvature.shape[0], dtype=torch.float64)) or a < 0:
            raise ValueError(
                "OptimalMixtureControl is exact for rewards of curvature a·I with a >= 0 (linear or isotropic "
                f"quadratic); this reward has curvature {curvature.tolist()}"
            )
        self.reward = reward
        self.alpha = float(alpha)
        self.curvature = float(a)

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
        tilt_var = 1.0 / (1.0 / post_var + self.curvature / alpha)
        tilt_mean = tilt_var[:, None] * (post_mean / post_var[:, None] + b / alpha)
        tilted = logits + (
            0.5 * x.shape[1] * (tilt_var / post_var).log()
            + 0.5 * tilt_mean.pow(2).sum(-1) / tilt_var
            - 0.5 * post_mean.pow(2).sum(-1) / post_var
        )
        grad_tilted = grad_logits + (rho.sqrt() / gap) * (tilt_mean - post_mean)
        prior_weights = torch.softmax(logits, dim=1)[:, :, None]
        tilted_weights = torch.softmax(tilted, dim=1)[:, :, None]
        grad_value = (tilted_weights * grad_tilted).sum(1) - (prior_weights * grad_logits).sum(1)
        return prior.drift(t, x), prior.diffusion(t) * grad_value
