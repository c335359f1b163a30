"""A differentiable reward fitted to genuine labels of a pretrained sequence model's own samples."""

from __future__ import annotations

from torch import Tensor, nn

from ..sampling import sample_reference
from .domain_reward import GenuineReward
from .sequence_sde import SequenceSDE
from .surrogate import fit_surrogate


class PretrainedSurrogateReward(nn.Module):
    """``r_θ`` fitted to ``train_size`` oracle queries on samples of the pretrained model.

    Draws ``x_i ~ p_pre`` (``i = 1..n``, ``n = train_size``, ``steps`` solver steps,
    seeded by ``seed``) from the :class:`SequenceSDE` at ``path``, labels them with
    the domain's genuine reward ``y_i = r(x_i)`` (:class:`GenuineReward`: Ehrlich value,
    0 when infeasible, or QED/SA), and fits a :class:`SurrogateReward` ``r_θ``
    ``(batch, num_states, length) -> (batch,)`` with :func:`fit_surrogate`. The
    genuine rewards decode by argmax and have no gradient; ``r_θ`` does, so it is
    the reward ELEGANT backpropagates through. The ``n`` labels are the oracle
    queries the fine-tuning spends (:attr:`queries`); :attr:`fit` holds the held-out
    error and correlation of the fit.

    Args:
        path: a directory written by :meth:`SequenceEps.save_pretrained`.
        train_size: labelled samples (oracle queries).
        steps: solver steps of the pretrained model's sampling.
        seed: seeds the samples, the held-out split and the initial weights.
        prop: for molecules, ``"qed"`` or ``"sa"``.
        hidden, depth: the surrogate MLP.
        max_epochs: epochs of the fit at most.
    """

    def __init__(
        self,
        path: str,
        train_size: int = 512,
        steps: int = 50,
        seed: int = 0,
        prop: str = "qed",
        hidden: int = 128,
        depth: int = 2,
        max_epochs: int = 200,
    ) -> None:
        super().__init__()
        if train_size < 10:
            raise ValueError(f"train_size must be at least 10, got {train_size}")
        if steps < 1:
            raise ValueError(f"steps must be positive, got {steps}")
        x = sample_reference(SequenceSDE(path), train_size, steps, seed=seed)
        y = GenuineReward(path, prop)(x)
        self.surrogate, self.fit = fit_surrogate(x, y, seed=seed, hidden=hidden, depth=depth, max_epochs=max_epochs)
        self.surrogate.requires_grad_(False)
        self.queries = train_size
        self.label_mean = y.mean().item()

    def forward(self, x: Tensor) -> Tensor:
        return self.surrogate(x)
