"""rewardsde: fine-tune pretrained diffusion models toward a reward without reward collapse.

The core (this package) is plain torch and torchsde: schedules, the pretrained SDE,
drift corrections, the controlled SDE with its running cost, :func:`solve` with three
gradient back ends, the learned initial law, the algorithms themselves
(:class:`ElegantObjective`, :class:`PhaseSchedule`, :class:`DenoisingLoss`,
:class:`FineTunedSampler`, :class:`SeikoRound`), rewards and exact analytic tasks.
Lightning modules, data modules and callbacks live in ``rewardsde.lightning_modules``,
``rewardsde.datamodules`` and ``rewardsde.callbacks``.
"""

from .controlled import ControlledSDE
from .denoising import DenoisingLoss
from .corrections import DriftCorrection, NetworkCorrection, ZeroCorrection
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

__all__ = [
    "SeikoRound",
    "Rollout",
    "PhaseSchedule",
    "Loss",
    "FineTunedSampler",
    "ElegantObjective",
    "DenoisingLoss",
    "ControlledSDE",
    "DDPMPipelineSDE",
    "DiffusersEps",
    "DriftCorrection",
    "FrozenDrift",
    "LatentDiffusionSDE",
    "LearnedInitialLaw",
    "LoraCorrection",
    "MLP",
    "NetworkCorrection",
    "PretrainedSDE",
    "ReferenceSDE",
    "Solution",
    "VPSchedule",
    "ZeroCorrection",
    "export_pipeline",
    "sample_reference",
    "solve",
]
