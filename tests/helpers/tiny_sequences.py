"""Tiny random sequence models saved to disk, standing in for pretrained/ehrlich and pretrained/moses."""

from __future__ import annotations

from pathlib import Path

import torch

from rewardsde import VPSchedule
from rewardsde.domains import EhrlichInstance, MosesSubset, SequenceDomain, SequenceEps

EHRLICH = SequenceDomain(20, 32, EhrlichInstance(num_motifs=2, motif_length=4, random_seed=0))


def save_sequence_model(directory: Path, domain: SequenceDomain) -> Path:
    torch.manual_seed(0)
    network = SequenceEps(domain.num_states, domain.length, channels=8, depth=1)
    torch.nn.init.normal_(network.backbone.out.weight, std=0.1)
    network.save_pretrained(directory, VPSchedule(), metadata=domain)
    return directory


def save_ehrlich_model(directory: Path, domain: SequenceDomain = EHRLICH) -> Path:
    return save_sequence_model(directory, domain)


def save_moses_model(directory: Path, num_states: int = 27, length: int = 47) -> Path:
    """A model on ``num_states - 1`` SELFIES tokens plus [nop], described as pretrained on 100 MOSES molecules."""
    import selfies as sf

    tokens = ("[nop]", *sorted(sf.get_semantic_robust_alphabet())[: num_states - 1])
    return save_sequence_model(directory, SequenceDomain(num_states, length, MosesSubset(tokens, size=100, seed=0)))
