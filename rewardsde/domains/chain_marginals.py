"""Exact per-position marginals of a linear-chain model over tokens, by forward-backward in log space."""

from __future__ import annotations

import torch
from torch import Tensor


def chain_log_marginals(unary: Tensor, pairwise: Tensor) -> Tensor:
    """``log p(y_j = k)``, ``(batch, K, L)``, under the linear chain

        p(y) ∝ exp(Σ_j u[y_j, j] + Σ_{j<L-1} A[y_j, y_{j+1}]),   y ∈ {0..K-1}^L,

    for unary log-potentials ``u = unary`` ``(batch, K, L)`` and pairwise log-potentials
    ``A = pairwise`` ``(K, K)`` (row: the state at ``j``, column: the state at ``j + 1``),
    shared by all adjacent pairs. This is the linear-chain conditional random field of
    Lafferty, McCallum and Pereira (2001); the marginals come from the forward-backward
    recursions (Rabiner 1989)

        α_0 = u_0,   α_j(k) = u_j(k) + logsumexp_i(α_{j-1}(i) + A[i, k]),
        β_{L-1} = 0, β_j(i) = logsumexp_k(A[i, k] + u_{j+1}(k) + β_{j+1}(k)),
        log p(y_j = k) = α_j(k) + β_j(k) - logsumexp_i(α_j(i) + β_j(i)),

    in ``O(L·K²)`` per sequence, differentiable in ``unary`` and ``pairwise``. With
    ``A = 0`` the positions are independent and the result is ``log_softmax_k(u)``.

    Raises:
        ValueError: for a ``unary`` that is not ``(batch, K, L)`` or a ``pairwise`` that is not ``(K, K)``.
    """
    if unary.dim() != 3:
        raise ValueError(f"unary must have shape (batch, K, L), got {tuple(unary.shape)}")
    states = unary.shape[1]
    if pairwise.shape != (states, states):
        raise ValueError(f"pairwise must have shape ({states}, {states}) for unary {tuple(unary.shape)}, "
                         f"got {tuple(pairwise.shape)}")
    length = unary.shape[2]
    pairwise = pairwise.to(unary)
    forward = [unary[:, :, 0]]
    for j in range(1, length):
        forward.append(unary[:, :, j] + torch.logsumexp(forward[-1][:, :, None] + pairwise, dim=1))
    backward = [torch.zeros_like(unary[:, :, 0])]
    for j in range(length - 2, -1, -1):
        message = unary[:, :, j + 1] + backward[-1]
        backward.append(torch.logsumexp(pairwise + message[:, None, :], dim=2))
    joint = torch.stack(forward, dim=2) + torch.stack(backward[::-1], dim=2)
    return torch.log_softmax(joint, dim=1)
