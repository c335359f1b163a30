"""Tiny random sequence models saved to disk, standing in for pretrained/ehrlich and pretrained/moses."""

from __future__ import annotations

from pathlib import Path

import torch

from rewardsde import VPSchedule
from rewardsde.domains import SequenceEps

EHRLICH = {"num_states": 20, "dim": 32, "num_motifs": 2, "motif_length": 4, "quantization": None, "random_seed": 0}


def save_sequence_model(directory: Path, num_states: int, length: int, metadata: dict) -> Path:
    torch.manual_seed(0)
    network = SequenceEps(num_states, length, channels=8, depth=1)
    torch.nn.init.normal_(network.out.weight, std=0.1)
    network.save_pretrained(directory, VPSchedule(), metadata=metadata)
    return directory


def save_ehrlich_model(directory: Path) -> Path:
    return save_sequence_model(directory, EHRLICH["num_states"], EHRLICH["dim"], {"domain": "ehrlich", "instance": EHRLICH})


def save_moses_model(directory: Path, num_states: int = 27, length: int = 47) -> Path:
    """A model on ``num_states - 1`` SELFIES tokens plus [nop], described as pretrained on 100 MOSES molecules."""
    import selfies as sf

    tokens = sorted(sf.get_semantic_robust_alphabet())[: num_states - 1]
    metadata = {"domain": "moses", "size": 100, "seed": 0, "tokens": tokens, "length": length}
    return save_sequence_model(directory, num_states, length, metadata)
