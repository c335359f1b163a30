"""A saved :class:`SequenceEps` loaded from local disk as a pretrained SDE."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file

from ..pretrained import PretrainedSDE
from ..schedule import VPSchedule
from .sequence_eps import CONFIG, FORMAT, WEIGHTS, SequenceEps

REQUIRED = ("network", "schedule", "s_min")


def read_sequence_config(path: str | Path) -> dict:
    """The ``config.json`` of a directory written by :meth:`SequenceEps.save_pretrained`.

    Raises:
        ValueError: when the directory does not exist, lacks ``config.json`` or
            ``model.safetensors``, or the config is not a saved ``SequenceEps``.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ValueError(f"sequence model directory {str(directory)!r} does not exist; pretrain one first")
    missing = [name for name in (CONFIG, WEIGHTS) if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"sequence model directory {str(directory)!r} is incomplete: {', '.join(missing)} missing")
    config = json.loads((directory / CONFIG).read_text())
    absent = [key for key in REQUIRED if key not in config]
    if config.get("format") != FORMAT or absent:
        raise ValueError(
            f"{str(directory / CONFIG)!r} is not a saved {FORMAT} (format {config.get('format')!r}, missing {absent})"
        )
    return config


class SequenceSDE(PretrainedSDE):
    """The SDE of a :class:`SequenceEps` saved by ``SequenceEps.save_pretrained``
    (``config.json`` plus ``model.safetensors``), e.g. by ``PretrainModule(output_dir=...)``.

    ``event_shape`` is ``(num_states, length)`` and the schedule and ``s_min`` are
    the saved ones; :attr:`metadata` is what the pretraining data recorded (the
    Ehrlich instance, or the SELFIES alphabet and MOSES subset).

    Args:
        path: local directory.

    Example (YAML):
        sde:
          class_path: rewardsde.domains.SequenceSDE
          init_args: {path: pretrained/ehrlich}
    """

    def __init__(self, path: str) -> None:
        config = read_sequence_config(path)
        schedule = VPSchedule(**config["schedule"])
        network = SequenceEps(**config["network"], schedule=schedule)
        try:
            network.load_state_dict(load_file(str(Path(path) / WEIGHTS)))
        except Exception as error:  # safetensors and load_state_dict raise several types for a damaged file
            raise ValueError(f"could not load the weights in {str(Path(path) / WEIGHTS)!r}: {error}") from error
        shape = (network.num_states, network.length)
        super().__init__(network.eval(), shape, schedule, config["s_min"])
        self.path = str(path)
        self.metadata = dict(config.get("metadata") or {})
