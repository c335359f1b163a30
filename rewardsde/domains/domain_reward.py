"""The genuine reward of the data a sequence model was pretrained on, and its designs as text, from its saved directory."""

from __future__ import annotations

from torch import Tensor, nn

from .ehrlich import EhrlichReward
from .metadata import EhrlichInstance, SequenceDomain
from .molecules import MoleculeReward
from .onehot import check_one_hot_shape
from .selfies_alphabet import SelfiesAlphabet
from .sequence_eps import read_domain


def domain_reward(domain: SequenceDomain, prop: str = "qed") -> nn.Module:
    """The genuine reward of the data ``domain`` describes.

    * an :class:`EhrlichInstance`: :class:`EhrlichReward` of that instance with
      ``num_states`` states and ``dim = length``;
    * a :class:`MosesSubset`: :class:`MoleculeReward` of ``prop`` (``"qed"``,
      ``"sa"`` or a PMO task such as ``"perindopril_mpo"``) on its SELFIES alphabet.
    """
    if not isinstance(domain, SequenceDomain):
        raise ValueError(f"domain must be a SequenceDomain, got {type(domain).__name__}")
    instance = domain.instance
    if isinstance(instance, EhrlichInstance):
        return EhrlichReward(
            num_states=domain.num_states,
            dim=domain.length,
            num_motifs=instance.num_motifs,
            motif_length=instance.motif_length,
            quantization=instance.quantization,
            epistasis_factor=instance.epistasis_factor,
            random_seed=instance.random_seed,
        )
    return MoleculeReward(SelfiesAlphabet(instance.tokens, domain.length), prop)


class GenuineReward(nn.Module):
    """The genuine (argmax-decoded, not differentiable) reward of a saved sequence model's domain.

    ``r(x)`` ``(batch,)`` for one-hot samples ``x`` ``(batch, num_states, length)``:
    the Ehrlich value (0 when infeasible) or the QED/SA reward of the molecule, as
    :func:`domain_reward` builds it from ``path``'s :class:`SequenceDomain`. Usable
    from YAML, e.g. as the ``genuine`` reward of :class:`rewardsde.callbacks.SampleEvaluation`.

    Args:
        path: a directory written by :meth:`SequenceEps.save_pretrained`.
        prop: for molecules, ``"qed"``, ``"sa"`` or a PMO task (:class:`MoleculeReward`).

    :attr:`fingerprint` is its reward's (:attr:`EhrlichReward.fingerprint` or
    :attr:`MoleculeReward.fingerprint`), so an :class:`rewardsde.rewards.Oracle` of it
    refuses a label file written for another instance.
    """

    def __init__(self, path: str, prop: str = "qed") -> None:
        super().__init__()
        self.reward = domain_reward(read_domain(path), prop)
        self.fingerprint = self.reward.fingerprint

    def forward(self, x: Tensor) -> Tensor:
        return self.reward(x)


class DesignText:
    """The readable form of a saved sequence model's designs, for a lab's query sheet.

    ``x (batch, num_states, length) -> batch`` strings: the SMILES of each molecule for a
    MOSES model (its SELFIES alphabet, argmax-decoded), the sequence for an Ehrlich model
    (:func:`rewardsde.rewards.lab.describe_design`: letters for up to 20 states). Give it as
    the ``describe`` of a :class:`rewardsde.rewards.LabOracle`.

    Args:
        path: a directory written by :meth:`SequenceEps.save_pretrained`.
    """

    def __init__(self, path: str) -> None:
        self.domain = read_domain(path)
        instance = self.domain.instance
        self.alphabet = (SelfiesAlphabet(instance.tokens, self.domain.length)
                         if not isinstance(instance, EhrlichInstance) else None)

    def __call__(self, x: Tensor) -> list[str]:
        check_one_hot_shape(x, self.domain.num_states, self.domain.length, owner=f"the {self.domain.domain} model")
        if self.alphabet is not None:
            return self.alphabet.decode(x)
        from ..rewards.lab import describe_design

        return describe_design(x)
