"""Graph-GA offspring of given molecules: a proposal for the neighbours of SEIKO's best labelled designs."""

from __future__ import annotations

import random

import torch
from torch import Tensor

from .onehot import one_hot
from .selfies_alphabet import SelfiesAlphabet


class GraphGAOffspring:
    """Draw children of anchor molecules by the graph-GA operators of ``mol_ga`` (Jensen 2019).

    For anchors ``a^1..a^A`` (one-hot SELFIES, decoded by argmax to molecules) one draw
    picks an operator: with probability ``mutate`` a mutation of one anchor drawn
    uniformly (``mol_ga.graph_ga.gen_candidates.mutate``: atom and bond edits, ring
    insertions and deletions), otherwise a crossover of two anchors drawn uniformly and
    independently (``reproduce``: ring or chain cut and rejoin, then a mutation with
    probability 0.01). A child that RDKit cannot sanitise, that the alphabet cannot
    write (a token outside it, more than ``length`` tokens) or that the operator fails
    to make is redrawn, so the draws are independent, from the operators' law given the
    anchors restricted to what the alphabet writes. That law has no closed form; it does
    not need one as the neighbourhood component of
    :class:`rewardsde.TiltedDenoisingObjective`, whose weights for its mixture pool are
    ``softmax(r/α)`` whatever that component is (the same role as
    :class:`PointMutations` on sequences, with moves that keep a molecule a molecule).

    Args:
        alphabet: the SELFIES alphabet of the model whose pool the children join.
        mutate: the probability of a mutation rather than a crossover, in [0, 1]
            (``mol_ga``'s own blend uses 0.1).
        max_tries: draws attempted per child before giving up with a ``RuntimeError``.

    Shapes: ``anchors`` ``(A, num_states, length)``; the draw ``(n, num_states, length)``,
    in the ±1 code of :func:`rewardsde.domains.one_hot`.
    """

    def __init__(self, alphabet: SelfiesAlphabet, mutate: float = 0.1, max_tries: int = 50) -> None:
        if not 0.0 <= mutate <= 1.0:
            raise ValueError(f"mutate must lie in [0, 1], got {mutate}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be positive, got {max_tries}")
        self.alphabet, self.mutate, self.max_tries = alphabet, float(mutate), int(max_tries)

    def child(self, parents: list[str], rng: random.Random) -> str | None:
        """One child SMILES of ``parents`` (or None when the operator fails)."""
        from mol_ga.graph_ga.gen_candidates import mutate, reproduce

        if rng.random() < self.mutate:
            return mutate(rng.choice(parents), rng)
        return reproduce(rng.choice(parents), rng.choice(parents), 0.01, rng)

    def __call__(self, anchors: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
        if anchors.dim() != 3 or len(anchors) == 0:
            raise ValueError(f"anchors must be a non-empty (A, num_states, length) tensor, got {tuple(anchors.shape)}")
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        parents = self.alphabet.decode(anchors.detach().cpu())
        rng = random.Random(int(torch.randint(2**62, (1,), generator=generator)))
        rows = []
        for _ in range(n):
            for _ in range(self.max_tries):
                smiles = self.child(parents, rng)
                if smiles:
                    try:
                        rows.append(self.alphabet.token_ids([smiles])[0])
                        break
                    except ValueError:
                        continue
            else:
                raise RuntimeError(f"no child of {parents[:3]}... that the alphabet writes in {self.max_tries} tries")
        ids = torch.stack(rows) if rows else torch.zeros(0, self.alphabet.length, dtype=torch.long)
        return one_hot(ids, self.alphabet.num_states).to(anchors)
