"""The pretrained models shipped in ``pretrained/`` load and sample what they were trained on.

``pretrained/ehrlich`` is written by ``rewardsde fit --config configs/pretrain_ehrlich.yaml``; the
fine-tuning configs that read it (``configs/elegant_ehrlich.yaml``, ``configs/seiko_ehrlich.yaml``) then
run on a fresh clone with no pretraining first.
"""

from pathlib import Path

import torch

from rewardsde import sample_reference
from rewardsde.domains import EhrlichInstance, SequenceDomain, SequenceSDE, decode, domain_reward, one_hot

ROOT = Path(__file__).resolve().parents[1]
EHRLICH = SequenceDomain(20, 32, EhrlichInstance(num_motifs=2, motif_length=4, random_seed=0))
# Measured on 512 samples at 20 midpoint steps, sampling seeds 0 and 1: feasibility 1.000 (docs/howto/sequences.md,
# "Pretraining"), so p >= 0.99 is likely. With 64 samples the count of feasible ones is Binomial(64, p); at p = 0.99,
# P(count < 60) = 5e-4, so the bound below only fails for a model that has lost what it learned (or a sampler that
# changed); the model shipped before, 0.85 feasible, would pass it with probability 0.03. Uniform sequences are
# 0.9% feasible.
SAMPLES, STEPS, AT_LEAST = 64, 20, 60


def test_the_shipped_ehrlich_model_loads_and_samples_feasible_sequences(one_thread):
    sde = SequenceSDE(str(ROOT / "pretrained" / "ehrlich"))
    assert sde.metadata == EHRLICH and sde.event_shape == (20, 32)
    x = sample_reference(sde, SAMPLES, steps=STEPS, seed=0)
    assert x.shape == (SAMPLES, 20, 32) and torch.isfinite(x).all()
    tokens = decode(x)
    assert tokens.shape == (SAMPLES, 32) and tokens.min() >= 0 and tokens.max() < 20
    # the samples sit at the ±1 codes of their tokens up to the last step's noise, √(β·Δs) ≈ 0.22 (RMS 0.23)
    assert (x - one_hot(tokens, 20)).square().mean().sqrt() < 0.35
    feasible = domain_reward(sde.metadata).feasible(tokens)
    assert int(feasible.sum()) >= AT_LEAST, f"{int(feasible.sum())} of {SAMPLES} feasible"


PUBLISHED = SequenceDomain(32, 32, EhrlichInstance(num_motifs=4, motif_length=4, quantization=4, random_seed=50494))


def test_the_shipped_published_ehrlich_model_loads_and_samples_feasible_sequences(one_thread):
    """``configs/pretrain_ehrlich_published.yaml`` writes it: 0.994 and 0.996 feasible on 512 samples (sampling
    seeds 0 and 1), so p >= 0.98 is likely and P(count < 58 of 64) = 3e-4 there; uniform sequences: 0.07%."""
    sde = SequenceSDE(str(ROOT / "pretrained" / "ehrlich_published"))
    assert sde.metadata == PUBLISHED and sde.event_shape == (32, 32)
    tokens = decode(sample_reference(sde, SAMPLES, steps=STEPS, seed=0))
    feasible = domain_reward(sde.metadata).feasible(tokens)
    assert int(feasible.sum()) >= 58, f"{int(feasible.sum())} of {SAMPLES} feasible"


def test_the_shipped_moses_model_loads_and_samples_valid_molecules(one_thread):
    """``configs/pretrain_moses.yaml`` writes it (SELFIES of 20,000 MOSES molecules): 0.96 valid on 1,000 samples
    at 20 steps by :class:`MosesMetrics`' rule (one connected molecule of at least 9 heavy atoms, the smallest
    training molecule). At p = 0.93, P(count < 54 of 64) = 0.005. Uniform token strings parse but are rarely
    valid by that rule (0.036 of 500 when measured)."""
    from rewardsde.callbacks import MosesMetrics
    from rewardsde.domains import MosesSubset

    path = str(ROOT / "pretrained" / "moses")
    sde = SequenceSDE(path)
    assert isinstance(sde.metadata.instance, MosesSubset) and sde.metadata.instance.size == 20_000
    assert sde.event_shape == (27, 49)
    metrics = MosesMetrics(path)
    metrics.update(sample_reference(sde, SAMPLES, steps=STEPS, seed=0))
    result = metrics.compute()
    assert result["validity"].item() * SAMPLES >= 54 and result["uniqueness"].item() == 1.0
    uniform = MosesMetrics(path)
    uniform.update(one_hot(torch.randint(0, 27, (500, 49), generator=torch.Generator().manual_seed(0)), 27))
    assert uniform.compute()["validity"].item() < 0.2
