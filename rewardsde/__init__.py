"""rewardsde: fine-tune pretrained diffusion models toward a reward without reward collapse.

The core (this package) is plain torch and torchsde: schedules, the pretrained SDE,
drift corrections, the controlled SDE with its running cost, :func:`solve` with three
gradient back ends, the learned initial law, the algorithms themselves
(:class:`ElegantObjective`, :class:`AdjointMatchingObjective`, :class:`PhaseSchedule`,
:class:`DenoisingLoss`, :class:`CrossEntropyDenoisingLoss`,
:class:`FineTunedSampler`, :class:`SeikoRound`), rewards and exact analytic tasks.
Lightning modules, data modules and callbacks live in ``rewardsde.lightning_modules``,
``rewardsde.datamodules`` and ``rewardsde.callbacks``.

``import rewardsde`` imports neither Lightning nor diffusers, peft or transformers:
the classes built on diffusers (:class:`DDPMPipelineSDE`, :class:`LatentDiffusionSDE`,
:class:`LoraCorrection`, :func:`export_pipeline`) import them when they are used.
"""

__version__ = "0.1.0"

from .adjoint_matching import AdjointMatchingObjective
from .brownian import BrownianPrior
from .controlled import ControlledSDE
from .corrections import DenoiserCorrection, DriftCorrection, NetworkCorrection, ZeroCorrection
from .denoising import CrossEntropyDenoisingLoss, DenoisingLoss
from .diffusers_eps import DiffusersEps
from .export import export_pipeline
from .frozen import FrozenDrift
from .initial_law import LearnedInitialLaw
from .lora import LoraCorrection
from .nets import MLP
from .objective import ElegantObjective, Loss
from .phases import PhaseSchedule
from .pipelines import DDPMPipelineSDE, LatentDiffusionSDE
from .pretrained import PretrainedSDE
from .reference import ReferenceSDE
from .rounds import SeikoRound
from .sampler import FineTunedSampler, Rollout
from .sampling import sample_reference
from .schedule import VPSchedule
from .solve import Solution, solve
from .tilted import TiltedDenoisingObjective

__all__ = [
    "AdjointMatchingObjective",
    "BrownianPrior",
    "ControlledSDE",
    "DDPMPipelineSDE",
    "CrossEntropyDenoisingLoss",
    "DenoisingLoss",
    "DiffusersEps",
    "DenoiserCorrection",
    "DriftCorrection",
    "ElegantObjective",
    "FineTunedSampler",
    "FrozenDrift",
    "LatentDiffusionSDE",
    "LearnedInitialLaw",
    "LoraCorrection",
    "Loss",
    "MLP",
    "NetworkCorrection",
    "PhaseSchedule",
    "PretrainedSDE",
    "ReferenceSDE",
    "Rollout",
    "SeikoRound",
    "Solution",
    "TiltedDenoisingObjective",
    "VPSchedule",
    "ZeroCorrection",
    "export_pipeline",
    "sample_reference",
    "solve",
]
