"""A differentiable reward learned from budgeted oracle labels of a pretrained sequence model's own samples."""

from __future__ import annotations

import os

from torch import Tensor, nn

from ..rewards import GreedyReward, Oracle, RewardModel, learn_reward
from ..sampling import sample_reference
from .domain_reward import GenuineReward
from .onehot import check_one_hot_shape
from .sequence_sde import SequenceSDE

RANK_VARIABLES = ("RANK", "NODE_RANK", "LOCAL_RANK", "SLURM_PROCID")


class PretrainedSurrogateReward(nn.Module):
    """``r̂(x)``: a :class:`rewardsde.rewards.RewardModel` fitted to ``n = train_size``
    oracle labels of samples of the pretrained model, through the same path as SEIKO.

    Draws ``x_i ~ p_pre`` (``i = 1..n``, ``steps`` solver steps, seeded by ``seed``)
    from the :class:`SequenceSDE` at ``path``, buys their labels ``y_i = r(x_i)`` from
    an :class:`rewardsde.rewards.Oracle` of the domain's genuine reward
    (:class:`GenuineReward`: the Ehrlich value, 0 when infeasible, or QED/SA) with a
    hard budget of ``n`` labels, and fits ``reward_model`` on every label in the
    oracle's store with :func:`rewardsde.rewards.learn_reward`. The genuine rewards
    decode by argmax and have no gradient; ``r̂`` does, in ``x``
    ``(batch, num_states, length) -> (batch,)``, so it is the reward ELEGANT
    backpropagates through. Its own parameters never require gradients.

    :attr:`oracle` holds the labels (``oracle.spent`` of them, never more than
    ``train_size``) and :attr:`report` the :class:`rewardsde.rewards.models.FitReport`.
    With ``label_store``, the labels are kept in that JSON-lines file: a later
    construction with the same file and seed finds every label there and buys
    none; one with another seed needs new labels, and the budget, which counts the
    stored ones, refuses them (:class:`rewardsde.rewards.BudgetExhaustedError`).
    Under DDP every process draws the same samples; only global rank 0 (by the
    launcher's ``RANK``/``NODE_RANK``/``LOCAL_RANK``/``SLURM_PROCID``) writes the file.

    Args:
        path: a directory written by :meth:`SequenceEps.save_pretrained`.
        train_size: labelled samples, the oracle's budget.
        steps: solver steps of the pretrained model's sampling.
        seed: seeds the samples and the fit.
        prop: for molecules, one of :data:`rewardsde.domains.molecules.PROPERTIES` (``"qed"``, ``"sa"``,
            a PMO task).
        reward_model: the model to fit; default ``GreedyReward()``, the
            mean of 4 heads.
        label_store: a JSON-lines file for the labels; ``None`` keeps them in memory.

    Example (YAML):
        reward:
          class_path: rewardsde.domains.PretrainedSurrogateReward
          init_args:
            path: pretrained/ehrlich
            train_size: 512
            reward_model: {class_path: rewardsde.rewards.UCBReward, init_args: {c: 0.1}}
    """

    def __init__(
        self,
        path: str,
        train_size: int = 512,
        steps: int = 50,
        seed: int = 0,
        prop: str = "qed",
        reward_model: RewardModel | None = None,
        label_store: str | None = None,
    ) -> None:
        super().__init__()
        if train_size < 10:
            raise ValueError(f"train_size must be at least 10, got {train_size}")
        if steps < 1:
            raise ValueError(f"steps must be positive, got {steps}")
        sde = SequenceSDE(path)
        self.event_shape = tuple(sde.event_shape)
        self.oracle = Oracle(GenuineReward(path, prop), budget=train_size, infeasible_value=0.0, seed=seed)
        if label_store is not None:
            self.oracle.open(label_store, write=_global_rank_zero())
        self.model = reward_model if reward_model is not None else GreedyReward()
        x = sample_reference(sde, train_size, steps, seed=seed)
        _, self.report = learn_reward(self.oracle, self.model, x, seed)

    def forward(self, x: Tensor) -> Tensor:
        check_one_hot_shape(x, *self.event_shape, owner="the pretrained model")
        return self.model(x)


def _global_rank_zero() -> bool:
    """Whether this process is global rank 0, by the launcher's environment (no variable: a single process)."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)
