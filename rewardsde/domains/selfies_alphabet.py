"""A SELFIES token alphabet and the one-hot code of molecules built on it."""

from __future__ import annotations

import re
from collections import Counter
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

    A token may be a *fragment*: several SELFIES symbols written together, such as
    ``[C][=C][C][=C][C][=C][Ring1][=Branch1]`` (a benzene ring with its closure). A
    molecule is then split by :meth:`split` (byte-pair encoding's merges, applied in
    the order the fragments are listed). Decoding is unchanged: the tokens' strings are
    joined. Fragments are learned by :meth:`from_smiles`; why they may help is that
    SELFIES writes ring and branch sizes as counts of the symbols around them, which a
    fragment carries whole.

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
        self.fragments = [token for token in tokens if len(_symbols(token)) > 1]

    @classmethod
    def from_smiles(cls, smiles: Sequence[str], length: int | None = None, fragments: int = 0) -> "SelfiesAlphabet":
        """The sorted SELFIES symbols of ``smiles``, then ``fragments`` learned fragments.

        Fragments are learned by byte-pair encoding on the symbols (Sennrich et al. 2016):
        :func:`learn_fragments`. ``length`` defaults to the longest molecule in tokens.
        """
        import selfies as sf

        if fragments < 0:
            raise ValueError(f"fragments must be non-negative, got {fragments}")
        symbols = [list(sf.split_selfies(_to_selfies(s))) for s in smiles]
        tokens = sorted({symbol for row in symbols for symbol in row}) + learn_fragments(symbols, fragments)
        split = cls(tokens, 1).split
        return cls(tokens, max(len(split(row)) for row in symbols) if length is None else length)

    def split(self, symbols: Sequence[str]) -> list[str]:
        """The tokens of a molecule's SELFIES symbols: the fragments joined in the alphabet's order.

        Starting from the symbols, each fragment in turn (in the order of :attr:`tokens`)
        joins every adjacent pair of tokens that spells it, left to right: the encoding
        step of byte-pair encoding, so a molecule is split as the data that taught the
        fragments were.

        Raises:
            ValueError: for a symbol that is not a token.
        """
        row = list(symbols)
        for symbol in row:
            if symbol not in self.index:
                raise ValueError(f"symbol {symbol!r} is not in the alphabet")
        for fragment in self.fragments:
            if fragment in "".join(row):
                row = _join(row, fragment)
        return row

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
            tokens = self.split(symbols)
            if len(tokens) > self.length:
                raise ValueError(f"SMILES {s!r} has {len(tokens)} SELFIES tokens, more than length {self.length}")
            rows.append([self.index[t] for t in tokens] + [0] * (self.length - len(tokens)))
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


def learn_fragments(molecules: Sequence[Sequence[str]], count: int) -> list[str]:
    """``count`` fragments of SELFIES symbols, learned by byte-pair encoding.

    Each step joins the most frequent adjacent pair of tokens across ``molecules``
    (lists of symbols) into one token, ties broken by the pair that occurs first, and
    returns the joined strings in the order they were learned. A join takes every
    adjacent pair that spells the new fragment, exactly as :meth:`SelfiesAlphabet.split`
    encodes, so the data are split as they were while learning. It stops early when no
    pair occurs twice. About ``count`` passes over the data (20,000 MOSES molecules,
    100 fragments: about 40 s); small enough that no tokenizer library is needed.
    """
    if count < 0:
        raise ValueError(f"count must be non-negative, got {count}")
    rows = [list(row) for row in molecules]
    learned: list[str] = []
    for _ in range(count):
        pairs = Counter(pair for row in rows for pair in zip(row, row[1:]))
        if not pairs:
            break
        (left, right), frequency = pairs.most_common(1)[0]
        if frequency < 2:
            break
        joined = left + right
        if joined not in learned:  # an alphabet never repeats a token, whatever pairs spell it
            learned.append(joined)
        rows = [_join(row, joined) if joined in "".join(row) else row for row in rows]
    return learned


def _join(row: list[str], fragment: str) -> list[str]:
    out, i = [], 0
    while i < len(row):
        if i + 1 < len(row) and row[i] + row[i + 1] == fragment:
            out.append(fragment)
            i += 2
        else:
            out.append(row[i])
            i += 1
    return out


def _symbols(token: str) -> list[str]:
    return re.findall(r"\[[^\]]*\]", token) or [token]


def _to_selfies(smiles: str) -> str:
    import selfies as sf

    try:
        return sf.encoder(smiles)
    except sf.EncoderError as error:
        raise ValueError(f"SELFIES cannot encode SMILES {smiles!r}: {error}") from None
