"""Drift corrections: the learned part of a fine-tuned SDE.

The fine-tuned drift is ``f + u`` with ``u = σ(t)·a(t, x)``; a correction returns
the control ``a`` (the shape of ``x``), whose running cost is ``½‖a‖²``. It also
returns the reference drift ``f`` so that a correction sharing the score network
(LoRA) computes both from the same calls.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

from torch import Tensor, nn

from .nets import MLP
from .reference import ReferenceSDE


class DriftCorrection(nn.Module, ABC):
    """The contract of the learned part of a fine-tuned SDE: subclasses implement :meth:`forward`.

    With the reference ``dx = f(t, x)dt + σ(t)dW``, the fine-tuned SDE is

        dx = (f(t, x) + σ(t)·a(t, x)) dt + σ(t) dW,

    and by Girsanov its KL to the reference, from the same start, is
    ``E∫½‖a(t, x_t)‖²dt``. :meth:`forward` returns ``(f(t, x), a(t, x))``, both of
    the shape ``(batch, *event_shape)`` of ``x``.

    A correction is attached once to the reference SDE it corrects
    (:class:`rewardsde.ControlledSDE` does this), which lets it size itself from
    ``reference.event_shape`` or hook into the reference's network; a subclass
    that needs that overrides :meth:`attach` and calls ``super().attach``.
    """

    reference: ReferenceSDE
    #: AdamW weight decay for this correction's parameters (it pulls them toward zero).
    weight_decay: float = 0.01

    def attach(self, reference: ReferenceSDE) -> None:
        """Bind to ``reference``; called once before the first :meth:`forward`.

        The reference is kept as a plain attribute, not a submodule: it belongs to
        the :class:`rewardsde.ControlledSDE` that holds both. Attaching twice is
        refused: it would re-initialise a correction that may already be trained.
        """
        if getattr(self, "reference", None) is not None:
            raise ValueError(f"this {type(self).__name__} is already attached to a reference SDE; use a fresh one")
        object.__setattr__(self, "reference", reference)

    @abstractmethod
    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(f(t, x), a(t, x))``, both shaped like ``x``."""

    def reference_drift(self, t: Tensor, x: Tensor) -> Tensor:
        """``f(t, x)`` alone, without evaluating the control (Adjoint Matching's lean adjoint
        differentiates only this). A correction that changes the reference's own network
        (LoRA) overrides it to evaluate the pretrained network."""
        return self.reference.drift(t, x)


class ZeroCorrection(DriftCorrection):
    """No control, ``a ≡ 0``: the reference SDE itself, at no running cost."""

    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.reference.drift(t, x), x.new_zeros(x.shape)


class NetworkCorrection(DriftCorrection):
    """A separate network ``a = net(x, t)`` whose output is exactly zero at the start.

    Args:
        network: ``network(x, t) -> a`` shaped like ``x``; its last ``nn.Linear``
            or ``nn.Conv*`` layer (in registration order) is zeroed. ``None``
            builds an :class:`rewardsde.nets.MLP` of the given ``hidden`` and
            ``depth`` on attach.
    """

    def __init__(self, network: nn.Module | None = None, hidden: int = 64, depth: int = 2) -> None:
        super().__init__()
        self.network = network
        self.hidden = hidden
        self.depth = depth

    def attach(self, reference: ReferenceSDE) -> None:
        super().attach(reference)
        if self.network is None:
            size = reference.event_size
            self.network = MLP(size, size, self.hidden, self.depth, timed=True).to(device=reference.device, dtype=reference.dtype)
        _zero_last_layer(self.network)

    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        control = self.network(x, t).reshape(x.shape)
        return self.reference.drift(t, x), control


class DenoiserCorrection(DriftCorrection):
    """A trainable copy ``ε_θ`` of the reference's own ε-network: the fine-tuned SDE is the
    pretrained SDE of ``ε_θ``.

    With diffusion time ``s = 1 - t``, the reference drift ``f = ½β(s)x - β(s)ε_pre(x, s)/σ_s``
    and ``σ(t) = √β(s)`` (:class:`rewardsde.PretrainedSDE`), the control that turns ``f`` into
    the drift of ``ε_θ`` is

        a(t, x) = -√β(s)·(ε_θ(x, s) - ε_pre(x, s))/σ_s,

    exactly zero at the start (``ε_θ`` is a copy), and ``∫½‖a‖²dt`` is still the Girsanov KL to
    the pretrained model. This is the correction that :class:`rewardsde.TiltedDenoisingObjective`
    trains with a denoising loss; the reference network itself stays frozen. Each solver step
    calls both networks.

    With ``residual_hidden``, ``ε_θ(x, s) = copy(ε_pre)(x, s) + m_θ(x, s)`` adds a timed MLP
    ``m_θ`` (:class:`rewardsde.nets.MLP`, last layer zeroed, so the control still starts at
    zero). That is what a reference whose ε is a closed form with no weights needs (the exact
    mixture score of :class:`rewardsde.analytic.GaussianMixturePrior`), and a cheap extra
    capacity otherwise.

    Args:
        residual_hidden, residual_depth: width and depth of ``m_θ``; ``None``: no residual.
    """

    network: nn.Module
    weight_decay = 0.0  # its zero control is the pretrained weights, not zero weights

    def __init__(self, residual_hidden: int | None = None, residual_depth: int = 2) -> None:
        super().__init__()
        if residual_hidden is not None and (residual_hidden < 1 or residual_depth < 1):
            raise ValueError(f"residual_hidden ({residual_hidden}) and residual_depth ({residual_depth}) must be positive")
        self.residual_hidden, self.residual_depth = residual_hidden, residual_depth

    def attach(self, reference: ReferenceSDE) -> None:
        network = getattr(reference, "network", None)
        if not isinstance(network, nn.Module) or not hasattr(reference, "drift_from_eps"):
            raise ValueError(
                f"a DenoiserCorrection copies the ε-network of a PretrainedSDE; {type(reference).__name__} has none"
            )
        super().attach(reference)
        network = copy.deepcopy(network).requires_grad_(True)
        if self.residual_hidden is not None:
            size = reference.event_size
            residual = MLP(size, size, self.residual_hidden, self.residual_depth, timed=True)
            _zero_last_layer(residual)
            network = _Residual(network, residual.to(device=reference.device, dtype=reference.dtype))
        self.network = network

    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        reference = self.reference
        eps = reference.eps(t, x)
        s = (1.0 - t).to(x)
        tuned = self.network(x, s.expand(x.shape[0]), **reference.condition)
        control = -reference.schedule.beta(s).sqrt() * (tuned - eps) / reference.schedule.sigma(s)
        return reference.drift_from_eps(t, x, eps), control


class _Residual(nn.Module):
    """``ε(x, s) = base(x, s) + residual(x, s)``, the residual reshaped like ``x``."""

    def __init__(self, base: nn.Module, residual: nn.Module) -> None:
        super().__init__()
        self.base, self.residual = base, residual

    def forward(self, x: Tensor, s: Tensor, **condition) -> Tensor:
        return self.base(x, s, **condition) + self.residual(x, s).reshape(x.shape)


def _zero_last_layer(network: nn.Module) -> None:
    layers = [m for m in network.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError(
            f"{type(network).__name__} has no nn.Linear or nn.Conv layer to zero; "
            "a NetworkCorrection must start from an output of exactly zero"
        )
    nn.init.zeros_(layers[-1].weight)
    if layers[-1].bias is not None:
        nn.init.zeros_(layers[-1].bias)
