"""The genuine reward of the data a sequence model was pretrained on, read from its saved directory."""

from __future__ import annotations

from torch import Tensor, nn

from .ehrlich import EhrlichReward
from .molecules import MoleculeReward
from .selfies_alphabet import SelfiesAlphabet
from .sequence_sde import read_sequence_config

DOMAINS = ("ehrlich", "moses")


def domain_reward(metadata: dict, prop: str = "qed") -> nn.Module:
    """The genuine reward described by a saved model's ``metadata``.

    * ``{"domain": "ehrlich", "instance": {...}}``: :class:`EhrlichReward` of the instance;
    * ``{"domain": "moses", "tokens": [...], "length": L, ...}``: :class:`MoleculeReward`
      of ``prop`` (``"qed"`` or ``"sa"``) on that SELFIES alphabet.
    """
    domain = metadata.get("domain")
    if domain == "ehrlich":
        return EhrlichReward(**metadata["instance"])
    if domain == "moses":
        return MoleculeReward(SelfiesAlphabet(metadata["tokens"], metadata["length"]), prop)
    raise ValueError(f"metadata domain must be one of {DOMAINS}, got {domain!r}")


class GenuineReward(nn.Module):
    """The genuine (argmax-decoded, not differentiable) reward of a saved sequence model's domain.

    ``r(x)`` ``(batch,)`` for one-hot samples ``x`` ``(batch, num_states, length)``:
    the Ehrlich value (0 when infeasible) or the QED/SA reward of the molecule, as
    :func:`domain_reward` builds it from ``path``'s metadata. Usable from YAML, e.g. as
    the ``genuine`` reward of :class:`rewardsde.callbacks.SampleEvaluation`.

    Args:
        path: a directory written by :meth:`SequenceEps.save_pretrained`.
        prop: for molecules, ``"qed"`` or ``"sa"``.
    """

    def __init__(self, path: str, prop: str = "qed") -> None:
        super().__init__()
        self.reward = domain_reward(read_sequence_config(path)["metadata"], prop)

    def forward(self, x: Tensor) -> Tensor:
        return self.reward(x)
