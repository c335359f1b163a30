"""The controlled SDE that fine-tuning simulates, in torchsde's form."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .corrections import DriftCorrection
from .frozen import FrozenDrift
from .reference import ReferenceSDE


class ControlledSDE(nn.Module):
    """The reference SDE plus a control, with its running cost as an extra state.

    On the flat state ``y = [x, c]`` of shape ``(batch, D + 1)``:

        dx = (f(t, x) + σ(t)·a(t, x)) dt + σ(t) dW,    dc = ½‖a(t, x)‖² dt,

    so one solve returns ``x_T`` and ``c_T = ∫½‖a‖²dt``, the Girsanov estimate of
    KL(P^u ‖ P^ref) given the start. The noise is diagonal; since σ does not depend
    on ``x``, the Itô and Stratonovich readings coincide; :func:`rewardsde.solve`
    declares whichever its solver needs.

    With ``previous=True`` (SEIKO) a frozen snapshot ``a_prev`` of the correction
    (:class:`rewardsde.FrozenDrift`, refreshed by :meth:`freeze_previous`) adds a
    second cost state, ``y = [x, c, c_prev]`` with ``dc_prev = ½‖a - a_prev‖² dt``:
    the Girsanov estimate of KL(P^u ‖ P^prev) given the start.

    Args:
        reference: the pretrained (or auxiliary) SDE.
        correction: the learned control; it is attached to ``reference`` here.
        checkpoint: recompute each network call in the backward pass instead of
            storing its activations (only matters for the ``direct`` back end).
        previous: also track the running cost to a frozen previous control.
    """

    noise_type = "diagonal"

    def __init__(
        self, reference: ReferenceSDE, correction: DriftCorrection, checkpoint: bool = False, previous: bool = False
    ) -> None:
        super().__init__()
        self.reference = reference
        self.correction = correction
        self.checkpoint = checkpoint
        correction.attach(reference)
        self.previous = FrozenDrift(correction) if previous else None
        self.cost_states = 2 if previous else 1
        mask = torch.ones(reference.event_size + self.cost_states)
        mask[reference.event_size :] = 0.0
        self.register_buffer("noise_mask", mask, persistent=False)

    def freeze_previous(self) -> None:
        """Make ``a_prev`` the current control (the start of a SEIKO round)."""
        if self.previous is None:
            raise ValueError("this ControlledSDE was built without previous=True; it has no previous control")
        self.previous.update(self.correction)

    def f(self, t: Tensor, y: Tensor) -> Tensor:
        return self._drift(t, y, self.reference.diffusion(t))

    def g(self, t: Tensor, y: Tensor) -> Tensor:
        """``σ(t)`` on the sample's coordinates and 0 on the costs' (an expanded view of one row)."""
        return (self.reference.diffusion(t) * self.noise_mask).expand_as(y)

    def f_and_g(self, t: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """``(f(t, y), g(t, y))`` with ``σ(t)`` computed once (torchsde and our loop use it)."""
        sigma = self.reference.diffusion(t)
        return self._drift(t, y, sigma), (sigma * self.noise_mask).expand_as(y)

    def _drift(self, t: Tensor, y: Tensor, sigma: Tensor) -> Tensor:
        x = y[:, : self.reference.event_size].reshape(y.shape[0], *self.reference.event_shape)
        if self.checkpoint and torch.is_grad_enabled():
            drift, control = checkpoint(self.correction, t, x, use_reentrant=False)
        else:
            drift, control = self.correction(t, x)
        control = control.flatten(1)
        drift = torch.addcmul(drift.flatten(1), sigma, control)
        costs = [0.5 * control.pow(2).sum(dim=1, keepdim=True)]
        if self.previous is not None:
            gap = control - self.previous(t, x).flatten(1)
            costs.append(0.5 * gap.pow(2).sum(dim=1, keepdim=True))
        return torch.cat([drift, *costs], dim=1)
