"""ε of a one-hot sequence denoiser: the ε/x₀ preconditioning around a :class:`SequenceBackbone`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import Tensor, nn

from ..example_configs import missing_model_hint
from ..schedule import VPSchedule
from .chain_marginals import chain_log_marginals
from .metadata import SequenceDomain
from .onehot import from_probabilities

FORMAT = "rewardsde.SequenceEps"
PARAMETERISATIONS = ("eps", "x0")
INPUTS = ("x", "posterior")
HEADS = ("logits", "skip", "chain")
CONFIG = "sequence_model.json"
BACKBONE = "backbone"
BACKBONE_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
ARCHITECTURE = ("num_states", "length", "channels", "depth", "kernel_size", "dilation_cycle", "attention_heads")
REQUIRED = ("parameterisation", "schedule", "s_min", "metadata")


class SequenceEps(nn.Module):
    """``ε(x, s)`` for sequences ``x`` of shape ``(batch, num_states, length)`` at diffusion time ``s``.

    A :class:`rewardsde.domains.SequenceBackbone` ``h(x, s)`` of the shape of ``x``
    (built from the arguments below; :attr:`backbone`) is read as

    * ``parameterisation="eps"``: ``ε(x, s) = h(x, s)``;
    * ``parameterisation="x0"``: per-position logits over the states. The denoised
      sequence is the point of the coded simplex (:func:`rewardsde.domains.from_probabilities`)

          x̂₀(x, s) = 2·softmax_k(h(x, s)) - 1,   (batch, num_states, length),

      and since ``x = √ᾱ(s)·x₀ + σ_s·ε`` under the VP ``schedule``,

          ε̂(x, s) = (x - √ᾱ(s)·x̂₀(x, s)) / σ_s.

      The denoiser then stays inside the convex hull of the valid tokens (the ±1
      code of :func:`rewardsde.domains.one_hot`, the only one the data use), and the
      ε-loss of pretraining is the x₀-loss weighted by ``SNR = ᾱ(s)/σ_s²``, or by
      ``min(SNR, γ)`` with ``min_snr_gamma=γ`` (which the pretraining configs use).
      ``schedule`` must be the one the model is trained and sampled with:
      :meth:`save_pretrained` refuses another.

    The backbone reads ``x`` itself (``inputs="x"``), or with ``inputs="posterior"`` the
    denoised sequence of each position on its own, under a uniform prior over the states:
    since ``-‖x_j - √ᾱ·c_k‖²/(2σ²) = 2√ᾱ·x_{k,j}/σ² + const`` for the code ``c_k`` of state
    ``k``,

        x̃(x, s) = 2·softmax_k(2√ᾱ(s)·x/σ_s²) - 1,   (batch, num_states, length),

    a point of the coded simplex at every noise level (near uniform at high noise, the
    nearest code at low noise) that keeps all that ``x`` says about the tokens (the
    softmax forgets only a per-position constant); ``h = h(x̃(x, s), s)`` then only has
    to relate positions to each other. It uses ``schedule`` as ``"x0"`` does.

    What the ``"x0"`` network's logits are (``head``; :meth:`logits`), with
    ``e(x, s) = 2√ᾱ(s)·x/σ_s²``, the per-position log-likelihoods above (the logits of each
    position's posterior under a uniform prior), ``(batch, num_states, length)``:

    * ``head="logits"``: ``h(x, s)`` itself;
    * ``head="skip"``: ``h(x, s) + e(x, s)``, an output-side skip connection in the manner of
      the preconditioning of Karras et al. (2022): the zero-initialised network is the
      denoiser of independent uniform tokens, and ``h`` learns only what the other
      positions add, while at low noise the (exact) identity dominates;
    * ``head="chain"``: the marginals ``log p(y_j = k)`` of the linear chain
      ``p(y) ∝ exp(Σ_j (h + e)[y_j, j] + Σ_j A[y_j, y_{j+1}])`` (a linear-chain CRF output layer,
      Lafferty et al. 2001, as on the BiLSTM-CRF taggers of Huang et al. 2015), with the
      learned, time-independent pairwise log-potentials ``A`` ``(num_states, num_states)``
      of the backbone (:attr:`SequenceBackbone.transition`, zero at the start), by
      forward-backward (:func:`rewardsde.domains.chain_marginals.chain_log_marginals`).
      When the data are a Markov chain ``(π, T)`` the exact posterior is of this form
      (``A = log T``, ``h = log π`` at the first position and 0 elsewhere), so banned
      transitions (``T = 0``) can be learned as very negative ``A``, which per-position
      logits must instead recompute from the neighbours at every noise level.

    **Sampling temperature** (``temperature=τ``, ``"x0"`` only; 1 by default): the ε of
    :meth:`forward` is computed from the sharpened posterior ``p_τ(y | x) ∝ p(y | x)^{1/τ}`` of
    the x₀-tokens instead of ``p(y | x)`` itself, i.e. from the logits divided by ``τ``. For the
    ``"logits"`` and ``"skip"`` heads that is each position's softmax at temperature ``τ``; for
    ``"chain"`` the unary *and* pairwise log-potentials are divided by ``τ``, so the marginals are
    those of the whole chain at temperature ``τ`` (not each position's marginal sharpened on its
    own). ``τ < 1`` trades diversity for likelihood, as low-temperature sampling of a language model
    does: the SDE is then no longer the time reversal of any data's noising, but a reference like any
    other for fine-tuning. It is a sampling choice, not saved: :meth:`logits` (what pretraining
    trains) ignores it, and :class:`rewardsde.domains.SequenceSDE` sets it at load time.

    Use it as the ``network`` of :class:`rewardsde.PretrainedSDE` with
    ``event_shape=(num_states, length)``. The backbone's output layer starts at zero
    (ε = 0; a uniform x̂₀ with ``head="logits"``; each position's own posterior under a
    uniform prior with ``"skip"`` and ``"chain"``). :meth:`save_pretrained` writes it with its VP schedule
    to a directory that :meth:`from_pretrained` and :class:`rewardsde.domains.SequenceSDE` load.

    Args:
        num_states: size of the token alphabet (input and output channels).
        length: sequence length.
        channels, depth, kernel_size: the backbone's width, residual blocks and odd convolution width.
        dilation_cycle: block ``i`` of the backbone has dilation ``2^(i mod dilation_cycle)``.
        attention_heads: self-attention heads after every block of the backbone (0: none).
        inputs: ``"x"`` or ``"posterior"``, what the backbone reads, as above.
        head: ``"logits"``, ``"skip"`` or ``"chain"``, the x₀-logits of an ``"x0"`` network, as above.
        parameterisation: ``"eps"`` or ``"x0"``, as above.
        schedule: the VP schedule of the ``"x0"`` parameterisation and of ``inputs="posterior"``; default
            ``VPSchedule()``, the default of :class:`PretrainModule`.
        temperature: ``τ > 0``, the sampling temperature of an ``"x0"`` network's ε, as above.

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
        dilation_cycle: int = 1,
        inputs: str = "x",
        head: str = "logits",
        attention_heads: int = 0,
        temperature: float = 1.0,
    ) -> None:
        super().__init__()
        from .sequence_backbone import SequenceBackbone

        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}")
        if inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if head != "logits" and parameterisation != "x0":
            raise ValueError(f"head={head!r} needs parameterisation='x0', got {parameterisation!r}")
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be positive and finite, got {temperature!r}")
        if temperature != 1.0 and parameterisation != "x0":
            raise ValueError(f"temperature {temperature} needs parameterisation='x0' (x0-logits to sharpen), "
                             f"got {parameterisation!r}")
        self.backbone = SequenceBackbone(
            num_states, length, channels, depth, kernel_size, dilation_cycle, pairwise=head == "chain",
            attention_heads=attention_heads,
        )
        self.parameterisation, self.inputs, self.head = parameterisation, inputs, head
        self.schedule = schedule or VPSchedule()
        self.temperature = float(temperature)

    @property
    def num_states(self) -> int:
        return self.backbone.config.num_states

    @property
    def length(self) -> int:
        return self.backbone.config.length

    def logits(self, x: Tensor, s: Tensor, temperature: float = 1.0) -> Tensor:
        """The x₀-logits of an ``"x0"`` network, ``(batch, num_states, length)``: ``h(x, s)``,
        ``h + e`` or the chain's log-marginals, as ``head`` says (what
        :class:`rewardsde.CrossEntropyDenoisingLoss` trains), at ``temperature`` ``τ``: ``h/τ``,
        ``(h + e)/τ``, or the log-marginals of the chain with ``(h + e)/τ`` and ``A/τ``.

        Raises:
            ValueError: for an ``"eps"`` network, whose output is not logits.
        """
        if self.parameterisation != "x0":
            raise ValueError(f"logits need parameterisation='x0', this network has {self.parameterisation!r}")
        h = self._backbone(x, s)
        unary = h if self.head == "logits" else h + self.emission(x, s)
        if temperature != 1.0:  # no extra op in the drift or the training graph at the trained τ = 1
            unary = unary / temperature
        if self.head != "chain":
            return unary
        pairwise = self.backbone.transition
        return chain_log_marginals(unary, pairwise if temperature == 1.0 else pairwise / temperature)

    def emission(self, x: Tensor, s: Tensor) -> Tensor:
        """``e(x, s) = 2√ᾱ(s)·x/σ_s²``, ``(batch, num_states, length)``: each position's log-likelihood
        of every state's code, up to a per-position constant."""
        time = torch.as_tensor(s).to(x).reshape(-1).expand(x.shape[0])[:, None, None]
        return 2.0 * self.schedule.alpha_bar(time).sqrt() / self.schedule.sigma(time).square() * x

    def _backbone(self, x: Tensor, s: Tensor) -> Tensor:
        if self.inputs == "x":
            return self.backbone(x, s)
        return self.backbone(from_probabilities(torch.softmax(self.emission(x, s), dim=1)), s)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        if self.parameterisation == "eps":
            return self._backbone(x, s)
        time = torch.as_tensor(s).to(x).reshape(-1).expand(x.shape[0])[:, None, None]
        denoised = from_probabilities(torch.softmax(self.logits(x, s, self.temperature), dim=1))
        return (x - self.schedule.alpha_bar(time).sqrt() * denoised) / self.schedule.sigma(time)

    def save_pretrained(
        self,
        directory: str | Path,
        schedule: VPSchedule,
        s_min: float = 1e-3,
        metadata: SequenceDomain | dict | None = None,
    ) -> None:
        """Write ``directory/sequence_model.json`` and the backbone to ``directory/backbone``.

        The JSON holds ``"parameterisation"``, ``"inputs"``, ``"head"``, the VP schedule (``"schedule"``:
        ``beta_min``, ``beta_max``, ``kind``), ``"s_min"`` and ``"metadata"``: the
        :class:`SequenceDomain` of the data (:meth:`SequenceDomain.to_dict`; a dict is
        read with :meth:`SequenceDomain.from_dict` first) or ``None``. The backbone is
        saved by diffusers' ``ModelMixin.save_pretrained`` (``config.json`` and
        ``diffusion_pytorch_model.safetensors``).

        Raises:
            ValueError: for an ``"x0"`` network whose own schedule is not ``schedule``,
                or metadata that is not a valid :class:`SequenceDomain`.
        """
        if self.parameterisation == "x0" or self.inputs == "posterior":
            self._check_schedule(schedule)
        domain = SequenceDomain.from_dict(metadata) if isinstance(metadata, dict) else metadata
        if domain is not None and not isinstance(domain, SequenceDomain):
            raise ValueError(f"metadata must be a SequenceDomain, a dict or None, got {type(metadata).__name__}")
        if domain is not None and (domain.num_states, domain.length) != (self.num_states, self.length):
            raise ValueError(
                f"metadata describes sequences ({domain.num_states}, {domain.length}), "
                f"but the network takes ({self.num_states}, {self.length})"
            )
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "format": FORMAT,
            "parameterisation": self.parameterisation,
            "inputs": self.inputs,
            "head": self.head,
            "schedule": {"beta_min": schedule.beta_min, "beta_max": schedule.beta_max, "kind": schedule.kind},
            "s_min": float(s_min),
            "metadata": None if domain is None else domain.to_dict(),
        }
        self.backbone.save_pretrained(str(directory / BACKBONE), safe_serialization=True)
        (directory / CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def from_pretrained(cls, path: str | Path, temperature: float = 1.0) -> "SequenceEps":
        """The network saved at ``path`` by :meth:`save_pretrained`, with its saved schedule, sampled
        at ``temperature`` (see the class).

        Raises:
            ValueError: as :func:`read_sequence_config`, for weights that do not load, or for a
                temperature that is not positive or given to an ``"eps"`` network.
        """
        from .sequence_backbone import SequenceBackbone

        config = read_sequence_config(path)
        backbone_path = Path(path) / BACKBONE
        try:
            backbone = SequenceBackbone.from_pretrained(str(backbone_path))
        except Exception as error:  # diffusers and safetensors raise several types for a damaged file
            raise ValueError(f"could not load the backbone in {str(backbone_path)!r}: {error}") from error
        architecture = {key: backbone.config[key] for key in ARCHITECTURE if key in backbone.config}
        head = config.get("head", "logits")
        if (head == "chain") != bool(backbone.config.get("pairwise", False)):
            raise ValueError(
                f"the model in {str(path)!r} has head {head!r} but a backbone with pairwise="
                f"{backbone.config.get('pairwise', False)}; head 'chain' and only it needs the pairwise potentials"
            )
        network = cls(
            **architecture,
            parameterisation=config["parameterisation"],
            schedule=VPSchedule(**config["schedule"]),
            inputs=config.get("inputs", "x"),
            head=head,
            temperature=temperature,
        )
        network.backbone = backbone
        return network

    def _check_schedule(self, schedule: VPSchedule) -> None:
        if repr(schedule) != repr(self.schedule):
            raise ValueError(
                f"this network (parameterisation {self.parameterisation!r}, inputs {self.inputs!r}) computes ε with "
                f"{self.schedule}, not the {schedule} it would be saved with; "
                "give SequenceEps the schedule of the PretrainModule"
            )


def read_sequence_config(path: str | Path) -> dict:
    """The ``sequence_model.json`` of a directory written by :meth:`SequenceEps.save_pretrained`,
    with ``"metadata"`` read as a :class:`SequenceDomain` (or ``None``).

    Raises:
        ValueError: when the directory does not exist, holds a diffusers pipeline or lacks a
            file, or the config is not a saved ``SequenceEps`` or has bad metadata.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ValueError(f"sequence model directory {str(directory)!r} does not exist{missing_model_hint(directory)}")
    files = [CONFIG, *(f"{BACKBONE}/{name}" for name in BACKBONE_FILES)]
    if not (directory / CONFIG).is_file() and (directory / "model_index.json").is_file():
        raise ValueError(
            f"{str(directory)!r} holds a diffusers pipeline (model_index.json), not a sequence model "
            f"({CONFIG}); load it with rewardsde.DDPMPipelineSDE or rewardsde.LatentDiffusionSDE"
        )
    missing = [name for name in files if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"sequence model directory {str(directory)!r} is incomplete: {', '.join(missing)} missing")
    config = json.loads((directory / CONFIG).read_text())
    absent = [key for key in REQUIRED if key not in config]
    if config.get("format") != FORMAT or absent:
        raise ValueError(
            f"{str(directory / CONFIG)!r} is not a saved {FORMAT} (format {config.get('format')!r}, missing {absent})"
        )
    metadata = config["metadata"]
    return {**config, "metadata": None if metadata is None else SequenceDomain.from_dict(metadata)}


def read_domain(path: str | Path) -> SequenceDomain:
    """The :class:`SequenceDomain` saved with the sequence model at ``path``.

    Raises:
        ValueError: as :func:`read_sequence_config`, or when the model was saved without one.
    """
    domain = read_sequence_config(path)["metadata"]
    if domain is None:
        raise ValueError(f"the sequence model at {str(path)!r} was saved without metadata describing its data")
    return domain
