"""What a saved sequence model was pretrained on: a typed description of its data."""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from .selfies_alphabet import PAD

DOMAINS = ("ehrlich", "moses")


def _integer(owner: str, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}.{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class EhrlichInstance:
    """The parameters of an Ehrlich function besides its alphabet and length (holo's
    ``Ehrlich(num_states, dim, num_motifs, motif_length, quantization, epistasis_factor, random_seed)``).

    holo's ``noise_std`` is not here: it only acts in holo's noisy ``forward``, which
    :class:`rewardsde.domains.EhrlichReward` does not call; observation noise belongs
    to the :class:`rewardsde.rewards.Oracle` (its ``noise_std``).

    Args:
        num_motifs: motifs ``c``.
        motif_length: length ``k >= 2`` of each motif.
        quantization: quantisation levels of the motif fraction, ``1..k`` (``None``: ``k``).
        epistasis_factor: holo's epistasis coefficient, finite and ``>= 0``.
        random_seed: the seed that defines the instance (transition matrix, motifs, spacings).
    """

    num_motifs: int = 2
    motif_length: int = 4
    quantization: int | None = None
    epistasis_factor: float = 0.0
    random_seed: int = 0

    def __post_init__(self) -> None:
        _integer("EhrlichInstance", "num_motifs", self.num_motifs, 1)
        _integer("EhrlichInstance", "motif_length", self.motif_length, 2)
        if self.quantization is not None:
            _integer("EhrlichInstance", "quantization", self.quantization, 1)
            if self.quantization > self.motif_length:
                raise ValueError(
                    f"EhrlichInstance.quantization must be at most motif_length={self.motif_length}, got {self.quantization}"
                )
        factor = self.epistasis_factor
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"EhrlichInstance.epistasis_factor must be finite and >= 0, got {factor!r}")
        _integer("EhrlichInstance", "random_seed", self.random_seed, 0)


@dataclass(frozen=True)
class MosesSubset:
    """A seeded uniform subset of the MOSES training set and its SELFIES alphabet.

    Args:
        tokens: the alphabet, ``[nop]`` (padding) first.
        size: molecules in the subset (:func:`rewardsde.domains.moses_smiles`).
        seed: the seed of the subset.
        rings_first: 0 when the model learned the SMILES as MOSES gives them (RDKit's canonical
            writing), else the random writings tried for each molecule by
            :func:`rewardsde.domains.rings_first` (seeded by ``seed``). Models saved before the
            option read 0.
    """

    tokens: tuple[str, ...]
    size: int
    seed: int
    rings_first: int = 0

    def __post_init__(self) -> None:
        tokens = tuple(self.tokens)
        object.__setattr__(self, "tokens", tokens)
        if len(tokens) < 2 or tokens[0] != PAD or len(set(tokens)) != len(tokens):
            raise ValueError(f"MosesSubset.tokens must start with {PAD!r} and have no repeats, got {list(tokens)}")
        _integer("MosesSubset", "size", self.size, 1)
        _integer("MosesSubset", "seed", self.seed, 0)
        _integer("MosesSubset", "rings_first", self.rings_first, 0)

    def written(self, smiles: list[str]) -> list[str]:
        """``smiles`` written as the model learned its training molecules (each molecule's
        writing depends on it alone, so a part of the subset is written as in training)."""
        from .smiles_writing import rings_first

        return rings_first(smiles, self.rings_first, self.seed) if self.rings_first else list(smiles)


INSTANCES = {"ehrlich": EhrlichInstance, "moses": MosesSubset}


@dataclass(frozen=True)
class SequenceDomain:
    """The data of a sequence model: one-hot sequences ``(batch, num_states, length)`` of a domain.

    * ``instance`` an :class:`EhrlichInstance`: sequences of an Ehrlich function with
      ``num_states`` states and ``dim = length``;
    * ``instance`` a :class:`MosesSubset`: SELFIES of MOSES molecules on an alphabet of
      ``num_states = len(tokens)`` tokens, padded to ``length``.

    Saved with a pretrained model (:meth:`rewardsde.domains.SequenceEps.save_pretrained`)
    as the JSON of :meth:`to_dict`, and read back with :meth:`from_dict`, so that
    the domain's rewards and metrics can be rebuilt from the model directory alone.

    Args:
        num_states: alphabet size ``V >= 2``.
        length: sequence length ``L >= 1``.
        instance: the domain's parameters.

    Example:
        >>> domain = SequenceDomain(20, 32, EhrlichInstance(num_motifs=2, motif_length=4))
        >>> SequenceDomain.from_dict(domain.to_dict()) == domain
        True
    """

    num_states: int
    length: int
    instance: EhrlichInstance | MosesSubset

    def __post_init__(self) -> None:
        _integer("SequenceDomain", "num_states", self.num_states, 2)
        _integer("SequenceDomain", "length", self.length, 1)
        if isinstance(self.instance, EhrlichInstance):
            needed = self.instance.num_motifs * self.instance.motif_length
            if needed > self.length:
                raise ValueError(
                    f"SequenceDomain.length={self.length} is shorter than num_motifs·motif_length={needed} of its Ehrlich instance"
                )
        elif isinstance(self.instance, MosesSubset):
            if len(self.instance.tokens) != self.num_states:
                raise ValueError(
                    f"SequenceDomain.num_states={self.num_states} differs from the {len(self.instance.tokens)} tokens of its MOSES subset"
                )
        else:
            raise ValueError(f"SequenceDomain.instance must be an EhrlichInstance or a MosesSubset, got {self.instance!r}")

    @property
    def domain(self) -> str:
        """``"ehrlich"`` or ``"moses"``."""
        return "ehrlich" if isinstance(self.instance, EhrlichInstance) else "moses"

    def describe(self) -> str:
        """A short description for messages, e.g. ``an Ehrlich instance (20 states, length 32,
        2 motifs of length 4, seed 0)`` or ``MOSES molecules (SELFIES of 27 tokens, length 47)``."""
        if isinstance(self.instance, EhrlichInstance):
            motifs = f"{self.instance.num_motifs} motifs of length {self.instance.motif_length}"
            shape = f"{self.num_states} states, length {self.length}"
            return f"an Ehrlich instance ({shape}, {motifs}, seed {self.instance.random_seed})"
        return f"MOSES molecules (SELFIES of {self.num_states} tokens, length {self.length})"

    def to_dict(self) -> dict:
        """``{"domain", "num_states", "length", "instance": {...}}``, JSON-serialisable."""
        instance = asdict(self.instance)
        if "tokens" in instance:
            instance["tokens"] = list(instance["tokens"])
        return {"domain": self.domain, "num_states": self.num_states, "length": self.length, "instance": instance}

    @classmethod
    def from_dict(cls, data: dict) -> "SequenceDomain":
        """The inverse of :meth:`to_dict`.

        Raises:
            ValueError: naming the unknown domain, a missing or unexpected key, or a bad value.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a SequenceDomain is read from a dict, got {type(data).__name__}")
        domain = data.get("domain")
        if domain not in INSTANCES:
            raise ValueError(f"SequenceDomain.domain must be one of {DOMAINS}, got {domain!r}")
        _check_keys("SequenceDomain", data, {"domain", "num_states", "length", "instance"}, set())
        kind = INSTANCES[domain]
        instance = data["instance"]
        if not isinstance(instance, dict):
            raise ValueError(f"SequenceDomain.instance must be a dict, got {instance!r}")
        names = {f.name for f in fields(kind)}
        required = {f.name for f in fields(kind) if f.default is MISSING}
        _check_keys(kind.__name__, instance, required, names - required)
        return cls(data["num_states"], data["length"], kind(**instance))


def _check_keys(owner: str, data: dict, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - data.keys())
    if missing:
        raise ValueError(f"{owner} is missing {', '.join(missing)}")
    unexpected = sorted(data.keys() - required - optional)
    if unexpected:
        raise ValueError(f"{owner} has unexpected keys {', '.join(unexpected)}")
