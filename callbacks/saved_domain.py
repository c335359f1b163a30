"""Domain metrics built from a saved sequence model's directory, so that YAML can name them."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rewardsde.domains import (
    SelfiesAlphabet, check_one_hot_shape, decode, domain_reward, molecule, moses_smiles, read_domain,
)

from .feasibility import FeasibilityRate
from .molecules import MoleculeMetrics


class EhrlichFeasibility(FeasibilityRate):
    """The feasibility rate of one-hot samples ``(n, num_states, dim)`` (decoded by argmax)
    under the Ehrlich instance a model at ``path`` was pretrained on.

    Args:
        path: a directory written by :meth:`rewardsde.domains.SequenceEps.save_pretrained`
            from Ehrlich data.
        kwargs: passed to :class:`torchmetrics.Metric`.

    Raises:
        ValueError: when ``path`` holds a model of another domain, naming it.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        domain = read_domain(path)
        if domain.domain != "ehrlich":
            raise ValueError(
                f"EhrlichFeasibility needs a model pretrained on an Ehrlich instance; the model at {path!r} "
                f"was pretrained on {domain.describe()}"
            )
        reward = domain_reward(domain)
        super().__init__(self._feasible, **kwargs)
        self.instance = reward

    def _feasible(self, x: Tensor) -> Tensor:
        check_one_hot_shape(x, self.instance.num_states, self.instance.dim, owner="the Ehrlich instance")
        return self.instance.feasible(decode(x))


class MosesMetrics(MoleculeMetrics):
    """:class:`MoleculeMetrics` of one-hot SELFIES samples of a model at ``path`` pretrained on
    a MOSES subset: decoded with the saved alphabet, novelty against that subset
    (re-read from the ``molsets`` wheel by its saved ``size`` and ``seed``), and a valid sample
    at least as large (in heavy atoms) as the smallest molecule of that subset.

    Args:
        path: a directory written by :meth:`rewardsde.domains.SequenceEps.save_pretrained`
            from :class:`rewardsde.datamodules.MosesSelfiesDataModule` data.
        radius, bits: the Morgan fingerprint.
        kwargs: passed to :class:`torchmetrics.Metric`.

    Raises:
        ValueError: when ``path`` holds a model of another domain, naming it.
    """

    def __init__(self, path: str, radius: int = 2, bits: int = 2048, **kwargs: Any) -> None:
        domain = read_domain(path)
        if domain.domain != "moses":
            raise ValueError(
                f"MosesMetrics needs a model pretrained on MOSES molecules; the model at {path!r} "
                f"was pretrained on {domain.describe()}"
            )
        alphabet = SelfiesAlphabet(domain.instance.tokens, domain.length)
        training = moses_smiles(domain.instance.size, domain.instance.seed)
        smallest = min(molecule(s).GetNumHeavyAtoms() for s in training)
        super().__init__(alphabet.decode, training, radius, bits, min_heavy_atoms=smallest, **kwargs)
