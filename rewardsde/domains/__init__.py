"""Discrete domains as continuous one-hot tensors (``rewardsde.domains``).

Sequences of ``length`` tokens from ``num_states`` states are tensors of shape
``(batch, num_states, length)``, decoded by argmax. Biological sequences are scored
by Ehrlich functions (``bio`` extra), molecules are SELFIES of MOSES SMILES scored
by RDKit (``chem`` extra and the ``molsets`` wheel). Those packages are imported
only when a function that needs them is called. A pretrained :class:`SequenceEps`
is saved with a description of its data and loaded as a :class:`SequenceSDE`;
:class:`GenuineReward` and :class:`PretrainedSurrogateReward` build the rewards of
its domain from the saved directory.
"""

from .domain_reward import GenuineReward, domain_reward
from .ehrlich import EhrlichReward
from .molecules import MoleculeReward, molecule, qed, sa_score, scores
from .moses import moses_path, moses_smiles, reservoir
from .onehot import check_one_hot_shape, decode, one_hot
from .pretrained_surrogate import PretrainedSurrogateReward
from .selfies_alphabet import PAD, SelfiesAlphabet
from .sequence_eps import SequenceEps
from .sequence_sde import SequenceSDE, read_sequence_config
from .surrogate import SurrogateFit, SurrogateReward, fit_surrogate

__all__ = [
    "PAD",
    "EhrlichReward",
    "GenuineReward",
    "MoleculeReward",
    "PretrainedSurrogateReward",
    "SelfiesAlphabet",
    "SequenceEps",
    "SequenceSDE",
    "SurrogateFit",
    "SurrogateReward",
    "check_one_hot_shape",
    "decode",
    "domain_reward",
    "fit_surrogate",
    "molecule",
    "moses_path",
    "moses_smiles",
    "one_hot",
    "qed",
    "read_sequence_config",
    "reservoir",
    "sa_score",
    "scores",
]
