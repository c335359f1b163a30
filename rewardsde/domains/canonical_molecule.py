"""One design per molecule: SELFIES designs re-spelt as their molecule's canonical writing."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

from .molecules import canonical_smiles
from .onehot import decode, one_hot
from .selfies_alphabet import SelfiesAlphabet


class CanonicalMolecule:
    """``x -> x'``: every one-hot SELFIES design spelt the one way its molecule is written.

    SELFIES is not a unique notation: one molecule has many token sequences (a ring or a branch
    opened at another atom, symbols after the molecule is complete, ``[nop]`` between symbols), and
    a diffusion model's samples use them all, while RDKit-written molecules (graph-GA children, a
    data set) come in one. Designs that differ only in spelling are the same molecule: the same
    label, one oracle call in PMO's accounting. As ``SeikoRound(canonical=...)`` this map makes
    a round's distinct, not-yet-labelled designs distinct molecules (:func:`snap` makes them
    distinct spellings only).

    For a design ``x`` with tokens ``y = argmax_k x`` the image is

        x' = one_hot(alphabet(written(C(m(y)))))    if that spelling exists,
        x' = one_hot(y)                              otherwise (the snapped design, as :func:`snap`),

    with ``m(y)`` the molecule SELFIES decodes ``y`` to, ``C`` RDKit's canonical SMILES (with
    stereochemistry), ``written`` the model's writing of a SMILES
    (:meth:`rewardsde.domains.MosesSubset.written`; identity by default) and ``alphabet`` the
    SELFIES encoding. It does not exist when the molecule is invalid (no atoms) or the alphabet cannot
    spell the canonical writing (a symbol outside it, longer than ``length``): such a design keeps
    its own spelling, and another spelling of its molecule stays another design. The map is idempotent
    wherever the writing exists, and a design already in canonical writing is its own image.
    Results are cached by token row (the pool of a SEIKO round is mapped again every round).

    Args:
        alphabet: the SELFIES alphabet of the designs.
        written: ``smiles -> smiles`` applied to canonical SMILES before encoding (the model's
            writing); ``None``: RDKit's canonical SMILES as they are.

    Shapes: ``(batch, num_states, length) -> (batch, num_states, length)``, the ±1 code of
    :func:`rewardsde.domains.one_hot`, in ``x``'s dtype and device.
    """

    def __init__(self, alphabet: SelfiesAlphabet,
                 written: Callable[[Sequence[str]], list[str]] | None = None) -> None:
        self.alphabet, self.written = alphabet, written
        self._cache: dict[bytes, Tensor] = {}

    def token_ids(self, tokens: Tensor) -> Tensor:
        """The canonical token rows of token rows ``(batch, length)`` int64."""
        keys = [row.numpy().tobytes() for row in tokens]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        for i, smiles in zip(missing, self.alphabet.to_smiles(tokens[missing])):
            self._cache[keys[i]] = tokens[i].clone()
            text = canonical_smiles(smiles)
            if text is not None:
                text = self.written([text])[0] if self.written is not None else text
                try:
                    self._cache[keys[i]] = self.alphabet.token_ids([text])[0]
                except ValueError:  # the alphabet cannot spell it: keep the design's own spelling
                    pass
        rows = [self._cache[key] for key in keys]
        return torch.stack(rows) if rows else tokens.clone()

    def __call__(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[1:] != (self.alphabet.num_states, self.alphabet.length):
            raise ValueError(f"expected designs of shape (batch, {self.alphabet.num_states}, {self.alphabet.length}), "
                             f"got {tuple(x.shape)}")
        tokens = self.token_ids(decode(x).cpu())
        return one_hot(tokens, self.alphabet.num_states).to(x)
