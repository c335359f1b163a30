"""LoRA adapters on the score network itself, as a drift correction."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from torch import Tensor, nn

from .corrections import DriftCorrection
from .pretrained import PretrainedSDE
from .reference import ReferenceSDE


class LoraCorrection(DriftCorrection):
    """Fine-tune LoRA adapters on the ε-network of a :class:`PretrainedSDE`.

    One network gives both drifts: with adapters off it is the pretrained ε, with
    them on the fine-tuned ε_φ. The control is

        a = u/σ = -√β(s)·(ε_φ(x, s) - ε(x, s))/σ_s,

    exactly zero at the start since LoRA's up-projection is initialised to zero.
    Only the adapter weights are trainable. Adapters go on the UNet inside a
    :class:`rewardsde.DiffusersEps` (through diffusers' ``add_adapter`` where the
    model supports it), so layer names are the UNet's own and
    :func:`rewardsde.export_pipeline` can hand them to diffusers.

    Args:
        target_modules: names (or a regex) of the layers to adapt, as in
            ``peft.LoraConfig``; a name that matches nothing raises ``ValueError``.
        rank: LoRA rank ``r``.
        lora_alpha: LoRA scaling numerator; defaults to ``rank``.
        dropout: dropout on the adapter input.
    """

    def __init__(
        self,
        target_modules: Sequence[str] | str,
        rank: int = 4,
        lora_alpha: float | None = None,
        dropout: float = 0.0,
    ) -> None:
        from peft import LoraConfig  # imported where used: peft is slow to import

        super().__init__()
        if rank < 1:
            raise ValueError(f"LoRA rank must be at least 1, got {rank}")
        self.config = LoraConfig(
            r=rank,
            lora_alpha=rank if lora_alpha is None else lora_alpha,
            target_modules=target_modules if isinstance(target_modules, str) else list(target_modules),
            lora_dropout=dropout,
        )

    def attach(self, reference: ReferenceSDE) -> None:
        from diffusers.loaders.peft import PeftAdapterMixin
        from peft import inject_adapter_in_model
        from peft.tuners.tuners_utils import BaseTunerLayer

        if not isinstance(reference, PretrainedSDE):
            raise ValueError(f"LoraCorrection needs a PretrainedSDE with an ε-network, got {type(reference).__name__}")
        super().attach(reference)
        model = adapted_model(reference.network.requires_grad_(False))
        if isinstance(model, PeftAdapterMixin):
            model.add_adapter(self.config)
        else:
            inject_adapter_in_model(self.config, model)
        self._layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]

    @contextmanager
    def adapters_disabled(self) -> Iterator[None]:
        """Evaluate the pretrained network inside the block."""
        for layer in self._layers:
            layer.enable_adapters(False)
        try:
            yield
        finally:
            for layer in self._layers:
                layer.enable_adapters(True)

    def reference_drift(self, t: Tensor, x: Tensor) -> Tensor:
        """The pretrained drift: the network with its adapters off."""
        with self.adapters_disabled():
            return self.reference.drift(t, x)

    def forward(self, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        reference: PretrainedSDE = self.reference
        with self.adapters_disabled():
            eps_pretrained = reference.eps(t, x)
        eps_finetuned = reference.eps(t, x)
        s = 1.0 - t
        scale = reference.schedule.beta(s).sqrt() / reference.schedule.sigma(s)
        control = -scale * (eps_finetuned - eps_pretrained)
        return reference.drift_from_eps(t, x, eps_pretrained), control


def adapted_model(network: nn.Module) -> nn.Module:
    """The module adapters go on: the diffusers UNet inside a wrapper, else ``network`` itself."""
    return getattr(network, "adaptable_model", network)
