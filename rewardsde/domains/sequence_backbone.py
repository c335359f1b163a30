"""A 1-D convolutional network on one-hot sequences, saved and loaded by diffusers' ``ModelMixin``."""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import Tensor, nn

from ..nets import TIME_FEATURES, time_features
from .onehot import check_one_hot_shape


class _Block(nn.Module):
    """``h + conv(SiLU(conv(SiLU(norm(h))) + W·τ(s)))``: a residual block with the time added in;
    both convolutions have the same ``dilation``."""

    def __init__(self, channels: int, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        padding = dilation * (kernel_size // 2)
        self.norm = nn.GroupNorm(1, channels)
        self.first = nn.Conv1d(channels, channels, kernel_size, padding=padding, dilation=dilation)
        self.time = nn.Linear(TIME_FEATURES, channels)
        self.second = nn.Conv1d(channels, channels, kernel_size, padding=padding, dilation=dilation)
        self.act = nn.SiLU()

    def forward(self, h: Tensor, features: Tensor) -> Tensor:
        inner = self.first(self.act(self.norm(h))) + self.time(features)[:, :, None]
        return h + self.second(self.act(inner))


class _Attention(nn.Module):
    """``h + MHA(norm(h))``: pre-norm multi-head self-attention across positions, residual."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, h: Tensor) -> Tensor:
        z = self.norm(h).transpose(1, 2)
        out, _ = self.attention(z, z, z, need_weights=False)
        return h + out.transpose(1, 2)


class SequenceBackbone(ModelMixin, ConfigMixin):
    """``h(x, s)``: ``(batch, num_states, length)`` outputs for sequences ``x`` of that shape at time ``s``.

    The states are the input channels of a stack of residual 1-D convolutions; a
    learned position embedding ``(channels, length)`` is added after the input
    projection and sinusoidal features ``τ(s)`` enter every block:

        h(x, s) = W_out · blocks(W_in x + P, τ(s)).

    Block ``i`` (from 0) convolves with dilation ``2^(i mod dilation_cycle)``, so with
    ``dilation_cycle = c`` the receptive field is ``1 + 2·(kernel_size - 1)·Σ_i 2^(i mod c)``
    positions (``depth·(2^c - 1)`` in the sum when ``c`` divides ``depth``): far-apart
    positions, such as the spaced elements of an Ehrlich motif, see each other in a few blocks.
    ``dilation_cycle = 1`` (the default) is the undilated stack.

    With ``attention_heads = m > 0`` every block is followed by pre-norm multi-head
    self-attention across positions (``m`` heads, residual), so any two positions see each
    other in one block: what a SELFIES string needs, where a ring or branch token changes
    the meaning of tokens far from it. ``0`` (the default) is the plain convolutional stack.

    With ``pairwise=True`` it also holds a ``(num_states, num_states)`` parameter
    :attr:`transition`, zero at the start: the log-potentials ``A[a, b]`` of a state ``a``
    followed by ``b``, which the ``head="chain"`` of :class:`rewardsde.domains.SequenceEps`
    combines with ``h`` (:func:`rewardsde.domains.chain_marginals.chain_log_marginals`).
    The backbone's own output does not use it; it lives here so that diffusers saves and
    loads it with the weights. Models saved before the option load with ``pairwise=False``.

    It knows nothing of the noise schedule: :class:`rewardsde.domains.SequenceEps`
    reads ``h`` as ε or as x₀-logits. The output layer starts at zero. Saved and
    loaded like any diffusers model (``save_pretrained``/``from_pretrained``: a
    ``config.json`` of the arguments below and the weights in safetensors).

    Args:
        num_states: size of the token alphabet (input and output channels).
        length: sequence length.
        channels: hidden channels.
        depth: number of residual blocks.
        kernel_size: odd convolution width.
        dilation_cycle: the dilations cycle through ``1, 2, …, 2^(dilation_cycle - 1)``.
        pairwise: whether to hold the pairwise log-potentials :attr:`transition`.
        attention_heads: heads of the self-attention after every block (``channels`` must be a
            multiple), or 0 for none.
    """

    @register_to_config
    def __init__(
        self,
        num_states: int,
        length: int,
        channels: int = 64,
        depth: int = 4,
        kernel_size: int = 5,
        dilation_cycle: int = 1,
        pairwise: bool = False,
        attention_heads: int = 0,
    ) -> None:
        super().__init__()
        if num_states < 2 or length < 1:
            raise ValueError(f"need num_states >= 2 and length >= 1, got {num_states} and {length}")
        if channels < 1 or depth < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"need channels >= 1, depth >= 1 and an odd kernel_size; got {channels}, {depth}, {kernel_size}"
            )
        if dilation_cycle < 1:
            raise ValueError(f"dilation_cycle must be at least 1, got {dilation_cycle}")
        if attention_heads < 0 or (attention_heads and channels % attention_heads):
            raise ValueError(
                f"attention_heads must be 0 or a positive divisor of channels={channels}, got {attention_heads}"
            )
        self.inp = nn.Conv1d(num_states, channels, 1)
        self.position = nn.Parameter(torch.zeros(channels, length))
        self.blocks = nn.ModuleList(_Block(channels, kernel_size, 2 ** (i % dilation_cycle)) for i in range(depth))
        self.attention = nn.ModuleList(
            _Attention(channels, attention_heads) for _ in range(depth if attention_heads else 0)
        )
        self.out = nn.Conv1d(channels, num_states, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if pairwise:
            self.transition = nn.Parameter(torch.zeros(num_states, num_states))

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        """``(batch, num_states, length)``, ``s`` a scalar or ``(batch,)`` ``->`` ``(batch, num_states, length)``."""
        check_one_hot_shape(x, self.config.num_states, self.config.length)
        features = time_features(s, x.shape[0]).to(x)
        h = self.inp(x) + self.position
        for i, block in enumerate(self.blocks):
            h = block(h, features)
            if self.attention:
                h = self.attention[i](h)
        return self.out(h)
