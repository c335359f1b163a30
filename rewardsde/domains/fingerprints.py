"""Morgan fingerprints of decoded molecules: reward-model features that see rings and substructures."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .molecules import molecule
from .onehot import check_one_hot_shape
from .selfies_alphabet import SelfiesAlphabet


class MorganFeatures(nn.Module):
    """``x (batch, num_states, length) -> z (batch, bits)``: the Morgan (ECFP-like) bit vector
    of the molecule that ``x`` decodes to,

        z_i = 1 if some atom environment of radius ≤ ``radius`` hashes to bit i, else 0,

    from RDKit's ``MorganGenerator`` (``radius`` 2 and 2048 bits: ECFP4). An invalid or empty
    molecule gets the zero vector. Decoding is by argmax, so ``z`` is piecewise constant in
    ``x`` and carries **no gradient**: use it where the reward model is only evaluated (the
    weighted-denoising estimator, ``TiltedDenoisingObjective``, and SEIKO on it), not where
    fine-tuning backpropagates through the reward.

    Why: PMO's multi-property objectives score similarity to a drug on these fingerprints
    and count rings; a CNN on SELFIES tokens sees neither directly.

    Args:
        alphabet: the SELFIES alphabet the samples are written in.
        radius: the largest atom-environment radius.
        bits: the fingerprint's length.
    """

    def __init__(self, alphabet: SelfiesAlphabet, radius: int = 2, bits: int = 2048) -> None:
        super().__init__()
        if radius < 0 or bits < 1:
            raise ValueError(f"radius must be non-negative and bits positive, got radius={radius}, bits={bits}")
        self.alphabet, self.radius, self.bits = alphabet, int(radius), int(bits)

    def forward(self, x: Tensor) -> Tensor:
        from rdkit.Chem import rdFingerprintGenerator

        check_one_hot_shape(x, self.alphabet.num_states, self.alphabet.length, owner="the SELFIES alphabet")
        generator = rdFingerprintGenerator.GetMorganGenerator(radius=self.radius, fpSize=self.bits)
        rows = torch.zeros(x.shape[0], self.bits, dtype=x.dtype)
        for i, smiles in enumerate(self.alphabet.decode(x.detach())):
            mol = molecule(smiles)
            if mol is not None:
                rows[i] = torch.from_numpy(generator.GetFingerprintAsNumPy(mol).astype("float32")).to(x.dtype)
        return rows.to(x.device)
