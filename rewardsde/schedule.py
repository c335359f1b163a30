"""Variance-preserving (VP) noise schedules in continuous diffusion time.

Diffusion time ``s`` runs from data (``s = 0``) to noise (``s = 1``). The VP
forward process ``dx = -½β(s)x ds + √β(s) dB`` gives

    x_s = √ᾱ(s)·x_0 + σ_s·ε,   ᾱ(s) = exp(-∫_0^s β),   σ_s² = 1 - ᾱ(s).

A linear schedule has ``β(s) = β_min + s(β_max - β_min)``. A diffusers
``DDPMScheduler`` with ``N`` training steps and linear betas from ``b_0`` to
``b_1`` is its discretisation with ``β_min = N·b_0`` and ``β_max = N·b_1``
(1e-4 … 0.02 over 1000 steps gives 0.1 … 20).
"""

from __future__ import annotations

import torch
from torch import Tensor


class VPSchedule:
    """Linear VP schedule ``β(s) = β_min + s(β_max - β_min)`` on ``s ∈ [0, 1]``.

    Args:
        beta_min: β at ``s = 0``; positive.
        beta_max: β at ``s = 1``; at least ``beta_min``.

    Example:
        >>> schedule = VPSchedule(0.1, 20.0)
        >>> schedule.sigma(torch.tensor([1.0]))  # ≈ 1: pure noise at s = 1
        tensor([1.0000])
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        if not beta_min > 0:
            raise ValueError(f"beta_min must be positive, got {beta_min}")
        if not beta_max >= beta_min:
            raise ValueError(f"beta_max ({beta_max}) must be at least beta_min ({beta_min})")
        self.beta_min = float(beta_min)
        self.beta_max = float(beta_max)

    @classmethod
    def from_diffusers(cls, scheduler) -> "VPSchedule":
        """The continuous limit of a diffusers ``DDPMScheduler`` (or its config).

        Only ``beta_schedule="linear"`` has a linear continuous limit; other
        schedules raise ``ValueError`` rather than being silently approximated.
        """
        config = getattr(scheduler, "config", scheduler)
        kind = config["beta_schedule"] if isinstance(config, dict) else config.beta_schedule
        get = (lambda k: config[k]) if isinstance(config, dict) else (lambda k: getattr(config, k))
        if kind != "linear":
            raise ValueError(
                f"beta_schedule={kind!r} has no linear VP limit; only 'linear' DDPM schedules are supported"
            )
        steps = get("num_train_timesteps")
        return cls(get("beta_start") * steps, get("beta_end") * steps)

    def beta(self, s: Tensor) -> Tensor:
        """β(s), same shape as ``s``."""
        return self.beta_min + s * (self.beta_max - self.beta_min)

    def log_alpha_bar(self, s: Tensor) -> Tensor:
        """log ᾱ(s) = -(β_min·s + ½(β_max - β_min)·s²)."""
        return -(self.beta_min * s + 0.5 * (self.beta_max - self.beta_min) * s**2)

    def alpha_bar(self, s: Tensor) -> Tensor:
        """ᾱ(s), the signal fraction of the variance at time ``s``."""
        return torch.exp(self.log_alpha_bar(s))

    def sigma(self, s: Tensor) -> Tensor:
        """σ_s = √(1 - ᾱ(s)), the noise standard deviation at time ``s``."""
        return torch.sqrt(-torch.expm1(self.log_alpha_bar(s)))

    def __repr__(self) -> str:
        return f"VPSchedule(beta_min={self.beta_min}, beta_max={self.beta_max})"
