"""Genuine molecule rewards: QED and the synthetic-accessibility score from RDKit, PMO's MPO tasks from guacamol."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from .onehot import check_one_hot_shape
from .pmo_objectives import PMO_TASKS, pmo_objective
from .selfies_alphabet import SelfiesAlphabet

PROPERTIES = ("qed", "sa", *PMO_TASKS)


def molecule(smiles: str):
    """The RDKit molecule of ``smiles``, or ``None`` when it does not parse or has no atoms."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    return mol if mol is not None and mol.GetNumAtoms() > 0 else None


def canonical_smiles(smiles: str) -> str | None:
    """RDKit's canonical SMILES (with stereochemistry) of the molecule of ``smiles``: one string per
    molecule, whichever way ``smiles`` writes it; ``None`` when it does not parse or has no atoms."""
    from rdkit import Chem

    mol = molecule(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def qed(mol) -> float:
    """Quantitative estimate of drug-likeness (Bickerton et al. 2012) in ``[0, 1]``, higher is better."""
    from rdkit.Chem import QED

    return QED.qed(mol)


def sa_score(mol) -> float:
    """Synthetic accessibility (Ertl and Schuffenhauer 2009) in ``[1, 10]``, lower is easier."""
    from rdkit.Contrib.SA_Score import sascorer

    return sascorer.calculateScore(mol)


def scores(smiles: Sequence[str], prop: str, invalid_value: float = math.nan) -> Tensor:
    """``(batch,)`` float64 values of ``prop`` (one of :data:`PROPERTIES`: ``"qed"``, ``"sa"`` or a
    PMO task of :mod:`rewardsde.domains.pmo_objectives`), ``invalid_value`` for invalid SMILES."""
    if prop not in PROPERTIES:
        raise ValueError(f"prop must be one of {PROPERTIES}, got {prop!r}")
    if prop in PMO_TASKS:
        objective = pmo_objective(prop)
        score = lambda mol, s: objective(s)  # noqa: E731 - guacamol scores SMILES
    else:
        score = (lambda mol, s: qed(mol)) if prop == "qed" else (lambda mol, s: sa_score(mol))
    values = []
    for s in smiles:
        mol = molecule(s)
        values.append(invalid_value if mol is None else score(mol, s))
    return torch.tensor(values, dtype=torch.float64)


class MoleculeReward(nn.Module):
    """A genuine reward on one-hot SELFIES: decode by argmax, then score with RDKit.

        r(x) = QED(m)            for prop="qed",
        r(x) = (10 - SA(m)) / 9  for prop="sa" (so that higher is better, in [0, 1]),
        r(x) = guacamol's score  for a PMO task (``"perindopril_mpo"``, ``"sitagliptin_mpo"``, ...;
                                 :mod:`rewardsde.domains.pmo_objectives`), in [0, 1],

    with ``m`` the molecule of ``alphabet.decode(x)`` and ``invalid_value`` where it
    has no atoms. Piecewise constant in ``x`` (argmax decode, RDKit in between): it
    has no gradient, so methods that backpropagate through the reward need a learned
    surrogate (:class:`rewardsde.domains.PretrainedSurrogateReward`).

    Args:
        alphabet: the SELFIES alphabet the samples are written in.
        prop: one of :data:`PROPERTIES`: ``"qed"``, ``"sa"`` or a PMO task.
        invalid_value: the reward of an invalid (empty) molecule.

    :attr:`fingerprint` names what a label of this reward means (the alphabet, the
    length and ``prop``): an :class:`rewardsde.rewards.Oracle` of this reward records it
    in its label file and refuses a file written for another.

    Raises:
        ValueError: for samples of another length or number of states, naming both.
    """

    def __init__(self, alphabet: SelfiesAlphabet, prop: str = "qed", invalid_value: float = 0.0) -> None:
        super().__init__()
        if prop not in PROPERTIES:
            raise ValueError(f"prop must be one of {PROPERTIES}, got {prop!r}")
        if not math.isfinite(invalid_value):
            raise ValueError(f"invalid_value must be finite, got {invalid_value}")
        self.alphabet = alphabet
        self.prop = prop
        self.invalid_value = float(invalid_value)
        self.fingerprint = {
            "domain": "molecules",
            "num_states": alphabet.num_states,
            "length": alphabet.length,
            "instance": {"tokens": list(alphabet.tokens), "prop": prop},
        }

    def forward(self, x: Tensor) -> Tensor:
        """``(batch, num_states, length) -> (batch,)`` in ``x``'s dtype and device."""
        check_one_hot_shape(x, self.alphabet.num_states, self.alphabet.length, owner="the SELFIES alphabet")
        values = scores(self.alphabet.decode(x), self.prop)
        if self.prop == "sa":
            values = (10.0 - values) / 9.0
        return values.nan_to_num(nan=self.invalid_value).to(x)
