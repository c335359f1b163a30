"""Per-sample ``dist_reduce_fx="cat"`` states that survive a rank with no samples.

When a rank never called ``update``, torchmetrics syncs its "cat" state as the
placeholder ``torch.tensor([], dtype=metric.dtype)``: one dimension, the
metric's dtype. ``all_gather`` under gloo aborts the process when ranks send
tensors of different rank or dtype, so the metrics here keep such states flat
(1-D) in float64 and set ``metric.dtype`` to float64; the row width is known
from the metric or kept in a separate state.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.utilities import dim_zero_cat

DTYPE = torch.float64


def concatenated(state: Tensor | list[Tensor], *trailing: int) -> Tensor:
    """The flat "cat" ``state`` as one float64 tensor of shape ``(N, *trailing)``.

    Before a sync torchmetrics keeps the state as a list of per-update tensors;
    after one it is already the tensor of all ranks' values. A state that was
    never updated is an empty list and gives ``(0, *trailing)``.
    """
    if isinstance(state, list) and not state:
        return torch.empty(0, *trailing, dtype=DTYPE)
    return dim_zero_cat(state).to(DTYPE).reshape(-1, *trailing)
