"""A saved :class:`SequenceEps` loaded from local disk as a pretrained SDE."""

from __future__ import annotations

from ..pretrained import PretrainedSDE
from .sequence_eps import SequenceEps, read_sequence_config


class SequenceSDE(PretrainedSDE):
    """The SDE of a :class:`SequenceEps` saved by ``SequenceEps.save_pretrained``
    (``sequence_model.json`` plus the diffusers-saved ``backbone/``), e.g. by
    ``PretrainModule(output_dir=...)``.

    ``event_shape`` is ``(num_states, length)`` and the schedule and ``s_min`` are
    the saved ones; :attr:`metadata` is the :class:`rewardsde.domains.SequenceDomain`
    the pretraining data recorded (the Ehrlich instance, or the SELFIES alphabet and
    MOSES subset), or ``None``.

    Args:
        path: local directory.
        temperature: ``τ > 0``, the sampling temperature of an x₀-network (1: the model as
            trained): its ε comes from the posterior over the tokens raised to ``1/τ``
            (:class:`SequenceEps`), so ``τ < 1`` samples nearer the model's modes. A fine-tuning
            config that sets it fine-tunes against the sharpened SDE.

    Example (YAML):
        sde:
          class_path: rewardsde.domains.SequenceSDE
          init_args: {path: pretrained/moses, temperature: 0.5}
    """

    def __init__(self, path: str, temperature: float = 1.0) -> None:
        config = read_sequence_config(path)
        network = SequenceEps.from_pretrained(path, temperature)
        shape = (network.num_states, network.length)
        super().__init__(network.eval(), shape, network.schedule, config["s_min"])
        self.path = str(path)
        self.metadata = config["metadata"]

    @property
    def temperature(self) -> float:
        """The sampling temperature of the loaded network (1: as trained)."""
        return self.network.temperature
