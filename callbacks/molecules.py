"""Molecule quality of generated samples: validity, uniqueness, novelty, diversity, QED and SA, correct under DDP."""

from __future__ import annotations

import hashlib
import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from rewardsde.domains import molecule, qed, sa_score

from ._states import DTYPE, concatenated


def canonical_key(smiles: str) -> int:
    """A 48-bit hash of a canonical SMILES, the same in every process and exact in float64."""
    return int.from_bytes(hashlib.blake2b(smiles.encode(), digest_size=6).digest(), "big")


def tanimoto_diversity(bits: Tensor) -> Tensor:
    """``2/(n(n-1)) Σ_{i<j} (1 - |b_i ∧ b_j| / |b_i ∨ b_j|)`` for 0/1 fingerprints ``(n, F)``."""
    n = bits.shape[0]
    common = bits @ bits.T
    counts = bits.sum(dim=1)
    union = counts[:, None] + counts[None, :] - common
    similarity = torch.where(union > 0, common / union.clamp_min(1), torch.ones_like(common))
    pairs = torch.triu_indices(n, n, offset=1, device=bits.device).unbind()
    return (1 - similarity[pairs]).mean()


class MoleculeMetrics(Metric):
    """What molecule generation is judged by, over the samples of all ranks.

    A sample is valid when its SMILES parses (and RDKit sanitises it) to one connected
    molecule (no ``.``) with at least ``min_heavy_atoms`` heavy atoms. SELFIES decode
    every token string to *some* molecule, so parsing alone says little: the size rule
    (for a MOSES model, the smallest training molecule's size) counts the fragments and
    stubs a poor model emits as failures.
    With ``n`` samples, ``V`` the valid ones and ``U`` the distinct canonical SMILES
    among them:

    * ``validity`` = ``|V| / n``;
    * ``uniqueness`` = ``|U| / |V|``;
    * ``novelty`` = fraction of ``U`` not in the training set (canonical SMILES);
    * ``diversity`` = mean over pairs of valid samples of ``1 - Tanimoto`` on Morgan
      fingerprints (radius ``radius``, ``bits`` bits);
    * ``qed`` and ``sa`` = means over ``V`` of QED and the SA score (lower is easier).

    Figures over ``V`` or ``U`` are NaN when there is no valid sample (``diversity``
    when there are fewer than 2). Counts and sums are ``"sum"`` states; the keys of
    ``V`` (a 48-bit hash of the canonical SMILES), their novelty flags and their
    fingerprints are flat float64 ``"cat"`` states, so the figures are those of the
    union of the ranks' samples.

    Args:
        decode: maps samples to SMILES, e.g. ``alphabet.decode`` for one-hot SELFIES;
            ``None`` when ``update`` is given SMILES directly.
        training_smiles: the training molecules, for novelty.
        radius: Morgan radius.
        bits: fingerprint size.
        min_heavy_atoms: the fewest heavy atoms of a valid sample.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(
        self,
        decode: Callable[[Tensor], list[str]] | None = None,
        training_smiles: Sequence[str] = (),
        radius: int = 2,
        bits: int = 2048,
        min_heavy_atoms: int = 1,
        **kwargs: Any,
    ) -> None:
        from rdkit import Chem
        from rdkit.Chem import rdFingerprintGenerator

        if radius < 0 or bits < 1:
            raise ValueError(f"need radius >= 0 and bits >= 1, got {radius} and {bits}")
        if min_heavy_atoms < 1:
            raise ValueError(f"min_heavy_atoms must be at least 1, got {min_heavy_atoms}")
        self.min_heavy_atoms = int(min_heavy_atoms)
        super().__init__(**kwargs)
        self.decode = decode
        self.bits = bits
        self.fingerprint = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
        self.training = set()
        for smiles in training_smiles:
            mol = molecule(smiles)
            if mol is None:
                raise ValueError(f"training SMILES {smiles!r} is not a valid molecule")
            self.training.add(Chem.MolToSmiles(mol))
        self.set_dtype(DTYPE)
        for name in ("total", "valid", "qed_sum", "sa_sum"):
            self.add_state(name, default=torch.tensor(0.0, dtype=DTYPE), dist_reduce_fx="sum")
        for name in ("keys", "novel", "fingerprints"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def valid_molecule(self, smiles: str):
        """The RDKit molecule of ``smiles`` when it is valid by the rule above, else ``None``."""
        from rdkit import Chem

        mol = molecule(smiles)
        if mol is None or mol.GetNumHeavyAtoms() < self.min_heavy_atoms or len(Chem.GetMolFrags(mol)) > 1:
            return None
        return mol

    def is_valid(self, smiles: str) -> bool:
        """Whether ``smiles`` is a valid sample by the rule above."""
        return self.valid_molecule(smiles) is not None

    def update(self, samples: Tensor | Sequence[str]) -> None:
        """Add a batch: samples for ``decode``, or a list of SMILES when ``decode`` is ``None``."""
        from rdkit import Chem

        smiles = list(samples) if self.decode is None else self.decode(samples)
        if any(not isinstance(s, str) for s in smiles):
            raise ValueError("update needs SMILES strings; pass decode= to turn samples into SMILES")
        keys, novel, prints = [], [], []
        for s in smiles:
            mol = self.valid_molecule(s)
            if mol is None:
                continue
            canonical = Chem.MolToSmiles(mol)
            keys.append(canonical_key(canonical))
            novel.append(float(canonical not in self.training))
            prints.append(self.fingerprint.GetFingerprintAsNumPy(mol))
            self.qed_sum += qed(mol)
            self.sa_sum += sa_score(mol)
        self.total += len(smiles)
        self.valid += len(keys)
        if keys:
            self.keys.append(torch.tensor(keys, dtype=DTYPE))
            self.novel.append(torch.tensor(novel, dtype=DTYPE))
            self.fingerprints.append(torch.from_numpy(np.stack(prints).reshape(-1)).to(DTYPE))

    def compute(self) -> dict[str, Tensor]:
        """``{"validity", "uniqueness", "novelty", "diversity", "qed", "sa"}``."""
        if self.total == 0:
            raise ValueError("molecule metrics need at least one sample, got none")
        keys, novel = concatenated(self.keys), concatenated(self.novel)
        fingerprints = concatenated(self.fingerprints, self.bits)
        nan = torch.tensor(math.nan, dtype=DTYPE)
        distinct, first = _first_occurrences(keys)
        return {
            "validity": self.valid / self.total,
            "uniqueness": distinct.numel() / self.valid if self.valid else nan,
            "novelty": novel[first].mean() if self.valid else nan,
            "diversity": tanimoto_diversity(fingerprints) if self.valid >= 2 else nan,
            "qed": self.qed_sum / self.valid if self.valid else nan,
            "sa": self.sa_sum / self.valid if self.valid else nan,
        }


def _first_occurrences(keys: Tensor) -> tuple[Tensor, Tensor]:
    """The distinct values of ``keys`` ``(n,)`` and the index of one occurrence of each."""
    distinct, inverse = torch.unique(keys, return_inverse=True)
    first = torch.full((distinct.numel(),), keys.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(keys.numel()), reduce="amin")
    return distinct, first
