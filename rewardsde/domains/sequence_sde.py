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

    Example (YAML):
        sde:
          class_path: rewardsde.domains.SequenceSDE
          init_args: {path: pretrained/ehrlich}
    """

    def __init__(self, path: str) -> None:
        config = read_sequence_config(path)
        network = SequenceEps.from_pretrained(path)
        shape = (network.num_states, network.length)
        super().__init__(network.eval(), shape, network.schedule, config["s_min"])
        self.path = str(path)
        self.metadata = config["metadata"]
