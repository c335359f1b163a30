"""The denoising score-matching loss of pretraining."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .schedule import VPSchedule

PREDICTIONS = ("eps", "x0")


def has_x0_logits(network) -> bool:
    """Whether ``network`` returns x₀-logits from ``logits(x, s)`` (an ``"x0"``
    :class:`rewardsde.domains.SequenceEps`), which :class:`CrossEntropyDenoisingLoss` trains."""
    return getattr(network, "parameterisation", None) == "x0" and hasattr(network, "logits")


class _Noising:
    """What both pretraining losses share: ``s ~ U(s_min, 1)``, ``ε ~ N(0, I)``,
    ``x_s = √ᾱ(s)·x_0 + σ_s·ε``, and ``SNR(s) = ᾱ/σ²`` for the min-SNR weights."""

    def __init__(self, schedule: VPSchedule, s_min: float, min_snr_gamma: float | None) -> None:
        if not 0 < s_min < 1:
            raise ValueError(f"s_min must lie in (0, 1), got {s_min}")
        if min_snr_gamma is not None and not min_snr_gamma > 0:
            raise ValueError(f"min_snr_gamma must be positive or None, got {min_snr_gamma}")
        self.schedule, self.s_min, self.min_snr_gamma = schedule, s_min, min_snr_gamma

    def snr(self, s: Tensor) -> Tensor:
        """``ᾱ(s)/σ_s²``, ``(batch,)``."""
        return self.schedule.alpha_bar(s) / self.schedule.sigma(s).square()

    def noised(self, x0: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """``(s (batch,), ε, x_s, √ᾱ, σ)``, the last two shaped to broadcast against ``x0``."""
        n = x0.shape[0]
        s = self.s_min + (1.0 - self.s_min) * torch.rand(n, device=x0.device, dtype=x0.dtype, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
        view = (-1,) + (1,) * (x0.dim() - 1)
        root_alpha_bar, sigma = self.schedule.alpha_bar(s).sqrt().view(view), self.schedule.sigma(s).view(view)
        return s, noise, root_alpha_bar * x0 + sigma * noise, root_alpha_bar, sigma


class DenoisingLoss(_Noising):
    """``E_{x_0, s ~ U(s_min, 1), ε ~ N(0, I)} w(s)·‖ε̂(x_s, s) - ε‖²``, ``x_s = √ᾱ(s)·x_0 + σ_s·ε``.

    The weight is ``w = 1``, or with ``min_snr_gamma = γ`` the min-SNR weighting
    (Hang et al. 2023) ``w(s) = min(SNR(s), γ)/SNR(s)``, ``SNR = ᾱ/σ²``. Since
    ``x̂_0 - x_0 = -(σ/√ᾱ)·(ε̂ - ε)``, the same loss reads
    ``min(SNR, γ)·‖x̂_0 - x_0‖²`` in data space: capped where an ``x_0``-space loss
    would weigh ``SNR`` without bound as ``s → 0``.

    ``prediction`` says what the network returns: ``"eps"`` (``ε̂`` itself) or
    ``"x0"`` (``x̂_0``, turned into ``ε̂ = (x_s - √ᾱ·x̂_0)/σ``). The per-sample
    squared error is averaged over the event dimensions.

    Args:
        schedule: the VP schedule.
        s_min: smallest diffusion time trained on, in ``(0, 1)``.
        min_snr_gamma: ``γ``, positive, or ``None`` for ``w = 1``.
        prediction: ``"eps"`` or ``"x0"``.
    """

    def __init__(
        self, schedule: VPSchedule, s_min: float = 1e-3, min_snr_gamma: float | None = None, prediction: str = "eps"
    ) -> None:
        super().__init__(schedule, s_min, min_snr_gamma)
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.prediction = prediction

    def weight(self, s: Tensor) -> Tensor:
        """``w(s)``, ``(batch,)``."""
        if self.min_snr_gamma is None:
            return torch.ones_like(s)
        snr = self.snr(s)
        return snr.clamp(max=self.min_snr_gamma) / snr

    def __call__(
        self, network: Callable[[Tensor, Tensor], Tensor], x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """The loss on data ``x0`` ``(batch, *event_shape)``; ``s`` and ``ε`` drawn from ``generator``."""
        s, noise, x_s, root_alpha_bar, sigma = self.noised(x0, generator)
        output = network(x_s, s)
        if output.shape != x0.shape:
            raise ValueError(f"the network returned shape {tuple(output.shape)} for data of shape {tuple(x0.shape)}")
        eps = output if self.prediction == "eps" else (x_s - root_alpha_bar * output) / sigma
        return ((eps - noise).pow(2).flatten(1).mean(1) * self.weight(s)).mean()


class CrossEntropyDenoisingLoss(_Noising):
    """``E_{x_0, s ~ U(s_min, 1), ε ~ N(0, I)} (1/L)·Σ_j -log softmax_k(h(x_s, s))[y_j, j]``, the
    cross-entropy of continuous diffusion on one-hot data (CDCD, Dieleman et al. 2022).

    The data ``x_0`` are ``(batch, K, L)`` points whose tokens are ``y_j = argmax_k x_0[k, j]``
    (±1 one-hot codes, :func:`rewardsde.domains.one_hot`, or a sampler's end states near them);
    the ±1 code ``c`` of the tokens is noised as ``x_s = √ᾱ(s)·c + σ_s·ε``, and ``h``
    returns per-position logits over the ``K`` states, ``(batch, K, L)`` (e.g.
    :meth:`rewardsde.domains.SequenceEps.logits`). For each ``(x_s, s)`` the loss is minimised
    exactly by the posterior marginals ``softmax_k h = p(y_j = k | x_s)``: the log score is proper.
    The squared x₀-error of :class:`DenoisingLoss` with ``x̂_0 = 2·softmax(h) - 1`` is the Brier
    score ``4·‖softmax(h) - e_y‖²`` of the same posterior, whose gradient in a logit vanishes as
    the predicted probability of the true token goes to 0; the log score's does not.

    Each sample's loss is weighted by ``w(s) = 1``, or with ``min_snr_gamma = γ`` by
    ``w(s) = min(SNR(s), γ)``, ``SNR = ᾱ/σ²``: the weight the min-SNR ε-loss of
    :class:`DenoisingLoss` puts on the x₀-error. It mutes the high-noise times where
    the posterior is the marginal of the tokens and nothing is left to learn.

    Args:
        schedule: the VP schedule.
        s_min: smallest diffusion time trained on, in ``(0, 1)``.
        min_snr_gamma: ``γ``, positive, or ``None`` for ``w = 1``.
    """

    def __init__(self, schedule: VPSchedule, s_min: float = 1e-3, min_snr_gamma: float | None = None) -> None:
        super().__init__(schedule, s_min, min_snr_gamma)

    def weight(self, s: Tensor) -> Tensor:
        """``w(s)``, ``(batch,)``."""
        if self.min_snr_gamma is None:
            return torch.ones_like(s)
        return self.snr(s).clamp(max=self.min_snr_gamma)

    def __call__(
        self, logits: Callable[[Tensor, Tensor], Tensor], x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """The loss on one-hot data ``x0`` ``(batch, K, L)``; ``s`` and ``ε`` drawn from ``generator``."""
        if x0.dim() != 3 or x0.shape[1] < 2:
            raise ValueError(
                f"x0 must be one-hot sequences of shape (batch, num_states >= 2, length), got {tuple(x0.shape)}"
            )
        tokens = x0.argmax(1)
        code = 2.0 * torch.nn.functional.one_hot(tokens, x0.shape[1]).transpose(1, 2).to(x0) - 1.0
        s, _, x_s, _, _ = self.noised(code, generator)
        output = logits(x_s, s)
        if output.shape != x0.shape:
            raise ValueError(f"the network returned shape {tuple(output.shape)} for data of shape {tuple(x0.shape)}")
        log_score = torch.nn.functional.cross_entropy(output, tokens, reduction="none").mean(1)
        return (log_score * self.weight(s)).mean()
