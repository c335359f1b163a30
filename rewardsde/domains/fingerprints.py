"""Morgan fingerprints of decoded molecules: reward-model features that see rings and substructures."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .molecules import molecule
from .onehot import check_one_hot_shape, decode
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

    Decoding and hashing cost about a millisecond a molecule, more than the reward model
    itself, and SEIKO featurises the same designs every round (all labels at each refit, the
    fixed pretrained part of its pool at each rescoring), so the bit vectors of up to ``cache``
    token sequences are kept, packed, keyed by the sequence (256 bytes and two per token each
    at 2048 bits); when it is full, the sequence computed first goes first.

    Args:
        alphabet: the SELFIES alphabet the samples are written in.
        radius: the largest atom-environment radius.
        bits: the fingerprint's length.
        cache: how many token sequences' fingerprints to keep (0: none).
    """

    def __init__(self, alphabet: SelfiesAlphabet, radius: int = 2, bits: int = 2048, cache: int = 2**17) -> None:
        super().__init__()
        if radius < 0 or bits < 1 or cache < 0:
            raise ValueError(f"radius and cache must be non-negative and bits positive, got radius={radius}, "
                             f"bits={bits}, cache={cache}")
        self.alphabet, self.radius, self.bits, self.cache = alphabet, int(radius), int(bits), int(cache)
        self._seen: dict[bytes, np.ndarray] = {}

    def forward(self, x: Tensor) -> Tensor:
        from rdkit.Chem import rdFingerprintGenerator

        check_one_hot_shape(x, self.alphabet.num_states, self.alphabet.length, owner="the SELFIES alphabet")
        ids = decode(x.detach()).cpu()
        if len(ids) == 0:
            return torch.zeros(0, self.bits, device=x.device, dtype=x.dtype)
        keys = [row.numpy().tobytes() for row in ids.to(torch.int16)]
        missing = [i for i, key in enumerate(keys) if key not in self._seen]
        found = {}
        if missing:
            generator = rdFingerprintGenerator.GetMorganGenerator(radius=self.radius, fpSize=self.bits)
            for i, smiles in zip(missing, self.alphabet.to_smiles(ids[missing])):
                mol = molecule(smiles)
                bits = generator.GetFingerprintAsNumPy(mol) if mol is not None else np.zeros(self.bits, np.uint8)
                found[keys[i]] = np.packbits(bits.astype(bool))
        rows = np.stack([found[key] if key in found else self._seen[key] for key in keys])
        for key, packed in found.items():
            if self.cache:
                if len(self._seen) >= self.cache:
                    del self._seen[next(iter(self._seen))]
                self._seen[key] = packed
        unpacked = np.unpackbits(rows, axis=1, count=self.bits).astype(np.float32)
        return torch.from_numpy(unpacked).to(device=x.device, dtype=x.dtype)
