"""A small 1-D convolutional ε-network for one-hot sequences."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from ..nets import TIME_FEATURES, time_features
from ..schedule import VPSchedule
from .onehot import check_one_hot_shape

FORMAT = "rewardsde.SequenceEps"
PARAMETERISATIONS = ("eps", "x0")
CONFIG = "config.json"
WEIGHTS = "model.safetensors"


class _Block(nn.Module):
    """``h + conv(SiLU(conv(SiLU(norm(h))) + W·τ(s)))``: a residual block with the time added in."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.first = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.time = nn.Linear(TIME_FEATURES, channels)
        self.second = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.act = nn.SiLU()

    def forward(self, h: Tensor, features: Tensor) -> Tensor:
        inner = self.first(self.act(self.norm(h))) + self.time(features)[:, :, None]
        return h + self.second(self.act(inner))


class SequenceEps(nn.Module):
    """``ε(x, s)`` for sequences ``x`` of shape ``(batch, num_states, length)`` at diffusion time ``s``.

    The states are the input channels of a stack of residual 1-D convolutions; a
    learned position embedding ``(channels, length)`` is added after the input
    projection and sinusoidal features of ``s`` enter every block, giving
    ``h(x, s) = W_out · blocks(W_in x + P, τ(s))`` of the shape of ``x``. Then

    * ``parameterisation="eps"``: ``ε(x, s) = h(x, s)``;
    * ``parameterisation="x0"``: ``h`` are per-position logits over the states, the
      denoised sequence is the point of the (±1-coded) simplex

          x̂₀(x, s) = 2·softmax_k(h(x, s)) - 1,   (batch, num_states, length),

      and since ``x = √ᾱ(s)·x₀ + σ_s·ε`` under the VP ``schedule``,

          ε(x, s) = (x - √ᾱ(s)·x̂₀(x, s)) / σ_s.

      The denoiser then stays inside the convex hull of the valid tokens (one-hot
      data coded ``-1``/``+1``, as the sequence and SELFIES data modules code them),
      and the ε-loss of :class:`PretrainModule` is the x₀-loss weighted by
      ``SNR = ᾱ(s)/σ_s²``, or by ``min(SNR, γ)`` with ``min_snr_gamma=γ`` (which
      the pretraining configs use). ``schedule`` must be the one the model is
      trained and sampled with: :meth:`save_pretrained` refuses another.

    Use it as the ``network`` of :class:`rewardsde.PretrainedSDE` with
    ``event_shape=(num_states, length)``. The output layer starts at zero (ε = 0, or
    a uniform x̂₀). :meth:`save_pretrained` writes it with its VP schedule to a
    directory that :class:`rewardsde.domains.SequenceSDE` loads.

    Args:
        num_states: size of the token alphabet (input and output channels).
        length: sequence length.
        channels: hidden channels.
        depth: number of residual blocks.
        kernel_size: odd convolution width.
        parameterisation: ``"eps"`` or ``"x0"``, as above.
        schedule: the VP schedule of the ``"x0"`` parameterisation; default
            ``VPSchedule()``, the default of :class:`PretrainModule`.

    Example:
        >>> net = SequenceEps(num_states=20, length=32, parameterisation="x0")
        >>> net(torch.randn(4, 20, 32), torch.rand(4)).shape
        torch.Size([4, 20, 32])
    """

    def __init__(
        self,
        num_states: int,
        length: int,
        channels: int = 64,
        depth: int = 4,
        kernel_size: int = 5,
        parameterisation: str = "eps",
        schedule: VPSchedule | None = None,
    ) -> None:
        super().__init__()
        if num_states < 2 or length < 1:
            raise ValueError(f"need num_states >= 2 and length >= 1, got {num_states} and {length}")
        if channels < 1 or depth < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"need channels >= 1, depth >= 1 and an odd kernel_size; got {channels}, {depth}, {kernel_size}"
            )
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}")
        self.num_states = num_states
        self.length = length
        self.parameterisation = parameterisation
        self.schedule = schedule or VPSchedule()
        self.config = {
            "num_states": num_states, "length": length, "channels": channels, "depth": depth,
            "kernel_size": kernel_size, "parameterisation": parameterisation,
        }
        self.inp = nn.Conv1d(num_states, channels, 1)
        self.position = nn.Parameter(torch.zeros(channels, length))
        self.blocks = nn.ModuleList(_Block(channels, kernel_size) for _ in range(depth))
        self.out = nn.Conv1d(channels, num_states, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        check_one_hot_shape(x, self.num_states, self.length)
        features = time_features(s, x.shape[0]).to(x)
        h = self.inp(x) + self.position
        for block in self.blocks:
            h = block(h, features)
        if self.parameterisation == "eps":
            return self.out(h)
        time = torch.as_tensor(s).to(x).reshape(-1).expand(x.shape[0])[:, None, None]
        denoised = 2.0 * torch.softmax(self.out(h), dim=1) - 1.0
        return (x - self.schedule.alpha_bar(time).sqrt() * denoised) / self.schedule.sigma(time)

    def save_pretrained(
        self, directory: str | Path, schedule: VPSchedule, s_min: float = 1e-3, metadata: dict | None = None
    ) -> None:
        """Write ``directory/config.json`` and ``directory/model.safetensors``.

        ``config.json`` holds the constructor arguments (``"network"``), the VP
        schedule (``"schedule"``: ``beta_min``, ``beta_max``, ``kind``), ``"s_min"``
        and ``"metadata"``: what the data were (e.g. the Ehrlich instance or the
        SELFIES alphabet), a JSON-serialisable dict or ``None``.

        Raises:
            ValueError: for an ``"x0"`` network whose own schedule is not ``schedule``.
        """
        if self.parameterisation == "x0" and repr(schedule) != repr(self.schedule):
            raise ValueError(
                f"this x0-parameterised network computes ε with {self.schedule}, not the {schedule} it would be "
                "saved with; give SequenceEps the schedule of the PretrainModule"
            )
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "format": FORMAT,
            "network": self.config,
            "schedule": {"beta_min": schedule.beta_min, "beta_max": schedule.beta_max, "kind": schedule.kind},
            "s_min": float(s_min),
            "metadata": metadata or {},
        }
        (directory / CONFIG).write_text(json.dumps(config, indent=2))
        state = {name: value.detach().cpu().contiguous() for name, value in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS))
