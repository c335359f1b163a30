"""A SELFIES token alphabet and the one-hot code of molecules built on it."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .onehot import check_one_hot_shape, decode, one_hot

PAD = "[nop]"


class SelfiesAlphabet:
    """Molecules as one-hot SELFIES ``(batch, num_states, length)`` and back.

    A SMILES string is translated to SELFIES (``selfies``, from the ``chem`` extra),
    split into tokens, padded with ``[nop]`` (index 0, which the SELFIES decoder
    skips) to ``length`` and one-hot encoded. Decoding takes the argmax token at each
    position and translates the SELFIES back to SMILES. Every token sequence decodes
    to a molecule; an all-padding sequence decodes to the empty SMILES ``""``.

    Args:
        tokens: the alphabet without padding; ``[nop]`` is put first.
        length: tokens per molecule.

    Example:
        >>> alphabet = SelfiesAlphabet.from_smiles(["CCO", "c1ccccc1"])
        >>> alphabet.decode(alphabet.encode(["CCO"]))
        ['CCO']
    """

    def __init__(self, tokens: Sequence[str], length: int) -> None:
        tokens = [token for token in tokens if token != PAD]
        if not tokens or len(set(tokens)) != len(tokens):
            raise ValueError(f"tokens must be a non-empty list without repeats, got {list(tokens)}")
        if length < 1:
            raise ValueError(f"length must be positive, got {length}")
        self.tokens = [PAD, *tokens]
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.length = int(length)

    @classmethod
    def from_smiles(cls, smiles: Sequence[str], length: int | None = None) -> "SelfiesAlphabet":
        """The sorted tokens of ``smiles`` in SELFIES; ``length`` defaults to the longest molecule."""
        import selfies as sf

        strings = [_to_selfies(s) for s in smiles]
        tokens = sorted(sf.get_alphabet_from_selfies(strings))
        longest = max(sf.len_selfies(s) for s in strings)
        return cls(tokens, longest if length is None else length)

    @property
    def num_states(self) -> int:
        """Alphabet size including padding."""
        return len(self.tokens)

    def token_ids(self, smiles: Sequence[str]) -> Tensor:
        """Token indices ``(batch, length)`` int64, padded with ``[nop]``.

        Raises:
            ValueError: for SMILES that SELFIES cannot encode, tokens outside the
                alphabet, or molecules longer than ``length``.
        """
        import selfies as sf

        rows = []
        for s in smiles:
            symbols = list(sf.split_selfies(_to_selfies(s)))
            unknown = sorted(set(symbols) - self.index.keys())
            if unknown:
                raise ValueError(f"SMILES {s!r} has tokens outside the alphabet: {unknown}")
            if len(symbols) > self.length:
                raise ValueError(f"SMILES {s!r} has {len(symbols)} SELFIES tokens, more than length {self.length}")
            rows.append([self.index[t] for t in symbols] + [0] * (self.length - len(symbols)))
        return torch.tensor(rows, dtype=torch.long).reshape(len(rows), self.length)

    def encode(self, smiles: Sequence[str]) -> Tensor:
        """One-hot SELFIES ``(batch, num_states, length)`` in the ±1 code of :func:`rewardsde.domains.one_hot`."""
        return one_hot(self.token_ids(smiles), self.num_states)

    def to_smiles(self, token_ids: Tensor) -> list[str]:
        """SMILES of token indices ``(batch, length)``."""
        import selfies as sf

        if token_ids.dim() != 2 or token_ids.shape[1] != self.length:
            raise ValueError(f"expected token ids of shape (batch, {self.length}), got {tuple(token_ids.shape)}")
        return [sf.decoder("".join(self.tokens[i] for i in row)) for row in token_ids.tolist()]

    def decode(self, x: Tensor) -> list[str]:
        """SMILES of one-hot SELFIES ``x`` ``(batch, num_states, length)``, by argmax (not differentiable)."""
        check_one_hot_shape(x, self.num_states, self.length)
        return self.to_smiles(decode(x))


def _to_selfies(smiles: str) -> str:
    import selfies as sf

    try:
        return sf.encoder(smiles)
    except sf.EncoderError as error:
        raise ValueError(f"SELFIES cannot encode SMILES {smiles!r}: {error}") from None
