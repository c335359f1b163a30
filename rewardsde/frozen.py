"""A frozen snapshot of a drift correction: the previous round's control."""

from __future__ import annotations

import copy

from torch import Tensor, nn

from .corrections import DriftCorrection


class FrozenDrift(nn.Module):
    """A copy of an attached :class:`DriftCorrection` that never trains.

    SEIKO's β-KL to the previous round, ``KL(P ‖ P^prev) = E∫½‖a - a_prev‖²dt``
    (given the start), needs ``a_prev``: the correction as it was when the round
    began. The copy is made once (a correction refuses a second ``attach``) and
    :meth:`update` overwrites its values, so its ``state_dict`` keys never change
    and a checkpoint taken mid-round restores it.

    The reference SDE is shared with the live correction when the correction's
    parameters live outside it (:class:`rewardsde.NetworkCorrection`); when they
    live inside its network (LoRA adapters), the reference is copied too and its
    state is part of this module.

    Args:
        correction: an attached correction; its current values are the snapshot.
    """

    def __init__(self, correction: DriftCorrection) -> None:
        super().__init__()
        reference = getattr(correction, "reference", None)
        if reference is None:
            raise ValueError(f"this {type(correction).__name__} is not attached to a reference SDE yet")
        inside = any(p.requires_grad for p in reference.parameters())
        self.correction = copy.deepcopy(correction, {} if inside else {id(reference): reference})
        self.reference = self.correction.reference if inside else None
        self.requires_grad_(False)

    @property
    def _parts(self) -> list[nn.Module]:
        return [self.correction] + ([self.reference] if self.reference is not None else [])

    def update(self, correction: DriftCorrection) -> None:
        """Make the snapshot equal to ``correction``'s current values."""
        live = [correction] + ([correction.reference] if self.reference is not None else [])
        for mine, theirs in zip(self._parts, live):
            mine.load_state_dict(theirs.state_dict())

    def forward(self, t: Tensor, x: Tensor) -> Tensor:
        """``a_prev(t, x)``, shaped like ``x``."""
        return self.correction(t, x)[1]
