"""The reference (pretrained) process that fine-tuning is regularised towards.

A reference SDE on generation time ``t ∈ [t0, t1]`` (noise at ``t0``, data at ``t1``)

    dx_t = f(t, x_t) dt + σ(t) dW_t,    x_{t0} ~ ν_ini,

with a diffusion coefficient σ(t) that does not depend on ``x``. Samples have an
arbitrary ``event_shape`` (a vector, an image, a one-hot sequence); flattening
for torchsde happens in :class:`rewardsde.ControlledSDE`, never here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import Tensor, nn


class ReferenceSDE(nn.Module, ABC):
    """The contract of a reference SDE: subclasses define :meth:`drift` and :meth:`diffusion`.

        dx_t = f(t, x_t) dt + σ(t) dW_t,    x_{t0} ~ ν_ini = N(0, I),    t ∈ [t0, t1],

    with ``x`` of shape ``(batch, *event_shape)``, ``f(t, x)`` of the shape of
    ``x`` and ``σ(t)`` a scalar tensor (diagonal noise, the same for every
    coordinate and sample). A subclass with another ν_ini overrides
    :meth:`sample_initial`.

    Attributes:
        event_shape: shape of one sample, e.g. ``(2,)`` or ``(1, 8, 8)``.
        t0, t1: the generation-time interval.
        preferred_method: the torchsde solver :func:`rewardsde.solve` uses when
            none is named. Reversible Heun (the default here) makes adjoint
            gradients exact up to floating point, but it does not damp errors, so
            stiff drifts (VP models) override it.
    """

    preferred_method = "reversible_heun"

    def __init__(self, event_shape: tuple[int, ...], t0: float, t1: float) -> None:
        super().__init__()
        event_shape = tuple(int(d) for d in event_shape)
        if not event_shape or any(d < 1 for d in event_shape):
            raise ValueError(f"event_shape must be a non-empty tuple of positive sizes, got {event_shape}")
        if not t1 > t0:
            raise ValueError(f"t1 ({t1}) must be greater than t0 ({t0})")
        self.event_shape = event_shape
        self.t0 = float(t0)
        self.t1 = float(t1)
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    @property
    def event_size(self) -> int:
        """Number of scalars in one sample, ``prod(event_shape)``."""
        return int(torch.Size(self.event_shape).numel())

    @property
    def device(self) -> torch.device:
        """Where the SDE's tensors live (follows ``.to(...)``)."""
        return self._anchor.device

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the SDE's tensors (follows ``.to(...)``)."""
        return self._anchor.dtype

    @abstractmethod
    def drift(self, t: Tensor, x: Tensor) -> Tensor:
        """f(t, x) for a scalar time ``t`` and ``x`` of shape ``(batch, *event_shape)``; same shape out."""

    @abstractmethod
    def diffusion(self, t: Tensor) -> Tensor:
        """σ(t) for a scalar time ``t``, a scalar tensor."""

    def sample_initial(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` draws from ν_ini = N(0, I), shape ``(n, *event_shape)``."""
        return torch.randn((n, *self.event_shape), generator=generator, device=self.device, dtype=self.dtype)

    def for_sampling(self) -> AbstractContextManager:
        """A block in which the drift is the one to sample with, if that differs from training.

        The default changes nothing; a latent diffusion model that applies
        classifier-free guidance only at sampling time switches it on here.
        """
        return nullcontext()
