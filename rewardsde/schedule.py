"""Variance-preserving (VP) noise schedules in continuous diffusion time.

Diffusion time ``s`` runs from data (``s = 0``) to noise (``s = 1``). The VP
forward process ``dx = -½β(s)x ds + √β(s) dB`` gives

    x_s = √ᾱ(s)·x_0 + σ_s·ε,   ᾱ(s) = exp(-∫_0^s β),   σ_s² = 1 - ᾱ(s).

A linear schedule has ``β(s) = β_min + s(β_max - β_min)``. A diffusers
``DDPMScheduler`` with ``N`` training steps and linear betas from ``b_0`` to
``b_1`` is its discretisation with ``β_min = N·b_0`` and ``β_max = N·b_1``
(1e-4 … 0.02 over 1000 steps gives 0.1 … 20). Stable Diffusion's
``"scaled_linear"`` betas are linear in √β: ``β(s) = (√β_min + s(√β_max - √β_min))²``.
"""

from __future__ import annotations

import torch
from torch import Tensor


KINDS = ("linear", "scaled_linear")


class VPSchedule:
    """VP schedule on ``s ∈ [0, 1]``, linear in β or in √β.

    Args:
        beta_min: β at ``s = 0``; positive.
        beta_max: β at ``s = 1``; at least ``beta_min``.
        kind: ``"linear"`` (``β`` linear in ``s``) or ``"scaled_linear"``
            (``√β`` linear in ``s``), the two diffusers names.

    Example:
        >>> schedule = VPSchedule(0.1, 20.0)
        >>> schedule.sigma(torch.tensor([1.0]))  # ≈ 1: pure noise at s = 1
        tensor([1.0000])
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, kind: str = "linear") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if not beta_min > 0:
            raise ValueError(f"beta_min must be positive, got {beta_min}")
        if not beta_max >= beta_min:
            raise ValueError(f"beta_max ({beta_max}) must be at least beta_min ({beta_min})")
        self.beta_min = float(beta_min)
        self.beta_max = float(beta_max)
        self.kind = kind

    @classmethod
    def from_diffusers(cls, scheduler) -> "VPSchedule":
        """The continuous limit of a diffusers scheduler (or its config).

        ``beta_schedule`` must be ``"linear"`` or ``"scaled_linear"``; others
        (``"squaredcos_cap_v2"``, …) raise ``ValueError`` rather than being
        silently approximated.
        """
        config = getattr(scheduler, "config", scheduler)
        kind = config["beta_schedule"] if isinstance(config, dict) else config.beta_schedule
        get = (lambda k: config[k]) if isinstance(config, dict) else (lambda k: getattr(config, k))
        if kind not in KINDS:
            raise ValueError(f"beta_schedule={kind!r} is not supported; use one of {KINDS}")
        steps = get("num_train_timesteps")
        return cls(get("beta_start") * steps, get("beta_end") * steps, kind)

    def to_diffusers_config(self, num_train_timesteps: int = 1000) -> dict:
        """The ``DDPMScheduler`` arguments whose continuous limit is this schedule."""
        return {
            "num_train_timesteps": num_train_timesteps,
            "beta_start": self.beta_min / num_train_timesteps,
            "beta_end": self.beta_max / num_train_timesteps,
            "beta_schedule": self.kind,
        }

    def beta(self, s: Tensor) -> Tensor:
        """β(s), same shape as ``s``."""
        if self.kind == "linear":
            return self.beta_min + s * (self.beta_max - self.beta_min)
        root_min, root_max = self.beta_min**0.5, self.beta_max**0.5
        return (root_min + s * (root_max - root_min)) ** 2

    def log_alpha_bar(self, s: Tensor) -> Tensor:
        """log ᾱ(s) = -∫_0^s β.

        Linear: ``-(β_min·s + ½(β_max - β_min)·s²)``. Scaled linear, with
        ``a = √β_min`` and ``d = √β_max - √β_min``: ``-(a²s + a·d·s² + d²s³/3)``.
        """
        if self.kind == "linear":
            return -(self.beta_min * s + 0.5 * (self.beta_max - self.beta_min) * s**2)
        a = self.beta_min**0.5
        d = self.beta_max**0.5 - a
        return -(a * a * s + a * d * s**2 + d * d * s**3 / 3.0)

    def alpha_bar(self, s: Tensor) -> Tensor:
        """ᾱ(s), the signal fraction of the variance at time ``s``."""
        return torch.exp(self.log_alpha_bar(s))

    def sigma(self, s: Tensor) -> Tensor:
        """σ_s = √(1 - ᾱ(s)), the noise standard deviation at time ``s``."""
        return torch.sqrt(-torch.expm1(self.log_alpha_bar(s)))

    def __repr__(self) -> str:
        return f"VPSchedule(beta_min={self.beta_min}, beta_max={self.beta_max}, kind={self.kind!r})"
