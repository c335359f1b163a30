"""The one reward-learning path: buy labels from an :class:`Oracle`, refit a :class:`RewardModel`."""

from __future__ import annotations

from typing import Callable

from torch import Tensor

from .models import FitReport, RewardModel
from .oracle import Oracle
from .store import row_key


def learn_reward(
    oracle: Oracle,
    model: RewardModel,
    x: Tensor,
    seed: int,
    query: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, FitReport]:
    """Label ``x`` ``(n, ...)`` through ``oracle``, then refit ``model`` on every stored label.

    The labels of ``x`` come from ``query`` (default :meth:`Oracle.query`: stored
    rows free, the rest bought within the budget and stored as they arrive). The
    model is then fitted from weights seeded by ``seed`` on *all* labels in the
    oracle's store, not only this batch's, in an order fixed by the samples' values
    (not by when their labels arrived), so a resumed run, an uninterrupted one and a
    lab that answered in any order fit the same data the same way. SEIKO's rounds
    and ELEGANT's offline surrogate both go through here.

    Returns:
        ``(y, report)``: the labels of ``x`` ``(n,)`` and the model's :class:`FitReport`.
    """
    if x.shape[0] < 1:
        raise ValueError(f"need at least one sample to label, got x of shape {tuple(x.shape)}")
    y = (query or oracle.query)(x)
    labelled, labels, _ = oracle.store.tensors()
    order = sorted(range(len(labels)), key=lambda i: row_key(labelled[i]))
    report = model.fit(labelled[order].to(x), labels[order], seed=seed)
    return y, report
