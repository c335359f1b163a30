"""Discrete domains as continuous one-hot tensors (``rewardsde.domains``).

Sequences of ``length`` tokens from ``num_states`` states are tensors of shape
``(batch, num_states, length)``, decoded by argmax. Biological sequences are scored
by Ehrlich functions (``bio`` extra), molecules are SELFIES of MOSES SMILES scored
by RDKit (``chem`` extra and the ``molsets`` wheel). Those packages are imported
only when a function that needs them is called.
"""

from .ehrlich import EhrlichReward
from .molecules import MoleculeReward, molecule, qed, sa_score, scores
from .moses import moses_path, moses_smiles, reservoir
from .onehot import check_one_hot_shape, decode, one_hot
from .selfies_alphabet import PAD, SelfiesAlphabet
from .sequence_eps import SequenceEps
from .surrogate import SurrogateFit, SurrogateReward, fit_surrogate

__all__ = [
    "PAD",
    "EhrlichReward",
    "MoleculeReward",
    "SelfiesAlphabet",
    "SequenceEps",
    "SurrogateFit",
    "SurrogateReward",
    "check_one_hot_shape",
    "decode",
    "fit_surrogate",
    "molecule",
    "moses_path",
    "moses_smiles",
    "one_hot",
    "qed",
    "reservoir",
    "sa_score",
    "scores",
]
