"""Discrete domains as continuous one-hot tensors (``rewardsde.domains``).

Sequences of ``length`` tokens from ``num_states`` states are tensors of shape
``(batch, num_states, length)`` in one ±1 code (:func:`one_hot`), decoded by argmax.
Biological sequences are scored by Ehrlich functions (``bio`` extra), molecules are
SELFIES of MOSES SMILES scored by RDKit (``chem`` extra and the ``molsets`` wheel).
Those packages are imported only when a function that needs them is called, and
diffusers only when a :class:`SequenceEps` is built or loaded. A pretrained
:class:`SequenceEps` (the ε/x₀ preconditioning of a diffusers :class:`SequenceBackbone`)
is saved with the :class:`SequenceDomain` of its data and loaded as a
:class:`SequenceSDE`; :class:`GenuineReward` and :class:`PretrainedSurrogateReward`
build the rewards of its domain from the saved directory.
"""

from .canonical_molecule import CanonicalMolecule
from .domain_reward import DesignText, GenuineReward, domain_reward
from .ehrlich import EhrlichReward
from .fingerprints import MorganFeatures
from .graph_ga import GraphGAOffspring
from .metadata import EhrlichInstance, MosesSubset, SequenceDomain
from .molecules import MoleculeReward, canonical_smiles, molecule, qed, sa_score, scores
from .mutations import PointMutations
from .moses import moses_path, moses_smiles, reservoir
from .onehot import check_one_hot_shape, decode, from_probabilities, one_hot, snap
from .pmo_objectives import PMO_TASKS, pmo_objective, top_k_auc
from .pretrained_surrogate import PretrainedSurrogateReward
from .selfies_alphabet import PAD, SelfiesAlphabet, learn_fragments
from .sequence_eps import SequenceEps, read_domain, read_sequence_config
from .simplex import SimplexProjection
from .smiles_writing import ring_span, rings_first
from .sequence_sde import SequenceSDE

__all__ = [
    "PAD",
    "PMO_TASKS",
    "CanonicalMolecule",
    "DesignText",
    "EhrlichInstance",
    "EhrlichReward",
    "GenuineReward",
    "GraphGAOffspring",
    "MoleculeReward",
    "MorganFeatures",
    "MosesSubset",
    "PointMutations",
    "PretrainedSurrogateReward",
    "SelfiesAlphabet",
    "learn_fragments",
    "SequenceBackbone",
    "SequenceDomain",
    "SequenceEps",
    "SequenceSDE",
    "SimplexProjection",
    "canonical_smiles",
    "check_one_hot_shape",
    "decode",
    "domain_reward",
    "from_probabilities",
    "molecule",
    "moses_path",
    "moses_smiles",
    "one_hot",
    "pmo_objective",
    "qed",
    "ring_span",
    "rings_first",
    "read_domain",
    "read_sequence_config",
    "reservoir",
    "sa_score",
    "scores",
    "snap",
    "top_k_auc",
]


def __getattr__(name: str):
    """:class:`SequenceBackbone` on first use, so that importing this package does not import diffusers."""
    if name == "SequenceBackbone":
        from .sequence_backbone import SequenceBackbone

        return SequenceBackbone
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
