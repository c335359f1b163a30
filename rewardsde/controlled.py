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
        # Plain attributes read once per drift call (a submodule's attribute costs a ``__getattr__``).
        self._size, self._shape = reference.event_size, tuple(reference.event_shape)
        mask = torch.ones(self._size + self.cost_states)
        mask[self._size :] = 0.0
        self.register_buffer("noise_mask", mask, persistent=False)
        # The drift's coordinates as they are, the costs' halved: ½‖a‖² with one multiply per call.
        self.register_buffer("drift_row", (1.0 + mask) / 2, persistent=False)

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
        f, sigma = self.f_and_sigma(t, y)
        return f, (sigma * self.noise_mask).expand_as(y)

    def f_and_sigma(self, t: Tensor, y: Tensor, row: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(f(t, y)·row, σ(t))``: the drift, scaled per coordinate by ``row`` (default
        :attr:`drift_row`, which halves the costs' squares), and the diffusion's one value
        at ``t`` (``g`` is ``σ`` times the mask). A solver in rescaled time passes its own row."""
        sigma = self.reference.diffusion(t)
        return self._drift(t, y, sigma, row), sigma

    def _drift(self, t: Tensor, y: Tensor, sigma: Tensor, row: Tensor | None = None) -> Tensor:
        x = y[:, : self._size]
        if len(self._shape) != 1:
            x = x.reshape(y.shape[0], *self._shape)
        if self.checkpoint and torch.is_grad_enabled():
            drift, control = checkpoint(self.correction, t, x, use_reentrant=False)
        else:
            drift, control = self.correction(t, x)
        control = control.flatten(1)
        drift = torch.addcmul(drift.flatten(1), sigma, control)
        squares = [control.square().sum(dim=1, keepdim=True)]
        if self.previous is not None:
            gap = control - self.previous(t, x).flatten(1)
            squares.append(gap.square().sum(dim=1, keepdim=True))
        # [f + σa, ‖a‖², …]·row: the costs' ½ (and a solver's time scale) in one multiply.
        return torch.cat([drift, *squares], dim=1).mul_(self.drift_row if row is None else row)
